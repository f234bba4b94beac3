"""Run state that does not lie: SIGTERM (preemption) → ``killed``; uncaught exception → ``failed``.

**SIGTERM** (``handle_sigterm=True``, the default). ``rd.init`` installs one process-wide
handler, only from the main thread and only over the default disposition or a Python handler
(an ignored SIGTERM, or one set from C, is left alone). On SIGTERM it:

1. marks every open run to end as ``killed`` (reason ``SIGTERM``) — setting an attribute only,
   no locks, no I/O in the handler;
2. if a Python handler was installed before ours, calls it and returns (that handler decides
   how the program stops; the runs still end as ``killed`` whenever they finish);
3. else restores the default disposition (a second SIGTERM terminates at once) and raises
   ``SystemExit(143)`` in the main thread, so ``with`` blocks, ``finally`` clauses and
   ``atexit`` hooks run: the runs finish (drain, send, status ``killed``) within
   ``finish_timeout_seconds`` and the program exits with status 143. When SIGTERM arrives while
   a run is finishing on the main thread, the exit is deferred until that ``finish`` returns.

With no run open, the handler behaves like the default (the process terminates by SIGTERM).

**Uncaught exceptions.** A ``sys.excepthook`` wrapper (installed once, chaining the previous
hook, which prints first) ends every open run like leaving ``with`` would: the formatted
traceback as one ``error`` log line, then ``failed`` (``aborted`` for ``KeyboardInterrupt``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any

from rundial._run import exit

KILLED_REASON = "SIGTERM"
_previous: Any = None
_previous_hook: Any = None
_finishing = 0  # Run._end calls in progress on the main thread
_deferred_exit: int | None = None


def install_sigterm() -> bool:
    """Install the SIGTERM handler if allowed (see the module docstring); True when active."""
    global _previous
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signal.SIGTERM)
    if current is _on_sigterm:
        return True
    if current is not signal.SIG_DFL and not callable(current):
        return False  # SIG_IGN, or a handler installed from C (None): not ours to change
    _previous = current
    signal.signal(signal.SIGTERM, _on_sigterm)
    return True


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global _deferred_exit
    runs = exit.open_runs()
    for run in runs:
        mark = getattr(run, "_mark_killed", None)
        if mark is not None:
            mark(KILLED_REASON)
    previous = _previous
    if callable(previous) and previous not in (signal.SIG_DFL, signal.SIG_IGN):
        previous(signum, frame)
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not runs:
        os.kill(os.getpid(), signum)  # exactly the default behaviour
        return
    if _finishing:
        _deferred_exit = 128 + signum
        return
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def finishing() -> Iterator[None]:
    """Wrap a run's finish: a SIGTERM inside it exits (143) only once it is done."""
    global _finishing, _deferred_exit
    main = threading.current_thread() is threading.main_thread()
    if main:
        _finishing += 1
    try:
        yield
    finally:
        if main:
            _finishing -= 1
            if not _finishing and _deferred_exit is not None:
                code, _deferred_exit = _deferred_exit, None
                raise SystemExit(code)


def install_excepthook() -> None:
    """Wrap ``sys.excepthook`` once (see the module docstring)."""
    global _previous_hook
    if sys.excepthook is not _excepthook:
        _previous_hook = sys.excepthook
        sys.excepthook = _excepthook


def _excepthook(exc_type: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> None:
    previous = _previous_hook or sys.__excepthook__
    try:
        previous(exc_type, exc, tb)
    finally:
        for run in exit.open_runs():
            crash = getattr(run, "_crash", None)
            if crash is not None:
                try:
                    crash(exc_type, exc, tb)
                except Exception:
                    pass
