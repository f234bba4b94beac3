"""The transaction a PostgreSQL ingest runs in (a common metric batch runs the same steps in
one statement instead: :mod:`.metrics_append`): claim the idempotency key, append the rows,
keep the newest ``clientDiagnostics``, touch the runs' heartbeat, purge expired keys. After
COMMIT the runs are announced to every collector's live stream by the store's
:class:`.ingest_notify.RunNotifier` (a NOTIFY inside the transaction would serialise every
ingest commit, see that module).

Contract (same as SQLite's, across collectors): the key is claimed with ``INSERT ... ON
CONFLICT DO NOTHING`` inside the transaction that writes the rows. Two collectors racing on one
key serialise on its primary-key index: the second waits for the first to commit, then sees the
conflict and answers ``duplicate`` with the recorded count, storing nothing. If the first rolls
back, the second claims the key and stores. So a batch is stored entirely or not at all, and
exactly once, whichever collector a retry reaches.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar


from rundial_collector.store.data_base import Diagnostics, IngestBatch, WriteOutcome
from rundial_collector.store.postgres.engine import Conn, PgEngine
from rundial_collector.store.postgres.ingest_notify import RunNotifier

__all__ = ["HEARTBEAT_GRANULARITY_MS", "IngestBookkeeping", "RunTouches", "claim_key",
           "ingest", "purge_expired_keys", "recorded_count", "store_diagnostics", "touch_runs"]

T = TypeVar("T")
Writer = Callable[[Conn, Sequence[Any], int], Awaitable[None]]
HEARTBEAT_GRANULARITY_MS = 1000  # a run's heartbeat is rewritten at most this often
PURGE_INTERVAL_MS = 60_000  # expired idempotency keys are purged at most this often
TOUCHED_RUNS_REMEMBERED = 10_000  # past this, touches older than the granularity are pruned


class IngestBookkeeping:
    """This collector's ingest bookkeeping: when it last purged expired keys (each collector
    purges on its own; a purge twice in a minute across collectors is harmless), and when it
    last touched each run (:attr:`touched_ms`, committed touches only): a run it touched less
    than :data:`HEARTBEAT_GRANULARITY_MS` ago is not touched again, as the UPDATE's own
    condition would change nothing, and the statement (a round trip) is skipped."""

    def __init__(self, ttl_seconds: int) -> None:
        self.ttl_ms = ttl_seconds * 1000
        self.last_ms = 0
        self.touched_ms: dict[tuple[str, str], int] = {}

    def purge_due(self, now_ms: int) -> bool:
        """Whether this collector's last purge of expired keys is a minute old or more."""
        return now_ms - self.last_ms >= PURGE_INTERVAL_MS

    def untouched(self, runs: Iterable[tuple[str, str]], now_ms: int) -> list[tuple[str, str]]:
        """The runs of ``runs`` not touched by this collector within the granularity."""
        recent = now_ms - HEARTBEAT_GRANULARITY_MS
        return [run for run in runs if self.touched_ms.get(run, -1) <= recent]

    def remember_touched(self, runs: Iterable[tuple[str, str]], now_ms: int) -> None:
        """Record committed touches; entries older than the granularity are dropped when the
        map grows past :data:`TOUCHED_RUNS_REMEMBERED`."""
        self.touched_ms.update((run, now_ms) for run in runs)
        if len(self.touched_ms) > TOUCHED_RUNS_REMEMBERED:
            recent = now_ms - HEARTBEAT_GRANULARITY_MS
            self.touched_ms = {r: t for r, t in self.touched_ms.items() if t > recent}


async def ingest(engine: PgEngine, batch: IngestBatch[Any], writer: Writer,
                 bookkeeping: IngestBookkeeping, notifier: RunNotifier) -> WriteOutcome:
    """Store ``batch`` with ``writer`` in one transaction (see the module contract); a new
    batch's runs are announced through ``notifier`` once committed."""
    touches = RunTouches(bookkeeping, batch)

    async def job(conn: Conn) -> WriteOutcome:
        now_ms = int(time.time() * 1000)
        if batch.idempotency_key is not None:
            recorded = await claim_key(conn, batch.idempotency_key, batch.accepted, now_ms)
            if recorded is not None:
                return WriteOutcome(recorded, duplicate=True)
        await writer(conn, batch.items, now_ms)
        await store_diagnostics(conn, batch.diagnostics, now_ms)
        await touch_runs(conn, touches.due(now_ms), now_ms)
        await purge_expired_keys(conn, bookkeeping, now_ms)
        return WriteOutcome(batch.accepted)

    outcome = await engine.write(job)
    touches.committed()
    if not outcome.duplicate:
        notifier.announce(touches.runs)
    return outcome


