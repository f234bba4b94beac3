"""``wandb.plot.pr_curve`` and ``wandb.plot.roc_curve``: the curve points wandb 0.31 tables.

Both need numpy and scikit-learn, as in W&B (an ``ImportError`` naming the package when one is
missing); pandas, which W&B also requires here, is not needed. The curves are scikit-learn's
(``precision_recall_curve``, ``roc_curve``) per class, one-vs-rest, in the order of
``numpy.unique(y_true)``; column ``i`` of ``y_probas`` is the score of the ``i``-th class:

* PR: precision made non-decreasing towards lower recall (a running maximum), then read at
  ``interp_size`` recall values evenly spaced from 1 down to 0: columns ``class, precision,
  recall``;
* ROC: scikit-learn's points as they are: columns ``class, fpr, tpr``.

Numbers are rounded to 3 decimals (numpy's rounding). A class is named ``labels[c]`` when
``labels`` is given and the classes are integers. More rows than a table holds (10 000) are
resampled as W&B does (scikit-learn's stratified ``resample``, seed 42) and sorted by the
value columns, then the class.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from rundial.compat.wandb._media import Table
from rundial.compat.wandb._plot import CustomChart, plot_table

MAX_ROWS = 10_000
ROUND_DECIMALS = 3
RESAMPLE_SEED = 42
AREA_SPEC = "wandb/area-under-curve/v0"


def _require(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"wandb.plot curves need {package} (as in W&B): pip install "
                          f"{package}") from exc


def pr_curve(y_true: Any = None, y_probas: Any = None, labels: Any = None,
             classes_to_plot: Any = None, interp_size: int = 21,
             title: str = "Precision-Recall Curve", split_table: bool = False) -> CustomChart:
    """The precision-recall chart (see the module docstring)."""
    np = _require("numpy", "numpy")
    metrics = _require("sklearn.metrics", "scikit-learn")
    truth, scores = _checked(np, y_true, y_probas)
    recall_grid = np.linspace(0, 1, interp_size)[::-1]
    curves: dict[Any, Any] = {}
    for i, value, name in _plotted(np, truth, labels, classes_to_plot):
        precision, recall, _ = metrics.precision_recall_curve(truth, scores[:, i],
                                                              pos_label=value)
        precision = _running_max(np, precision)[::-1]
        at = np.searchsorted(recall[::-1], recall_grid, side="left")
        curves[name] = precision[at]
    columns = {"precision": list(curves.values()), "recall": [recall_grid] * len(curves)}
    table = _curve_table(np, curves, columns, ("precision", "recall"))
    return plot_table(AREA_SPEC, table, {"x": "recall", "y": "precision", "class": "class"},
                      {"title": title, "x-axis-title": "Recall", "y-axis-title": "Precision"},
                      split_table)


def roc_curve(y_true: Any = None, y_probas: Any = None, labels: Any = None,
              classes_to_plot: Any = None, title: str = "ROC Curve",
              split_table: bool = False) -> CustomChart:
    """The ROC chart (see the module docstring)."""
    np = _require("numpy", "numpy")
    metrics = _require("sklearn.metrics", "scikit-learn")
    truth, scores = _checked(np, y_true, y_probas)
    fprs: dict[Any, Any] = {}
    tprs: dict[Any, Any] = {}
    for i, value, name in _plotted(np, truth, labels, classes_to_plot):
        fprs[name], tprs[name], _ = metrics.roc_curve(truth, scores[..., i], pos_label=value)
    columns = {"fpr": list(fprs.values()), "tpr": list(tprs.values())}
    table = _curve_table(np, fprs, columns, ("fpr", "tpr"))
    return plot_table(AREA_SPEC, table, {"x": "fpr", "y": "tpr", "class": "class"},
                      {"title": title, "x-axis-title": "False positive rate",
                       "y-axis-title": "True positive rate"}, split_table)


def _checked(np: Any, y_true: Any, y_probas: Any) -> tuple[Any, Any]:
    """``y_true`` and ``y_probas`` as arrays; ``ValueError`` unless ``y_probas`` has a row per
    label and a column per class (W&B fails with numpy's errors there)."""
    if y_true is None or y_probas is None:
        raise ValueError("y_true and y_probas are required")
    truth, scores = np.array(y_true), np.array(y_probas)
    classes = len(np.unique(truth))
    if truth.ndim != 1 or scores.ndim != 2 or len(scores) != len(truth) \
            or scores.shape[1] < classes:
        raise ValueError(f"y_probas must be shaped (labels, classes): got {scores.shape} for "
                         f"{truth.shape[0] if truth.ndim else 0} labels of {classes} classes")
    return truth, scores


def _plotted(np: Any, truth: Any, labels: Any, classes_to_plot: Any) -> list[tuple[int, Any, Any]]:
    """(column index, class value, class name) of each class to draw, in sorted class order."""
    classes = np.unique(truth)
    wanted = classes if classes_to_plot is None else classes_to_plot
    integral = bool(len(classes)) and isinstance(classes[0], np.integer)
    out = []
    for i in np.where(np.isin(classes, wanted))[0]:
        value = classes[i]
        named = labels is not None and (isinstance(value, int) or integral)
        out.append((int(i), value, labels[value] if named else value))
    return out


def _running_max(np: Any, values: Any) -> Any:
    """Each value raised to the largest before it (NaN handled as Python's ``max`` does)."""
    out = np.array(values)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1])
    return out


def _curve_table(np: Any, curves: dict[Any, Any], columns: dict[str, list[Any]],
                 sort_by: tuple[str, str]) -> Table:
    """A ``class`` column (each class repeated once per point) beside the rounded value
    columns; resampled to :data:`MAX_ROWS` when longer (module docstring)."""
    names = np.hstack([[name] * len(points) for name, points in curves.items()]) \
        if curves else np.array([])
    values = {column: np.round(np.hstack(parts).astype(float), ROUND_DECIMALS)
              if parts else np.array([]) for column, parts in columns.items()}
    if names.dtype.kind == "f":  # W&B rounds every float column, float class values too
        names = np.round(names, ROUND_DECIMALS)
    if len(names) > MAX_ROWS:
        names, values = _resampled(np, names, values, sort_by)
        print(f"wandb: WARNING a table holds {MAX_ROWS} rows: the curve is resampled to fit",
              file=sys.stderr)
    table_columns = ["class", *values]
    rows = [[names[r], *(values[c][r] for c in values)] for r in range(len(names))]
    return Table(columns=table_columns, data=rows)


def _resampled(np: Any, names: Any, values: dict[str, Any], sort_by: tuple[str, str]
               ) -> tuple[Any, dict[str, Any]]:
    """:data:`MAX_ROWS` rows drawn as W&B draws them, sorted by ``sort_by`` then class."""
    utils = _require("sklearn.utils", "scikit-learn")
    picked = utils.resample(np.arange(len(names)), replace=False, n_samples=MAX_ROWS,
                            random_state=RESAMPLE_SEED, stratify=names)
    names = names[picked]
    values = {column: array[picked] for column, array in values.items()}
    order = np.lexsort((names, values[sort_by[1]], values[sort_by[0]]))
    return names[order], {column: array[order] for column, array in values.items()}
