"""Where ``--follow`` gets fresh data from: the run WebSocket, else polling.

A *source* is any iterable of payloads shaped like the tail's query reply (``query/series`` or
``query/logs``); :func:`consume` feeds them to a printer. :func:`follow_source` picks one:

* without ``--follow``: :class:`PollingSource` fetching once;
* with ``--follow``: :class:`rundial.cli._follow_ws.WebSocketSource` on
  ``GET /api/v1/runs/{runId}/events/ws`` (the initial tail, then the tail window again after each
  live update that changed it, until the run finishes); when aiohttp is not installed,
  :class:`PollingSource` every ``--interval-seconds`` with a one-line warning.

A :class:`Window` turns live stream messages into those payloads: :class:`MetricsWindow` keeps the
last ``--points`` points by step of each tailed key, :class:`LogsWindow` the newest ``--lines``
lines passing ``--min-level``/``--text`` (newest first, like ``query/logs``). A live payload has
the reply's top-level fields except ``requestId``/``page``, and series entries without the
``totalPoints``/``supersededPoints`` counters.

Polling failure behaviour: after the first successful fetch, a network failure or an HTTP 5xx is
reported as a warning and the next poll retries (a collector restart does not end a tail); any
other error (401/403/404…) ends the command with its exit code. Ctrl-C ends a follow cleanly
with exit code 0 (either source).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar

from rundial.cli._context import Context
from rundial.cli._http import ApiClient, ApiError
from rundial.cli._output import Output, dict_rows

__all__ = ["FollowPrinter", "LogsWindow", "MetricsWindow", "PollingSource", "Window", "consume",
           "follow_source"]

T = TypeVar("T")
Payload = dict[str, Any]
LIVE_DROPPED = ("requestId", "page")  # per-request fields a live payload does not repeat


class PollingSource(Generic[T]):
    """Yields ``fetch()`` now, then again every ``interval_seconds`` (forever when following)."""

    def __init__(self, fetch: Callable[[], T], interval_seconds: float, follow: bool,
                 output: Output, sleep: Callable[[float], None] = time.sleep) -> None:
        self._fetch = fetch
        self._interval = max(0.05, interval_seconds)
        self._follow = follow
        self._output = output
        self._sleep = sleep

    def __iter__(self) -> Iterator[T]:
        yield self._fetch()
        while self._follow:
            self._sleep(self._interval)
            try:
                yield self._fetch()
            except ApiError as exc:
                if exc.status and exc.status < 500:
                    raise
                self._output.warn(f"{exc.message}; retrying")


class Window(Protocol):
    """The tail as live messages change it."""

    def reset(self, payload: Payload) -> None:
        """Start over from a fetched tail payload."""

    def apply(self, message: Payload) -> list[Payload]:
        """The tail payloads after ``message`` (empty when it changed nothing)."""


def follow_source(ctx: Context, client: ApiClient, project_id: str, fetch: Callable[[], Payload],
                  window: Window) -> Iterable[Payload]:
    """The source for ``ctx.args`` (``follow``, ``interval_seconds``, ``run_id``)."""
    polling = PollingSource(fetch, ctx.args.interval_seconds, ctx.args.follow, ctx.output)
    if not ctx.args.follow:
        return polling
    from rundial.cli import _follow_ws

    if not _follow_ws.available():
        ctx.output.warn(f"aiohttp is not installed, so --follow polls every "
                        f"{ctx.args.interval_seconds:g} s (pip install 'rundial[collector]' "
                        "for the live stream)")
        return polling
    return _follow_ws.WebSocketSource(client, ctx.args.run_id, project_id, fetch, window,
                                      ctx.output, fallback=polling)


def consume(source: Iterable[T], handle: Callable[[T], None]) -> None:
    """Feed every payload of ``source`` to ``handle``; Ctrl-C stops quietly."""
    iterator = iter(source)
    try:
        for payload in iterator:
            handle(payload)
    except KeyboardInterrupt:
        return
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # a generator source releases its connection now, not at garbage collection


def _live_header(payload: Payload, rows_key: str) -> Payload:
    return {k: v for k, v in payload.items() if k != rows_key and k not in LIVE_DROPPED}


class MetricsWindow:
    """The last ``size`` points by step of each of ``keys``, as a ``query/series`` reply.

    A live point for a step already in the window supersedes it (commit order wins, as in
    ``query/series``); a point older than a full window's first step is not part of the tail.
    With ``keys=None`` the window takes every key it sees, up to ``max_keys`` (in the order they
    appear), so keys first logged after the tail started are shown; ``on_skipped(key)`` is
    called for each key left out.
    """

    def __init__(self, keys: Sequence[str] | None, size: int, max_keys: int | None = None,
                 on_skipped: Callable[[str], None] | None = None) -> None:
        self._keys = None if keys is None else frozenset(keys)
        self._max_keys = max_keys
        self._on_skipped = on_skipped
        self._size = size
        self._header: Payload = {}
        self._series: dict[str, dict[Any, tuple[Any, Any]]] = {}

    def _accepts(self, key: str) -> bool:
        if self._keys is not None:
            return key in self._keys
        if key in self._series or self._max_keys is None or len(self._series) < self._max_keys:
            return True
        if self._on_skipped is not None:
            self._on_skipped(key)
        return False

    def reset(self, payload: Payload) -> None:
        self._header = _live_header(payload, "series")
        self._series = {}
        for series in dict_rows(payload.get("series")):
            key = series.get("metricKey")
            if isinstance(key, str):
                self._series[key] = {p.get("step"): (p.get("timestampMs"), p.get("value"))
                                     for p in dict_rows(series.get("points"))}

    def apply(self, message: Payload) -> list[Payload]:
        if message.get("type") != "metrics":
            return []
        changed = False
        for series in dict_rows(message.get("series")):
            key = series.get("metricKey")
            if isinstance(key, str) and self._accepts(key):
                changed |= self._merge(self._series.setdefault(key, {}), series)
        return [self.payload()] if changed else []

    def _merge(self, points: dict[Any, tuple[Any, Any]], series: Payload) -> bool:
        before = dict(points)
        for step, ts, value in zip(series.get("steps") or (), series.get("timestampsMs") or (),
                                   series.get("values") or ()):
            points[step] = (ts, value)
        for step in sorted(points)[:-self._size]:
            del points[step]
        return points != before

    def payload(self) -> Payload:
        return {**self._header, "series": [
            {"metricKey": key, "points": [{"step": step, "timestampMs": ts, "value": value}
                                          for step, (ts, value) in sorted(points.items())]}
            for key, points in self._series.items()]}


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


class LogsWindow:
    """The newest ``size`` lines at or above ``min_level`` containing ``text`` (case-sensitive),
    as a ``query/logs`` reply (newest first by timestamp, sequence, then arrival).

    :meth:`apply` yields a payload after at most ``size - 1`` new lines, so a burst bigger than
    the window is printed whole (a printer sees at least one known line in each payload).
    """

    def __init__(self, size: int, levels: Sequence[str], min_level: str,
                 text: str | None) -> None:
        self._size = size
        self._rank = {level: rank for rank, level in enumerate(levels)}
        self._floor = self._rank.get(min_level, 0)
        self._text = text or ""
        self._header: Payload = {}
        self._lines: list[tuple[int, int, int, Payload]] = []  # oldest first
        self._seen: set[tuple[object, ...]] = set()
        self._arrivals = 0

    def reset(self, payload: Payload) -> None:
        self._header = _live_header(payload, "rows")
        self._lines, self._seen = [], set()
        for row in reversed(dict_rows(payload.get("rows"))):
            self._insert(row)

    def apply(self, message: Payload) -> list[Payload]:
        if message.get("type") != "logs":
            return []
        payloads: list[Payload] = []
        pending = 0
        for line in dict_rows(message.get("lines")):
            if self._wanted(line) and self._insert(line):
                pending += 1
                if pending >= max(1, self._size - 1):
                    payloads.append(self.payload())
                    pending = 0
        if pending:
            payloads.append(self.payload())
        return payloads

    def _wanted(self, line: Payload) -> bool:
        message = line.get("message")
        return (self._rank.get(str(line.get("level")), 0) >= self._floor
                and isinstance(message, str) and self._text in message)

    def _insert(self, line: Payload) -> bool:
        """Add ``line``; False when it is a duplicate or too old for the window."""
        ident = (line.get("timestampMs"), line.get("sequence"), line.get("level"),
                 line.get("message"))
        if ident in self._seen:
            return False
        self._arrivals += 1
        entry = (_int(line.get("timestampMs")), _int(line.get("sequence")), self._arrivals, line)
        bisect.insort(self._lines, entry)
        self._seen.add(ident)
        if len(self._lines) > self._size:
            oldest = self._lines.pop(0)[3]
            self._seen.discard((oldest.get("timestampMs"), oldest.get("sequence"),
                                oldest.get("level"), oldest.get("message")))
            return oldest is not line
        return True

    def payload(self) -> Payload:
        return {**self._header, "rows": [entry[3] for entry in reversed(self._lines)]}


class FollowPrinter:
    """Prints each payload of a source: in JSON mode ``{"ok": true, <json_key>: payload}``;
    in human mode a table for the first payload, then only the rows :meth:`fresh` calls new."""

    json_key = "payload"
    columns: tuple[str, ...] = ()

    def __init__(self, output: Output, run_id: str) -> None:
        self.output = output
        self.run_id = run_id
        self.polls = 0
        self._widths: list[int] = []

    def fresh(self, payload: dict[str, Any]) -> list[list[object]]:
        """The rows of ``payload`` not printed before (subclasses remember what they printed)."""
        raise NotImplementedError

    def title(self) -> str:
        """The table title of the first payload."""
        raise NotImplementedError

    def __call__(self, payload: dict[str, Any]) -> None:
        if self.output.json_mode:
            self.output.json({"ok": True, self.json_key: payload})
            return
        rows = self.fresh(payload)
        self.polls += 1
        if self.polls == 1:
            self._widths = self.output.table(self.title(), self.columns, rows)
        else:
            for row in rows:
                self.output.row(self.columns, row, self._widths)
