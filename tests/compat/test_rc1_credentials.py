"""Credential login end to end against the real collector: the published rc1 CLI (its own venv)
and ours each log in with ``auth login --credentials`` (password from ``RUNDIAL_PASSWORD``),
use the stored ``rd_session`` for whoami and reads, and log out (v1 doc §8.2, §8.3, §10). Also
rc1's agent and audit commands (§8.8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import run_rc1
from tests.compat.test_rc1_cli import RC1_CLI, rc1_cli
from tests.helpers.collector_proc import CollectorProcess

pytestmark = pytest.mark.compat

EMAIL, PASSWORD = "cli-user@example.com", "a long and secret passphrase"


@pytest.fixture(scope="module")
def collector_with_user(tmp_path_factory: pytest.TempPathFactory
                        ) -> Iterator[CollectorProcess]:
    proc = CollectorProcess(tmp_path_factory.mktemp("cred-cli"), extra_env={
        "RUNDIAL_BOOTSTRAP_EMAIL": EMAIL, "RUNDIAL_BOOTSTRAP_PASSWORD": PASSWORD})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _env(collector: CollectorProcess, password: str) -> dict[str, str]:
    """No API key anywhere: only the session the login stores may authenticate."""
    return {"RUNDIAL_ENDPOINT": collector.url, "RUNDIAL_PASSWORD": password,
            "RUNDIAL_WORKSPACE": collector.workspace}


def _rc1(python: Path, collector: CollectorProcess, home: Path, *args: str,
         password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    script = f"import sys; sys.argv = ['rundial', *{list(args)!r}]\n" + RC1_CLI
    return run_rc1(python, script, _env(collector, password), home, timeout_seconds=60)


def _ours(collector: CollectorProcess, home: Path, *args: str,
          password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RUNDIAL_")}
    return subprocess.run([sys.executable, "-m", "rundial.cli", *args], cwd=home,
                          env={**base, "HOME": str(home), **_env(collector, password)},
                          capture_output=True, text=True, timeout=60)


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, (proc.args, proc.stdout, proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("which", ["rc1", "ours"])
def test_credential_login_whoami_reads_and_logout(
        which: str, rc1_python: Path, collector_with_user: CollectorProcess,
        tmp_path: Path) -> None:
    def cli(*args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
        flags = ("--json", "--non-interactive", "--allow-plaintext-store")
        if which == "rc1":
            return _rc1(rc1_python, collector_with_user, tmp_path, *flags, *args,
                        password=password)
        return _ours(collector_with_user, tmp_path, *flags, *args, password=password)

    refused = cli("auth", "login", "--credentials", "--email", EMAIL, password="wrong")
    assert refused.returncode == 2, refused.stderr[-2000:]  # a 401: exit 2 in both CLIs
    assert "email or password" in refused.stderr
    assert PASSWORD not in refused.stderr + refused.stdout
    login = _json(cli("auth", "login", "--credentials", "--email", EMAIL))
    assert login["ok"] is True and login["authMode"] == "credentials"
    assert login["whoami"]["principal"] == "user" and login["whoami"]["email"] == EMAIL
    who = _json(cli("auth", "whoami"))
    assert who["whoami"]["principal"] == "user"
    spaces = _json(cli("workspace", "ls"))["workspaces"]
    assert collector_with_user.workspace in [w["workspaceSlug"] for w in spaces]
    # rc1 keeps the session token in secrets.json, ours in config.toml: never the password.
    stored = "".join(p.read_text() for name in ("secrets.json", "config.toml")
                     for p in tmp_path.rglob(name))
    assert "session_token" in stored and PASSWORD not in stored
    assert _json(cli("auth", "logout"))["ok"] is True
    assert cli("auth", "whoami").returncode != 0  # nothing stored any more
    assert PASSWORD not in collector_with_user.log_text()


def test_rc1_agent_and_audit_commands(rc1_python: Path, shared_collector: CollectorProcess,
                                      tmp_path: Path) -> None:
    """rc1's ``auth agent …`` and ``auth audit list`` work against our routes unmodified."""
    def call(*args: str) -> Any:
        return rc1_cli(rc1_python, shared_collector, tmp_path, "--json", *args)
    name = f"rc1-bot-{tmp_path.name[-8:]}"
    call("auth", "agent", "create", "--name", name)
    agents = [a for a in str_rows(call("auth", "agent", "list", "--status", "active"))
              if a.get("name") == name]
    assert len(agents) == 1 and agents[0]["agentId"].startswith("agt_")
    agent_id = agents[0]["agentId"]
    created = call("auth", "agent", "key", "create", "--agent", name)
    assert agent_id in json.dumps(created)
    keys = json.dumps(call("auth", "agent", "key", "list", "--agent", name))
    assert agent_id in keys and "rdk_" not in keys
    call("auth", "agent", "revoke", "--agent", agent_id)
    audit = json.dumps(call("auth", "audit", "list", "--agent", agent_id))
    assert "rdk_" not in audit
    actions = json.dumps(call("auth", "audit", "list"))
    assert "agent.revoke" in actions and "agent.create" in actions


def str_rows(payload: Any) -> list[dict[str, Any]]:
    """The agent rows of an rc1 ``auth agent list`` document, wherever it nests them."""
    for key in ("agents", "result"):
        value = payload.get(key)
        if isinstance(value, dict):
            value = value.get("agents")
        if isinstance(value, list):
            return [row for row in value if isinstance(row, dict)]
    raise AssertionError(payload)
