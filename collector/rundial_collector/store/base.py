"""The store interface every backend implements (SQLite now, PostgreSQL next).

It is the union of the control-plane part (workspaces, projects, keys, runs), the data-plane
part (metric points, logs, spans, idempotency), artifacts, the event-stream reads, browser sessions and
run edits. Every
method is async; no SQL leaks out.
"""

from __future__ import annotations

from typing import Protocol

from rundial_collector.store.accounts_base import AccountStore
from rundial_collector.store.artifacts_base import ArtifactStore
from rundial_collector.store.asset_reads_base import AssetReadStore
from rundial_collector.store.batch_base import BatchReadStore
from rundial_collector.store.control_base import ControlStore
from rundial_collector.store.data_base import DataStore
from rundial_collector.store.evals_base import EvalStore
from rundial_collector.store.events_base import EventStore
from rundial_collector.store.run_edits_base import RunEditStore
from rundial_collector.store.sessions_base import SessionStore


class Store(ControlStore, DataStore, ArtifactStore, AssetReadStore, EventStore, SessionStore,
            RunEditStore, BatchReadStore, AccountStore, EvalStore, Protocol):
    """A complete backend. ``start`` creates the schema; ``close`` drains pending writes."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...
