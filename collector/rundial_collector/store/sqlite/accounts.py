"""Agents, agent keys, users and the audit log in SQLite (the :class:`AccountStore`).

The tables are created with ``IF NOT EXISTS``, so an existing database gains them at its next
start. Triggers refuse UPDATE and DELETE on ``audit_events``: the log is append-only even for
code that bypasses the store. Each change and its audit event are written by one job of the
single writer, so they commit together.
"""

from __future__ import annotations

import sqlite3

from rundial_collector.store import accounts_sql as q
from rundial_collector.store.accounts_base import (Agent, AuditEvent, AuditQuery, KeyOwner,
                                                   User)
from rundial_collector.store.control_base import (ApiKey, NewApiKey, StoreConflict,
                                                  StoreNotFound)
from rundial_collector.store.control_rows import key_from_row, key_insert_values
from rundial_collector.store.control_sql import INSERT_KEY
from rundial_collector.store.sqlite.engine import SQLiteEngine

ACCOUNT_SCHEMA: list[str] = ["""
CREATE TABLE IF NOT EXISTS agents (
    agent_id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(workspace_id),
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS agents_active_name ON agents(workspace_id, name)
    WHERE revoked_ms IS NULL;
CREATE TABLE IF NOT EXISTS agent_keys (
    key_id TEXT PRIMARY KEY REFERENCES api_keys(key_id),
    agent_id TEXT NOT NULL REFERENCES agents(agent_id)
);
CREATE INDEX IF NOT EXISTS agent_keys_by_agent ON agent_keys(agent_id, key_id);
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    key_id TEXT NOT NULL UNIQUE REFERENCES api_keys(key_id),
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ms INTEGER NOT NULL,
    workspace_id TEXT,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    agent_id TEXT,
    project_id TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_events_by_workspace ON audit_events(workspace_id, seq);
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
"""]


def audit_in_tx(conn: sqlite3.Connection, event: AuditEvent | None) -> None:
    """Append ``event`` (when given) inside the caller's write job: same transaction."""
    if event is not None:
        conn.execute(q.INSERT_AUDIT, q.audit_values(event))


def _agent(conn: sqlite3.Connection, workspace_id: str, agent_id: str) -> Agent | None:
    row = conn.execute(q.AGENT_BY_ID, (workspace_id, agent_id)).fetchone()
    return q.agent_from_row(row) if row else None


def _user(conn: sqlite3.Connection, sql: str, value: str) -> User | None:
    row = conn.execute(sql, (value,)).fetchone()
    return q.user_from_row(row) if row else None


def _existing_user(conn: sqlite3.Connection, user_id: str) -> User:
    user = _user(conn, q.USER_BY_ID, user_id)
    if user is None:
        raise StoreNotFound(f"user {user_id} was not found", "userId")
    return user


def _insert_key(conn: sqlite3.Connection, key: NewApiKey, now_ms: int) -> ApiKey:
    conn.execute(INSERT_KEY, key_insert_values(key, now_ms))
    return key_from_row(conn.execute(q.KEY_BY_ID, (key.key_id,)).fetchone())


