"""Credential login, the rd_session cookie and logout against the real collector (v1 doc §8.2,
§8.3), on both backends; the first user's bootstrap; the password helpers and login limiter."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rundial_collector.routes.credentials import BAD_CREDENTIALS, FailedLogins
from rundial_collector.web import passwords
from tests.collector.control import V1, assert_error, call, unique
from tests.helpers.collector_proc import CollectorProcess
from tests.conftest import BACKENDS
from tests.helpers.http import request
from tests.helpers.postgres import PgCluster

EMAIL, PASSWORD = "Owner@Example.com", "correct horse battery staple"
LOGIN = f"{V1}/auth/login/credentials"


@pytest.fixture(scope="module", params=BACKENDS)
def owner(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
          ) -> Iterator[CollectorProcess]:
    """A collector (SQLite, then PostgreSQL) whose first user comes from
    RUNDIAL_BOOTSTRAP_EMAIL/PASSWORD."""
    url = ""
    if request.param == "postgres":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        url = cluster.new_database()
    proc = CollectorProcess(tmp_path_factory.mktemp("credentials"), database_url=url, extra_env={
        "RUNDIAL_BOOTSTRAP_EMAIL": EMAIL, "RUNDIAL_BOOTSTRAP_PASSWORD": PASSWORD})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _login(proc: CollectorProcess, email: str = EMAIL, password: str = PASSWORD,
           **headers: str) -> tuple[int, dict[str, str], Any]:
    return request("POST", proc.url + LOGIN, {"email": email, "password": password},
                   headers={"origin": proc.url, **headers})


def _cookie(headers: dict[str, str]) -> str:
    set_cookie = headers["Set-Cookie"]
    name, _, rest = set_cookie.partition("=")
    assert name == "rd_session", set_cookie
    return rest.split(";", 1)[0]


def _with_session(proc: CollectorProcess, method: str, path: str, token: str,
                  body: Any = None, **headers: str) -> tuple[int, Any]:
    status, _, payload = request(method, proc.url + path, body,
                                 headers={"cookie": f"rd_session={token}", **headers})
    return status, payload


def test_login_sets_an_httponly_strict_rd_session_that_authenticates(
        owner: CollectorProcess) -> None:
    status, headers, payload = _login(owner, email="  owner@EXAMPLE.com ")
    assert status == 200, payload
    assert payload["principal"] == "user" and payload["email"] == "owner@example.com"
    attributes = headers["Set-Cookie"].lower()
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes
    token = _cookie(headers)
    status, who = _with_session(owner, "GET", f"{V1}/auth/whoami", token)
    assert status == 200 and who["authenticated"] is True
    assert (who["principal"], who["email"], who["userId"]) == (
        "user", "owner@example.com", payload["userId"])
    status, listed = _with_session(owner, "GET", f"{V1}/workspaces", token)
    assert status == 200 and owner.workspace in [w["workspaceSlug"] for w in listed["workspaces"]]
    assert PASSWORD not in owner.log_text()


def test_logout_clears_the_cookie_and_ends_the_session(owner: CollectorProcess) -> None:
    token = _cookie(_login(owner)[1])
    status, _, payload = request("POST", owner.url + f"{V1}/auth/logout", {},
                                 headers={"cookie": f"rd_session={token}", "origin": owner.url})
    assert status == 200 and payload["loggedOut"] is True
    status, payload = _with_session(owner, "GET", f"{V1}/auth/whoami", token)
    assert_error(status, payload, 401, "UNAUTHORIZED")
    status, headers, _ = request("POST", owner.url + f"{V1}/auth/logout", {})
    assert status == 200 and 'rd_session=""' in headers["Set-Cookie"]


def test_wrong_password_and_unknown_email_are_the_same_401(owner: CollectorProcess) -> None:
    status, _, wrong = _login(owner, password="not it")
    assert_error(status, wrong, 401, "UNAUTHORIZED")
    status, _, unknown = _login(owner, email=unique("nobody") + "@example.com")
    assert_error(status, unknown, 401, "UNAUTHORIZED")
    assert wrong["error"]["message"] == unknown["error"]["message"] == BAD_CREDENTIALS
    status, _, payload = _login(owner, password="")
    assert_error(status, payload, 400, "INVALID_REQUEST", "password")


def test_a_foreign_origin_is_refused_and_a_missing_one_accepted(owner: CollectorProcess) -> None:
    status, _, payload = _login(owner, origin="https://evil.example")
    assert_error(status, payload, 403, "FORBIDDEN")
    token = _cookie(_login(owner)[1])
    status, payload = _with_session(owner, "POST", f"{V1}/workspaces", token,
                                    {"slug": unique("ws")}, origin="https://evil.example")
    assert_error(status, payload, 403, "FORBIDDEN")
    # The rc1 CLI sends no Origin outside login/logout: a session write without one works.
    status, payload = _with_session(owner, "POST", f"{V1}/workspaces", token,
                                    {"slug": unique("ws")})
    assert status == 201, payload


def test_logins_and_user_actions_are_audited_as_the_user(owner: CollectorProcess) -> None:
    status, _, login = _login(owner)
    token = _cookie(_login(owner)[1])
    status, agent = _with_session(owner, "POST", f"{V1}/workspaces/{owner.workspace}/agents",
                                  token, {"name": unique("bot")}, origin=owner.url)
    assert status == 201, agent
    status, audit = _with_session(owner, "GET", f"{V1}/workspaces/{owner.workspace}/audit",
                                  token)
    assert status == 200, audit
    events = audit["events"]
    assert (events[0]["action"], events[0]["actorKind"], events[0]["actorId"]) == (
        "agent.create", "user", login["userId"])
    assert any(e["action"] == "user.login" and e["targetId"] == login["userId"]
               for e in events)
    assert PASSWORD not in repr(events) and token not in repr(events)


def test_generated_first_user_password_is_stored_0600_and_printed_once(tmp_path: Path) -> None:
    proc = CollectorProcess(tmp_path / "data", extra_env={"RUNDIAL_BOOTSTRAP_API_KEY": ""})
    proc.start()
    try:
        password_file = proc.data_dir / "admin_password"
        password = password_file.read_text().strip()
        assert len(password) >= 20
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert proc.log_text().count(password) == 1
        assert _login(proc, "admin@localhost", password)[0] == 200
        proc.stop()
        proc.start()
        assert password_file.read_text().strip() == password
        assert proc.log_text().count(password) == 1
        assert _login(proc, "admin@localhost", password)[0] == 200
    finally:
        proc.stop()


# -- units: passwords and the login limiter -----------------------------------------------------
def test_password_hashes_verify_salted_and_reject_malformed() -> None:
    stored = passwords.hash_password("s3cret")
    assert stored.startswith("scrypt$16384$8$1$") and "s3cret" not in stored
    assert passwords.verify_password("s3cret", stored)
    assert not passwords.verify_password("s3cret ", stored)
    assert passwords.hash_password("s3cret") != stored  # a fresh salt each time
    for broken in ("", "plain", "scrypt$1$2$3$x$y", "bcrypt$16384$8$1$AA==$AA==",
                   stored.replace("$8$", "$0$")):
        assert not passwords.verify_password("s3cret", broken)


def test_an_unknown_user_costs_one_scrypt_like_a_known_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The start-up warm-up makes the dummy hash (one scrypt); each unknown user then costs
    one scrypt, as a known user's check does."""
    calls: list[int] = []
    real = hashlib.scrypt

    def counting(*args: Any, **kwargs: Any) -> bytes:
        calls.append(kwargs["n"])
        return real(*args, **kwargs)
    monkeypatch.setattr(passwords.hashlib, "scrypt", counting)
    passwords._dummy_hash.cache_clear()  # as in a fresh collector process
    passwords.warm_unknown()
    assert calls == [passwords.SCRYPT_N]
    assert passwords.verify_unknown("guess") is False
    assert calls == [passwords.SCRYPT_N] * 2


def test_failed_logins_are_bounded_per_pair_and_window() -> None:
    limiter = FailedLogins(max_failures=3, window_seconds=60)
    pair, other = ("1.2.3.4", "a@x"), ("1.2.3.4", "b@x")
    for _ in range(3):
        assert limiter.retry_after_seconds(pair, 100.0) == 0
        limiter.failed(pair, 100.0)
    assert limiter.retry_after_seconds(pair, 110.0) == 51
    assert limiter.retry_after_seconds(other, 110.0) == 0
    assert limiter.retry_after_seconds(pair, 160.0) == 0  # the window passed
    limiter.failed(other, 0.0)
    limiter.succeeded(other)
    assert limiter.retry_after_seconds(other, 1.0) == 0
