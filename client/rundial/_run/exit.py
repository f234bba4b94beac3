"""Interpreter exit: finish every run still open, and map exceptions to a final status.

One ``atexit`` hook (installed on import) finishes open runs in creation order, each within its
own ``finish_timeout_seconds``. It runs before daemon threads are stopped, so workers can still
drain; it never raises.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any, Protocol


class _Finishable(Protocol):
    def finish(self, timeout_seconds: float | None = None) -> bool: ...


_open: dict[int, Any] = {}  # strong references: an unreferenced open run is still finished at exit
_lock = threading.Lock()


def track(run: _Finishable) -> None:
    """Finish ``run`` at exit unless it was finished before."""
    with _lock:
        _open[id(run)] = run


def untrack(run: _Finishable) -> None:
    """Forget ``run`` (it finished)."""
    with _lock:
        _open.pop(id(run), None)


def open_runs() -> list[Any]:
    """The runs not finished yet, in creation order (safe in a signal handler: no lock)."""
    for _ in range(3):
        try:
            return list(_open.values())
        except RuntimeError:  # changed size while copying (another thread): try again
            continue
    return []


def status_for(exc_type: type[BaseException] | None, exc: BaseException | None) -> tuple[str, str | None]:
    """``(status, reason)`` for leaving a ``with`` block.

    No exception: completed. KeyboardInterrupt: aborted. ``SystemExit`` with code 0/None:
    completed, other codes: aborted. Anything else: failed, reason "<Type>: <message>".
    """
    if exc_type is None:
        return "completed", None
    if issubclass(exc_type, KeyboardInterrupt):
        return "aborted", "KeyboardInterrupt"
    if issubclass(exc_type, SystemExit):
        code = getattr(exc, "code", None)
        return ("completed", None) if code in (None, 0) else ("aborted", f"SystemExit: {code}")
    return "failed", f"{exc_type.__name__}: {exc}"


def finish_all() -> None:
    """Finish every open run (the atexit hook)."""
    with _lock:
        runs = list(_open.values())
    for run in runs:
        try:
            run.finish()
        except BaseException:
            pass


atexit.register(finish_all)
