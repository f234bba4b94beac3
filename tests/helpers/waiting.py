"""Wait on a condition with a deadline, instead of sleeping as synchronisation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(probe: Callable[[], T], timeout_seconds: float = 10.0,
               interval_seconds: float = 0.02, message: str = "condition") -> T:
    """Call ``probe`` until it returns a truthy value; raise ``AssertionError`` at the deadline."""
    deadline = time.monotonic() + timeout_seconds
    last: T = probe()
    while not last:
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_seconds}s waiting for {message}: {last!r}")
        time.sleep(interval_seconds)
        last = probe()
    return last
