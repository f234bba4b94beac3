"""The runs table of a project, compact (docs/protocol.md §4.10).

``GET /api/v1/workspaces/{ws}/projects/{proj}/runs-table?limit=&cursor=`` needs
``project:read``. Runs come newest first (``startedAtMs`` desc, then ``runId`` desc), at most
``limit`` (default and maximum :data:`TABLE_MAX_RUNS`) per page, continued with the keyset
``cursor`` of ``page.nextCursor``. The run fields are columns (arrays, one entry per run, in
the same order) and ``config`` is the list of the runs' config objects (``summary.*`` entries
included), so a run costs only its own entries. Soft-deleted runs are never listed. Building
the reply runs on a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import orjson
from aiohttp import web

from rundial_collector.routes.runs_read import RUNS_PATH
from rundial_collector.store.control_base import RunQuery, TableRow
from rundial_collector.web import auth, errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.middleware import request_id
from rundial_collector.web.paging import is_int64, page, parse_limit, query_cursor
from rundial_collector.web.storeops import now_ms

TABLE_PATH = RUNS_PATH + "-table"
TABLE_MAX_RUNS = 10_000
# (wire name, TableRow attribute) of the scalar columns; ``tags`` is spliced in after them.
_SCALARS = (("runId", "run_id"), ("runName", "name"), ("status", "status"), ("reason", "reason"),
            ("kind", "kind"), ("group", "group"), ("jobType", "job_type"), ("host", "host"),
            ("startedAtMs", "started_ms"), ("finishedAtMs", "finished_ms"),
            ("updatedAtMs", "updated_ms"))


async def runs_table(request: web.Request) -> web.Response:
    """One page of the project's runs in the compact columnar form."""
    project = await auth.path_project(request, "project:read")
    query = RunQuery(project.project_id, parse_limit(request, TABLE_MAX_RUNS, TABLE_MAX_RUNS),
                     "desc", "startedAtMs", after=_after(request))
    rows, more = await request.app[STORE].query_table_rows(query, now_ms())
    last = [rows[-1].started_ms, rows[-1].run_id] if rows else None
    extra = {"projectId": project.project_id, "page": page(more, last),
             "requestId": request_id(request)}
    body = await asyncio.get_running_loop().run_in_executor(None, table_body, rows, extra)
    return web.Response(body=body, content_type="application/json")


def table_body(rows: list[TableRow], extra: dict[str, Any]) -> bytes:
    """The JSON reply for ``rows`` (pure; runs off the event loop). The stored tags and config
    texts are spliced in as they are (they were written as JSON by the store), so 10,000 runs
    are never parsed and re-encoded."""
    columns = {name: [getattr(row, attr) for row in rows] for name, attr in _SCALARS}
    head = orjson.dumps({"count": len(rows), **extra, "columns": columns})
    tags = _json_array(row.tags_json for row in rows)
    config = _json_array(row.config_json for row in rows)
    return b"".join((head[:-2], b',"tags":', tags, b'},"config":', config, b"}"))


def _json_array(texts: Iterable[str]) -> bytes:
    return b"[" + ",".join(texts).encode() + b"]"


def _after(request: web.Request) -> tuple[Any, str] | None:
    values = query_cursor(request, 2)
    if values is None:
        return None
    started_ms, run_id = values
    if not is_int64(started_ms) or not isinstance(run_id, str):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return started_ms, run_id


def setup_routes(app: web.Application) -> None:
    """Register the runs table route."""
    app.router.add_get(TABLE_PATH, runs_table)
