"""``rundial auth login|logout|whoami`` and ``rundial auth key create|list|revoke``.

Failures: a rejected key (HTTP 401/403) exits 2 and stores nothing; a missing key in
``--non-interactive`` mode (or without a terminal to prompt on) exits 2; network errors exit 1.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from rundial.cli import _commands_agents
from rundial.cli._common import SCOPE_ALIASES, split_values
from rundial.cli._context import Context
from rundial.cli._errors import EXIT_AUTH, CliError
from rundial.cli._http import ApiClient, seg
from rundial.cli._output import dict_rows
from rundial.cli._parsing import ParserKit

__all__ = ["login_with_key", "register"]

WHOAMI = "/api/v1/auth/whoami"
DEFAULT_KEY_SCOPES = ["metrics:write", "project:read", "stream:read"]


def register(kit: ParserKit, commands: Any) -> None:
    """Add the ``auth`` group to the top-level sub-parsers."""
    auth = kit.group(commands, "auth", "log in and out, show the principal, manage API keys")
    login = kit.command(auth, "login", "verify an API key and store it", cmd_login)
    login.add_argument("--credentials", action="store_true", help="log in with email/password")
    login.add_argument("--email")
    kit.command(auth, "whoami", "show who the current credentials belong to", cmd_whoami)
    kit.command(auth, "logout", "forget the stored credentials", cmd_logout)
    keys = kit.group(auth, "key", "project API keys")
    create = kit.command(keys, "create", "create a project API key", cmd_key_create)
    create.add_argument("--scope", "--scopes", action="append", dest="scope",
                        help="scope (repeatable, comma lists; default metrics:write, "
                             "project:read, stream:read)")
    create.add_argument("--label")
    create.add_argument("--expires-at-ms", type=int)
    kit.command(keys, "list", "list the project's API keys", cmd_key_list)
    revoke = kit.command(keys, "revoke", "revoke an API key", cmd_key_revoke)
    revoke.add_argument("key_id_positional", nargs="?", metavar="KEY_ID")
    revoke.add_argument("--key-id")
    create.add_argument("--agent", help="create the key for this agent (id or name)")
    _commands_agents.register(kit, auth)


def whoami_payload(client: ApiClient) -> dict[str, Any]:
    """GET whoami; a non-authenticated answer is an auth failure (exit 2)."""
    payload = client.get(WHOAMI)
    if payload.get("authenticated") is not True:
        raise CliError("the collector says these credentials are not authenticated", EXIT_AUTH)
    return payload


def login_with_key(ctx: Context, use_stored: bool = False) -> dict[str, Any]:
    """Verify the key (flag, env, with ``use_stored`` the key saved for this endpoint, else a
    prompt), store it, remember the endpoint; return the result."""
    api_key = ctx.flag("api_key") or (os.environ.get("RUNDIAL_API_KEY") or "").strip()
    if not api_key and use_stored:
        api_key = ctx.secrets().get("api_key") or ""
    api_key = api_key or _prompt(ctx, "Rundial API key: ")
    who = whoami_payload(ctx.client(api_key=api_key))
    backend = ctx.secrets().set("api_key", api_key)
    ctx.secrets().delete("session_token")
    ctx.remember(endpoint=ctx.endpoint(), auth_mode="api_key", workspace=ctx.flag("workspace"),
                 project=ctx.flag("project"))
    return {"ok": True, "authMode": "api_key", "whoami": who, "profile": ctx.profile_name,
            "endpoint": ctx.endpoint(), "secretStore": backend}


def cmd_login(ctx: Context) -> None:
    """Store an API key (or a session from email/password) after the collector accepts it."""
    result = _login_credentials(ctx) if ctx.flag("credentials") else login_with_key(ctx)
    who = result["whoami"]
    ctx.output.result(result, f"Logged in to {result['endpoint']} as "
                              f"{who.get('principal')} {who.get('keyId') or who.get('email') or ''}"
                              .rstrip())


def cmd_whoami(ctx: Context) -> None:
    """Show the principal behind the current credentials."""
    who = whoami_payload(ctx.client())
    result = {"ok": True, "endpoint": ctx.endpoint(), "profile": ctx.profile_name, "whoami": who}
    if ctx.output.json_mode:
        ctx.output.json(result)
        return
    ctx.output.table(f"Principal at {ctx.endpoint()}", ["field", "value"],
                     [[key, value] for key, value in sorted(who.items())])


def cmd_logout(ctx: Context) -> None:
    """End a session (if any) and delete stored secrets; exit 0 even when already logged out."""
    _, session = ctx.credentials()
    if session:
        try:
            ApiClient(ctx.endpoint(), session_token=session).post("/api/v1/auth/logout", {})
        except CliError:
            pass  # already logged out, or the collector is unreachable: forget it locally anyway
    ctx.secrets().delete("api_key")
    ctx.secrets().delete("session_token")
    ctx.remember(auth_mode="none")
    ctx.output.message("Logged out and cleared stored credentials.")


def _keys_path(ctx: Context) -> str:
    workspace, project = ctx.target()
    return f"/api/v1/workspaces/{seg(workspace)}/projects/{seg(project)}/api-keys"


def cmd_key_create(ctx: Context) -> None:
    """Create a project API key (or, with ``--agent``, an agent's key); its secret is shown
    once."""
    if ctx.args.agent:
        _commands_agents.agent_key_create(ctx, DEFAULT_KEY_SCOPES)
        return
    body: dict[str, Any] = {"scopes": split_values(ctx.args.scope, SCOPE_ALIASES)
                            or DEFAULT_KEY_SCOPES}
    if ctx.args.label:
        body["label"] = ctx.args.label
    if ctx.args.expires_at_ms is not None:
        body["expiresAtMs"] = ctx.args.expires_at_ms
    payload = ctx.client().post(_keys_path(ctx), body)
    ctx.output.result({"ok": True, "result": payload},
                      f"Created API key {payload.get('keyId')} "
                      f"({','.join(payload.get('scopes') or body['scopes'])}); "
                      f"secret, shown once: {payload.get('apiKey')}")


def cmd_key_list(ctx: Context) -> None:
    """List the project's API keys (never their secrets)."""
    keys = dict_rows(ctx.client().get(_keys_path(ctx)).get("keys"))
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "workspace": ctx.workspace(), "project": ctx.project(),
                         "keys": keys})
        return
    ctx.output.table("API Keys", ["key_id", "label", "scopes", "revoked"],
                     [[k.get("keyId"), k.get("label") or "", ",".join(k.get("scopes") or []),
                       "yes" if k.get("revokedAtMs") else "no"] for k in keys])


