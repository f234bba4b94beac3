"""The data-plane store interface: metric chunks, log lines, spans, diagnostics, idempotency.

Every method is async and backend-neutral (no SQL leaks out). Writes are append-only: a metric
point is never updated; duplicate steps are resolved at read time (the point accepted last
wins, see :mod:`rundial_collector.store.series_math`). Each ingest call is one atomic write that
also claims its idempotency key, so a batch is stored entirely or not at all, and a repeated key
stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from rundial_collector.store.chart_math import Blocks
from rundial_collector.store.series_math import Points

LOG_LEVELS: tuple[str, ...] = ("trace", "debug", "info", "warn", "error", "fatal")
LEVEL_RANK: dict[str, int] = {name: rank for rank, name in enumerate(LOG_LEVELS)}

T = TypeVar("T")


@dataclass(frozen=True)
class SeriesChunk:
    """Points of one (project, run, metric key) from one request, in request order."""

    project_id: str
    run_id: str
    metric_key: str
    points: Points
    rank: int | None = None
    context_json: str | None = None  # the rc1 point ``context`` object, when one was sent


@dataclass(frozen=True)
class LogLine:
    project_id: str
    run_id: str
    timestamp_ms: int
    sequence: int
    level: str  # one of LOG_LEVELS
    message: str
    truncated: bool = False
    writer: str = ""  # writer id and rank; "" when the client sends neither (rc1)


@dataclass(frozen=True)
class SpanRecord:
    """A span exactly as sent (nanoseconds as ints, attributes and events as JSON text)."""

    project_id: str
    run_id: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int | None
    status: str
    attrs_json: str
    events_json: str
    model: str | None = None
    gen_ai_system: str | None = None
    tokens_in: str | None = None
    tokens_out: str | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class Diagnostics:
    """The latest ``clientDiagnostics`` snapshot of a run (cumulative; never summed)."""

    project_id: str
    run_id: str
    captured_at_ms: int
    payload_json: str


@dataclass(frozen=True)
class IngestBatch(Generic[T]):
    """One request's authorised, valid items. ``accepted`` is reported back to the client."""

    items: Sequence[T]
    accepted: int
    idempotency_key: str | None = None
    diagnostics: Sequence[Diagnostics] = field(default_factory=tuple)


@dataclass(frozen=True)
class WriteOutcome:
    """``duplicate``: the idempotency key was seen before and nothing was stored; ``accepted``
    is then the count recorded with the original request."""

    accepted: int
    duplicate: bool = False


@dataclass(frozen=True)
class ResolvedSeries:
    """One point per step (ascending) plus how many raw points were stored in total."""

    points: Points
    raw_count: int

    @property
    def superseded(self) -> int:
        return self.raw_count - len(self.points)


@dataclass(frozen=True)
class ChartSeries:
    """One series bucketed for a chart over ``[first_step, last_step]``.

    ``found``: the series has stored points. ``logged``: raw points stored in the whole series;
    ``in_range``: resolved points in the range; ``superseded``: raw points in the range that
    lost their step to a later point. Exactly one of ``raw`` (the resolved points, when they fit
    the buckets) and ``buckets`` (see :mod:`rundial_collector.store.chart_math`) is not None
    when ``found``; an empty range gives an empty ``raw``.
    """

    found: bool
    logged: int
    in_range: int
    superseded: int
    first_step: int | None
    last_step: int | None
    raw: Points | None
    buckets: Blocks | None


@dataclass(frozen=True)
class MetricKeyInfo:
    metric_key: str
    run_count: int
    point_count: int | None = None  # raw points (run-scoped listings only)
    last_step: int | None = None
    last_timestamp_ms: int | None = None


@dataclass(frozen=True)
class LogQuery:
    """Keyset-paged logs. ``after`` is the (timestampMs, sequence, id) of the last row seen."""

    project_id: str
    run_id: str
    limit: int
    newest_first: bool
    min_level: int = 0
    text: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    after: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class LogRow:
    log_id: int
    timestamp_ms: int
    sequence: int
    level: str
    message: str
    truncated: bool


class DataStore(Protocol):
    """Metric points, logs, spans, client diagnostics and idempotency keys."""

    async def ingest_metrics(self, batch: IngestBatch[SeriesChunk]) -> WriteOutcome:
        """Append every chunk (one row per chunk) atomically; duplicate key → store nothing.

        Raises ``WriteQueueFull`` at once when the write queue is full.
        """
        ...

    async def ingest_logs(self, batch: IngestBatch[LogLine]) -> WriteOutcome:
        """Append lines, silently skipping ones already stored (same run, timestampMs,
        sequence and message)."""
        ...

    async def ingest_spans(self, batch: IngestBatch[SpanRecord]) -> WriteOutcome:
        """Append spans, skipping (run, traceId, spanId) already stored."""
        ...

    async def run_known(self, project_id: str, run_id: str) -> bool:
        """True when the run has a runs row or any stored metric, log or span."""
        ...

    async def metric_keys(self, project_id: str, run_id: str | None, limit: int,
                          offset: int) -> list[MetricKeyInfo]:
        """Keys ordered user keys first, then ``system/`` keys, each alphabetically."""
        ...

    async def run_keys_from(self, project_id: str, run_id: str, start_key: str, limit: int,
                            system_last: bool) -> list[str]:
        """Up to ``limit`` keys of the run with stored points from ``start_key`` on
        (inclusive): alphabetically, or with ``system_last`` in :meth:`metric_keys` order."""
        ...

    async def read_series(self, project_id: str, run_id: str, metric_key: str,
                          rank: int | None = None) -> ResolvedSeries:
        """The resolved series (empty when nothing is stored); ``rank`` filters by writer rank."""
        ...

    async def read_series_page(self, project_id: str, run_id: str, metric_key: str,
                               rank: int | None, after_step: int, limit: int) -> Points:
        """Up to ``limit`` points of the resolved series with steps above ``after_step``,
        ascending. Its cost follows the page, not the series' length (exports page with it)."""
        ...

    async def read_chart(self, project_id: str, run_id: str, metric_key: str,
                         start_step: int | None, end_step: int | None,
                         buckets: int) -> ChartSeries:
        """The resolved series over ``[start_step, end_step]`` (None: the series' first/last
        step) in at most ``buckets`` min/max/last buckets, or its points when they fit. Duplicate
        steps are resolved exactly; the cost follows the buckets and the chunks cut by the
        range, not the series' length (stored per-chunk aggregates)."""
        ...

    async def query_logs(self, query: LogQuery) -> tuple[list[LogRow], bool]:
        """Up to ``query.limit`` lines in (timestampMs, sequence, id) order (or reverse), and
        whether more follow. A page may end early to bound its memory (then more follow)."""
        ...

    async def latest_diagnostics(self, project_id: str, run_id: str) -> Diagnostics | None:
        """The most recent ``clientDiagnostics`` snapshot of a run, if any."""
        ...

    async def list_spans(self, project_id: str, run_id: str, limit: int) -> list[SpanRecord]:
        """Spans of a run by start time (for the span-tree view of a later milestone)."""
        ...
