"""The embedded default store: SQLite in WAL mode behind :class:`SQLiteEngine`."""

from __future__ import annotations

import asyncio

from rundial_collector.config import CollectorConfig
from rundial_collector.store.sqlite.accounts import ACCOUNT_SCHEMA, SQLiteAccounts
from rundial_collector.store.sqlite.artifacts import ARTIFACT_SCHEMA, SQLiteArtifacts
from rundial_collector.store.sqlite.asset_reads import SQLiteAssetReads
from rundial_collector.store.sqlite.batch_reads import SQLiteBatchReads
from rundial_collector.store.sqlite.control import CONTROL_SCHEMA, SQLiteControl
from rundial_collector.store.sqlite.data import DATA_SCHEMA, SQLiteData
from rundial_collector.store.sqlite.engine import SQLiteEngine
from rundial_collector.store.sqlite.evals import EVAL_SCHEMA, SQLiteEvals
from rundial_collector.store.sqlite.events import SQLiteEvents
from rundial_collector.store.sqlite.run_edits import RUN_EDITS_SCHEMA, SQLiteRunEdits
from rundial_collector.store.sqlite.sessions import SESSION_SCHEMA, SQLiteSessions


class SQLiteStore(SQLiteControl, SQLiteData, SQLiteArtifacts, SQLiteAssetReads, SQLiteEvents,
                  SQLiteSessions, SQLiteRunEdits, SQLiteBatchReads, SQLiteAccounts, SQLiteEvals):
    """Control and data planes on one SQLite file, one writer thread, group commit."""

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.engine = SQLiteEngine(
            config.db_path, [*CONTROL_SCHEMA, *RUN_EDITS_SCHEMA, *DATA_SCHEMA, *ARTIFACT_SCHEMA,
             *SESSION_SCHEMA, *ACCOUNT_SCHEMA, *EVAL_SCHEMA],
            write_queue_max_jobs=config.write_queue_max_jobs,
            group_commit_max_jobs=config.group_commit_max_jobs,
            read_threads=config.read_threads)
        SQLiteControl.__init__(self)
        SQLiteData.__init__(self)
        SQLiteArtifacts.__init__(self)

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.engine.start)

    async def close(self) -> None:
        await self.engine.close()
