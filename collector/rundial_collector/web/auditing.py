"""Building and writing audit events (docs/protocol.md §8.3, docs/collector.md "Audit log").

* :func:`actor` names who acted: the user behind a credential session, the agent behind an
  agent key, else the API key (owners are looked up once per key and cached: they never change).
* :func:`event` and :func:`in_project` build an :class:`AuditEvent` *before* the change; the
  route hands it to the store method making the change, which appends it in the same
  transaction only when something changed (a repeat of an idempotent call writes nothing).
  So an audited change and its entry commit together or not at all.

``details`` must never carry a secret: callers pass ids, names, statuses and scopes only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from rundial_collector.store.accounts_base import AuditEvent
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import Principal, ProjectRef

MAX_CACHED_OWNERS = 10_000


@dataclass(frozen=True)
class Actor:
    kind: str  # user | api_key | agent | system
    actor_id: str | None
    agent_id: str | None = None


SYSTEM = Actor("system", None)
OWNERS = web.AppKey("rundial_key_owners", dict[str, Actor])


def install(app: web.Application) -> None:
    """Give ``app`` its key-owner cache (call before the app starts)."""
    app[OWNERS] = {}


async def actor(request: web.Request, principal: Principal) -> Actor:
    """The audit actor behind ``principal``."""
    cache = request.app.get(OWNERS) or {}  # an app without :func:`install` caches nothing
    found = cache.get(principal.key_id)
    if found is None:
        owner = await request.app[STORE].key_owner(principal.key_id)
        if owner is None:
            found = Actor("api_key", principal.key_id)
        elif owner.kind == "agent":
            found = Actor("agent", owner.owner_id, owner.owner_id)
        else:
            found = Actor("user", owner.owner_id)
        if len(cache) >= MAX_CACHED_OWNERS:
            cache.clear()
        cache[principal.key_id] = found
    return found


def event(who: Actor, action: str, target_kind: str, target_id: str, *,
          workspace_id: str | None, project_id: str | None = None,
          details: dict[str, Any] | None = None) -> AuditEvent:
    """An event made now; ``details`` must hold no secret."""
    return AuditEvent(int(time.time() * 1000), workspace_id, who.kind, who.actor_id, action,
                      target_kind, target_id, who.agent_id, project_id,
                      orjson.dumps(details or {}).decode())


async def in_project(request: web.Request, principal: Principal, action: str,
                     target_kind: str, target_id: str, project: ProjectRef,
                     details: dict[str, Any] | None = None) -> AuditEvent:
    """An event by ``principal`` about ``target_id`` in ``project`` (see module doc)."""
    return event(await actor(request, principal), action, target_kind, target_id,
                 workspace_id=project.workspace_id, project_id=project.project_id,
                 details=details)
