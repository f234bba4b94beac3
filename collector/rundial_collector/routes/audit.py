"""The audit log, read-only (v1 doc §8.8; docs/protocol.md §8.3).

``GET /api/v1/workspaces/{ws}/audit?limit=50[&cursor][&agentId][&actorKind]`` → ``{"events":
[...], "page"}``, newest first; needs ``admin`` on the whole workspace. A global admin also sees
events tied to no workspace (logins, bootstrap). ``actorKind`` must be one of user, api_key,
agent, system (400 otherwise). Entries are append-only: there is no route that edits or deletes
one (``PUT``/``PATCH``/``DELETE`` on ``…/audit`` are 405, on ``…/audit/{id}`` 404), and the
tables refuse UPDATE and DELETE.

An entry: ``{"eventId", "seq", "createdAtMs", "actorKind", "actorId", "action", "targetKind",
"targetId", "agentId", "projectId", "workspaceSlug", "details"}``. Actions: ``run.start``,
``run.finish``/``run.fail``/``run.abort``/``run.kill``, ``run.edit``, ``run.delete``,
``api_key.create``, ``api_key.revoke``, ``agent.create``, ``agent.revoke``, ``user.create``,
``user.login``. ``details`` never holds a secret.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from rundial_collector.routes.agents import admin_workspace
from rundial_collector.store.accounts_base import ACTOR_KINDS, AuditEvent, AuditQuery
from rundial_collector.store.control_base import Workspace
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.paging import is_int64, page, parse_limit, query_cursor
from rundial_collector.web.responses import json_response

AUDIT_PATH = "/api/v1/workspaces/{ws}/audit"
LIST_DEFAULT, LIST_MAX = 50, 500


def audit_entry(event: AuditEvent, ws: Workspace) -> dict[str, Any]:
    return {"eventId": f"aud_{event.seq}", "seq": event.seq, "createdAtMs": event.created_ms,
            "actorKind": event.actor_kind, "actorId": event.actor_id, "action": event.action,
            "targetKind": event.target_kind, "targetId": event.target_id,
            "agentId": event.agent_id, "projectId": event.project_id,
            "workspaceSlug": ws.slug if event.workspace_id == ws.workspace_id else None,
            "details": orjson.loads(event.details)}


def _query(request: web.Request, ws: Workspace, include_global: bool) -> AuditQuery:
    actor_kind = request.query.get("actorKind") or None
    if actor_kind is not None and actor_kind not in ACTOR_KINDS:
        raise errors.invalid(f"actorKind must be one of {', '.join(sorted(ACTOR_KINDS))}",
                             "actorKind")
    cursor = query_cursor(request, 1)
    if cursor is not None and not is_int64(cursor[0]):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return AuditQuery(ws.workspace_id, parse_limit(request, LIST_DEFAULT, LIST_MAX) + 1,
                      before_seq=None if cursor is None else int(cursor[0]),
                      agent_id=request.query.get("agentId") or None, actor_kind=actor_kind,
                      include_global=include_global)


async def list_audit(request: web.Request) -> web.Response:
    principal, ws = await admin_workspace(request)
    query = _query(request, ws, principal.is_global_admin)
    rows = await request.app[STORE].list_audit(query)
    shown = rows[:query.limit - 1]
    return json_response(request, {
        "events": [audit_entry(e, ws) for e in shown],
        "page": page(len(rows) > len(shown), [shown[-1].seq] if shown else None)})


def setup_routes(app: web.Application) -> None:
    app.router.add_get(AUDIT_PATH, list_audit)
