"""PostgreSQL: agents, agent keys, users and the audit log (the :class:`AccountStore`).

The statements are the SQLite store's (:mod:`rundial_collector.store.accounts_sql`), numbered.
Each change and its audit event run in one transaction. Race rules across collectors: the
active-name check of an agent and the first-user check take transaction advisory locks, so
two collectors never both create an agent with one name or both create "the first" user; the
unique indexes are the backstop.
"""

from __future__ import annotations

import zlib
from typing import Any

from rundial_collector.store import accounts_sql as q
from rundial_collector.store.accounts_base import (Agent, AuditEvent, AuditQuery, KeyOwner,
                                                   User)
from rundial_collector.store.control_base import (ApiKey, NewApiKey, StoreConflict,
                                                  StoreNotFound)
from rundial_collector.store.control_rows import key_from_row, key_insert_values
from rundial_collector.store.control_sql import INSERT_KEY, numbered
from rundial_collector.store.errors import has_nul
from rundial_collector.store.postgres.engine import Conn, PgEngine

FIRST_USER_LOCK = 0x72647573657231  # "rdusr1": the transaction lock of the first-user check
_AGENT_NAME_LOCK = 0x7264616774  # "rdagt", combined with a hash of workspace and name


async def _agent(conn: Conn, workspace_id: str, agent_id: str) -> Agent | None:
    if has_nul(agent_id):
        return None
    row = await conn.fetchrow(numbered(q.AGENT_BY_ID), workspace_id, agent_id)
    return q.agent_from_row(row) if row is not None else None


async def _run(conn: Conn, sql: str, *params: Any) -> str:
    return str(await conn.execute(numbered(sql), *params))


async def _audit(conn: Conn, event: AuditEvent) -> None:
    await _run(conn, q.INSERT_AUDIT, *q.audit_values(event))


async def audit_in_tx(conn: Conn, event: AuditEvent | None) -> None:
    """Append ``event`` (when given) inside the caller's transaction."""
    if event is not None:
        await _audit(conn, event)


async def _user(conn: Conn, sql: str, value: str) -> User | None:
    if has_nul(value):  # an id or email naming nothing stored
        return None
    row = await conn.fetchrow(numbered(sql), value)
    return q.user_from_row(row) if row is not None else None


async def _locked_user(conn: Conn, user_id: str) -> User:
    """The user, its row locked until the transaction ends; :class:`StoreNotFound` if none."""
    row = None if has_nul(user_id) else await conn.fetchrow(
        numbered(q.USER_BY_ID) + " FOR UPDATE OF u", user_id)
    if row is None:
        raise StoreNotFound(f"user {user_id} was not found", "userId")
    return q.user_from_row(row)


async def _insert_key(conn: Conn, key: NewApiKey, now_ms: int) -> ApiKey:
    await _run(conn, INSERT_KEY, *key_insert_values(key, now_ms))
    row = await conn.fetchrow(numbered(q.KEY_BY_ID), key.key_id)
    assert row is not None
    return key_from_row(row)


