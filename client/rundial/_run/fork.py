"""Fork safety: after ``fork()`` every live run gets a fresh queue, event and writer in the child.

One ``os.register_at_fork(after_in_child=...)`` hook is installed on first use; it calls each
registered callback through a :class:`weakref.WeakMethod`, so a run that was garbage-collected
is simply skipped (hooks cannot be unregistered). Callbacks run in the child only, with a
single thread alive; they must not take locks the parent's threads may have held.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable

_callbacks: list[weakref.WeakMethod[Callable[[], None]]] = []
_lock = threading.Lock()
_installed = False


def on_fork_in_child(method: Callable[[], None]) -> None:
    """Call bound ``method`` in every forked child while its object is alive."""
    global _installed
    with _lock:
        _callbacks[:] = [ref for ref in _callbacks if ref() is not None]
        _callbacks.append(weakref.WeakMethod(method))
        if not _installed:
            os.register_at_fork(after_in_child=_after_in_child)
            _installed = True


def _after_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # the parent may have held it while forking
    for ref in list(_callbacks):
        method = ref()
        if method is not None:
            try:
                method()
            except Exception:  # a broken run must not break the child process
                pass
