"""Discovery and administration routes (v1 doc §8, docs/protocol.md §1 and §4.4).

* ``GET /health/ready`` and ``GET /api/v1/cli/capabilities``: no authentication.
* ``GET /api/v1/auth/whoami``: the calling key.
* Workspaces: list (only those the key is bound to) and create (global admin only).
* Projects: list (a project-bound key sees only its project) and create (workspace admin).
* API keys, agents, the audit log, credential login and users: :mod:`.keys`, :mod:`.agents`,
  :mod:`.audit`, :mod:`.credentials`, :mod:`.users` (registered from here).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from aiohttp import web

from rundial_collector._version import __version__
from rundial_collector.routes import agents, audit, credentials, keys, users
from rundial_collector.routes.ingest_formats import INGEST_FORMATS
from rundial_collector.store.control_base import Project, Workspace
from rundial_collector.web import auth
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import ADMIN, ORG_ID, Principal
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.paging import page, parse_limit, query_cursor
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import write_or_429

LIST_DEFAULT, LIST_MAX = 100, 1000
FEATURES = ["runs", "resume", "metrics", "logs", "traces", "api-keys", "workspaces:create",
            "projects:create", "idempotency-key", "wide-metric-rows", "series-modes",
            "export-csv", "agents", "audit", "credentials-login", "users"]


class CreateBody(msgspec.Struct):
    slug: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}\Z")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None


async def health_ready(request: web.Request) -> web.Response:
    """200 ``{"status": "ready"}`` once the store answers a trivial read (503 otherwise)."""
    try:
        await request.app[STORE].ping()
    except Exception as exc:  # any store failure means "not ready", never a crash
        raise errors.ApiError(503, "UNAVAILABLE", f"store is not ready: {exc}") from None
    return json_response(request, {"status": "ready"})


async def capabilities(request: web.Request) -> web.Response:
    """What this collector speaks; no authentication."""
    return json_response(request, {"version": __version__, "protocol": 1, "server": "rundial",
                                   "features": FEATURES, "ingestFormats": list(INGEST_FORMATS)})


async def whoami(request: web.Request) -> web.Response:
    """The caller: ``{"authenticated": true, "principal": "api_key", "keyId", ...}``; for a
    credential session ``principal`` is ``user`` with ``userId`` and ``email``; an agent's key
    adds ``agentId``."""
    principal = await auth.authenticate(request)
    store = request.app[STORE]
    payload: dict[str, Any] = {"authenticated": True, "principal": "api_key",
                               "keyId": principal.key_id, "scopes": sorted(principal.scopes),
                               "orgId": ORG_ID, "globalAdmin": principal.is_global_admin}
    owner = await store.key_owner(principal.key_id)
    if owner is not None and owner.kind == "user":  # a credential login (#17.2)
        payload.update(principal="user", userId=owner.owner_id, email=owner.email)
    elif owner is not None:
        payload["agentId"] = owner.owner_id
    if principal.workspace_id is not None:
        ws = await store.get_workspace(principal.workspace_id)
        payload["workspaceSlug"] = ws.slug if ws else None
    if principal.project_id is not None:
        project = await store.get_project(principal.project_id)
        payload["projectSlug"] = project.slug if project else None
    return json_response(request, payload)


# -- workspaces ---------------------------------------------------------------------------------
async def list_workspaces(request: web.Request) -> web.Response:
    """``{"workspaces": [...], "page": {...}}`` ordered by slug, keyset paged by slug."""
    principal = await auth.authenticate(request)
    limit = parse_limit(request, LIST_DEFAULT, LIST_MAX)
    after = _slug_cursor(request)
    rows = await request.app[STORE].list_workspaces(principal.workspace_id, after, limit + 1)
    shown = rows[:limit]
    entries = [workspace_entry(ws, principal) for ws in shown]
    last = [shown[-1].slug] if shown else None
    return json_response(request, {"workspaces": entries, "page": page(len(rows) > limit, last)})


async def create_workspace(request: web.Request) -> web.Response:
    """201 with the new entry; 409 when the slug exists; needs a global admin key."""
    principal = await auth.authenticate(request)
    if not principal.is_global_admin:
        raise errors.forbidden("creating workspaces needs a global admin key")
    body = await decode_body(request, CreateBody)
    errors.require_no_nul(body.name, "name")
    ws = await write_or_429(request, request.app[STORE].create_workspace(
        body.slug, body.name or body.slug))
    return json_response(request, workspace_entry(ws, principal), status=201)


def workspace_entry(ws: Workspace, principal: Principal) -> dict[str, Any]:
    return {"workspaceSlug": ws.slug, "workspaceId": ws.workspace_id, "name": ws.name,
            "role": "admin" if ADMIN in principal.scopes and principal.project_id is None
            else "member", "createdAtMs": ws.created_ms, "orgId": ORG_ID}


# -- projects -----------------------------------------------------------------------------------
async def list_projects(request: web.Request) -> web.Response:
    """``{"projects": [...], "page": {...}}`` of one workspace, with ``runCount``."""
    principal = await auth.authenticate(request)
    ws = await _visible_workspace(request, principal)
    limit = parse_limit(request, LIST_DEFAULT, LIST_MAX)
    rows = await request.app[STORE].list_projects(ws.workspace_id, principal.project_id,
                                                  _slug_cursor(request), limit + 1)
    shown = rows[:limit]
    last = [shown[-1].slug] if shown else None
    return json_response(request, {"projects": [project_entry(p) for p in shown],
                                   "page": page(len(rows) > limit, last)})


async def create_project(request: web.Request) -> web.Response:
    """201 with the new entry; 409 when the slug exists; needs ``admin`` on the workspace."""
    principal = await auth.authenticate(request)
    ws = await _visible_workspace(request, principal)
    principal.require_workspace_admin(ws.workspace_id, ws.slug)
    body = await decode_body(request, CreateBody)
    errors.require_no_nul(body.name, "name")
    project = await write_or_429(request, request.app[STORE].create_project(
        ws.workspace_id, body.slug, body.name or body.slug))
    return json_response(request, project_entry(project), status=201)


def project_entry(project: Project) -> dict[str, Any]:
    return {"projectSlug": project.slug, "projectId": project.project_id, "name": project.name,
            "workspaceSlug": project.workspace_slug, "workspaceId": project.workspace_id,
            "runCount": project.run_count, "lastActivityAtMs": project.last_activity_ms,
            "createdAtMs": project.created_ms}


async def _visible_workspace(request: web.Request, principal: Principal) -> Workspace:
    """The ``{ws}`` path workspace: 404 unknown, 403 when the key is bound elsewhere."""
    ref = request.match_info["ws"]
    ws = await request.app[STORE].get_workspace(ref)
    if ws is None:
        raise errors.not_found(f"workspace {ref} was not found")
    if not principal.sees_workspace(ws.workspace_id):
        raise errors.forbidden(f"this API key may not access workspace {ws.slug}")
    return ws


def _slug_cursor(request: web.Request) -> str | None:
    values = query_cursor(request, 1)
    if values is None:
        return None
    if not isinstance(values[0], str):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return values[0]


def setup_routes(app: web.Application) -> None:
    """Register this module's routes on app (and the API-key routes and auth caches)."""
    auth.install(app)
    app.router.add_get("/health/ready", health_ready)
    app.router.add_get("/api/v1/cli/capabilities", capabilities)
    app.router.add_get("/api/v1/auth/whoami", whoami)
    app.router.add_get("/api/v1/workspaces", list_workspaces)
    app.router.add_post("/api/v1/workspaces", create_workspace)
    app.router.add_get("/api/v1/workspaces/{ws}/projects", list_projects)
    app.router.add_post("/api/v1/workspaces/{ws}/projects", create_project)
    keys.setup_routes(app)
    for module in (agents, audit, credentials, users):  # #17.2 (users: docs §8.4)
        module.setup_routes(app)
