"""``rundial-collector users …`` in-process on both backends (a SQLite data directory, then a
fresh PostgreSQL database): add (generated or piped password), list, disable, set-password;
bad input exits 2, refusals exit 1; passwords are stored hashed and never logged; each change
is audited as the CLI."""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from rundial_collector.__main__ import main
from rundial_collector.config import CollectorConfig
from rundial_collector.store.accounts_base import AuditQuery, User
from rundial_collector.store.base import Store
from rundial_collector.store.factory import open_store
from rundial_collector.store.sessions_base import NewUiSession
from rundial_collector.web import passwords
from tests.conftest import BACKENDS
from tests.helpers.postgres import PgCluster

T = TypeVar("T")


class Admin:
    """Runs ``rundial-collector users`` on one store and inspects that store directly."""

    def __init__(self, config: CollectorConfig, capsys: pytest.CaptureFixture[str],
                 monkeypatch: pytest.MonkeyPatch) -> None:
        self.config = config
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.options = (["--database-url", config.database_url] if config.database_url
                        else ["--data-dir", str(config.data_dir)])

    def users(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of ``rundial-collector users <args>``."""
        self.capsys.readouterr()
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["users", *args, *self.options])
        out, err = self.capsys.readouterr()
        return code, out, err

    def on_store(self, work: Callable[[Store], Awaitable[T]]) -> T:
        async def run() -> T:
            store = open_store(self.config)
            await store.start()
            try:
                return await work(store)
            finally:
                await store.close()
        return asyncio.run(run())

    def user(self, email: str) -> User:
        found = self.on_store(lambda store: store.find_user(email))
        assert found is not None
        return found


@pytest.fixture(params=BACKENDS)
def admin(request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> Admin:
    """An initialised store (as a collector's first start leaves it) on either backend."""
    url = ""
    if request.param == "postgres":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        url = cluster.new_database()
    config = CollectorConfig(data_dir=tmp_path / "data", database_url=url)
    config.data_dir.mkdir()
    for name in list(os.environ):
        if name.startswith("RUNDIAL_COLLECTOR_"):
            monkeypatch.delenv(name)
    tool = Admin(config, capsys, monkeypatch)
    tool.on_store(lambda store: store.ping())
    return tool


def _shown_password(out: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith("password (shown only"))
    return line.rsplit(" ", 1)[1]


def test_add_generates_a_password_printed_once_and_stored_hashed(admin: Admin) -> None:
    code, out, err = admin.users("add", "Ada@Example.com")
    assert code == 0, err
    password = _shown_password(out)
    assert len(password) >= 20 and out.count(password) == 1 and password not in err
    user = admin.user("ada@example.com")
    assert password not in user.password_hash
    assert passwords.verify_password(password, user.password_hash)
    assert user.status == "active" and "admin" not in user.key_scopes
    assert "metrics:write" in user.key_scopes and "project:read" in user.key_scopes


def test_add_reads_one_line_from_stdin_and_refuses_bad_input(admin: Admin) -> None:
    code, out, err = admin.users("add", "root@example.com", "--admin", "--password-stdin",
                                 stdin="a long enough secret\n")
    assert code == 0, err
    assert "a long enough secret" not in out + err and "password" not in out
    user = admin.user("root@example.com")
    assert passwords.verify_password("a long enough secret", user.password_hash)
    assert user.key_scopes == ("admin",)
    for args, stdin, reason in [
            (("x@example.com", "--password-stdin"), "short\n", "at least 12"),
            (("x@example.com", "--password-stdin"), "line one is long\nline two\n", "one line"),
            (("x@example.com", "--password-stdin"), "", "one line"),
            (("not-an-email",), "", "not an email")]:
        code, _, err = admin.users("add", *args, stdin=stdin)
        assert code == 2 and reason in err, (args, err)
    code, _, err = admin.users("add", "ROOT@example.com")
    assert code == 1 and "exists" in err
    assert admin.on_store(lambda store: store.find_user("x@example.com")) is None


def test_list_shows_every_user_as_a_table_or_json(admin: Admin) -> None:
    admin.users("add", "b@example.com")
    admin.users("add", "a@example.com", "--admin")
    code, out, _ = admin.users("list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["EMAIL", "USER", "ID", "ROLE", "STATUS",
                                              "CREATED", "(UTC)"]
    assert [line.split()[0] for line in lines[1:]] == ["a@example.com", "b@example.com"]
    assert [line.split()[2:4] for line in lines[1:]] == [["admin", "active"],
                                                         ["member", "active"]]
    code, out, _ = admin.users("list", "--json")
    listed = json.loads(out)
    assert [(u["email"], u["admin"], u["status"]) for u in listed] == [
        ("a@example.com", True, "active"), ("b@example.com", False, "active")]
    assert "scrypt" not in out


def test_disable_and_enable_are_idempotent_and_audited_as_the_cli(admin: Admin) -> None:
    admin.users("add", "eve@example.com")
    user = admin.user("eve@example.com")
    admin.on_store(lambda store: store.create_ui_session(
        NewUiSession("tok_eve", "session", user.key_id, 1, 2 ** 52)))
    code, out, err = admin.users("disable", "EVE@example.com")
    assert code == 0 and "disabled user eve@example.com" in out, err
    assert admin.user("eve@example.com").status == "disabled"
    assert admin.on_store(lambda store: store.find_ui_session("tok_eve", 3)) is None
    code, out, _ = admin.users("disable", "eve@example.com")
    assert code == 0 and "already disabled" in out
    code, _, err = admin.users("disable", "nobody@example.com")
    assert code == 1 and "nobody@example.com" in err
    code, out, err = admin.users("enable", "eve@example.com")
    assert code == 0 and "enabled user eve@example.com" in out, err
    enabled = admin.user("eve@example.com")
    assert enabled.status == "active" and enabled.key_id != user.key_id
    assert enabled.key_scopes == user.key_scopes
    assert admin.on_store(lambda store: store.find_ui_session("tok_eve", 3)) is None
    code, out, _ = admin.users("enable", "eve@example.com")
    assert code == 0 and "already active" in out
    events = admin.on_store(lambda store: store.list_audit(
        AuditQuery("ws_none", 50, include_global=True)))
    assert [(e.action, e.actor_kind, e.actor_id, e.target_kind) for e in reversed(events)
            if e.target_id == user.user_id] == [("user.create", "system", "cli", "user"),
                                                 ("user.disable", "system", "cli", "user"),
                                                 ("user.enable", "system", "cli", "user")]


def test_set_password_replaces_it_and_ends_sessions(admin: Admin) -> None:
    admin.users("add", "bob@example.com", "--password-stdin", stdin="bob's first password\n")
    user = admin.user("bob@example.com")
    admin.on_store(lambda store: store.create_ui_session(
        NewUiSession("tok_bob", "session", user.key_id, 1, 2 ** 52)))
    code, out, err = admin.users("set-password", "bob@example.com", "--password-stdin",
                                 stdin="bob's second password\n")
    assert code == 0 and "second" not in out + err, err
    changed = admin.user("bob@example.com")
    assert passwords.verify_password("bob's second password", changed.password_hash)
    assert not passwords.verify_password("bob's first password", changed.password_hash)
    assert admin.on_store(lambda store: store.find_ui_session("tok_bob", 3)) is None
    code, out, _ = admin.users("set-password", "bob@example.com")
    generated = _shown_password(out)
    assert code == 0
    assert passwords.verify_password(generated, admin.user("bob@example.com").password_hash)
    code, _, err = admin.users("set-password", "nobody@example.com", "--password-stdin",
                               stdin="a long enough secret\n")
    assert code == 1 and "nobody@example.com" in err


def test_a_missing_sqlite_database_or_a_bad_url_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    assert main(["users", "list", "--data-dir", str(empty)]) == 1
    assert "no collector database" in capsys.readouterr().err
    assert not empty.exists()
    assert main(["users", "list", "--database-url", "mysql://x@localhost/db"]) == 2
    assert "postgresql://" in capsys.readouterr().err
