"""goodseed-style tracking on rundial: ``from rundial.compat.goodseed import Run``.

    from rundial.compat import goodseed

    with goodseed.Run(name="exp", project="my-ws/my-proj") as run:
        run["parameters"] = {"lr": 1e-3, "batch_size": 32}
        for step in range(100):
            run.log_metrics({"loss": loss}, step=step)

Configs keep their types (``bool``, ``int``, ``float``, ``str``, ``datetime``, ``None``,
``set``); :func:`restore_types` reads them back from a run's config. Supported surface and
differences: docs/goodseed-compat.md. Anything else raises ``NotImplementedError``.
"""

from __future__ import annotations

from typing import Any

from rundial.compat import _keyed
from rundial.compat._typed import restore_types
from rundial.compat.goodseed._run import DOC, FieldHandler, Run

__all__ = ["FieldHandler", "Run", "restore_types"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise _keyed.unsupported("goodseed", f"goodseed.{name}", DOC)