class PgAccounts:
    """Part of :class:`PostgresStore` (which sets ``engine``)."""

    engine: PgEngine

    async def create_agent(self, agent: Agent, audit: AuditEvent) -> Agent:
        lock = _AGENT_NAME_LOCK ^ zlib.crc32(f"{agent.workspace_id}/{agent.name}".encode())

        async def job(conn: Conn) -> Agent:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)
            if await conn.fetchval(numbered(q.ACTIVE_AGENT_NAMED), agent.workspace_id,
                                   agent.name) is not None:
                raise StoreConflict(f"an active agent named {agent.name!r} exists", "name")
            await _run(conn, q.INSERT_AGENT, *q.agent_values(agent))
            await _audit(conn, audit)
            return agent
        return await self.engine.write(job)

    async def get_agent(self, workspace_id: str, agent_id: str) -> Agent | None:
        return await self.engine.read(lambda conn: _agent(conn, workspace_id, agent_id))

    async def list_agents(self, workspace_id: str, status: str | None, after_id: str | None,
                          limit: int) -> list[Agent]:
        sql, params = q.agents_sql(workspace_id, status, after_id, limit)
        rows = await self.engine.read(lambda conn: conn.fetch(numbered(sql), *params))
        return [q.agent_from_row(row) for row in rows]

    async def revoke_agent(self, workspace_id: str, agent_id: str, now_ms: int,
                           audit: AuditEvent) -> tuple[Agent, list[str]]:
        async def job(conn: Conn) -> tuple[Agent, list[str]]:
            row = None if has_nul(agent_id) else await conn.fetchrow(
                numbered(q.AGENT_BY_ID) + " FOR UPDATE", workspace_id, agent_id)
            if row is None:
                raise StoreNotFound(f"agent {agent_id} was not found", "agentId")
            keys = [r[0] for r in await conn.fetch(numbered(q.LIVE_AGENT_KEYS), agent_id)]
            for key_id in keys:
                await _run(conn, q.REVOKE_KEY_BY_ID, now_ms, key_id)
            changed = await _run(conn, q.REVOKE_AGENT, now_ms, now_ms, agent_id)
            if changed != "UPDATE 0" or keys:
                await _audit(conn, audit)
            found = await _agent(conn, workspace_id, agent_id)
            assert found is not None
            return found, keys
        return await self.engine.write(job)

    async def create_agent_key(self, agent_id: str, key: NewApiKey, audit: AuditEvent
                               ) -> ApiKey:
        async def job(conn: Conn) -> ApiKey:
            # FOR SHARE: a concurrent revoke_agent (FOR UPDATE) waits for this key, then
            # revokes it too; a key is never added to an agent revoked meanwhile.
            state = await conn.fetchrow(numbered(q.AGENT_STATE) + " FOR SHARE", agent_id)
            if state is None:
                raise StoreNotFound(f"agent {agent_id} was not found", "agentId")
            if state[0] is not None:
                raise StoreConflict(f"agent {agent_id} is revoked", "agentId")
            stored = await _insert_key(conn, key, audit.created_ms)
            await _run(conn, q.INSERT_AGENT_KEY, key.key_id, agent_id)
            await _audit(conn, audit)
            return stored
        return await self.engine.write(job)

    async def list_agent_keys(self, agent_id: str, after_id: str | None, limit: int
                              ) -> list[ApiKey]:
        rows = await self.engine.read(
            lambda conn: conn.fetch(numbered(q.AGENT_KEYS), agent_id, after_id or "", limit))
        return [key_from_row(row) for row in rows]

    async def key_owner(self, key_id: str) -> KeyOwner | None:
        async def job(conn: Conn) -> KeyOwner | None:
            agent_id = await conn.fetchval(numbered(q.KEY_AGENT), key_id)
            if agent_id is not None:
                return KeyOwner("agent", agent_id)
            user = await conn.fetchrow(numbered(q.KEY_USER), key_id)
            return KeyOwner("user", user[0], user[1]) if user is not None else None
        return await self.engine.read(job)

    async def create_user(self, user: User, key: NewApiKey, audit: AuditEvent, *,
                          only_if_first: bool = False, exist_ok: bool = False) -> User | None:
        async def job(conn: Conn) -> User | None:
            # Collectors bootstrapping together serialise here (READ COMMITTED: the checks
            # after the lock see a user another one committed meanwhile).
            await conn.execute("SELECT pg_advisory_xact_lock($1)", FIRST_USER_LOCK)
            if only_if_first and await conn.fetchval(q.ANY_USER) is not None:
                return None
            found = await _user(conn, q.USER_BY_EMAIL, user.email.lower())
            if found is not None:
                if exist_ok:
                    return found
                raise StoreConflict(f"a user with email {user.email} exists", "email")
            await _insert_key(conn, key, user.created_ms)
            await _run(conn, q.INSERT_USER, *q.user_values(user))
            await _audit(conn, audit)
            return await _user(conn, q.USER_BY_ID, user.user_id)
        return await self.engine.write(job)

    async def find_user(self, email: str) -> User | None:
        return await self.engine.read(lambda conn: _user(conn, q.USER_BY_EMAIL, email.lower()))

    async def get_user(self, user_id: str) -> User | None:
        return await self.engine.read(lambda conn: _user(conn, q.USER_BY_ID, user_id))

    async def list_users(self, after_email: str | None, limit: int) -> list[User]:
        rows = await self.engine.read(
            lambda conn: conn.fetch(numbered(q.USERS_PAGE), after_email or "", limit))
        return [q.user_from_row(row) for row in rows]

    async def disable_user(self, user_id: str, now_ms: int, audit: AuditEvent) -> User:
        async def job(conn: Conn) -> User:
            user = await _locked_user(conn, user_id)
            if await _run(conn, q.REVOKE_KEY_BY_ID, now_ms, user.key_id) != "UPDATE 0":
                await _audit(conn, audit)
            await _run(conn, q.DELETE_KEY_SESSIONS, user.key_id)
            return await _locked_user(conn, user_id)
        return await self.engine.write(job)

    async def enable_user(self, user_id: str, key: NewApiKey, audit: AuditEvent) -> User:
        async def job(conn: Conn) -> User:
            user = await _locked_user(conn, user_id)
            if user.disabled_ms is None:
                return user
            await _insert_key(conn, key, audit.created_ms)
            await _run(conn, q.SET_USER_KEY, key.key_id, user_id)
            await _audit(conn, audit)
            return await _locked_user(conn, user_id)
        return await self.engine.write(job)

    async def set_user_password(self, user_id: str, password_hash: str, audit: AuditEvent
                                ) -> User:
        async def job(conn: Conn) -> User:
            user = await _locked_user(conn, user_id)
            await _run(conn, q.SET_PASSWORD, password_hash, user_id)
            await _run(conn, q.DELETE_KEY_SESSIONS, user.key_id)
            await _audit(conn, audit)
            return await _locked_user(conn, user_id)
        return await self.engine.write(job)

    async def append_audit(self, event: AuditEvent) -> None:
        await self.engine.write(lambda conn: _audit(conn, event))

    async def list_audit(self, query: AuditQuery) -> list[AuditEvent]:
        if has_nul(query.agent_id):
            return []
        sql, params = q.audit_sql(query)
        rows = await self.engine.read(lambda conn: conn.fetch(numbered(sql), *params))
        return [q.audit_from_row(row) for row in rows]
