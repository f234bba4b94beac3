"""The store interface of the live event stream (``live.pump``, ``routes.live``).

Positions are the store's ingest-ordered ids of metric chunks and log lines: every row of a
run with an id at or below a position read from :meth:`EventStore.event_head` is committed,
so "after position P" is a gap-free cursor. A PostgreSQL backend implements the same methods
with its own sequences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rundial_collector.store.data_base import LogRow, SpanRecord
from rundial_collector.store.series_math import Points


# Called with (project id, run id) after a commit that wrote to that run (see on_remote_commit).
CommitCallback = Callable[[str, str], None]


@dataclass(frozen=True)
class ChunkRow:
    """One stored metric chunk: its id, series key, writer rank and points (request order)."""

    chunk_id: int
    metric_key: str
    rank: int | None
    points: Points


@dataclass(frozen=True)
class SpanRow:
    """One stored span and its ingest-ordered id (the live stream's span position)."""

    span_pk: int
    span: SpanRecord


@dataclass(frozen=True)
class EventBatch:
    """What one live read found after a position: each list by id, each up to its limit."""

    chunks: list[ChunkRow]
    lines: list[LogRow]
    spans: list[SpanRow]


class EventStore(Protocol):
    """Reads that replay and tail one run's metrics, logs and spans by id. Never write."""

    def on_remote_commit(self, callback: CommitCallback) -> None:
        """Ask to be told of commits made through other processes sharing the store:
        ``callback(project_id, run_id)`` is called on the event loop, without awaiting, after
        such a commit wrote rows or a state change of the run (a backend may also report its
        own process's commits). Best effort: a backend may deliver late, twice, or not at all
        (the live stream's poll is the fallback). A single-process backend never calls it."""
        ...

    async def event_head(self) -> tuple[int, int, int]:
        """The newest (chunk id, log id, span id) committed so far over every run (0 when
        empty)."""
        ...

    async def tail_events(self, project_id: str, run_id: str, after: tuple[int, int, int],
                          limits: tuple[int, int, int]) -> EventBatch:
        """Chunks, lines and spans of the run with ids after ``after`` (by id), up to
        ``limits``."""
        ...

    async def replay_spans(self, project_id: str, run_id: str, window: tuple[int, int],
                           limit: int) -> list[SpanRow]:
        """Up to ``limit`` spans of the run with ``window[0] < id <= window[1]``, by id."""
        ...

    async def run_series(self, project_id: str, run_id: str) -> list[tuple[int, str]]:
        """(series id, metric key) of every series of the run, by key."""
        ...

    async def series_chunks(self, series_id: int, metric_key: str, window: tuple[int, int],
                            limit: int) -> list[ChunkRow]:
        """Chunks of one series with ``window[0] < id <= window[1]``, by id."""
        ...

    async def replay_lines(self, project_id: str, run_id: str, window: tuple[int, int],
                           after: tuple[int, int, int] | None, limit: int) -> list[LogRow]:
        """Lines with ``window[0] < id <= window[1]`` in (timestampMs, sequence, id) order,
        strictly after the key ``after`` (None = from the start)."""
        ...
