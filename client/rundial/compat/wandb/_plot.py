"""``wandb.plot``'s charts: a :class:`Table` plus the name of the chart drawn from it.

W&B stores a chart logged under ``key`` as its table, under history key ``<key>_table``
(``Custom Chart Tables/<key>_table`` with ``split_table=True``), and the chart's spec in the
run's config. rundial logs that table as a table media item under the same key, with the spec
in the item's metadata: ``{"rundial.kind": "wandb_plot", "spec", "fields", "stringFields",
"title", "chartKey"}`` (``docs/wandb-compat.md``). The rows are the ones wandb 0.31 computes:
:func:`line`, :func:`scatter`, :func:`bar` and :func:`histogram` take the caller's table as it
is; :func:`line_series` and :func:`confusion_matrix` build one; ``pr_curve`` and ``roc_curve``
live in ``_plot_curves`` (they need scikit-learn, as in W&B).

Bad arguments raise ``TypeError``/``ValueError`` when the chart is built, never at log time.
numpy is imported only by :func:`confusion_matrix` given ``probs``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rundial.compat.wandb._media import Table

PLOT_KIND = "wandb_plot"
SPLIT_TABLE_SECTION = "Custom Chart Tables"


class CustomChart:
    """A chart to log: ``table`` (a :class:`Table`) and W&B's spec (``spec_name``, ``fields``,
    ``string_fields``, ``split_table``). ``wandb.log({key: chart})`` logs the table under
    :meth:`table_key` with :meth:`metadata`."""

    def __init__(self, table: Table, spec_name: str, fields: Mapping[str, Any],
                 string_fields: Mapping[str, Any] | None = None,
                 split_table: bool = False) -> None:
        self.table = table
        self.spec_name = spec_name
        self.fields = dict(fields)
        self.string_fields = dict(string_fields or {})
        self.split_table = bool(split_table)

    def table_key(self, key: str) -> str:
        """The history key W&B gives the chart's table when the chart is logged as ``key``."""
        return f"{SPLIT_TABLE_SECTION}/{key}_table" if self.split_table else f"{key}_table"

    def metadata(self, key: str) -> dict[str, Any]:
        """The logged table item's metadata: which chart to draw from it, and how."""
        return {"rundial.kind": PLOT_KIND, "spec": self.spec_name, "fields": self.fields,
                "stringFields": self.string_fields,
                "title": str(self.string_fields.get("title", "")), "chartKey": key}


def plot_table(vega_spec_name: str, data_table: Table, fields: Mapping[str, Any],
               string_fields: Mapping[str, Any] | None = None,
               split_table: bool = False) -> CustomChart:
    """``wandb.plot_table``: any chart spec over a table (``TypeError`` for a non-Table)."""
    if not isinstance(data_table, Table):
        raise TypeError(f"data_table must be a wandb.Table, not {type(data_table).__name__}")
    return CustomChart(data_table, str(vega_spec_name), fields, string_fields, split_table)


def line(table: Table, x: str, y: str, stroke: str | None = None, title: str = "",
         split_table: bool = False) -> CustomChart:
    """A line chart of ``y`` over ``x``, one line per ``stroke`` value (``wandb/line/v0``)."""
    return plot_table("wandb/line/v0", table, {"x": x, "y": y, "stroke": stroke},
                      {"title": title}, split_table)


def scatter(table: Table, x: str, y: str, title: str = "",
            split_table: bool = False) -> CustomChart:
    """A scatter chart of ``y`` over ``x`` (``wandb/scatter/v0``)."""
    return plot_table("wandb/scatter/v0", table, {"x": x, "y": y}, {"title": title},
                      split_table)


def bar(table: Table, label: str, value: str, title: str = "",
        split_table: bool = False) -> CustomChart:
    """A bar per row: ``value`` labelled ``label`` (``wandb/bar/v0``)."""
    return plot_table("wandb/bar/v0", table, {"label": label, "value": value},
                      {"title": title}, split_table)


def histogram(table: Table, value: str, title: str = "",
              split_table: bool = False) -> CustomChart:
    """A histogram of column ``value``, binned by the chart (``wandb/histogram/v0``)."""
    return plot_table("wandb/histogram/v0", table, {"value": value}, {"title": title},
                      split_table)


