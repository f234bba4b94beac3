"""The PostgreSQL store: several collectors on one database, behind the same :class:`Store`.

Composition: each part implements one sub-protocol of :class:`Store` over the shared
:class:`PgEngine` (``self.engine``) and ``self.config``:

* :class:`PgControl` (:mod:`.control`): workspaces, projects, keys, runs, run edits, UI
  sessions, batched run look-ups;
* :class:`PgMetrics` (:mod:`.metrics`): metric ingest (``COPY``), series, keys and chart reads;
* :class:`PgEvents` (:mod:`.events`): logs, spans, diagnostics, the live stream's reads;
* :class:`PgArtifacts` (:mod:`.artifacts`): artifacts, blobs' holders, media, asset reads;
* :class:`PgEvals` (:mod:`.evals`): eval suites, eval runs, result rows and diffs.

``start`` opens the pool and applies the migrations (:mod:`.migrate`) under an advisory lock;
``close`` closes the pool after the calls in flight.
"""

from __future__ import annotations

from rundial_collector.config import CollectorConfig
from rundial_collector.store.postgres.accounts import PgAccounts
from rundial_collector.store.postgres.artifacts import PgArtifacts
from rundial_collector.store.postgres.control import PgControl
from rundial_collector.store.postgres.engine import PgEngine, PgSettings
from rundial_collector.store.postgres.evals import PgEvals
from rundial_collector.store.postgres.events import PgEvents
from rundial_collector.store.postgres.ingest_notify import RunNotifier
from rundial_collector.store.postgres.ingest_tx import IngestBookkeeping
from rundial_collector.store.postgres.metrics import PgMetrics
from rundial_collector.store.postgres.migrate import migrate


def settings_of(config: CollectorConfig) -> PgSettings:
    """The engine settings a collector configuration asks for."""
    return PgSettings(
        url=config.database_url, pool_min_size=config.database_pool_min_size,
        pool_max_size=config.database_pool_max_size,
        statement_timeout_seconds=config.database_statement_timeout_seconds,
        connect_timeout_seconds=config.database_connect_timeout_seconds,
        ssl=config.database_ssl, max_waiting_jobs=config.write_queue_max_jobs)


class PostgresStore(PgControl, PgMetrics, PgEvents, PgArtifacts, PgAccounts, PgEvals):
    """Every store method on PostgreSQL through one asyncpg pool."""

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.engine = PgEngine(settings_of(config))
        self.bookkeeping = IngestBookkeeping(config.idempotency_ttl_seconds)
        self.notifier = RunNotifier(self.engine)
        PgControl.__init__(self)
        PgMetrics.__init__(self)
        PgEvents.__init__(self)
        PgArtifacts.__init__(self)

    async def start(self) -> None:
        """Connect, then migrate under the advisory lock (StoreUnavailable if unreachable)."""
        await self.engine.start()
        async with self.engine.pool.acquire() as conn:
            await migrate(conn)
        await PgEvents.start_events(self)

    async def close(self) -> None:
        await PgEvents.stop_events(self)
        await self.notifier.close()
        await self.engine.close()
