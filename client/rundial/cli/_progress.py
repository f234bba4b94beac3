"""A progress line for long exports and syncs, drawn on stderr only when stderr is a TTY.

Contract: :class:`Progress` never writes anything when stderr is not a terminal, in JSON mode
or under ``--quiet`` (so pipes, logs and scripts see clean output). Redraws are throttled to
10 per second and the line is erased by :meth:`Progress.close`.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress"]

_REDRAW_INTERVAL_SECONDS = 0.1


class Progress:
    """``with Progress("export", total=None) as bar: bar.advance(n)``."""

    def __init__(self, label: str, total: int | None = None, unit: str = "rows",
                 enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and _is_tty(self.stream)
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self._last_draw = 0.0

    def advance(self, amount: int = 1) -> None:
        """Count ``amount`` more units and redraw if due."""
        self.done += amount
        now = time.monotonic()
        if self.enabled and now - self._last_draw >= _REDRAW_INTERVAL_SECONDS:
            self._last_draw = now
            self.stream.write("\r\x1b[2K" + self.render())
            self.stream.flush()

    def render(self) -> str:
        """The progress text, e.g. ``export: 1200/5000 rows (24%)``."""
        if self.total:
            percent = min(100, int(self.done * 100 / self.total))
            return f"{self.label}: {self.done}/{self.total} {self.unit} ({percent}%)"
        return f"{self.label}: {self.done} {self.unit}"

    def close(self) -> None:
        """Erase the line (if one was drawn)."""
        if self.enabled and self._last_draw:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