def line_series(xs: Any, ys: Sequence[Iterable[Any]], keys: Sequence[str] | None = None,
                title: str = "", xname: str = "x", split_table: bool = False) -> CustomChart:
    """One table ``step, lineKey, lineVal`` of every (x, y) pair of every series, as W&B builds
    it. ``xs`` is one x series shared by all, or one per y series; ``keys`` default to
    ``line_<i>``. ``ValueError`` when the numbers of series or keys disagree."""
    if not _is_series(xs[0]):
        xs = [xs] * len(ys)
    if len(xs) != len(ys):
        raise ValueError(f"number of x-series ({len(xs)}) must match y-series ({len(ys)})")
    names = [f"line_{i}" for i in range(len(ys))] if keys is None else list(keys)
    if len(names) != len(ys):
        raise ValueError(f"number of keys ({len(names)}) must match y-series ({len(ys)})")
    data = [[x, names[i], y] for i, (x_values, y_values) in enumerate(zip(xs, ys))
            for x, y in zip(x_values, y_values)]
    table = Table(columns=["step", "lineKey", "lineVal"], data=data)
    return plot_table("wandb/lineseries/v0", table,
                      {"step": "step", "lineKey": "lineKey", "lineVal": "lineVal"},
                      {"title": title, "xname": xname}, split_table)


def _is_series(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes))


def confusion_matrix(probs: Any = None, y_true: Sequence[Any] | None = None,
                     preds: Sequence[Any] | None = None,
                     class_names: Sequence[str] | None = None,
                     title: str = "Confusion Matrix Curve",
                     split_table: bool = False) -> CustomChart:
    """W&B's confusion matrix: a table ``Actual, Predicted, nPredictions`` with one row per
    (actual, predicted) class pair and the count as a float, classes in sorted order.

    ``preds`` or ``probs`` (then the argmax of each row) with ``y_true``. Without
    ``class_names`` the classes are the values seen, named ``Class_1``...; with them, labels
    must be the indexes ``0..len(class_names)-1``. ``ValueError`` otherwise, or for both
    ``probs`` and ``preds``, or lengths that differ.
    """
    if probs is not None and preds is not None:
        raise ValueError("only one of probs or preds should be given, not both")
    if probs is not None:
        import numpy as np  # argmax over class probabilities, as W&B computes it

        preds = np.argmax(probs, axis=1).tolist()
    if preds is None or y_true is None:
        raise ValueError("confusion_matrix needs y_true and one of preds or probs")
    if len(preds) != len(y_true):
        raise ValueError(f"got {len(preds)} predictions for {len(y_true)} true labels")
    classes, names = _classes(preds, y_true, class_names)
    index = {value: i for i, value in enumerate(classes)}
    counts = [[0.0] * len(classes) for _ in classes]
    for actual, predicted in zip(y_true, preds):
        if actual not in index or predicted not in index:
            raise ValueError(f"label {actual if actual not in index else predicted!r} is not a "
                             f"class index 0..{len(classes) - 1} of class_names")
        counts[index[actual]][index[predicted]] += 1
    data = [[names[i], names[j], counts[i][j]] for i in range(len(classes))
            for j in range(len(classes))]
    table = Table(columns=["Actual", "Predicted", "nPredictions"], data=data)
    return plot_table("wandb/confusion_matrix/v1", table,
                      {"Actual": "Actual", "Predicted": "Predicted",
                       "nPredictions": "nPredictions"}, {"title": title}, split_table)


def _classes(preds: Sequence[Any], y_true: Sequence[Any],
             class_names: Sequence[str] | None) -> tuple[list[Any], list[str]]:
    """The sorted class values and their names (see :func:`confusion_matrix`)."""
    if class_names is None:
        classes = sorted(set(preds) | set(y_true))
        return classes, [f"Class_{i + 1}" for i in range(len(classes))]
    for label, values in (("predicted classes", preds), ("true labels", y_true)):
        if len(set(values)) > len(class_names):
            raise ValueError(f"there are more distinct {label} than class names")
    return list(range(len(class_names))), list(class_names)
