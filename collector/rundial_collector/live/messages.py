"""Wire messages of the live event stream (docs/protocol.md §6) and their cursor.

Every message is one JSON text frame ``{"type", "runId", "cursor", …}``, encoded **once** and
shared by every subscriber. A cursor is an opaque string for a :class:`Position`: "every metric
chunk and log line of this run with an id at or below these ids has been delivered".

Metric points travel column-wise per series (``steps``, ``timestampsMs``, ``values``: three
arrays of one length, in commit order; a repeated step supersedes the earlier one, as in
``query/series``). Messages are bounded: a metrics message holds at most
:data:`MAX_POINTS_PER_MESSAGE` points (a bigger stored chunk is split; the slices before the
last carry the previous cursor), a logs message about :data:`MAX_LOG_CHARS_PER_MESSAGE`
characters of text at most, a spans message :data:`MAX_SPANS_PER_MESSAGE` spans and about
:data:`MAX_SPAN_CHARS_PER_MESSAGE` characters of attributes and events at most.

Cursors: three ids (chunk, log line, span). A two-part cursor (issued before spans were
streamed) stays valid: it means "no span delivered yet". ``tail`` is not a position but a
request to start at the subscription's own position (see :func:`parse_start`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from rundial_collector.store.control_base import Run
from rundial_collector.store.data_base import LogRow
from rundial_collector.store.events_base import ChunkRow, SpanRow
from rundial_collector.store.series_math import Points
from rundial_collector.web import errors
from rundial_collector.web.paging import decode_cursor, encode_cursor, is_int64
from rundial_collector.web.spanjson import span_dict

MAX_POINTS_PER_MESSAGE = 20_000  # ~1 MiB of JSON
MAX_LOG_CHARS_PER_MESSAGE = 1024 * 1024
MAX_SPANS_PER_MESSAGE = 500
MAX_SPAN_CHARS_PER_MESSAGE = 1024 * 1024
TAIL_CURSOR = "tail"  # the ``cursor`` value that asks for no replay at all


@dataclass(frozen=True)
class Position:
    """Highest metric chunk id, log line id and span id already delivered (0 = nothing)."""

    chunk_id: int = 0
    log_id: int = 0
    span_id: int = 0

    def cursor(self) -> str:
        return encode_cursor([self.chunk_id, self.log_id, self.span_id])

    def clamp(self, limit: Position) -> Position:
        """The component-wise minimum of two positions (a cursor never runs ahead of the
        stream: an id past ``limit`` cannot have been delivered by this collector)."""
        return Position(min(self.chunk_id, limit.chunk_id), min(self.log_id, limit.log_id),
                        min(self.span_id, limit.span_id))

    @staticmethod
    def parse(raw: str | None) -> Position:
        """The position of a cursor (empty = the start; a two-part cursor = no span yet);
        400 ``cursor`` when not ours."""
        if not raw:
            return Position()
        try:
            values = decode_cursor(raw, 3)
        except errors.ApiError:
            values = decode_cursor(raw, 2)
        if not all(is_int64(v) and v >= 0 for v in values):
            raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
        return Position(*values)


def parse_start(raw: str | None) -> Position | None:
    """Where a new socket starts: None for ``tail`` (the subscription's position: no replay),
    else :meth:`Position.parse`."""
    if raw == TAIL_CURSOR:
        return None
    return Position.parse(raw)


@dataclass(frozen=True)
class Message:
    """One encoded frame. ``last_id`` is the highest chunk id (metrics) or log id (logs) it
    carries; ``close`` marks the end-of-stream sentinel (code, reason), never sent as text."""

    kind: str
    text: str
    last_id: int = 0  # the highest chunk, log or span id carried (by ``kind``)
    status: str | None = None
    close: tuple[int, str] | None = None

    @property
    def size(self) -> int:
        return len(self.text)

    def covered_by(self, floor: Position) -> bool:
        """True when every row this message carries is at or below ``floor``."""
        if self.kind == "metrics":
            return self.last_id <= floor.chunk_id
        if self.kind == "logs":
            return self.last_id <= floor.log_id
        if self.kind == "spans":
            return self.last_id <= floor.span_id
        return False


def _encode(kind: str, run_id: str, position: Position, **fields: Any) -> str:
    payload = {"type": kind, "runId": run_id, "cursor": position.cursor(), **fields}
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def close_message(code: int, reason: str) -> Message:
    """The end-of-stream sentinel: the socket is closed with ``code`` and ``reason``."""
    return Message("close", "", close=(code, reason))


def keepalive(run_id: str, interval_seconds: float) -> str:
    """A frame sent when nothing else was for ``interval_seconds`` (no cursor: it carries no
    row). Lets a browser tell a silently dead socket from a quiet run."""
    return orjson.dumps({"type": "keepalive", "runId": run_id,
                         "intervalMs": round(interval_seconds * 1000)}).decode()


def replay_done(run_id: str, position: Position) -> Message:
    return Message("replay_done", _encode("replay_done", run_id, position))


def state_message(run: Run, position: Position, replay: bool) -> Message:
    """The run's (effective) status and liveness fields."""
    return Message("state", _encode(
        "state", run.run_id, position, replay=replay, status=run.status, reason=run.reason,
        finishedAtMs=run.finished_ms, updatedAtMs=run.updated_ms,
        lastHeartbeatMs=run.last_heartbeat_ms), status=run.status)


def metrics_messages(run_id: str, chunks: Sequence[ChunkRow], start: Position,
                     replay: bool, exact: bool = True) -> Iterator[Message]:
    """Messages for ``chunks``. With ``exact`` (chunks in id order) each cursor advances to
    the last whole chunk; otherwise (a replay, series by series) it stays at ``start``."""
    batch: list[tuple[ChunkRow, Points]] = []
    points = 0
    done = start
    for chunk in chunks:
        for piece, whole in _slices(chunk.points):
            if batch and points + len(piece) > MAX_POINTS_PER_MESSAGE:
                yield _metrics(run_id, batch, done, replay)
                batch, points = [], 0
            batch.append((chunk, piece))
            points += len(piece)
            if whole and exact:
                done = Position(chunk.chunk_id, done.log_id, done.span_id)
    if batch:
        yield _metrics(run_id, batch, done, replay)


def _slices(points: Points) -> Iterator[tuple[Points, bool]]:
    """(slice, is-last) pieces of at most :data:`MAX_POINTS_PER_MESSAGE` points."""
    n = len(points)
    for first in range(0, max(n, 1), MAX_POINTS_PER_MESSAGE):
        yield points.take(slice(first, first + MAX_POINTS_PER_MESSAGE)), \
            first + MAX_POINTS_PER_MESSAGE >= n


def _metrics(run_id: str, batch: list[tuple[ChunkRow, Points]], done: Position,
             replay: bool) -> Message:
    """One metrics message; consecutive pieces of one (key, rank) become one series entry."""
    series: list[dict[str, Any]] = []
    groups: list[tuple[str, int | None, list[Points]]] = []
    for chunk, piece in batch:
        if groups and groups[-1][:2] == (chunk.metric_key, chunk.rank):
            groups[-1][2].append(piece)
        else:
            groups.append((chunk.metric_key, chunk.rank, [piece]))
    for key, rank, pieces in groups:
        points = _concat(pieces)
        series.append({"metricKey": key, "rank": rank, "steps": points.steps,
                       "timestampsMs": points.timestamps, "values": points.values})
    return Message("metrics", _encode("metrics", run_id, done, replay=replay, series=series),
                   last_id=batch[-1][0].chunk_id)


def _concat(pieces: list[Points]) -> Points:
    if len(pieces) == 1:
        return pieces[0]
    return Points(np.concatenate([p.steps for p in pieces]),
                  np.concatenate([p.values for p in pieces]),
                  np.concatenate([p.timestamps for p in pieces]))


def log_messages(run_id: str, rows: Sequence[LogRow], start: Position, replay: bool,
                 exact: bool = True) -> Iterator[Message]:
    """Messages for ``rows``. With ``exact`` (rows in id order) each cursor advances to the
    last row's id; otherwise (a replay in time order) every cursor stays at ``start``."""
    batch: list[LogRow] = []
    chars = 0
    for row in rows:
        if batch and chars + len(row.message) > MAX_LOG_CHARS_PER_MESSAGE:
            yield _logs(run_id, batch, start, replay, exact)
            batch, chars = [], 0
        batch.append(row)
        chars += len(row.message)
    if batch:
        yield _logs(run_id, batch, start, replay, exact)


def _logs(run_id: str, batch: list[LogRow], start: Position, replay: bool,
          exact: bool) -> Message:
    last = max(row.log_id for row in batch)
    done = Position(start.chunk_id, last, start.span_id) if exact else start
    return Message("logs", _encode("logs", run_id, done, replay=replay,
                                   lines=[_line(row) for row in batch]), last_id=last)


def _line(row: LogRow) -> dict[str, Any]:
    return {"timestampMs": row.timestamp_ms, "sequence": row.sequence, "level": row.level,
            "message": row.message, "truncated": row.truncated}


def span_messages(run_id: str, rows: Sequence[SpanRow], start: Position, replay: bool,
                  exact: bool = True) -> Iterator[Message]:
    """Messages for ``rows`` (by id). With ``exact`` each cursor advances to the last span's
    id; otherwise (a replay) every cursor stays at ``start``. A span's ``endNs`` is null while
    it is open, as stored."""
    batch: list[SpanRow] = []
    chars = 0
    for row in rows:
        size = len(row.span.attrs_json) + len(row.span.events_json)
        if batch and (len(batch) >= MAX_SPANS_PER_MESSAGE
                      or chars + size > MAX_SPAN_CHARS_PER_MESSAGE):
            yield _spans(run_id, batch, start, replay, exact)
            batch, chars = [], 0
        batch.append(row)
        chars += size
    if batch:
        yield _spans(run_id, batch, start, replay, exact)


def _spans(run_id: str, batch: list[SpanRow], start: Position, replay: bool,
           exact: bool) -> Message:
    last = batch[-1].span_pk
    done = Position(start.chunk_id, start.log_id, last) if exact else start
    spans = [{k: v for k, v in span_dict(row.span).items() if k != "children"}
             for row in batch]
    return Message("spans", _encode("spans", run_id, done, replay=replay, spans=spans),
                   last_id=last)
