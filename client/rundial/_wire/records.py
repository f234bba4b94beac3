"""Record kinds on the run's queue, batch kinds on the wire, and log/span body encoding.

**One queue, told apart by type.** ``run.log`` appends plain tuples ``(step, ts_ms, values)``
(its hot path is unchanged); the other producers append their own types: :class:`SystemRow`
(a tuple subclass) for system samples, lists ``[ts_ms, level, message, truncated]`` for log
lines, ended :class:`~rundial._producers.trace.Span` objects and eval result rows
(:class:`~rundial._wire.evals.EvalRow`). The worker checks
``set(map(type, …))`` once per drain (a C-level pass) and only splits when something else than
metric rows is queued.

**Kinds travel in the batch id.** A batch id is its Idempotency-Key and part of its spool file
name, so a spooled body's route is known from its name alone — in this process, in a later one
replaying the spool and in ``rundial-spool``: metric batches keep a bare uuid4 hex (older spools
replay unchanged), log batches are ``log_<hex>``, span batches ``span_<hex>``, eval result
batches ``eval_<hex>``; the halves of a split batch (``<id>-0``) keep the prefix. All kinds share
the writer's one FIFO spool queue, so batches are delivered in the order they were drained (per
drain: metrics, system, logs, spans, eval rows).

**Log and span bodies** (docs/protocol.md §4.7) carry the target once, like wide metric rows:
``{"projectId" | "workspace"+"project", "runId", "rank"?, "writerId", "seq", "lines": [...]}``
(``"spans"`` for traces); items omit ``projectId``/``runId`` and inherit the body's. Eval result
bodies hold the rows of one eval run: the same target fields plus ``evalRunId`` and ``"rows"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from rundial._wire.evals import EvalRow
from rundial._wire.batch import Batch, gzip_bytes, new_batch_id

METRICS, LOGS, SPANS, EVALS = "metrics", "logs", "spans", "evals"
_PREFIX = {LOGS: "log_", SPANS: "span_", EVALS: "eval_"}
_FIELD = {LOGS: b"lines", SPANS: b"spans", EVALS: b"rows"}
PATHS = {METRICS: "/api/v1/ingest/metrics", LOGS: "/api/v1/ingest/logs",
         SPANS: "/api/v1/ingest/traces", EVALS: "/api/v1/evals/results"}


class SystemRow(tuple):  # type: ignore[type-arg]
    """A queued system sample ``(step, timestamp_ms, values)``. Its own type lets the worker
    encode system rows apart from training rows (their steps are epoch seconds)."""

    __slots__ = ()


def kind_of(batch_id: str) -> str:
    """The kind of a batch from its id (a bare hex id is a metrics batch)."""
    if batch_id.startswith("log_"):
        return LOGS
    if batch_id.startswith("span_"):
        return SPANS
    if batch_id.startswith("eval_"):
        return EVALS
    return METRICS


def ingest_path(batch_id: str) -> str:
    """The ingest route a batch is POSTed to."""
    return PATHS[kind_of(batch_id)]


def split_records(records: list[Any]
                  ) -> tuple[list[Any], list[Any], list[Any], list[Any], list[Any]]:
    """``(metric rows, system rows, log records, spans, eval rows)``, each in queue order."""
    rows: list[Any] = []
    system: list[Any] = []
    lines: list[Any] = []
    spans: list[Any] = []
    evals: list[Any] = []
    by_type: dict[type, list[Any]] = {tuple: rows, SystemRow: system, list: lines,
                                      EvalRow: evals}
    for record in records:
        by_type.get(type(record), spans).append(record)
    return rows, system, lines, spans, evals


class ItemEncoder:
    """Encodes wire items (dicts) of one kind into :class:`Batch` objects for one writer.

    ``header`` holds the target fields (see the module docstring); ``next_seq`` hands out the
    writer's batch sequence numbers (shared with metric batches). A body holds at most
    ``max_records`` items and ``max_bytes`` uncompressed bytes (halved until it fits). An item
    JSON cannot encode (a lone surrogate its producer did not catch) is left out of its body
    and reported as a count to ``on_unencodable``; the rest of the body is kept. Not
    thread-safe: owned by the worker.
    """

    def __init__(self, kind: str, header: Mapping[str, Any], next_seq: Callable[[], int], *,
                 max_records: int, max_bytes: int,
                 on_unencodable: Callable[[int], None] = lambda count: None) -> None:
        self.kind = kind
        self._on_unencodable = on_unencodable
        self._field = _FIELD[kind]
        self._prefix = orjson.dumps(dict(header))[:-1] + b',"seq":'
        self._next_seq = next_seq
        self._max_records = max(1, max_records)
        self._max_bytes = max_bytes

    def encode(self, items: list[dict[str, Any]]) -> list[Batch]:
        """Encode ``items`` (in order) into batches within the size limits."""
        out: list[Batch] = []
        for start in range(0, len(items), self._max_records):
            self._encode_group(items[start:start + self._max_records], out)
        return out

    def _encode_group(self, items: list[dict[str, Any]], out: list[Batch]) -> None:
        try:
            data = orjson.dumps(items)
        except orjson.JSONEncodeError:
            items = self._encodable(items)
            data = orjson.dumps(items)
        if len(data) > self._max_bytes and len(items) > 1:
            half = len(items) // 2
            self._encode_group(items[:half], out)
            self._encode_group(items[half:], out)
        elif items:
            seq = self._next_seq()
            raw = b"".join((self._prefix, str(seq).encode(), b',"', self._field, b'":', data, b"}"))
            out.append(Batch(new_batch_id(_PREFIX[self.kind]), seq, gzip_bytes(raw), len(items),
                             len(items), None, None))

    def _encodable(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items that encode on their own (the slow path of a group that did not)."""
        kept: list[dict[str, Any]] = []
        for item in items:
            try:
                orjson.dumps(item)
            except orjson.JSONEncodeError:
                continue
            kept.append(item)
        if len(kept) < len(items):
            self._on_unencodable(len(items) - len(kept))
        return kept
