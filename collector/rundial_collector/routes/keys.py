"""Project API keys (v1 doc §8.7, docs/protocol.md §4.4).

* create: ``POST …/projects/{proj}/api-keys`` ``{"scopes", "label"?, "expiresAtMs"?}`` → 201
  ``{"keyId", "apiKey", "scopes", "label", "expiresAtMs", ...}``; the secret is shown only here
  and stored as sha256. Needs ``admin`` on the project. CLI aliases (``ingest:metrics``…) are
  stored as canonical scopes; an unknown scope is a 400 naming ``scopes[i]``.
* list: ``GET`` same path → ``{"keys": [...]}``; needs ``project:read`` (or admin).
* revoke: ``POST …/api-keys/{keyId}/revoke`` → ``{"keyId", "revoked": true, "revokedAtMs"}``;
  idempotent; needs ``admin``. The key stops working at once in this process, and its open
  event streams are closed with 4401 before the reply is sent.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec
from aiohttp import web

from rundial_collector.store.control_base import ApiKey, NewApiKey
from rundial_collector.web import auditing, auth
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import ADMIN, KNOWN_SCOPES, SCOPE_ALIASES, ProjectRef
from rundial_collector.web.intbounds import Int64
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import write_or_429

KEYS_PATH = "/api/v1/workspaces/{ws}/projects/{proj}/api-keys"


class CreateKeyBody(msgspec.Struct):
    scopes: Annotated[list[str], msgspec.Meta(min_length=1, max_length=32)]
    label: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    expiresAtMs: Int64 | None = None


def canonical_scopes(requested: list[str]) -> tuple[str, ...]:
    """Map aliases to canonical names, de-duplicate, keep order; 400 on an unknown scope."""
    out: list[str] = []
    for index, raw in enumerate(requested):
        scope = SCOPE_ALIASES.get(raw.strip(), raw.strip())
        if scope not in KNOWN_SCOPES:
            raise errors.invalid(f"unknown scope {raw!r}; known: {', '.join(sorted(KNOWN_SCOPES))}",
                                 f"scopes[{index}]")
        if scope not in out:
            out.append(scope)
    return tuple(out)


def key_entry(key: ApiKey, project: ProjectRef) -> dict[str, Any]:
    return {"keyId": key.key_id, "label": key.label, "scopes": list(key.scopes),
            "createdAtMs": key.created_ms, "expiresAtMs": key.expires_ms,
            "revokedAtMs": key.revoked_ms, "projectId": project.project_id,
            "projectSlug": project.project_slug, "workspaceSlug": project.workspace_slug}


async def create_key(request: web.Request) -> web.Response:
    """201 with the new key, secret included once."""
    project = await auth.path_project(request, ADMIN)
    body = await decode_body(request, CreateKeyBody)
    errors.require_no_nul(body.label, "label")
    scopes = canonical_scopes(body.scopes)
    if body.expiresAtMs is not None and body.expiresAtMs <= int(time.time() * 1000):
        raise errors.invalid("expiresAtMs must be in the future", "expiresAtMs")
    secret = auth.new_key_secret()
    new = NewApiKey(auth.new_key_id(), auth.hash_key(secret), project.workspace_id,
                    project.project_id, scopes, body.label, body.expiresAtMs)
    audit = await auditing.in_project(request, await auth.authenticate(request),
                                      "api_key.create", "api_key", new.key_id, project,
                                      {"scopes": list(scopes)})
    key = await write_or_429(request, request.app[STORE].create_api_key(new, audit=audit))
    return json_response(request, {**key_entry(key, project), "apiKey": secret}, status=201)


async def list_keys(request: web.Request) -> web.Response:
    """``{"keys": [...]}``: every key bound to the project, revoked ones included."""
    project = await auth.path_project(request, "project:read")
    keys = await request.app[STORE].list_api_keys(project.project_id)
    return json_response(request, {"keys": [key_entry(k, project) for k in keys],
                                   "page": {"hasMore": False, "nextCursor": None}})


async def revoke_key(request: web.Request) -> web.Response:
    """Revoke a key of this project; 404 when it is not one of the project's keys."""
    project = await auth.path_project(request, ADMIN)
    principal = await auth.authenticate(request)  # cached (path_project looked it up)
    key_id = request.match_info["keyId"]
    now_ms = int(time.time() * 1000)
    audit = await auditing.in_project(request, principal, "api_key.revoke", "api_key", key_id,
                                      project)
    key = await write_or_429(request, request.app[STORE].revoke_api_key(
        project.project_id, key_id, now_ms, audit=audit))
    auth.forget_keys(request.app, key_id)
    return json_response(request, {**key_entry(key, project), "revoked": True})


def setup_routes(app: web.Application) -> None:
    """Register the API-key routes on app."""
    app.router.add_post(KEYS_PATH, create_key)
    app.router.add_get(KEYS_PATH, list_keys)
    app.router.add_post(KEYS_PATH + "/{keyId}/revoke", revoke_key)