class RunTouches:
    """The runs of one batch, and those its last attempt touched (an attempt may be retried):
    :meth:`due` inside the transaction, :meth:`committed` once it committed."""

    def __init__(self, bookkeeping: IngestBookkeeping, batch: IngestBatch[Any]) -> None:
        self.bookkeeping = bookkeeping
        self.runs = {(x.project_id, x.run_id) for x in batch.items}
        self.touched: list[tuple[str, str]] = []
        self.at_ms = 0

    def due(self, now_ms: int) -> list[tuple[str, str]]:
        """The runs to touch at ``now_ms`` (not touched within the granularity)."""
        self.touched, self.at_ms = self.bookkeeping.untouched(self.runs, now_ms), now_ms
        return self.touched

    def committed(self) -> None:
        self.bookkeeping.remember_touched(self.touched, self.at_ms)


async def claim_key(conn: Conn, key: str, accepted: int, now_ms: int
                    ) -> int | None:
    """Record ``key``; None when new, else the accepted count recorded with its first use."""
    inserted = await conn.fetchval(
        "INSERT INTO idempotency_keys (idem_key, created_ms, accepted) VALUES ($1, $2, $3) "
        "ON CONFLICT (idem_key) DO NOTHING RETURNING 1", key, now_ms, accepted)
    if inserted is not None:
        return None
    return await recorded_count(conn, key)


async def recorded_count(conn: Conn, key: str) -> int:
    """The accepted count recorded with ``key`` (a used key)."""
    recorded = await conn.fetchval("SELECT accepted FROM idempotency_keys WHERE idem_key = $1",
                                   key)
    return int(recorded)


async def store_diagnostics(conn: Conn, snapshots: Sequence[Diagnostics],
                            now_ms: int) -> None:
    """Keep the newest snapshot per run (by capturedAtMs; ties go to the later request)."""
    if not snapshots:
        return
    await conn.executemany(
        "INSERT INTO client_diagnostics (project_id, run_id, captured_at_ms, received_ms,"
        " payload_json) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, run_id) DO UPDATE"
        " SET captured_at_ms = excluded.captured_at_ms, received_ms = excluded.received_ms,"
        " payload_json = excluded.payload_json"
        " WHERE excluded.captured_at_ms >= client_diagnostics.captured_at_ms",
        [(d.project_id, d.run_id, d.captured_at_ms, now_ms, d.payload_json) for d in snapshots])


async def touch_runs(conn: Conn, runs: Iterable[tuple[str, str]],
                     now_ms: int) -> None:
    """Record activity (``lastHeartbeatMs``/``updatedAtMs``) for existing runs of their own
    project, at most once per :data:`HEARTBEAT_GRANULARITY_MS` (few row rewrites under load)."""
    pairs = sorted(set(runs))  # a fixed order: two collectors never deadlock on the same runs
    if not pairs:
        return
    await conn.executemany(
        "UPDATE runs SET last_heartbeat_ms = $1, updated_ms = $1 "
        "WHERE project_id = $2 AND run_id = $3 AND last_heartbeat_ms < $4",
        [(now_ms, project_id, run_id, now_ms - HEARTBEAT_GRANULARITY_MS)
         for project_id, run_id in pairs])


async def purge_expired_keys(conn: Conn, bookkeeping: IngestBookkeeping, now_ms: int) -> None:
    """Delete keys older than the TTL, at most once a minute per collector."""
    if not bookkeeping.purge_due(now_ms):
        return
    bookkeeping.last_ms = now_ms
    await conn.execute("DELETE FROM idempotency_keys WHERE created_ms < $1",
                       now_ms - bookkeeping.ttl_ms)
