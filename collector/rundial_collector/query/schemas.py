"""msgspec schemas of the query and export request bodies (v1 doc §7.2-7.5, docs §4.3/4.6).

Decoded with :func:`rundial_collector.web.jsonbody.decode_body`: a wrong type, a value outside its
bounds or an unknown enum value is a 400 naming the field. Page sizes above the maximum are
clamped (never rejected) by the handlers.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from rundial_collector.web.intbounds import NonNegative, Positive

MAX_POINTS = 100_000  # largest maxPointsPerSeries / export page: ~4 MiB of JSON
MAX_LOG_ROWS = 10_000  # largest query/logs page
MAX_EXPORT_LOG_ROWS = 100_000  # largest export/logs page

Level = Literal["trace", "debug", "info", "warn", "error", "fatal"]
Format = Literal["json", "csv"]


class SeriesQuery(msgspec.Struct):
    """``query/series`` (v1 doc §7.2) plus ``mode``, ``rank`` and ``cursor`` (docs §4.3)."""

    projectId: str
    runId: str
    metricKeys: list[str] | None = None
    range: str = "full_run"
    maxPointsPerSeries: Positive = 25
    order: Literal["asc", "desc"] = "asc"
    mode: Literal["tail", "downsample", "full"] = "tail"
    rank: NonNegative | None = None
    cursor: str | None = None


class _Window(msgspec.Struct):
    """What both exports share: a run, an inclusive timestampMs window and a page."""

    projectId: str
    runId: str
    startMs: NonNegative
    endMs: NonNegative
    limit: Positive = 1000
    format: Format = "json"
    cursor: str | None = None


class MetricsExport(_Window):
    """``export/metrics`` (v1 doc §7.3) plus our ``rank`` filter."""

    metricKeys: list[str] | None = None
    rank: NonNegative | None = None


class LogsQuery(msgspec.Struct):
    """``query/logs`` (v1 doc §7.4) plus ``order`` and an optional ``startMs``/``endMs`` window."""

    projectId: str
    runId: str
    limit: Positive = 100
    minLevel: Level = "trace"
    order: Literal["asc", "desc"] = "desc"
    text: str | None = None
    cursor: str | None = None
    startMs: NonNegative | None = None
    endMs: NonNegative | None = None


class LogsExport(_Window):
    """``export/logs`` (v1 doc §7.5) plus the ``minLevel`` and ``text`` filters of query/logs."""

    minLevel: Level = "trace"
    text: str | None = None
