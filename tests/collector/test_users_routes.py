"""``/api/v1/users`` (docs/protocol.md §8.4) against the real collector on both backends: a
global admin adds, lists and disables users; bad input, non-admins, unknown and duplicate users
get the error envelope; an admin resets a password; every change is audited; a disabled user's session is refused at once,
also on a second collector of the same PostgreSQL database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rundial_collector.routes.credentials import DISABLED
from tests.collector.control import V1, assert_error, call, new_key, new_target, unique
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.postgres import PgCluster
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

ADMIN_EMAIL, ADMIN_PASSWORD = "root@example.com", "root password 1234"
USERS = f"{V1}/users"


@pytest.fixture(scope="module")
def proc(shared_collector: CollectorProcess) -> CollectorProcess:
    """The module's collector (SQLite, then PostgreSQL) with an admin user ``ADMIN_EMAIL``
    added by the admin key."""
    status, payload = call(shared_collector, "POST", USERS, {
        "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "admin": True})
    assert status == 201, payload
    return shared_collector


def login(proc: CollectorProcess, email: str, password: str) -> tuple[int, Any, str]:
    """Credential login: (status, payload, the rd_session token or "")."""
    status, headers, payload = request("POST", proc.url + f"{V1}/auth/login/credentials",
                                       {"email": email, "password": password})
    token = headers.get("Set-Cookie", "").partition("rd_session=")[2].split(";", 1)[0]
    return status, payload, token


def as_session(proc: CollectorProcess, method: str, path: str, token: str,
               body: Any = None) -> tuple[int, Any]:
    status, _, payload = request(method, proc.url + path, body,
                                 headers={"cookie": f"rd_session={token}"})
    return status, payload


def _add(proc: CollectorProcess, body: dict[str, Any]) -> dict[str, Any]:
    status, payload = call(proc, "POST", USERS, body)
    assert status == 201, payload
    return dict(payload)


def _global_audit(proc: CollectorProcess, user_id: str) -> list[tuple[str, str, str]]:
    status, payload = call(proc, "GET", f"{V1}/workspaces/{proc.workspace}/audit?limit=500")
    assert status == 200, payload
    return [(e["action"], e["actorKind"], e["targetKind"]) for e in reversed(payload["events"])
            if e["targetId"] == user_id and e["action"] != "user.login"]


def test_an_admin_key_adds_disables_and_enables_a_user(proc: CollectorProcess) -> None:
    email = unique("ada") + "@Example.com"
    added = _add(proc, {"email": email, "password": "ada's long password"})
    assert "password" not in added and "passwordHash" not in added
    assert (added["email"], added["status"], added["admin"], added["disabledAtMs"]) == (
        email.lower(), "active", False, None)
    status, _, token = login(proc, email, "ada's long password")
    assert status == 200 and token
    assert as_session(proc, "GET", f"{V1}/auth/whoami", token)[0] == 200
    status, disabled = call(proc, "POST", f"{USERS}/{added['userId']}/disable", {})
    assert status == 200 and disabled["status"] == "disabled" and disabled["disabledAtMs"]
    status, payload = as_session(proc, "GET", f"{V1}/auth/whoami", token)
    assert_error(status, payload, 401, "UNAUTHORIZED")
    status, payload, refused = login(proc, email, "ada's long password")
    assert_error(status, payload, 401, "UNAUTHORIZED")
    assert payload["error"]["message"] == DISABLED and refused == ""
    again = call(proc, "POST", f"{USERS}/{added['userId']}/disable", {})
    assert again == (200, {**disabled, "requestId": again[1]["requestId"]})
    status, enabled = call(proc, "POST", f"{USERS}/{added['userId']}/enable", {})
    assert status == 200 and (enabled["status"], enabled["disabledAtMs"]) == ("active", None)
    assert_error(*as_session(proc, "GET", f"{V1}/auth/whoami", token), 401, "UNAUTHORIZED")
    status, _, fresh = login(proc, email, "ada's long password")
    assert status == 200 and as_session(proc, "GET", f"{V1}/auth/whoami", fresh)[0] == 200
    assert call(proc, "POST", f"{USERS}/{added['userId']}/enable", {})[0] == 200
    assert_error(*call(proc, "POST", f"{USERS}/usr_nobody/enable", {}), 404, "NOT_FOUND")
    assert _global_audit(proc, added["userId"]) == [
        ("user.create", "api_key", "user"), ("user.disable", "api_key", "user"),
        ("user.enable", "api_key", "user")]


def test_a_generated_password_is_returned_once_and_works(proc: CollectorProcess) -> None:
    email = unique("gen") + "@example.com"
    added = _add(proc, {"email": email, "admin": True})
    assert added["admin"] is True and len(added["password"]) >= 20
    status, listed = call(proc, "GET", f"{USERS}?limit=1000")
    assert status == 200 and "password" not in repr(listed["users"])
    assert added["password"] not in proc.log_text()
    status, _, token = login(proc, email, added["password"])
    assert status == 200
    status, payload = as_session(proc, "GET", USERS, token)  # an admin user may manage users
    assert status == 200 and email in [u["email"] for u in payload["users"]]


def test_users_are_listed_by_email_and_paged(proc: CollectorProcess) -> None:
    prefix = unique("page")
    for name in ("c", "a", "b"):
        _add(proc, {"email": f"{prefix}-{name}@example.com", "password": "x" * 12})
    seen: list[str] = []
    cursor = ""
    while True:
        status, payload = call(proc, "GET", f"{USERS}?limit=2{cursor}")
        assert status == 200, payload
        assert len(payload["users"]) <= 2
        seen += [u["email"] for u in payload["users"]]
        if not payload["page"]["hasMore"]:
            break
        cursor = "&cursor=" + payload["page"]["nextCursor"]
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert [e for e in seen if e.startswith(prefix)] == [
        f"{prefix}-{n}@example.com" for n in "abc"]
    status, payload = call(proc, "GET", f"{USERS}?cursor=bad")
    assert_error(status, payload, 400, "INVALID_REQUEST", "cursor")


@pytest.mark.parametrize("body, field", [
    ({"email": "not-an-email", "password": "x" * 12}, "email"),
    ({"email": "two@@example.com", "password": "x" * 12}, "email"),
    ({"email": "sp ace@example.com", "password": "x" * 12}, "email"),
    ({"email": "a@example.com", "password": "short"}, "password"),
    ({"email": "a@example.com", "password": " padded password "}, "password"),
    ({"email": "a@example.com", "password": "x" * 1025}, "password"),
    ({"email": 7}, "email"),
    ({"password": "x" * 12}, "email"),
    ({"email": "a@example.com", "role": "admin"}, None),
])
def test_bad_input_is_a_400(proc: CollectorProcess, body: dict[str, Any],
                            field: str | None) -> None:
    status, payload = call(proc, "POST", USERS, body)
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


def test_duplicates_unknown_users_and_self_disable_are_refused(proc: CollectorProcess) -> None:
    email = unique("dup") + "@example.com"
    _add(proc, {"email": email, "password": "x" * 12})
    status, payload = call(proc, "POST", USERS, {"email": "  " + email.upper(),
                                                 "password": "y" * 12})
    assert_error(status, payload, 409, "CONFLICT", "email")
    status, payload = call(proc, "POST", f"{USERS}/usr_nobody/disable", {})
    assert_error(status, payload, 404, "NOT_FOUND")
    status, _, token = login(proc, ADMIN_EMAIL, ADMIN_PASSWORD)
    status, users = as_session(proc, "GET", f"{USERS}?limit=1000", token)
    me = next(u for u in users["users"] if u["email"] == ADMIN_EMAIL)
    status, payload = as_session(proc, "POST", f"{USERS}/{me['userId']}/disable", token, {})
    assert_error(status, payload, 409, "CONFLICT", "userId")


def test_non_admins_are_refused(proc: CollectorProcess) -> None:
    assert_error(*call(proc, "GET", USERS, key=None), 401, "UNAUTHORIZED")
    target = new_target(proc)
    project_admin = new_key(proc, target, ["admin"])["apiKey"]
    for method, path, body in (("GET", USERS, None),
                               ("POST", USERS, {"email": "x@example.com"}),
                               ("POST", f"{USERS}/usr_nobody/disable", {}),
                               ("POST", f"{USERS}/usr_nobody/enable", {})):
        assert_error(*call(proc, method, path, body, key=project_admin), 403, "FORBIDDEN")
    email = unique("member") + "@example.com"
    _add(proc, {"email": email, "password": "member password"})
    status, _, token = login(proc, email, "member password")
    assert status == 200
    assert_error(*as_session(proc, "GET", USERS, token), 403, "FORBIDDEN")
    status, runs = as_session(proc, "GET", f"{V1}/workspaces/{proc.workspace}/projects", token)
    assert status == 200, runs  # a member reads every workspace, but administers nothing
    assert_error(*as_session(proc, "POST", f"{V1}/workspaces", token, {"slug": unique("ws")}),
                 403, "FORBIDDEN")
    assert_error(*as_session(proc, "POST", f"{V1}/workspaces/{proc.workspace}/agents", token,
                             {"name": unique("bot")}), 403, "FORBIDDEN")
    status, caps = call(proc, "GET", f"{V1}/cli/capabilities", key=None)
    assert status == 200 and "users" in caps["features"]


def test_an_admin_user_is_the_audited_actor(proc: CollectorProcess) -> None:
    status, login_reply, token = login(proc, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert status == 200
    status, added = as_session(proc, "POST", USERS, token,
                               {"email": unique("by-user") + "@example.com"})
    assert status == 201, added
    as_session(proc, "POST", f"{USERS}/{added['userId']}/disable", token, {})
    status, payload = call(proc, "GET", f"{V1}/workspaces/{proc.workspace}/audit?limit=50")
    mine = [e for e in payload["events"] if e["targetId"] == added["userId"]]
    assert [(e["action"], e["actorKind"], e["actorId"]) for e in reversed(mine)] == [
        ("user.create", "user", login_reply["userId"]),
        ("user.disable", "user", login_reply["userId"])]
    assert added["password"] not in repr(payload)


def test_an_admin_resets_a_password_which_ends_the_users_sessions(
        proc: CollectorProcess) -> None:
    email = unique("reset") + "@example.com"
    added = _add(proc, {"email": email, "password": "the first password"})
    path = f"{USERS}/{added['userId']}/password"
    status, _, token = login(proc, email, "the first password")
    assert status == 200
    status, changed = call(proc, "POST", path, {"password": "the second password"})
    assert status == 200 and "password" not in changed and changed["status"] == "active"
    assert_error(*as_session(proc, "GET", f"{V1}/auth/whoami", token), 401, "UNAUTHORIZED")
    assert login(proc, email, "the first password")[0] == 401
    assert login(proc, email, "the second password")[0] == 200
    status, generated = call(proc, "POST", path, {})
    assert status == 200 and len(generated["password"]) >= 20
    assert login(proc, email, generated["password"])[0] == 200
    assert_error(*call(proc, "POST", path, {"password": "short"}), 400, "INVALID_REQUEST",
                 "password")
    assert_error(*call(proc, "POST", f"{USERS}/usr_nobody/password", {}), 404, "NOT_FOUND")
    project_admin = new_key(proc, new_target(proc), ["admin"])["apiKey"]
    assert_error(*call(proc, "POST", path, {}, key=project_admin), 403, "FORBIDDEN")
    assert _global_audit(proc, added["userId"]) == [
        ("user.create", "api_key", "user"), ("user.password", "api_key", "user"),
        ("user.password", "api_key", "user")]
    assert generated["password"] not in proc.log_text()


def test_a_user_disabled_on_one_collector_is_refused_at_once_on_another(
        pg_cluster: PgCluster, tmp_path: Path) -> None:
    url = pg_cluster.new_database()
    procs = [CollectorProcess(tmp_path / f"c{i}", database_url=url) for i in range(2)]
    procs[1].api_key = procs[0].api_key
    try:
        for each in procs:
            each.start()
        first, second = procs
        added = _add(first, {"email": "eve@example.com", "password": "eve's password"})
        status, _, token = login(second, "eve@example.com", "eve's password")
        assert status == 200
        for _ in range(3):  # served (and, before this fix, cached) on the second collector
            assert as_session(second, "GET", f"{V1}/auth/whoami", token)[0] == 200
        assert call(first, "POST", f"{USERS}/{added['userId']}/disable", {})[0] == 200
        status, payload = as_session(second, "GET", f"{V1}/auth/whoami", token)
        assert_error(status, payload, 401, "UNAUTHORIZED")
    finally:
        for each in procs:
            each.stop()
