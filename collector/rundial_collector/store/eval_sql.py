"""SQL of the eval store shared by both backends (``?`` placeholders; PostgreSQL numbers them
with :func:`~rundial_collector.store.control_sql.numbered`), and row decoding.

Rows are sqlite3 tuples or asyncpg records (typed ``Any``). Every statement is parameterised.
The diff is built from two filtered sub-selects and their union of keys, so it needs no FULL
JOIN; ``rank`` is 0 for a regression, 1 otherwise.
"""

from __future__ import annotations

from typing import Any

from rundial_collector.store.evals_base import (EvalDiffCounts, EvalDiffQuery, EvalDiffRow,
                                                EvalResult, EvalRun, EvalSuite)

SUITE_COLUMNS = ("suite_id, project_id, name, dataset_id, dataset_name, dataset_version, "
                 "dataset_ref, scorers, created_ms")
RUN_COLUMNS = "eval_run_id, project_id, suite_id, run_id, config, created_ms"
RESULT_COLUMNS = ("project_id, eval_run_id, example_id, scorer, score, passed, trace_id, "
                  "evidence, meta, accepted_ms")

INSERT_SUITE = (f"INSERT INTO eval_suites ({SUITE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (suite_id) DO NOTHING")
SELECT_SUITE = f"SELECT {SUITE_COLUMNS} FROM eval_suites WHERE suite_id = ?"
INSERT_RUN = (f"INSERT INTO eval_runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (eval_run_id) DO NOTHING")
SELECT_RUN = f"SELECT {RUN_COLUMNS} FROM eval_runs WHERE eval_run_id = ?"
UPSERT_RESULT = (
    f"INSERT INTO eval_results ({RESULT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (project_id, eval_run_id, example_id, scorer) DO UPDATE SET "
    "score = excluded.score, passed = excluded.passed, trace_id = excluded.trace_id, "
    "evidence = excluded.evidence, meta = excluded.meta, accepted_ms = excluded.accepted_ms")


def suite_values(suite: EvalSuite) -> tuple[Any, ...]:
    return (suite.suite_id, suite.project_id, suite.name, suite.dataset_id, suite.dataset_name,
            suite.dataset_version, suite.dataset_ref, suite.scorers_json, suite.created_ms)


def run_values(run: EvalRun) -> tuple[Any, ...]:
    return (run.eval_run_id, run.project_id, run.suite_id, run.run_id, run.config_json,
            run.created_ms)


def result_values(row: EvalResult) -> tuple[Any, ...]:
    return (row.project_id, row.eval_run_id, row.example_id, row.scorer, row.score,
            int(row.passed), row.trace_id, row.evidence_json, row.meta_json, row.accepted_ms)


def suite_from_row(row: Any) -> EvalSuite:
    return EvalSuite(*row)


def run_from_row(row: Any) -> EvalRun:
    return EvalRun(*row)


def result_from_row(row: Any) -> EvalResult:
    (project_id, eval_run_id, example_id, scorer, score, passed, trace_id, evidence, meta,
     accepted_ms) = row
    return EvalResult(project_id, eval_run_id, example_id, scorer, float(score), bool(passed),
                      trace_id, evidence, meta, int(accepted_ms))


def results_page_sql(after: tuple[str, str] | None, project_id: str, eval_run_id: str,
                     limit: int) -> tuple[str, list[Any]]:
    """One page of an eval run's rows (one extra row tells whether more exist)."""
    sql = f"SELECT {RESULT_COLUMNS} FROM eval_results WHERE project_id = ? AND eval_run_id = ?"
    params: list[Any] = [project_id, eval_run_id]
    if after is not None:
        sql += " AND (example_id, scorer) > (?, ?)"
        params += list(after)
    return sql + " ORDER BY example_id, scorer LIMIT ?", [*params, limit + 1]


def _side(scorer: str | None) -> str:
    where = "project_id = ? AND eval_run_id = ?" + (" AND scorer = ?" if scorer else "")
    return f"SELECT example_id, scorer, score, passed FROM eval_results WHERE {where}"


def _joined(query: EvalDiffQuery) -> tuple[str, list[Any]]:
    """The diff as a sub-select: one row per key of either side, with ``rank``."""
    side = _side(query.scorer)
    sql = (f"WITH b AS ({side}), c AS ({side}), "
           "k AS (SELECT example_id, scorer FROM b UNION SELECT example_id, scorer FROM c) "
           "SELECT CASE WHEN b.passed = 1 AND c.passed = 0 THEN 0 ELSE 1 END AS rank, "
           "k.example_id AS example_id, k.scorer AS scorer, b.score AS b_score, "
           "b.passed AS b_passed, c.score AS c_score, c.passed AS c_passed FROM k "
           "LEFT JOIN b ON b.example_id = k.example_id AND b.scorer = k.scorer "
           "LEFT JOIN c ON c.example_id = k.example_id AND c.scorer = k.scorer")
    params: list[Any] = []
    for eval_run_id in (query.baseline_eval_run_id, query.candidate_eval_run_id):
        params += [query.project_id, eval_run_id] + ([query.scorer] if query.scorer else [])
    return sql, params


def diff_page_sql(query: EvalDiffQuery) -> tuple[str, list[Any]]:
    """One page of the diff, ``limit + 1`` rows."""
    joined, params = _joined(query)
    sql = f"SELECT * FROM ({joined}) d"
    if query.after is not None:
        sql += " WHERE (d.rank, d.example_id, d.scorer) > (?, ?, ?)"
        params += list(query.after)
    return sql + " ORDER BY d.rank, d.example_id, d.scorer LIMIT ?", [*params, query.limit + 1]


def diff_counts_sql(query: EvalDiffQuery) -> tuple[str, list[Any]]:
    """Counts over the whole diff: total, regressed, improved, added, removed."""
    joined, params = _joined(query)
    sql = ("SELECT COUNT(*), "
           "COALESCE(SUM(CASE WHEN d.rank = 0 THEN 1 ELSE 0 END), 0), "
           "COALESCE(SUM(CASE WHEN d.b_passed = 0 AND d.c_passed = 1 THEN 1 ELSE 0 END), 0), "
           "COALESCE(SUM(CASE WHEN d.b_passed IS NULL THEN 1 ELSE 0 END), 0), "
           "COALESCE(SUM(CASE WHEN d.c_passed IS NULL THEN 1 ELSE 0 END), 0) "
           f"FROM ({joined}) d")
    return sql, params


def diff_row(row: Any) -> EvalDiffRow:
    rank, example_id, scorer, b_score, b_passed, c_score, c_passed = row
    return EvalDiffRow(int(rank), example_id, scorer, _float(b_score), _bool(b_passed),
                       _float(c_score), _bool(c_passed))


def diff_counts(row: Any) -> EvalDiffCounts:
    return EvalDiffCounts(*(int(value) for value in row))


def page_of(rows: list[Any], limit: int) -> tuple[list[Any], bool]:
    """``rows`` cut to ``limit`` and whether there were more."""
    return rows[:limit], len(rows) > limit


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)

