"""``wandb.plot``: W&B's preset charts, each logged as a table media item naming its chart.

``wandb.log({"roc": wandb.plot.roc_curve(y, probas)})`` logs the chart's table under
``roc_table`` (W&B's key) with metadata ``{"rundial.kind": "wandb_plot", "spec": ...}``
(``docs/wandb-compat.md``). ``pr_curve`` and ``roc_curve`` need numpy and scikit-learn;
nothing here is imported before a chart is built. Other names (``visualize``) raise
``NotImplementedError``.
"""

from __future__ import annotations

from typing import Any

from rundial.compat.wandb._errors import DOCS, Unsupported
from rundial.compat.wandb._plot import (CustomChart, bar, confusion_matrix, histogram, line,
                                        line_series, plot_table, scatter)
from rundial.compat.wandb._plot_curves import pr_curve, roc_curve

__all__ = ["CustomChart", "bar", "confusion_matrix", "histogram", "line", "line_series",
           "plot_table", "pr_curve", "roc_curve", "scatter"]


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    raise Unsupported(f"wandb.plot.{name} is not supported by rundial.compat.wandb; see {DOCS}")
