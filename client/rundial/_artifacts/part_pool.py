"""The artifact uploader's PUT threads: a small executor that still works at interpreter exit.

``concurrent.futures.ThreadPoolExecutor`` refuses new work once the interpreter starts shutting
down — which happens *before* ``atexit`` hooks run, and so before the exit hook that finishes
open runs and drains their uploads. From Python 3.12 no thread at all can be started then.

:class:`PartPool` therefore starts its ``size`` daemon threads when it is created (with the
uploader, on the run's first artifact), never later, and Python's exit machinery does not stop
them. When no thread could be started, or after :meth:`shutdown`, ``submit`` runs the call on
the caller's thread and returns a completed future: slower (one PUT at a time), never refused.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

_T = TypeVar("_T")
_Item = tuple["Future[Any]", Callable[[], Any]]


class PartPool(Executor):
    """Runs submitted calls on threads started up front, or inline (see the module docstring)."""

    def __init__(self, size: int, name: str) -> None:
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._lock = threading.Lock()  # a call is never queued after the threads were stopped
        for index in range(max(1, size)):
            thread = threading.Thread(target=self._serve, name=f"{name}-{index}", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # interpreter shutting down: run inline instead
                break
            self._threads.append(thread)

    @property
    def threads(self) -> int:
        """How many threads serve the pool (0: every call runs inline)."""
        return len(self._threads)

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Queue ``fn(*args, **kwargs)``; run it inline when the pool has no threads or is shut
        down. Never raises: the call's exception is set on the returned future."""
        future: Future[_T] = Future()
        call = functools.partial(fn, *args, **kwargs)
        with self._lock:
            queued = bool(self._threads) and not self._closed
            if queued:
                self._queue.put((future, call))
        if not queued:
            _run(future, call)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the threads (waiting for them when ``wait``); later calls run inline. With
        ``cancel_futures``, calls still queued are cancelled."""
        with self._lock:
            self._closed = True
            while cancel_futures:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
            for _ in self._threads:
                self._queue.put(None)
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            _run(*item)


def _run(future: Future[Any], call: Callable[[], Any]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = call()
    except BaseException as exc:  # handed to whoever waits on the future
        future.set_exception(exc)
    else:
        future.set_result(result)
