"""Console capture (``capture_console=True``): tee ``sys.stdout``/``sys.stderr`` into log lines.

What is captured: **Python-level writes** to ``sys.stdout`` (level ``info``) and ``sys.stderr``
(``error``) — ``print``, tqdm, tracebacks — and ``logging`` output at each record's own level,
including handlers configured before capture began (``console_logging``). Output that bypasses
Python's stream objects (C extensions or subprocesses writing to file descriptors 1/2) is not
captured: fd-level capture would turn the terminal into a pipe and break ``isatty``.

The tee writes to the original stream **first** and returns its result, so the program
behaves exactly as before; every other attribute (``isatty``, ``fileno``, ``encoding``,
``flush``, ``buffer``, ...) is the original's. Then a :class:`LineAssembler` turns the text
into lines:

* ``\\n`` ends a line; ``\\r`` rewrites the current line (progress bars): only its last state
  is kept, emitted at most once per ``window_s`` while it keeps changing, and once more when
  the line ends — a tqdm bar becomes a handful of lines, not thousands;
* each NUL (U+0000) becomes U+FFFD as the text arrives (the collector rejects a line holding
  NUL, and a write cannot be refused), so such a line is kept;
* a line longer than 8 KiB is emitted in 8 KiB pieces (not flagged truncated);
* volume is bounded by a token bucket (:data:`BYTES_PER_S`, burst :data:`BURST_BYTES`); the
  sink (the run's queue) drops and counts when full. Nothing here ever blocks or raises into
  the program: a failure inside capture only disables capture.

``restore()`` puts the original streams back (or, when someone replaced ours meanwhile, turns
ours into a plain pass-through) after emitting the pending partial lines.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from rundial._producers.console_logging import adopt_handlers, record_level, release_handlers
from rundial._values import without_nul
from rundial._wire.logs import MAX_MESSAGE_BYTES, split_bytes

WINDOW_S = 1.0  # a rewritten line is emitted at most once a second (ClearML uses 10 s)
BYTES_PER_S = 256 * 1024  # sustained captured volume; beyond it lines are dropped and counted
BURST_BYTES = 4 * 1024 * 1024
Sink = Callable[[str, str], None]  # (level, message)


class LineAssembler:
    """Turns written text into lines for ``sink(level, line)`` (see the module docstring).

    Thread-safe; re-entrant writes (the sink itself printing) are ignored.
    """

    def __init__(self, level: str, sink: Sink, budget: TokenBucket, *,
                 window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.level = level
        self._sink = sink
        self._budget = budget
        self._window_s = window_s
        self._clock = clock
        self._line = ""  # current state of the line being written
        self._emitted: str | None = None  # what was last emitted for the current line
        self._last_emit = 0.0
        self._rewritten = False
        self._lock = threading.RLock()
        self._busy = threading.local()
        self._write_level: str | None = None  # the level of the write being fed, if its own

    def feed(self, text: str, level: str | None = None) -> None:
        """Consume one write; lines it ends or emits get ``level`` (default: the stream's)."""
        if getattr(self._busy, "on", False):
            return
        with self._lock:
            self._busy.on = True
            self._write_level = level
            try:
                self._feed(text)
            finally:
                self._busy.on = False
                self._write_level = None

    def _feed(self, text: str) -> None:
        *complete, rest = without_nul(text).split("\n")
        for part in complete:
            self._rewrite(part)
            self._end_line()
        self._rewrite(rest)
        if self._rewritten:
            if self._line != self._emitted and self._window_elapsed():
                self._emit(self._line)
        elif len(self._line) > MAX_MESSAGE_BYTES // 4:
            *full, self._line = split_bytes(self._line)  # a long unfinished line: emit 8 KiB pieces
            for piece in full:
                self._emit(piece)

    def _rewrite(self, part: str) -> None:
        if "\r" not in part:
            self._line += part
            return
        self._rewritten = True
        segments = [s for s in part.split("\r") if s]
        if segments:
            self._line = segments[-1]

    def _end_line(self) -> None:
        if self._line != self._emitted or not self._rewritten:
            self._emit(self._line)
        self._line, self._emitted, self._rewritten = "", None, False

    def _window_elapsed(self) -> bool:
        return self._clock() - self._last_emit >= self._window_s

    def _emit(self, line: str) -> None:
        self._emitted = line
        self._last_emit = self._clock()
        if not line.strip():
            return
        if self._budget.take(len(line)):
            level = self._write_level or self.level
            for piece in split_bytes(line):
                self._sink(level, piece)

    def poll(self) -> None:
        """Emit the current state of a rewritten line that changed more than a window ago."""
        with self._lock:
            if self._rewritten and self._line != self._emitted and self._window_elapsed():
                self._emit(self._line)

    def close(self) -> None:
        """Emit whatever partial line is pending."""
        with self._lock:
            if self._line and self._line != self._emitted:
                self._emit(self._line)
            self._line, self._emitted, self._rewritten = "", None, False


class TokenBucket:
    """A byte budget refilled at ``rate`` per second up to ``burst``; counts what it refuses."""

    def __init__(self, rate: float = BYTES_PER_S, burst: float = BURST_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate, burst, clock
        self._tokens = burst
        self._at = clock()
        self.refused = 0

    def take(self, amount: int) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if amount > self._tokens:
            self.refused += 1
            return False
        self._tokens -= amount
        return True


class TeeStream:
    """Wraps a text stream: writes go to it first, then to a :class:`LineAssembler`."""

    def __init__(self, stream: TextIO, assembler: LineAssembler) -> None:
        self._rd_stream = stream
        self._rd_assembler = assembler
        self._rd_active = True

    def write(self, text: str) -> int:
        result = self._rd_stream.write(text)
        if self._rd_active and isinstance(text, str) and text:
            try:
                self._rd_assembler.feed(text, record_level())
            except Exception:  # capture must never break the program's output
                self._rd_active = False
        return result

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def isatty(self) -> bool:
        return self._rd_stream.isatty()

    def fileno(self) -> int:
        return self._rd_stream.fileno()

    def flush(self) -> None:
        self._rd_stream.flush()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_rd_"):  # not set yet (copy, unpickling): never recurse
            raise AttributeError(name)
        return getattr(self._rd_stream, name)

    def __iter__(self) -> Any:
        return iter(self._rd_stream)

    def __repr__(self) -> str:
        return f"<rundial tee of {self._rd_stream!r}>"


class ConsoleCapture:
    """Installs tees on ``sys.stdout`` (info) and ``sys.stderr`` (error), and points logging
    handlers writing to those streams at the tees, until :meth:`restore`."""

    def __init__(self, sink: Sink, *, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = TokenBucket(clock=clock)
        self._tees: list[tuple[str, TeeStream]] = []
        for name, level in (("stdout", "info"), ("stderr", "error")):
            original = getattr(sys, name)
            if original is None:
                continue
            assembler = LineAssembler(level, sink, self.budget, window_s=window_s, clock=clock)
            tee = TeeStream(original, assembler)
            setattr(sys, name, tee)
            self._tees.append((name, tee))
        self._handlers = adopt_handlers({id(tee._rd_stream): tee for _n, tee in self._tees})

    def poll(self) -> None:
        """Emit progress lines whose window elapsed (called by the worker every cycle)."""
        for _name, tee in self._tees:
            if tee._rd_active:
                tee._rd_assembler.poll()

    def restore(self) -> None:
        """Flush pending partial lines and put the original streams back (idempotent)."""
        handlers, self._handlers = self._handlers, []
        release_handlers(handlers)
        tees, self._tees = self._tees, []
        for name, tee in tees:
            if tee._rd_active:
                try:
                    tee._rd_assembler.close()
                except Exception:
                    pass
            tee._rd_active = False
            if getattr(sys, name) is tee:
                setattr(sys, name, _unwrap(tee._rd_stream))


def _unwrap(stream: Any) -> Any:
    """``stream`` without the pass-through tees of captures that ended before ours."""
    while isinstance(stream, TeeStream) and not stream._rd_active:
        stream = stream._rd_stream
    return stream
