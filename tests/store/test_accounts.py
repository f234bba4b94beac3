"""AccountStore contract (agents, agent keys, users, audit log) on SQLite and PostgreSQL (#17.2).

Every test talks to the :class:`Store` protocol only (except the append-only test, which
tries raw SQL on each backend's own connection), so both backends must answer alike.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import asyncpg
import pytest

from rundial_collector.store.accounts_base import Agent, AuditEvent, AuditQuery, User
from rundial_collector.store.base import Store
from rundial_collector.store.control_base import (NewApiKey, RunStart, StoreConflict,
                                                  StoreNotFound)
from rundial_collector.store.postgres.store import PostgresStore
from rundial_collector.store.run_edits_base import RunEdit
from rundial_collector.store.sqlite.store import SQLiteStore


def _now_ms() -> int:
    return int(time.time() * 1000)


def _event(action: str, ws: str | None, target: str = "t", **fields: object) -> AuditEvent:
    return AuditEvent(_now_ms(), ws, str(fields.pop("actor_kind", "api_key")),
                      "key_actor", action, "agent", target, **fields)  # type: ignore[arg-type]


def _agent(ws: str, agent_id: str, name: str) -> Agent:
    now = _now_ms()
    return Agent(agent_id, ws, name, now, now)


def _key(key_id: str, ws: str | None = None, project: str | None = None) -> NewApiKey:
    return NewApiKey(key_id, "hash_" + key_id, ws, project, ("metrics:write",), "lbl")


async def _workspace(store: Store, slug: str = "ws") -> str:
    return (await store.create_workspace(slug, slug, exist_ok=True)).workspace_id


async def test_agents_are_created_listed_paged_and_unique_by_active_name(store: Store) -> None:
    ws = await _workspace(store)
    other = await _workspace(store, "other")
    a = await store.create_agent(_agent(ws, "agt_a", "bot"), _event("agent.create", ws))
    b = await store.create_agent(_agent(ws, "agt_b", "helper"), _event("agent.create", ws))
    await store.create_agent(_agent(other, "agt_c", "bot"), _event("agent.create", other))
    with pytest.raises(StoreConflict) as info:
        await store.create_agent(_agent(ws, "agt_d", "bot"), _event("agent.create", ws))
    assert info.value.field == "name"
    assert await store.list_agents(ws, None, None, 10) == [a, b]
    assert await store.list_agents(ws, None, "agt_a", 10) == [b]
    assert await store.list_agents(ws, None, None, 1) == [a]
    assert await store.get_agent(ws, "agt_a") == a
    assert await store.get_agent(other, "agt_a") is None
    assert a.status == "active"


async def test_revoking_an_agent_revokes_its_keys_in_one_step(store: Store) -> None:
    ws = await _workspace(store)
    await store.create_agent(_agent(ws, "agt_a", "bot"), _event("agent.create", ws))
    k1 = await store.create_agent_key("agt_a", _key("key_1", ws), _event("api_key.create", ws))
    await store.create_agent_key("agt_a", _key("key_2", ws), _event("api_key.create", ws))
    assert k1.revoked_ms is None and k1.key_id == "key_1"
    assert [k.key_id for k in await store.list_agent_keys("agt_a", None, 10)] == ["key_1",
                                                                                   "key_2"]
    assert [k.key_id for k in await store.list_agent_keys("agt_a", "key_1", 10)] == ["key_2"]
    owner = await store.key_owner("key_1")
    assert owner is not None and (owner.kind, owner.owner_id) == ("agent", "agt_a")
    agent, revoked = await store.revoke_agent(ws, "agt_a", 1234, _event("agent.revoke", ws))
    assert (agent.status, agent.revoked_ms, revoked) == ("revoked", 1234, ["key_1", "key_2"])
    found = await store.find_api_key("hash_key_1")
    assert found is not None and found.revoked_ms == 1234
    again, none = await store.revoke_agent(ws, "agt_a", 9999, _event("agent.revoke", ws))
    assert (again.revoked_ms, none) == (1234, [])  # idempotent, first time kept
    with pytest.raises(StoreConflict):
        await store.create_agent_key("agt_a", _key("key_3", ws), _event("api_key.create", ws))
    with pytest.raises(StoreNotFound):
        await store.create_agent_key("agt_x", _key("key_4", ws), _event("api_key.create", ws))
    with pytest.raises(StoreNotFound):
        await store.revoke_agent(ws, "agt_x", 1, _event("agent.revoke", ws))
    assert await store.list_agents(ws, "revoked", None, 10) == [agent]
    assert await store.list_agents(ws, "active", None, 10) == []
    # The name is free again once the agent is revoked.
    await store.create_agent(_agent(ws, "agt_b", "bot"), _event("agent.create", ws))
    actions = [e.action for e in await store.list_audit(AuditQuery(ws, 10))]
    assert actions == ["agent.create", "agent.revoke", "api_key.create", "api_key.create",
                       "agent.create"]  # the idempotent repeat and the failures wrote nothing


async def test_audit_is_newest_first_filtered_paged_and_workspace_scoped(store: Store) -> None:
    ws = await _workspace(store)
    other = await _workspace(store, "other")
    await store.append_audit(_event("run.start", ws, "run_1"))
    await store.append_audit(_event("run.finish", ws, "run_1", agent_id="agt_a",
                                    actor_kind="agent"))
    await store.append_audit(_event("run.start", other, "run_2"))
    await store.append_audit(_event("user.login", None, "usr_1", actor_kind="user"))
    events = await store.list_audit(AuditQuery(ws, 10))
    assert [e.action for e in events] == ["run.finish", "run.start"]
    assert events[0].seq > events[1].seq > 0
    assert events[0].agent_id == "agt_a" and events[0].workspace_id == ws
    page = await store.list_audit(AuditQuery(ws, 10, before_seq=events[0].seq))
    assert [e.target_id for e in page] == ["run_1"] and page[0].action == "run.start"
    assert [e.action for e in await store.list_audit(AuditQuery(ws, 10, agent_id="agt_a"))] \
        == ["run.finish"]
    assert [e.action for e in await store.list_audit(AuditQuery(ws, 10, actor_kind="api_key"))] \
        == ["run.start"]
    with_global = await store.list_audit(AuditQuery(ws, 10, include_global=True))
    assert [e.action for e in with_global] == ["user.login", "run.finish", "run.start"]
    assert len(await store.list_audit(AuditQuery(ws, 1))) == 1


async def test_audit_rows_refuse_update_and_delete_even_in_raw_sql(store: Store) -> None:
    ws = await _workspace(store)
    await store.append_audit(_event("run.start", ws, "run_1"))
    for sql in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        if isinstance(store, SQLiteStore):
            def lite(conn: sqlite3.Connection, sql: str = sql) -> object:
                return conn.execute(sql)
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                await store.engine.write(lite)
        else:
            assert isinstance(store, PostgresStore)

            async def pg(conn: Any, sql: str = sql) -> object:
                return await conn.execute(sql)
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await store.engine.write(pg)
    assert [e.action for e in await store.list_audit(AuditQuery(ws, 10))] == ["run.start"]


def _user(user_id: str, email: str) -> tuple[User, NewApiKey]:
    key = NewApiKey("key_" + user_id, "hash_" + user_id, None, None, ("admin",), "user")
    return User(user_id, email, "scrypt$hash", key.key_id, _now_ms()), key


async def test_users_by_email_case_insensitive_with_a_backing_key(store: Store) -> None:
    user, key = _user("usr_1", "Ada@Example.com")
    created = await store.create_user(user, key, _event("user.create", None, "usr_1"))
    assert created is not None and created.email == "ada@example.com"
    assert await store.find_user("ADA@example.COM") == created
    assert await store.find_user("bob@example.com") is None
    owner = await store.key_owner("key_usr_1")
    assert owner is not None and (owner.kind, owner.owner_id, owner.email) == (
        "user", "usr_1", "ada@example.com")
    assert await store.key_owner("key_nobody") is None
    again, key2 = _user("usr_2", "ada@example.com")
    with pytest.raises(StoreConflict):
        await store.create_user(again, key2, _event("user.create", None))
    assert await store.create_user(again, key2, _event("user.create", None),
                                   exist_ok=True) == created
    third, key3 = _user("usr_3", "c@example.com")
    assert await store.create_user(third, key3, _event("user.create", None),
                                   only_if_first=True) is None
    assert await store.find_user("c@example.com") is None
    assert await store.find_api_key("hash_usr_3") is None  # no orphan backing key


async def test_two_collectors_create_exactly_one_first_user(store: Store,
                                                            peer_store: Store) -> None:
    pairs = [_user(f"usr_{n}", f"u{n}@example.com") for n in range(2)]
    results = await asyncio.gather(
        store.create_user(*pairs[0], _event("user.create", None), only_if_first=True),
        peer_store.create_user(*pairs[1], _event("user.create", None), only_if_first=True))
    assert sum(r is not None for r in results) == 1, results
    emails = [await store.find_user(f"u{n}@example.com") for n in range(2)]
    assert sum(e is not None for e in emails) == 1


async def test_key_and_run_changes_append_their_audit_event_only_when_they_change(
        store: Store) -> None:
    """The event passed to a key or run method commits with the change, once: a repeat, an
    idempotent call or a refused change appends nothing."""
    ws = await store.create_workspace("ws", "W")
    project = await store.create_project(ws.workspace_id, "p", "P")
    pid = project.project_id

    def ev(action: str) -> AuditEvent:
        return _event(action, ws.workspace_id, "x")
    key = NewApiKey("key_k", "hash_k", ws.workspace_id, pid, ("project:read",), None)
    await store.create_api_key(key, audit=ev("api_key.create"))
    await store.create_api_key(key, exist_ok=True, audit=ev("api_key.create"))
    await store.revoke_api_key(pid, "key_k", 5, audit=ev("api_key.revoke"))
    await store.revoke_api_key(pid, "key_k", 6, audit=ev("api_key.revoke"))
    start = RunStart(run_id="run_a", run_id_given=True, project_id=pid, kind="training",
                     resume="allow")
    assert (await store.start_run(start, _now_ms(), audit=ev("run.start")))[1] is True
    assert (await store.start_run(start, _now_ms(), audit=ev("run.start")))[1] is False
    now = _now_ms()
    await store.finish_run("run_a", "failed", None, now, now, audit=ev("run.fail"))
    await store.finish_run("run_a", "failed", None, now, now, audit=ev("run.fail"))
    with pytest.raises(StoreConflict):
        await store.finish_run("run_a", "completed", None, now, now, audit=ev("run.finish"))
    await store.edit_run(pid, "run_a", RunEdit(name="n"), "key_k", now, audit=ev("run.edit"))
    await store.delete_run(pid, "run_a", "key_k", now, audit=ev("run.delete"))
    with pytest.raises(StoreNotFound):
        await store.delete_run(pid, "run_a", "key_k", now, audit=ev("run.delete"))
    actions = [e.action for e in await store.list_audit(AuditQuery(ws.workspace_id, 20))]
    assert actions[::-1] == ["api_key.create", "api_key.revoke", "run.start", "run.fail",
                             "run.edit", "run.delete"]
