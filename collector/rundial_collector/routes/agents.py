"""Agents and agent-scoped API keys (v1 doc §8.8; docs/protocol.md §8.2). Workspace scoped;
every route needs ``admin`` on the whole workspace (403 otherwise, 404 for an unknown one).

* ``POST …/workspaces/{ws}/agents`` ``{"name"}`` → 201 agent entry; 409 when an active agent
  has that name.
* ``GET …/agents?limit=100[&cursor][&status=active|revoked]`` → ``{"agents", "page"}``.
* ``POST …/agents/{agentId}/revoke`` → the entry with ``revoked: true``. Idempotent. Every key
  of the agent is revoked in the same transaction: it stops working at once here and, like any
  revoked key, on other collectors within the auth cache TTL (``web.auth.CACHE_TTL_SECONDS``).
* ``POST …/agents/{agentId}/api-keys`` ``{"projectSlug", "scopes"?, "label"?, "expiresAtMs"?}``
  → 201 key entry with ``apiKey`` (the secret, shown once) and ``agentId``. Scopes default to
  ``metrics:write, project:read, stream:read``; ``admin`` is refused (400): agent keys never
  administer. 409 for a revoked agent.
* ``GET …/agents/{agentId}/api-keys?limit=100[&cursor]`` → ``{"keys", "page"}``.

Each change is written with its audit event in one store transaction.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any

import msgspec
from aiohttp import web

from rundial_collector.routes.keys import canonical_scopes, key_entry
from rundial_collector.store.accounts_base import Agent
from rundial_collector.store.control_base import NewApiKey, Workspace
from rundial_collector.web import auditing, auth, errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import ADMIN, Principal, ProjectRef
from rundial_collector.web.intbounds import Int64
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.paging import page, parse_limit, query_cursor
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import write_or_429

AGENTS_PATH = "/api/v1/workspaces/{ws}/agents"
LIST_DEFAULT, LIST_MAX = 100, 1000
DEFAULT_AGENT_SCOPES = ["metrics:write", "project:read", "stream:read"]


class AgentBody(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class AgentKeyBody(msgspec.Struct):
    projectSlug: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    scopes: Annotated[list[str], msgspec.Meta(min_length=1, max_length=32)] | None = None
    label: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    expiresAtMs: Int64 | None = None


def agent_entry(agent: Agent, ws: Workspace) -> dict[str, Any]:
    return {"agentId": agent.agent_id, "name": agent.name, "status": agent.status,
            "createdAtMs": agent.created_ms, "updatedAtMs": agent.updated_ms,
            "revokedAtMs": agent.revoked_ms, "workspaceSlug": ws.slug}


async def admin_workspace(request: web.Request) -> tuple[Principal, Workspace]:
    """The caller and the ``{ws}`` workspace it administers (401/403/404)."""
    principal = await auth.authenticate(request)
    ref = request.match_info["ws"]
    ws = await request.app[STORE].get_workspace(ref)
    if ws is None:
        raise errors.not_found(f"workspace {ref} was not found")
    principal.require_workspace_admin(ws.workspace_id, ws.slug)
    return principal, ws


async def _agent_in(request: web.Request, ws: Workspace) -> Agent:
    agent_id = request.match_info["agentId"]
    agent = await request.app[STORE].get_agent(ws.workspace_id, agent_id)
    if agent is None:
        raise errors.not_found(f"agent {agent_id} was not found in workspace {ws.slug}")
    return agent


def _after(request: web.Request) -> str | None:
    values = query_cursor(request, 1)
    if values is not None and not isinstance(values[0], str):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return None if values is None else str(values[0])


async def create_agent(request: web.Request) -> web.Response:
    principal, ws = await admin_workspace(request)
    body = await decode_body(request, AgentBody)
    errors.require_no_nul(body.name, "name")
    name = body.name.strip()
    if not name:
        raise errors.invalid("name must not be blank", "name")
    now = int(time.time() * 1000)
    agent = Agent("agt_" + secrets.token_hex(8), ws.workspace_id, name, now, now)
    who = await auditing.actor(request, principal)
    event = auditing.event(who, "agent.create", "agent", agent.agent_id,
                           workspace_id=ws.workspace_id, details={"name": name})
    agent = await write_or_429(request, request.app[STORE].create_agent(agent, event))
    return json_response(request, agent_entry(agent, ws), status=201)


async def list_agents(request: web.Request) -> web.Response:
    _, ws = await admin_workspace(request)
    status = request.query.get("status") or None
    if status not in (None, "active", "revoked"):
        raise errors.invalid("status must be active or revoked", "status")
    limit = parse_limit(request, LIST_DEFAULT, LIST_MAX)
    rows = await request.app[STORE].list_agents(ws.workspace_id, status, _after(request),
                                                limit + 1)
    shown = rows[:limit]
    return json_response(request, {
        "agents": [agent_entry(a, ws) for a in shown],
        "page": page(len(rows) > limit, [shown[-1].agent_id] if shown else None)})


async def revoke_agent(request: web.Request) -> web.Response:
    principal, ws = await admin_workspace(request)
    agent = await _agent_in(request, ws)
    who = await auditing.actor(request, principal)
    event = auditing.event(who, "agent.revoke", "agent", agent.agent_id,
                           workspace_id=ws.workspace_id, details={"name": agent.name})
    agent, key_ids = await write_or_429(request, request.app[STORE].revoke_agent(
        ws.workspace_id, agent.agent_id, event.created_ms, event))
    for key_id in key_ids:
        auth.forget_keys(request.app, key_id)
    return json_response(request, {**agent_entry(agent, ws), "revoked": True,
                                   "revokedKeyIds": key_ids})


async def create_agent_key(request: web.Request) -> web.Response:
    principal, ws = await admin_workspace(request)
    agent = await _agent_in(request, ws)
    body = await decode_body(request, AgentKeyBody)
    errors.require_no_nul(body.label, "label")
    project = await auth.resolve_project(request, principal, workspace=ws.workspace_id,
                                         project=body.projectSlug)
    scopes = canonical_scopes(body.scopes or DEFAULT_AGENT_SCOPES)
    if ADMIN in scopes:
        raise errors.invalid("agent keys cannot hold the admin scope", "scopes")
    now = int(time.time() * 1000)
    if body.expiresAtMs is not None and body.expiresAtMs <= now:
        raise errors.invalid("expiresAtMs must be in the future", "expiresAtMs")
    secret = auth.new_key_secret()
    new = NewApiKey(auth.new_key_id(), auth.hash_key(secret), ws.workspace_id,
                    project.project_id, scopes, body.label, body.expiresAtMs)
    who = await auditing.actor(request, principal)
    event = auditing.event(who, "api_key.create", "api_key", new.key_id,
                           workspace_id=ws.workspace_id, project_id=project.project_id,
                           details={"agentId": agent.agent_id, "scopes": list(scopes)})
    key = await write_or_429(request, request.app[STORE].create_agent_key(
        agent.agent_id, new, event))
    return json_response(request, {**key_entry(key, project), "agentId": agent.agent_id,
                                   "apiKey": secret}, status=201)


async def list_agent_keys(request: web.Request) -> web.Response:
    _, ws = await admin_workspace(request)
    agent = await _agent_in(request, ws)
    limit = parse_limit(request, LIST_DEFAULT, LIST_MAX)
    rows = await request.app[STORE].list_agent_keys(agent.agent_id, _after(request), limit + 1)
    shown = rows[:limit]
    entries = []
    for key in shown:
        project = await _key_project(request, key.project_id, ws)
        entries.append({**key_entry(key, project), "agentId": agent.agent_id})
    return json_response(request, {
        "keys": entries, "page": page(len(rows) > limit, [shown[-1].key_id] if shown else None)})


async def _key_project(request: web.Request, project_id: str | None, ws: Workspace
                       ) -> ProjectRef:
    found = await request.app[STORE].get_project(project_id) if project_id else None
    if found is None:
        return ProjectRef(project_id or "", "", ws.workspace_id, ws.slug)
    return auth.project_ref(found)


def setup_routes(app: web.Application) -> None:
    auditing.install(app)
    app.router.add_post(AGENTS_PATH, create_agent)
    app.router.add_get(AGENTS_PATH, list_agents)
    app.router.add_post(AGENTS_PATH + "/{agentId}/revoke", revoke_agent)
    app.router.add_post(AGENTS_PATH + "/{agentId}/api-keys", create_agent_key)
    app.router.add_get(AGENTS_PATH + "/{agentId}/api-keys", list_agent_keys)
