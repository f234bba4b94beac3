"""SQLite side of :mod:`rundial_collector.store.batch_base`: one read transaction per call."""

from __future__ import annotations

import sqlite3
import time

from rundial_collector.store.batch_base import RunKeys
from rundial_collector.store.control_base import Run
from rundial_collector.store.sqlite.engine import SQLiteEngine
from rundial_collector.store.sqlite.data import run_is_known
from rundial_collector.store.sqlite.metrics import metric_keys
from rundial_collector.store.sqlite.runquery import status_sql
from rundial_collector.store.sqlite.runs import select_run


class SQLiteBatchReads:
    """Batched UI reads (mixed into :class:`SQLiteStore`)."""

    engine: SQLiteEngine
    lost_after_ms: int

    async def keys_of_runs(self, project_id: str, run_ids: list[str], first_offset: int,
                           budget: int) -> list[RunKeys]:
        return await self.engine.read(
            lambda conn: _keys_of_runs(conn, project_id, run_ids, first_offset, budget))

    async def runs_by_id(self, project_id: str, run_ids: list[str]) -> list[Run]:
        cutoff = int(time.time() * 1000) - self.lost_after_ms

        def read(conn: sqlite3.Connection) -> list[Run]:
            found = (select_run(conn, run_id, status_sql(), (cutoff,)) for run_id in run_ids)
            return [run for run in found if run is not None and run.project_id == project_id]

        return await self.engine.read(read)


def _keys_of_runs(conn: sqlite3.Connection, project_id: str, run_ids: list[str],
                  first_offset: int, budget: int) -> list[RunKeys]:
    out: list[RunKeys] = []
    for index, run_id in enumerate(run_ids):
        if budget <= 0:
            break
        offset = first_offset if index == 0 else 0
        found = [info.metric_key for info in metric_keys(conn, project_id, run_id, budget + 1,
                                                         offset)]
        known = bool(found) or offset > 0 or run_is_known(conn, project_id, run_id)
        keys = tuple(found[:budget])
        out.append(RunKeys(run_id, known, offset, keys, len(found) <= budget))
        budget -= len(keys)
    return out