class SQLiteAccounts:
    """Part of the SQLite store; shares ``self.engine``."""

    engine: SQLiteEngine

    async def create_agent(self, agent: Agent, audit: AuditEvent) -> Agent:
        def job(conn: sqlite3.Connection) -> Agent:
            if conn.execute(q.ACTIVE_AGENT_NAMED, (agent.workspace_id, agent.name)).fetchone():
                raise StoreConflict(f"an active agent named {agent.name!r} exists", "name")
            conn.execute(q.INSERT_AGENT, q.agent_values(agent))
            conn.execute(q.INSERT_AUDIT, q.audit_values(audit))
            return agent
        return await self.engine.write(job)

    async def get_agent(self, workspace_id: str, agent_id: str) -> Agent | None:
        return await self.engine.read(lambda conn: _agent(conn, workspace_id, agent_id))

    async def list_agents(self, workspace_id: str, status: str | None, after_id: str | None,
                          limit: int) -> list[Agent]:
        sql, params = q.agents_sql(workspace_id, status, after_id, limit)
        rows = await self.engine.read(lambda conn: conn.execute(sql, params).fetchall())
        return [q.agent_from_row(row) for row in rows]

    async def revoke_agent(self, workspace_id: str, agent_id: str, now_ms: int,
                           audit: AuditEvent) -> tuple[Agent, list[str]]:
        def job(conn: sqlite3.Connection) -> tuple[Agent, list[str]]:
            if _agent(conn, workspace_id, agent_id) is None:
                raise StoreNotFound(f"agent {agent_id} was not found", "agentId")
            keys = [row[0] for row in conn.execute(q.LIVE_AGENT_KEYS, (agent_id,))]
            for key_id in keys:
                conn.execute(q.REVOKE_KEY_BY_ID, (now_ms, key_id))
            if conn.execute(q.REVOKE_AGENT, (now_ms, now_ms, agent_id)).rowcount or keys:
                conn.execute(q.INSERT_AUDIT, q.audit_values(audit))
            found = _agent(conn, workspace_id, agent_id)
            assert found is not None
            return found, keys
        return await self.engine.write(job)

    async def create_agent_key(self, agent_id: str, key: NewApiKey, audit: AuditEvent
                               ) -> ApiKey:
        def job(conn: sqlite3.Connection) -> ApiKey:
            state = conn.execute(q.AGENT_STATE, (agent_id,)).fetchone()
            if state is None:
                raise StoreNotFound(f"agent {agent_id} was not found", "agentId")
            if state[0] is not None:
                raise StoreConflict(f"agent {agent_id} is revoked", "agentId")
            stored = _insert_key(conn, key, audit.created_ms)
            conn.execute(q.INSERT_AGENT_KEY, (key.key_id, agent_id))
            conn.execute(q.INSERT_AUDIT, q.audit_values(audit))
            return stored
        return await self.engine.write(job)

    async def list_agent_keys(self, agent_id: str, after_id: str | None, limit: int
                              ) -> list[ApiKey]:
        rows = await self.engine.read(lambda conn: conn.execute(
            q.AGENT_KEYS, (agent_id, after_id or "", limit)).fetchall())
        return [key_from_row(row) for row in rows]

    async def key_owner(self, key_id: str) -> KeyOwner | None:
        def job(conn: sqlite3.Connection) -> KeyOwner | None:
            agent = conn.execute(q.KEY_AGENT, (key_id,)).fetchone()
            if agent is not None:
                return KeyOwner("agent", agent[0])
            user = conn.execute(q.KEY_USER, (key_id,)).fetchone()
            return KeyOwner("user", user[0], user[1]) if user is not None else None
        return await self.engine.read(job)

    async def create_user(self, user: User, key: NewApiKey, audit: AuditEvent, *,
                          only_if_first: bool = False, exist_ok: bool = False) -> User | None:
        def job(conn: sqlite3.Connection) -> User | None:  # one writer: check and insert
            if only_if_first and conn.execute(q.ANY_USER).fetchone() is not None:
                return None
            found = _user(conn, q.USER_BY_EMAIL, user.email.lower())
            if found is not None:
                if exist_ok:
                    return found
                raise StoreConflict(f"a user with email {user.email} exists", "email")
            _insert_key(conn, key, user.created_ms)
            conn.execute(q.INSERT_USER, q.user_values(user))
            conn.execute(q.INSERT_AUDIT, q.audit_values(audit))
            return _user(conn, q.USER_BY_ID, user.user_id)
        return await self.engine.write(job)

    async def find_user(self, email: str) -> User | None:
        return await self.engine.read(lambda conn: _user(conn, q.USER_BY_EMAIL, email.lower()))

    async def get_user(self, user_id: str) -> User | None:
        return await self.engine.read(lambda conn: _user(conn, q.USER_BY_ID, user_id))

    async def list_users(self, after_email: str | None, limit: int) -> list[User]:
        rows = await self.engine.read(lambda conn: conn.execute(
            q.USERS_PAGE, (after_email or "", limit)).fetchall())
        return [q.user_from_row(row) for row in rows]

    async def disable_user(self, user_id: str, now_ms: int, audit: AuditEvent) -> User:
        def job(conn: sqlite3.Connection) -> User:
            user = _existing_user(conn, user_id)
            if conn.execute(q.REVOKE_KEY_BY_ID, (now_ms, user.key_id)).rowcount:
                conn.execute(q.INSERT_AUDIT, q.audit_values(audit))
            conn.execute(q.DELETE_KEY_SESSIONS, (user.key_id,))
            return _existing_user(conn, user_id)
        return await self.engine.write(job)

    async def enable_user(self, user_id: str, key: NewApiKey, audit: AuditEvent) -> User:
        def job(conn: sqlite3.Connection) -> User:
            user = _existing_user(conn, user_id)
            if user.disabled_ms is None:
                return user
            _insert_key(conn, key, audit.created_ms)
            conn.execute(q.SET_USER_KEY, (key.key_id, user_id))
            conn.execute(q.INSERT_AUDIT, q.audit_values(audit))
            return _existing_user(conn, user_id)
        return await self.engine.write(job)

    async def set_user_password(self, user_id: str, password_hash: str, audit: AuditEvent
                                ) -> User:
        def job(conn: sqlite3.Connection) -> User:
            user = _existing_user(conn, user_id)
            conn.execute(q.SET_PASSWORD, (password_hash, user_id))
            conn.execute(q.DELETE_KEY_SESSIONS, (user.key_id,))
            conn.execute(q.INSERT_AUDIT, q.audit_values(audit))
            return _existing_user(conn, user_id)
        return await self.engine.write(job)

    async def append_audit(self, event: AuditEvent) -> None:
        await self.engine.write(
            lambda conn: conn.execute(q.INSERT_AUDIT, q.audit_values(event)) and None)

    async def list_audit(self, query: AuditQuery) -> list[AuditEvent]:
        sql, params = q.audit_sql(query)
        rows = await self.engine.read(lambda conn: conn.execute(sql, params).fetchall())
        return [q.audit_from_row(row) for row in rows]
