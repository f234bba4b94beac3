"""Eval suites, eval runs and result rows in SQLite (:mod:`rundial_collector.store.evals_base`).

The tables are created with ``IF NOT EXISTS``, so an existing database gains them at its next
start. Statements and row decoding are shared with PostgreSQL
(:mod:`rundial_collector.store.eval_sql`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from rundial_collector.store.eval_sql import (INSERT_RUN, INSERT_SUITE, SELECT_RUN,
                                              SELECT_SUITE, UPSERT_RESULT, diff_counts,
                                              diff_counts_sql, diff_page_sql, diff_row,
                                              page_of, result_from_row, result_values,
                                              results_page_sql, run_from_row, run_values,
                                              suite_from_row, suite_values)
from rundial_collector.store.evals_base import (EvalDiffCounts, EvalDiffQuery, EvalDiffRow,
                                                EvalResult, EvalRun, EvalSuite,
                                                check_eval_run, check_suite)
from rundial_collector.store.sqlite.engine import SQLiteEngine

EVAL_SCHEMA: list[str] = ["""
CREATE TABLE IF NOT EXISTS eval_suites (
    suite_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    name TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    dataset_name TEXT NOT NULL,
    dataset_version TEXT NOT NULL,
    dataset_ref TEXT NOT NULL,
    scorers TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS eval_runs (
    eval_run_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    suite_id TEXT NOT NULL REFERENCES eval_suites(suite_id),
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    config TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS eval_results (
    project_id TEXT NOT NULL,
    eval_run_id TEXT NOT NULL,
    example_id TEXT NOT NULL,
    scorer TEXT NOT NULL,
    score REAL NOT NULL,
    passed INTEGER NOT NULL,
    trace_id TEXT,
    evidence TEXT,
    meta TEXT NOT NULL,
    accepted_ms INTEGER NOT NULL,
    PRIMARY KEY (project_id, eval_run_id, example_id, scorer)
);
"""]


class SQLiteEvals:
    """The SQLite :class:`EvalStore`; shares ``self.engine`` with the store."""

    engine: SQLiteEngine

    async def create_eval_suite(self, suite: EvalSuite) -> tuple[EvalSuite, bool]:
        def job(conn: sqlite3.Connection) -> tuple[EvalSuite, bool]:
            created = conn.execute(INSERT_SUITE, suite_values(suite)).rowcount == 1
            stored = suite_from_row(conn.execute(SELECT_SUITE, (suite.suite_id,)).fetchone())
            check_suite(stored, suite)
            return stored, created
        return await self.engine.write(job)

    async def get_eval_suite(self, suite_id: str) -> EvalSuite | None:
        row = await self.engine.read(
            lambda conn: conn.execute(SELECT_SUITE, (suite_id,)).fetchone())
        return suite_from_row(row) if row else None

    async def create_eval_run(self, eval_run: EvalRun) -> tuple[EvalRun, bool]:
        def job(conn: sqlite3.Connection) -> tuple[EvalRun, bool]:
            created = conn.execute(INSERT_RUN, run_values(eval_run)).rowcount == 1
            stored = run_from_row(conn.execute(SELECT_RUN, (eval_run.eval_run_id,)).fetchone())
            check_eval_run(stored, eval_run)
            return stored, created
        return await self.engine.write(job)

    async def get_eval_run(self, eval_run_id: str) -> EvalRun | None:
        row = await self.engine.read(
            lambda conn: conn.execute(SELECT_RUN, (eval_run_id,)).fetchone())
        return run_from_row(row) if row else None

    async def ingest_eval_results(self, rows: Sequence[EvalResult]) -> int:
        values = [result_values(row) for row in rows]
        await self.engine.write(lambda conn: conn.executemany(UPSERT_RESULT, values) and None)
        return len(values)

    async def eval_results_page(self, project_id: str, eval_run_id: str,
                                after: tuple[str, str] | None, limit: int
                                ) -> tuple[list[EvalResult], bool]:
        sql, params = results_page_sql(after, project_id, eval_run_id, limit)
        rows = await self.engine.read(lambda conn: conn.execute(sql, params).fetchall())
        page, more = page_of(rows, limit)
        return [result_from_row(row) for row in page], more

    async def diff_eval_runs(self, query: EvalDiffQuery
                             ) -> tuple[list[EvalDiffRow], bool, EvalDiffCounts]:
        page_sql, page_params = diff_page_sql(query)
        counts_sql, counts_params = diff_counts_sql(query)

        def job(conn: sqlite3.Connection) -> tuple[list[EvalDiffRow], bool, EvalDiffCounts]:
            page, more = page_of(conn.execute(page_sql, page_params).fetchall(), query.limit)
            counts = diff_counts(conn.execute(counts_sql, counts_params).fetchone())
            return [diff_row(row) for row in page], more, counts
        return await self.engine.read(job)

