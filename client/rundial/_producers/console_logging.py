"""``logging`` output under console capture: captured at the record's own level, whatever the
order in which logging and the run were set up.

Two things make that true:

* **The level of a write.** A handler writes a record's formatted line from inside
  ``logging.Handler.handle(record)``. :func:`record_level` finds that frame above the tee's
  ``write`` (at most :data:`MAX_FRAMES` up) and maps the record's ``levelno`` to a wire level
  (``logging.INFO`` → ``info``, ``WARNING`` → ``warn``, …), so the line is captured once, at its
  real level, instead of as a plain ``stderr`` line (``error``).
* **Handlers configured before the run.** A ``StreamHandler`` created before capture holds the
  original ``sys.stdout``/``sys.stderr`` and would bypass the tee. :func:`adopt_handlers` points
  every such handler (of the root logger and of every named logger) at the tee of its stream;
  :func:`release_handlers` points it back when capture ends, unless someone changed it since.

``logging`` is never imported here: when the program has not imported it, no handler exists.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

MAX_FRAMES = 24  # a handler's write is a few frames below Handler.handle (more for rich & co.)
_WIRE_LEVELS = ((50, "fatal"), (40, "error"), (30, "warn"), (20, "info"), (10, "debug"))

Adopted = list[tuple[Any, Any, Any]]  # (handler, original stream, tee)


def wire_level(levelno: int) -> str:
    """The log-line level of a ``logging`` level number (below DEBUG: ``trace``)."""
    for floor, name in _WIRE_LEVELS:
        if levelno >= floor:
            return name
    return "trace"


def record_level() -> str | None:
    """The wire level of the ``logging`` record being written by the caller's caller, or None
    when the write does not come from a logging handler."""
    logging = sys.modules.get("logging")
    if logging is None:
        return None
    handle = logging.Handler.handle.__code__
    try:
        frame: FrameType | None = sys._getframe(2)
    except ValueError:  # written from the outermost frame (or from C with no caller)
        return None
    for _ in range(MAX_FRAMES):
        if frame is None:
            return None
        if frame.f_code is handle:
            levelno = getattr(frame.f_locals.get("record"), "levelno", None)
            return wire_level(levelno) if isinstance(levelno, int) else None
        frame = frame.f_back
    return None


def _all_loggers(logging: Any) -> list[Any]:
    named = list(logging.Logger.manager.loggerDict.values())
    return [logging.getLogger(), *(lg for lg in named if isinstance(lg, logging.Logger))]


def adopt_handlers(tees: dict[int, Any]) -> Adopted:
    """Point stream handlers writing to an original stream (``id`` → its tee in ``tees``) at the
    tee; returns what to undo. Never raises (a failing handler is left alone)."""
    logging = sys.modules.get("logging")
    adopted: Adopted = []
    if logging is None:
        return adopted
    for logger in _all_loggers(logging):
        for handler in list(getattr(logger, "handlers", ())):
            stream = getattr(handler, "stream", None)
            tee = tees.get(id(stream))
            if tee is None or not isinstance(handler, logging.StreamHandler):
                continue
            try:
                handler.setStream(tee)
            except Exception:
                continue
            adopted.append((handler, stream, tee))
    return adopted


def release_handlers(adopted: Adopted) -> None:
    """Undo :func:`adopt_handlers` for handlers still writing to our tee."""
    for handler, original, tee in adopted:
        if getattr(handler, "stream", None) is tee:
            try:
                handler.setStream(original)
            except Exception:
                pass
