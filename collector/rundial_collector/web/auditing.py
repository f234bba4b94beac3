"""Building and writing audit events (docs/protocol.md §4.12, docs/collector.md "Audit log").

* :func:`actor` names who acted: the user behind a credential session, the agent behind an
  agent key, else the API key (owners are looked up once per key and cached: they never change).
* :func:`event` builds an :class:`AuditEvent` for a store method that writes it in the same
  transaction as its change (agents, agent keys, users).
* :func:`record` appends an event for a change another store method already committed (runs,
  project keys). Its contract: the change is never undone; if the append fails, the failure is
  logged at ERROR with the event (never a secret) and the request still succeeds.

``details`` must never carry a secret: callers pass ids, names, statuses and scopes only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from rundial_collector.store.accounts_base import AuditEvent
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import Principal, ProjectRef

log = logging.getLogger("rundial.collector.audit")
OWNERS = web.AppKey("rundial_key_owners", dict)
MAX_CACHED_OWNERS = 10_000


@dataclass(frozen=True)
class Actor:
    kind: str  # user | api_key | agent | system
    actor_id: str | None
    agent_id: str | None = None


SYSTEM = Actor("system", None)


async def actor(request: web.Request, principal: Principal) -> Actor:
    """The audit actor behind ``principal``."""
    cache: dict[str, Actor] = request.app.setdefault(OWNERS, {})
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


async def record(request: web.Request, principal: Principal, action: str, target_kind: str,
                 target_id: str, project: ProjectRef, details: dict[str, Any] | None = None
                 ) -> None:
    """Append an event about an already committed change in ``project`` (see module doc)."""
    try:
        who = await actor(request, principal)
        await request.app[STORE].append_audit(event(
            who, action, target_kind, target_id, workspace_id=project.workspace_id,
            project_id=project.project_id, details=details))
    except Exception:  # the change is committed: log loudly, never turn it into an error
        log.exception("could not append audit event %s %s %s by key %s", action, target_kind,
                      target_id, principal.key_id)
