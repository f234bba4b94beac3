"""User management in the AccountStore (list, get, disable, enable, set password) on SQLite and
PostgreSQL: disabling revokes the backing key and deletes the user's sessions, enabling gives a
fresh key, a password change deletes the sessions too, and each change commits with its audit
event."""

from __future__ import annotations

import time

import pytest

from rundial_collector.store.accounts_base import AuditEvent, AuditQuery, User
from rundial_collector.store.base import Store
from rundial_collector.store.control_base import NewApiKey, StoreNotFound
from rundial_collector.store.sessions_base import NewUiSession

HOUR_MS = 3_600_000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _event(action: str, target: str) -> AuditEvent:
    return AuditEvent(_now_ms(), None, "api_key", "key_admin", action, "user", target)


async def _add(store: Store, user_id: str, email: str,
               scopes: tuple[str, ...] = ("admin",)) -> User:
    key = NewApiKey("key_" + user_id, "hash_" + user_id, None, None, scopes, "user")
    user = User(user_id, email, "scrypt$old", key.key_id, _now_ms())
    created = await store.create_user(user, key, _event("user.create", user_id))
    assert created is not None
    return created


async def _session(store: Store, user: User, token: str) -> None:
    now = _now_ms()
    await store.create_ui_session(NewUiSession(token, "session", user.key_id, now, now + HOUR_MS))


async def _user_events(store: Store) -> list[tuple[str, str]]:
    events = await store.list_audit(AuditQuery("ws_none", 100, include_global=True))
    return [(e.action, e.target_id) for e in reversed(events)]


async def test_users_are_listed_by_email_paged_with_status_and_key_scopes(store: Store) -> None:
    bob = await _add(store, "usr_b", "bob@example.com", ("project:read", "metrics:write"))
    ada = await _add(store, "usr_a", "Ada@Example.com")
    assert (ada.status, ada.disabled_ms, ada.key_scopes) == ("active", None, ("admin",))
    assert bob.key_scopes == ("project:read", "metrics:write")
    assert await store.list_users(None, 10) == [ada, bob]
    assert await store.list_users(None, 1) == [ada]
    assert await store.list_users("ada@example.com", 10) == [bob]
    assert await store.list_users("bob@example.com", 10) == []
    assert await store.get_user("usr_b") == bob == await store.find_user("BOB@example.com")
    assert await store.get_user("usr_nobody") is None


async def test_disable_revokes_the_key_ends_sessions_and_audits_once(store: Store) -> None:
    ada = await _add(store, "usr_a", "ada@example.com")
    bob = await _add(store, "usr_b", "bob@example.com")
    await _session(store, ada, "tok_ada")
    await _session(store, bob, "tok_bob")
    now = _now_ms()
    disabled = await store.disable_user("usr_a", now, _event("user.disable", "usr_a"))
    assert (disabled.status, disabled.disabled_ms) == ("disabled", now)
    assert await store.find_user("ada@example.com") == disabled
    key = await store.find_api_key("hash_usr_a")
    assert key is not None and key.revoked_ms == now
    assert await store.find_ui_session("tok_ada", _now_ms()) is None
    assert await store.find_ui_session("tok_bob", _now_ms()) is not None  # others untouched
    again = await store.disable_user("usr_a", now + 5, _event("user.disable", "usr_a"))
    assert again.disabled_ms == now  # idempotent: the first time stays
    assert await _user_events(store) == [
        ("user.create", "usr_a"), ("user.create", "usr_b"), ("user.disable", "usr_a")]
    with pytest.raises(StoreNotFound) as info:
        await store.disable_user("usr_nobody", now, _event("user.disable", "usr_nobody"))
    assert info.value.field == "userId"


async def test_a_user_disabled_by_another_process_has_no_session_at_once(
        store: Store, peer_store: Store) -> None:
    ada = await _add(store, "usr_a", "ada@example.com")
    await _session(store, ada, "tok_ada")
    assert await peer_store.find_ui_session("tok_ada", _now_ms()) is not None
    await peer_store.disable_user("usr_a", _now_ms(), _event("user.disable", "usr_a"))
    assert await store.find_ui_session("tok_ada", _now_ms()) is None
    found = await store.get_user("usr_a")
    assert found is not None and found.status == "disabled"


async def test_set_password_replaces_the_hash_ends_sessions_and_audits(store: Store) -> None:
    ada = await _add(store, "usr_a", "ada@example.com")
    await _session(store, ada, "tok_ada")
    changed = await store.set_user_password("usr_a", "scrypt$new",
                                            _event("user.password", "usr_a"))
    assert changed.password_hash == "scrypt$new" and changed.status == "active"
    assert await store.find_user("ada@example.com") == changed
    assert await store.find_ui_session("tok_ada", _now_ms()) is None
    assert (await _user_events(store))[-1] == ("user.password", "usr_a")
    with pytest.raises(StoreNotFound):
        await store.set_user_password("usr_nobody", "scrypt$x", _event("user.password", "x"))
    assert (await _user_events(store))[-1] == ("user.password", "usr_a")


async def test_enable_gives_a_disabled_user_a_fresh_key_once(store: Store) -> None:
    ada = await _add(store, "usr_a", "ada@example.com", ("project:read",))
    fresh = NewApiKey("key_fresh", "hash_fresh", None, None, ("project:read",), "user")
    unchanged = await store.enable_user("usr_a", fresh, _event("user.enable", "usr_a"))
    assert unchanged == ada  # already active: nothing stored, nothing audited
    assert await store.find_api_key("hash_fresh") is None
    await store.disable_user("usr_a", _now_ms(), _event("user.disable", "usr_a"))
    enabled = await store.enable_user("usr_a", fresh, _event("user.enable", "usr_a"))
    assert (enabled.status, enabled.key_id, enabled.key_scopes) == (
        "active", "key_fresh", ("project:read",))
    old = await store.find_api_key("hash_usr_a")
    assert old is not None and old.revoked_ms is not None  # the old key stays revoked
    owner = await store.key_owner("key_fresh")
    assert owner is not None and owner.owner_id == "usr_a"
    again = NewApiKey("key_again", "hash_again", None, None, ("admin",), "user")
    assert await store.enable_user("usr_a", again, _event("user.enable", "usr_a")) == enabled
    assert [a for a, _ in await _user_events(store)] == [
        "user.create", "user.disable", "user.enable"]
    with pytest.raises(StoreNotFound):
        await store.enable_user("usr_nobody", again, _event("user.enable", "usr_nobody"))
