"""Warnings that point at the user's code, never at rundial's own lines.

:func:`warn_user` walks the stack past every frame of the ``rundial`` package and attributes
the warning to the first frame outside it (the user's call of ``rd.init``, ``run.log`` …).
When there is no such frame — the warning comes from one of rundial's own threads (the
worker, the sampler, the uploader) — it is issued with no source location (``rundial:0``),
once per message text, instead of naming an internal line.
"""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType

__all__ = ["warn_user"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_THREAD_ENTRY_MODULES = frozenset({"threading", "concurrent.futures.thread"})
_registry: dict[str | tuple[str, type[Warning], int], int] = {}  # de-duplication of location-free warnings


def warn_user(message: str, category: type[Warning] = RuntimeWarning) -> None:
    """Warn at the first stack frame outside rundial, or with no location (see module docs)."""
    frame: FrameType | None = sys._getframe(1)
    level = 2  # warnings.warn's stacklevel for our caller's frame
    while frame is not None and _inside_rundial(frame):
        frame = frame.f_back
        level += 1
    if frame is None or frame.f_globals.get("__name__") in _THREAD_ENTRY_MODULES:
        warnings.warn_explicit(message, category, "rundial", 0, module="rundial",
                               registry=_registry)
        return
    warnings.warn(message, category, stacklevel=level)


def _inside_rundial(frame: FrameType) -> bool:
    return os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR)
