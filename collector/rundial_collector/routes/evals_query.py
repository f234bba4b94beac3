"""Eval read routes (v1 doc §7.6; docs/protocol.md §9), both needing ``project:read``.

* ``POST /api/v1/query/evals/diff``: the (example, scorer) pairs of two eval runs of one
  project, **regressions first** (baseline passed, candidate failed), then by example id and
  scorer; ``limit`` (default 100, at most :data:`MAX_DIFF_LIMIT`) rows a page, ``page.nextCursor``
  for the next one, and ``summary`` counts over the whole diff. Ordering regressions first means
  a client reading one page (the rc1 CLI's ``--fail-on-regression``) never misses one. An eval
  run id that is neither an eval run of the project nor has results in it is a 404.
* ``GET /api/v1/evals/runs/{evalRunId}/results`` (extension): the stored rows of one eval run
  by (example id, scorer), ``?limit`` (default 100, at most 1000) and ``?cursor``;
  ``?projectId`` is needed only for results of an eval run this collector did not create.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import orjson
from aiohttp import web

from rundial_collector.routes.runs import RunId
from rundial_collector.store.evals_base import EvalDiffQuery, EvalDiffRow, EvalResult
from rundial_collector.web import auth, errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import ProjectRef
from rundial_collector.web.intbounds import Positive
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.paging import decode_cursor, page, parse_limit, query_cursor
from rundial_collector.web.responses import json_response

READ_SCOPE = "project:read"
MAX_DIFF_LIMIT = 1000
MAX_RESULTS_LIMIT = 1000
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
ScorerName = Annotated[str, msgspec.Meta(pattern=r"^[^\x00]{1,128}$")]


class DiffBody(msgspec.Struct):
    projectId: Ref
    baselineEvalRunId: RunId
    candidateEvalRunId: RunId
    limit: Positive = 100
    scorer: ScorerName | None = None
    cursor: str | None = None


async def _readable_project(request: web.Request, project_id: str) -> ProjectRef:
    principal = await auth.authenticate(request)
    project = await auth.resolve_project(request, principal, project_id=project_id)
    principal.require(READ_SCOPE, project)
    return project


async def _require_eval_run(request: web.Request, project: ProjectRef, eval_run_id: str,
                            field: str) -> None:
    """404 unless ``eval_run_id`` is an eval run of ``project`` or has results in it."""
    store = request.app[STORE]
    known = await store.get_eval_run(eval_run_id)
    if known is not None and known.project_id == project.project_id:
        return
    if known is None and (await store.eval_results_page(project.project_id, eval_run_id,
                                                        None, 1))[0]:
        return
    err = errors.not_found(f"eval run {eval_run_id} was not found in "
                           f"{project.workspace_slug}/{project.project_slug}")
    err.field = field
    raise err


def _diff_after(raw: str | None) -> tuple[int, str, str] | None:
    if not raw:
        return None
    rank, example_id, scorer = decode_cursor(raw, 3)
    if rank not in (0, 1) or not isinstance(example_id, str) or not isinstance(scorer, str):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return rank, example_id, scorer


async def eval_diff(request: web.Request) -> web.Response:
    """``{"rows", "summary", "page", ...}`` for two eval runs of one project."""
    body = await decode_body(request, DiffBody)
    project = await _readable_project(request, body.projectId)
    await _require_eval_run(request, project, body.baselineEvalRunId, "baselineEvalRunId")
    await _require_eval_run(request, project, body.candidateEvalRunId, "candidateEvalRunId")
    query = EvalDiffQuery(project.project_id, body.baselineEvalRunId, body.candidateEvalRunId,
                          min(body.limit, MAX_DIFF_LIMIT), body.scorer, _diff_after(body.cursor))
    rows, more, counts = await request.app[STORE].diff_eval_runs(query)
    last = [rows[-1].rank, rows[-1].example_id, rows[-1].scorer] if rows else None
    return json_response(request, {
        "projectId": project.project_id, "baselineEvalRunId": body.baselineEvalRunId,
        "candidateEvalRunId": body.candidateEvalRunId, "scorer": body.scorer,
        "rows": [diff_entry(row) for row in rows],
        "summary": {"total": counts.total, "regressed": counts.regressed,
                    "improved": counts.improved, "added": counts.added,
                    "removed": counts.removed},
        "page": page(more, last)})


def change_of(row: EvalDiffRow) -> str:
    """``regressed``, ``improved``, ``added``, ``removed``, ``changed`` or ``unchanged``."""
    if row.regressed:
        return "regressed"
    if row.baseline_passed is None:
        return "added"
    if row.candidate_passed is None:
        return "removed"
    if row.baseline_passed is False and row.candidate_passed is True:
        return "improved"
    return "unchanged" if row.baseline_score == row.candidate_score else "changed"


def diff_entry(row: EvalDiffRow) -> dict[str, Any]:
    both = row.baseline_score is not None and row.candidate_score is not None
    delta = row.candidate_score - row.baseline_score if both else None  # type: ignore[operator]
    return {"exampleId": row.example_id, "scorer": row.scorer,
            "baselineScore": row.baseline_score, "candidateScore": row.candidate_score,
            "delta": delta, "baselinePassed": row.baseline_passed,
            "candidatePassed": row.candidate_passed, "regressed": row.regressed,
            "change": change_of(row)}


async def eval_results(request: web.Request) -> web.Response:
    """``{"evalRunId", "projectId", "rows", "page"}``: one page of an eval run's rows."""
    eval_run_id = request.match_info["evalRunId"]
    known = await request.app[STORE].get_eval_run(eval_run_id)
    project_ref = known.project_id if known is not None else request.query.get("projectId", "")
    if not project_ref:
        raise errors.not_found(f"eval run {eval_run_id} was not found; pass ?projectId= for "
                               "results of an eval run this collector did not create")
    project = await _readable_project(request, project_ref)
    limit = parse_limit(request, 100, MAX_RESULTS_LIMIT)
    cursor = query_cursor(request, 2)
    if cursor is not None and not all(isinstance(value, str) for value in cursor):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    after = (cursor[0], cursor[1]) if cursor is not None else None
    rows, more = await request.app[STORE].eval_results_page(project.project_id, eval_run_id,
                                                            after, limit)
    last = [rows[-1].example_id, rows[-1].scorer] if rows else None
    return json_response(request, {"evalRunId": eval_run_id, "projectId": project.project_id,
                                   "rows": [result_entry(row) for row in rows],
                                   "page": page(more, last)})


def result_entry(row: EvalResult) -> dict[str, Any]:
    return {"exampleId": row.example_id, "scorer": row.scorer, "score": row.score,
            "passed": row.passed, "traceId": row.trace_id,
            "evidenceRef": orjson.loads(row.evidence_json) if row.evidence_json else None,
            "meta": orjson.loads(row.meta_json), "acceptedAtMs": row.accepted_ms}


def setup_routes(app: web.Application) -> None:
    """Register the eval read routes."""
    app.router.add_post("/api/v1/query/evals/diff", eval_diff)
    app.router.add_get("/api/v1/evals/runs/{evalRunId}/results", eval_results)
