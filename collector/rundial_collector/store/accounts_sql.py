"""SQL of the accounts store (agents, agent keys, users, audit), shared by both backends.

Statements use ``?`` placeholders; the PostgreSQL store numbers them with
:func:`.control_sql.numbered`. Row decoders turn selected rows into the dataclasses of
:mod:`.accounts_base`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from rundial_collector.store.accounts_base import Agent, AuditEvent, AuditQuery, User
from rundial_collector.store.control_sql import KEY_COLUMNS, key_columns

AGENT_COLUMNS = "agent_id, workspace_id, name, created_ms, updated_ms, revoked_ms"
INSERT_AGENT = f"INSERT INTO agents ({AGENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
AGENT_BY_ID = f"SELECT {AGENT_COLUMNS} FROM agents WHERE workspace_id = ? AND agent_id = ?"
ACTIVE_AGENT_NAMED = ("SELECT 1 FROM agents WHERE workspace_id = ? AND name = ? "
                      "AND revoked_ms IS NULL")
REVOKE_AGENT = ("UPDATE agents SET revoked_ms = ?, updated_ms = ? "
                "WHERE agent_id = ? AND revoked_ms IS NULL")
LIVE_AGENT_KEYS = ("SELECT k.key_id FROM agent_keys a JOIN api_keys k ON k.key_id = a.key_id "
                   "WHERE a.agent_id = ? AND k.revoked_ms IS NULL ORDER BY k.key_id")
REVOKE_KEY_BY_ID = "UPDATE api_keys SET revoked_ms = ? WHERE key_id = ? AND revoked_ms IS NULL"
AGENT_STATE = "SELECT revoked_ms FROM agents WHERE agent_id = ?"
INSERT_AGENT_KEY = "INSERT INTO agent_keys (key_id, agent_id) VALUES (?, ?)"
AGENT_KEYS = (f"SELECT {key_columns('k.')} FROM agent_keys a "
              "JOIN api_keys k ON k.key_id = a.key_id WHERE a.agent_id = ? AND a.key_id > ? "
              "ORDER BY a.key_id LIMIT ?")
KEY_BY_ID = f"SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = ?"
KEY_AGENT = "SELECT agent_id FROM agent_keys WHERE key_id = ?"
KEY_USER = "SELECT user_id, email FROM users WHERE key_id = ?"

USER_COLUMNS = "user_id, email, password_hash, key_id, created_ms"
INSERT_USER = f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
# A user with its backing key's revocation (= disabled) and scopes.
_USER_VIEW = ("SELECT u.user_id, u.email, u.password_hash, u.key_id, u.created_ms, "
              "k.revoked_ms, k.scopes FROM users u JOIN api_keys k ON k.key_id = u.key_id")
USER_BY_EMAIL = _USER_VIEW + " WHERE u.email = ?"
USER_BY_ID = _USER_VIEW + " WHERE u.user_id = ?"
USERS_PAGE = _USER_VIEW + " WHERE u.email > ? ORDER BY u.email LIMIT ?"
ANY_USER = "SELECT 1 FROM users LIMIT 1"
SET_PASSWORD = "UPDATE users SET password_hash = ? WHERE user_id = ?"
SET_USER_KEY = "UPDATE users SET key_id = ? WHERE user_id = ?"
DELETE_KEY_SESSIONS = "DELETE FROM ui_sessions WHERE key_id = ?"

AUDIT_COLUMNS = ("created_ms, workspace_id, actor_kind, actor_id, action, target_kind, "
                 "target_id, agent_id, project_id, details")
INSERT_AUDIT = f"INSERT INTO audit_events ({AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def agents_sql(workspace_id: str, status: str | None, after_id: str | None,
               limit: int) -> tuple[str, list[Any]]:
    """The agent page query and its parameters."""
    sql = f"SELECT {AGENT_COLUMNS} FROM agents WHERE workspace_id = ?"
    params: list[Any] = [workspace_id]
    if status == "active":
        sql += " AND revoked_ms IS NULL"
    elif status == "revoked":
        sql += " AND revoked_ms IS NOT NULL"
    if after_id is not None:
        sql += " AND agent_id > ?"
        params.append(after_id)
    return sql + " ORDER BY agent_id LIMIT ?", [*params, limit]


def audit_sql(query: AuditQuery) -> tuple[str, list[Any]]:
    """The audit page query (newest first) and its parameters."""
    scope = "(workspace_id = ? OR workspace_id IS NULL)" if query.include_global \
        else "workspace_id = ?"
    sql = f"SELECT {AUDIT_COLUMNS}, seq FROM audit_events WHERE {scope}"
    params: list[Any] = [query.workspace_id]
    for column, value in (("agent_id", query.agent_id), ("actor_kind", query.actor_kind)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if query.before_seq is not None:
        sql += " AND seq < ?"
        params.append(query.before_seq)
    return sql + " ORDER BY seq DESC LIMIT ?", [*params, query.limit]


def agent_from_row(row: Iterable[Any]) -> Agent:
    return Agent(*row)


def user_from_row(row: Iterable[Any]) -> User:
    """A user from a row of the user view (its key's ``revoked_ms`` and JSON ``scopes`` last)."""
    user_id, email, password_hash, key_id, created_ms, revoked_ms, scopes = row
    return User(user_id, email, password_hash, key_id, created_ms, revoked_ms,
                tuple(orjson.loads(scopes)))


def audit_from_row(row: Iterable[Any]) -> AuditEvent:
    return AuditEvent(*row)


def audit_values(event: AuditEvent) -> tuple[Any, ...]:
    return (event.created_ms, event.workspace_id, event.actor_kind, event.actor_id,
            event.action, event.target_kind, event.target_id, event.agent_id,
            event.project_id, event.details)


def agent_values(agent: Agent) -> tuple[Any, ...]:
    return (agent.agent_id, agent.workspace_id, agent.name, agent.created_ms, agent.updated_ms,
            agent.revoked_ms)


def user_values(user: User) -> tuple[Any, ...]:
    return (user.user_id, user.email.lower(), user.password_hash, user.key_id, user.created_ms)