def cmd_key_revoke(ctx: Context) -> None:
    """Revoke one key by id."""
    key_id = ctx.args.key_id or ctx.args.key_id_positional
    if not key_id:
        raise CliError("auth key revoke needs a key id (KEY_ID or --key-id)")
    payload = ctx.client().post(f"{_keys_path(ctx)}/{seg(key_id)}/revoke", {})
    ctx.output.result({"ok": True, "result": payload}, f"Revoked API key {key_id}")


def _prompt(ctx: Context, label: str, secret: bool = True) -> str:
    if ctx.flag("non_interactive") or not sys.stdin.isatty():
        raise ctx.no_key_error()
    value = (getpass.getpass(label) if secret else input(label)).strip()
    if not value:
        raise CliError("nothing entered", EXIT_AUTH)
    return value


def _login_credentials(ctx: Context) -> dict[str, Any]:
    email = ctx.args.email or _prompt(ctx, "Email: ", secret=False)
    password = os.environ.get("RUNDIAL_PASSWORD") or _prompt(ctx, "Password: ")
    client = ApiClient(ctx.endpoint(), timeout=float(ctx.flag("timeout", 30.0)))
    reply = client.raw("POST", "/api/v1/auth/login/credentials",
                       {"email": email, "password": password})
    token = _session_cookie(reply.headers.get("set-cookie", ""))
    if not token:
        raise CliError("the collector accepted the login but set no rd_session cookie", EXIT_AUTH)
    who = whoami_payload(ApiClient(ctx.endpoint(), session_token=token))
    ctx.secrets().set("session_token", token)
    ctx.secrets().delete("api_key")
    ctx.remember(endpoint=ctx.endpoint(), auth_mode="credentials")
    return {"ok": True, "authMode": "credentials", "whoami": who, "profile": ctx.profile_name,
            "endpoint": ctx.endpoint()}


def _session_cookie(header: str) -> str | None:
    for part in header.replace(",", ";").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "rd_session" and value:
            return value
    return None
