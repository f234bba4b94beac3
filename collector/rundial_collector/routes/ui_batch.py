"""Batched look-ups for the web UI (docs/protocol.md §8): one request where a page would
otherwise make one per run. All need ``project:read``; bad input is a 400 naming the field; an
unknown run is reported in ``unknownRunIds``, never an error.

* ``POST /api/v1/query/keys`` ``{"projectId", "runIds", "cursor"?, "limit"?}`` →
  ``{"projectId", "runs": [{"runId", "keys", "complete"}], "unknownRunIds", "page"}``: each
  run's metric keys in ``metrics/keys`` order. A reply holds at most ``limit`` keys (default
  and maximum :data:`MAX_KEYS_PER_REPLY`); when they do not all fit, ``page.nextCursor`` continues where it stopped (a run cut there appears again on
  the next page with its following keys, ``complete`` false until its last).
* ``POST /api/v1/query/runs`` ``{"projectId", "runIds"}`` → ``{"projectId", "runs": [run
  details as GET …/runs/{runId}], "unknownRunIds"}`` (deleted runs count as unknown).
* ``GET /api/v1/workspaces/{ws}/projects/{proj}`` → the project's entry as the project list
  gives it, without its counts: the slugs resolved to ids without listing the projects.

``runIds`` holds 1 to :data:`MAX_RUNS` non-empty ids; a repeated id is answered once.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from aiohttp import web

from rundial_collector.routes.admin import project_entry
from rundial_collector.routes.runs_read import run_entry
from rundial_collector.store.batch_base import RunKeys
from rundial_collector.web import auth, errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import ProjectRef
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.paging import decode_cursor, is_int64, page
from rundial_collector.web.responses import json_response

READ_SCOPE = "project:read"
MAX_RUNS = 400
MAX_KEYS_PER_REPLY = 20_000
MAX_RUN_ID_CHARS = 256


class RunsBody(msgspec.Struct):
    projectId: str
    runIds: list[Annotated[str, msgspec.Meta(max_length=MAX_RUN_ID_CHARS)]]


class KeysBody(RunsBody):
    cursor: str | None = None
    limit: int = MAX_KEYS_PER_REPLY


Body = TypeVar("Body", bound=RunsBody)


async def _read(request: web.Request, body_type: type[Body]) -> tuple[ProjectRef, Body, list[str]]:
    """The body, its project (``project:read`` required) and its run ids, de-duplicated."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, body_type)
    if not 1 <= len(body.runIds) <= MAX_RUNS:
        raise errors.invalid(f"runIds must name between 1 and {MAX_RUNS} runs", "runIds")
    for i, run_id in enumerate(body.runIds):
        if not run_id.strip():
            raise errors.invalid("a run id must not be empty", f"runIds[{i}]")
    project = await auth.resolve_project(request, principal, project_id=body.projectId)
    principal.require(READ_SCOPE, project)
    return project, body, list(dict.fromkeys(body.runIds))


async def query_keys(request: web.Request) -> web.Response:
    """Metric keys of many runs, paged by ``limit`` keys."""
    project, body, run_ids = await _read(request, KeysBody)
    if not 1 <= body.limit <= MAX_KEYS_PER_REPLY:
        raise errors.invalid(f"limit must be between 1 and {MAX_KEYS_PER_REPLY}", "limit")
    first, offset = _keys_cursor(body.cursor, len(run_ids))
    found = await request.app[STORE].keys_of_runs(project.project_id, run_ids[first:], offset,
                                                  body.limit)
    last = found[-1] if found else None
    following = _following(first + len(found) - 1, last, len(run_ids))
    return json_response(request, {
        "projectId": project.project_id,
        "runs": [{"runId": r.run_id, "keys": list(r.keys), "complete": r.complete}
                 for r in found if r.known],
        "unknownRunIds": [r.run_id for r in found if not r.known],
        "page": page(following is not None, following)})


def _following(index: int, last: RunKeys | None, count: int) -> list[int] | None:
    """The cursor values after ``last`` (the run at ``index``): None when every run is done."""
    if last is None:
        return None
    if not last.complete:
        return [index, last.offset + len(last.keys)]
    return [index + 1, 0] if index + 1 < count else None


def _keys_cursor(raw: str | None, count: int) -> tuple[int, int]:
    """(run index, key offset) to start from; 400 when the cursor is not one of ours."""
    if not raw:
        return 0, 0
    index, offset = decode_cursor(raw, 2)
    if not (is_int64(index) and is_int64(offset) and 0 <= index < count and offset >= 0):
        raise errors.invalid("cursor does not belong to this query", "cursor")
    return int(index), int(offset)


async def query_runs(request: web.Request) -> web.Response:
    """Details of many runs at once."""
    project, _, run_ids = await _read(request, RunsBody)
    runs = await request.app[STORE].runs_by_id(project.project_id, run_ids)
    found = {run.run_id for run in runs}
    return json_response(request, {
        "projectId": project.project_id, "runs": [run_entry(run, project) for run in runs],
        "unknownRunIds": [run_id for run_id in run_ids if run_id not in found]})


async def project_details(request: web.Request) -> web.Response:
    """The project of the path, as one entry of the project list."""
    ref = await auth.path_project(request, READ_SCOPE)
    found = await request.app[STORE].get_project(ref.project_id)
    if found is None:  # deleted between the two reads
        raise errors.not_found(f"project {ref.workspace_slug}/{ref.project_slug} was not found")
    entry: dict[str, Any] = project_entry(found)
    for counted in ("runCount", "lastActivityAtMs"):  # only the project list computes them
        entry.pop(counted)
    return json_response(request, entry)


def setup_routes(app: web.Application) -> None:
    """Register the batched look-up routes."""
    app.router.add_post("/api/v1/query/keys", query_keys)
    app.router.add_post("/api/v1/query/runs", query_runs)
    app.router.add_get("/api/v1/workspaces/{ws}/projects/{proj}", project_details)
