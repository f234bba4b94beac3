"""``rundial auth agent create|list|revoke``, ``auth agent key create|list`` and
``auth audit list`` (v1 doc §10.2; docs/protocol.md §8.2, §8.3 of our collector).

``--agent`` takes an agent id (``agt_…``, used as is, as rc1 does) or the id or name of one of
the workspace's active agents; no match, or a name shared by several, is exit 1. HTTP 401/403
exit 2. Secrets of agent keys are printed once, at creation.
"""

from __future__ import annotations

from typing import Any

from rundial.cli._common import SCOPE_ALIASES, list_all, split_values
from rundial.cli._context import Context
from rundial.cli._errors import CliError
from rundial.cli._http import seg
from rundial.cli._output import dict_rows
from rundial.cli._parsing import ParserKit

__all__ = ["agent_key_create", "register"]

ACTOR_KINDS = ["user", "api_key", "agent", "system"]


def register(kit: ParserKit, auth: Any) -> None:
    """Add ``agent`` and ``audit`` under the ``auth`` group's sub-parsers."""
    agents = kit.group(auth, "agent", "workspace agents and their API keys")
    create = kit.command(agents, "create", "create an agent", cmd_agent_create)
    create.add_argument("--name", required=True)
    listing = kit.command(agents, "list", "list the workspace's agents", cmd_agent_list)
    listing.add_argument("--status", choices=["active", "revoked"])
    revoke = kit.command(agents, "revoke", "revoke an agent and all its keys", cmd_agent_revoke)
    revoke.add_argument("agent_positional", nargs="?", metavar="AGENT")
    revoke.add_argument("--agent")
    keys = kit.group(agents, "key", "an agent's API keys")
    key_create = kit.command(keys, "create", "create an API key for an agent", cmd_key_create)
    add_agent_key_flags(key_create)
    key_create.add_argument("--label")
    key_create.add_argument("--expires-at-ms", type=int)
    key_list = kit.command(keys, "list", "list an agent's API keys", cmd_key_list)
    key_list.add_argument("--agent", required=True)
    audit = kit.group(auth, "audit", "the workspace's audit log")
    audit_list = kit.command(audit, "list", "newest audit events first", cmd_audit_list)
    audit_list.add_argument("--agent")
    audit_list.add_argument("--actor-kind", choices=ACTOR_KINDS)
    audit_list.add_argument("--limit", type=int, default=50)


def add_agent_key_flags(parser: Any) -> None:
    parser.add_argument("--agent", required=True)
    parser.add_argument("--scope", "--scopes", action="append", dest="scope",
                        help="scope (repeatable, comma lists; default metrics:write, "
                             "project:read, stream:read)")


def _agents_path(ctx: Context) -> str:
    return f"/api/v1/workspaces/{seg(str(ctx.workspace()))}/agents"


def resolve_agent(ctx: Context, ref: str) -> str:
    """The agent id for ``ref`` (see the module doc)."""
    if ref.startswith("agt_"):
        return ref
    agents = list_all(ctx.client(), _agents_path(ctx), "agents", {"status": "active"})
    found = [a for a in agents if ref in (a.get("agentId"), a.get("name"))]
    if len(found) != 1:
        raise CliError(f"no active agent named {ref!r} in workspace {ctx.workspace()}"
                       if not found else f"several active agents are named {ref!r}: use its id")
    return str(found[0]["agentId"])


def cmd_agent_create(ctx: Context) -> None:
    payload = ctx.client().post(_agents_path(ctx), {"name": ctx.args.name})
    ctx.output.result({"ok": True, "agent": payload},
                      f"Created agent {payload.get('agentId')} ({payload.get('name')})")


def cmd_agent_list(ctx: Context) -> None:
    agents = list_all(ctx.client(), _agents_path(ctx), "agents", {"status": ctx.args.status})
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "workspace": ctx.workspace(), "agents": agents})
        return
    ctx.output.table("Agents", ["agent_id", "name", "status"],
                     [[a.get("agentId"), a.get("name"), a.get("status")] for a in agents])


def cmd_agent_revoke(ctx: Context) -> None:
    ref = ctx.args.agent or ctx.args.agent_positional
    if not ref:
        raise CliError("auth agent revoke needs an agent (AGENT or --agent)")
    agent_id = resolve_agent(ctx, ref)
    payload = ctx.client().post(f"{_agents_path(ctx)}/{seg(agent_id)}/revoke", {})
    ctx.output.result({"ok": True, "agent": payload}, f"Revoked agent {agent_id} and its keys")


def agent_key_create(ctx: Context, default_scopes: list[str]) -> None:
    """Create a key for ``--agent`` in the target project; the secret is shown once."""
    agent_id = resolve_agent(ctx, ctx.args.agent)
    body: dict[str, Any] = {"projectSlug": ctx.project(),
                            "scopes": split_values(ctx.args.scope, SCOPE_ALIASES)
                            or default_scopes}
    if ctx.args.label:
        body["label"] = ctx.args.label
    if ctx.args.expires_at_ms is not None:
        body["expiresAtMs"] = ctx.args.expires_at_ms
    payload = ctx.client().post(f"{_agents_path(ctx)}/{seg(agent_id)}/api-keys", body)
    ctx.output.result({"ok": True, "result": payload},
                      f"Created API key {payload.get('keyId')} for agent {agent_id}; "
                      f"secret, shown once: {payload.get('apiKey')}")


def cmd_key_create(ctx: Context) -> None:
    agent_key_create(ctx, ["metrics:write", "project:read", "stream:read"])


def cmd_key_list(ctx: Context) -> None:
    agent_id = resolve_agent(ctx, ctx.args.agent)
    keys = list_all(ctx.client(), f"{_agents_path(ctx)}/{seg(agent_id)}/api-keys", "keys")
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "agentId": agent_id, "keys": keys})
        return
    ctx.output.table("Agent API Keys", ["key_id", "project", "scopes", "revoked"],
                     [[k.get("keyId"), k.get("projectSlug"), ",".join(k.get("scopes") or []),
                       "yes" if k.get("revokedAtMs") else "no"] for k in keys])


def cmd_audit_list(ctx: Context) -> None:
    if ctx.args.limit < 1:
        raise CliError("--limit must be at least 1")
    query: dict[str, object] = {"limit": ctx.args.limit, "actorKind": ctx.args.actor_kind,
                                "agentId": resolve_agent(ctx, ctx.args.agent)
                                if ctx.args.agent else None}
    payload = ctx.client().get(f"/api/v1/workspaces/{seg(str(ctx.workspace()))}/audit", query)
    events = dict_rows(payload.get("events"))
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "workspace": ctx.workspace(), "events": events})
        return
    ctx.output.table("Audit Events", ["created_at_ms", "actor", "action", "target"],
                     [[e.get("createdAtMs"), f"{e.get('actorKind')}:{e.get('actorId')}",
                       e.get("action"), f"{e.get('targetKind')}:{e.get('targetId')}"]
                      for e in events])
