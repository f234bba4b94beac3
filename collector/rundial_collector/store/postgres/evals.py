"""PostgreSQL: eval suites, eval runs and result rows (:mod:`rundial_collector.store.evals_base`),
with the SQLite store's statements (:mod:`rundial_collector.store.eval_sql`).

Creation is race-free across collectors: the insert is ``ON CONFLICT DO NOTHING`` (it waits for
a concurrent insert of the same id to commit), then the stored row is read back and checked,
so two collectors creating one suite or eval run both answer with the same row. Result rows
are upserted row by row in one transaction, so a key repeated within a batch ends with its
last row; the diff's page and counts are read in one snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence

from rundial_collector.store.control_sql import numbered
from rundial_collector.store.errors import has_nul
from rundial_collector.store.eval_sql import (INSERT_RUN, INSERT_SUITE, SELECT_RUN,
                                              SELECT_SUITE, UPSERT_RESULT, diff_counts,
                                              diff_counts_sql, diff_page_sql, diff_row, page_of,
                                              result_from_row, result_values, results_page_sql,
                                              run_from_row, run_values, suite_from_row,
                                              suite_values)
from rundial_collector.store.evals_base import (EvalDiffCounts, EvalDiffQuery, EvalDiffRow,
                                                EvalResult, EvalRun, EvalSuite,
                                                check_eval_run, check_suite)
from rundial_collector.store.postgres.engine import Conn, PgEngine

_INSERTED = " RETURNING 1"


class PgEvals:
    """The PostgreSQL :class:`EvalStore` (part of :class:`PostgresStore`)."""

    engine: PgEngine

    async def create_eval_suite(self, suite: EvalSuite) -> tuple[EvalSuite, bool]:
        async def job(conn: Conn) -> tuple[EvalSuite, bool]:
            created = await conn.fetchval(numbered(INSERT_SUITE) + _INSERTED,
                                          *suite_values(suite)) is not None
            stored = suite_from_row(await conn.fetchrow(numbered(SELECT_SUITE), suite.suite_id))
            check_suite(stored, suite)
            return stored, created
        return await self.engine.write(job)

    async def get_eval_suite(self, suite_id: str) -> EvalSuite | None:
        row = await self.engine.read(lambda conn: conn.fetchrow(numbered(SELECT_SUITE), suite_id))
        return suite_from_row(row) if row is not None else None

    async def create_eval_run(self, eval_run: EvalRun) -> tuple[EvalRun, bool]:
        async def job(conn: Conn) -> tuple[EvalRun, bool]:
            created = await conn.fetchval(numbered(INSERT_RUN) + _INSERTED,
                                          *run_values(eval_run)) is not None
            stored = run_from_row(await conn.fetchrow(numbered(SELECT_RUN),
                                                      eval_run.eval_run_id))
            check_eval_run(stored, eval_run)
            return stored, created
        return await self.engine.write(job)

    async def get_eval_run(self, eval_run_id: str) -> EvalRun | None:
        if has_nul(eval_run_id):
            return None
        row = await self.engine.read(lambda conn: conn.fetchrow(numbered(SELECT_RUN), eval_run_id))
        return run_from_row(row) if row is not None else None

    async def ingest_eval_results(self, rows: Sequence[EvalResult]) -> int:
        values = [result_values(row) for row in rows]
        if values:
            await self.engine.write(
                lambda conn: conn.executemany(numbered(UPSERT_RESULT), values))
        return len(values)

    async def eval_results_page(self, project_id: str, eval_run_id: str,
                                after: tuple[str, str] | None, limit: int
                                ) -> tuple[list[EvalResult], bool]:
        if has_nul(eval_run_id):
            return [], False
        sql, params = results_page_sql(after, project_id, eval_run_id, limit)
        rows = await self.engine.read(lambda conn: conn.fetch(numbered(sql), *params))
        page, more = page_of(list(rows), limit)
        return [result_from_row(row) for row in page], more

    async def diff_eval_runs(self, query: EvalDiffQuery
                             ) -> tuple[list[EvalDiffRow], bool, EvalDiffCounts]:
        page_sql, page_params = diff_page_sql(query)
        counts_sql, counts_params = diff_counts_sql(query)

        async def job(conn: Conn) -> tuple[list[EvalDiffRow], bool, EvalDiffCounts]:
            rows = await conn.fetch(numbered(page_sql), *page_params)
            page, more = page_of(list(rows), query.limit)
            counts = diff_counts(await conn.fetchrow(numbered(counts_sql), *counts_params))
            return [diff_row(row) for row in page], more, counts
        return await self.engine.read(job)
