"""A team admin adds a colleague, the colleague logs in with ``rundial auth login
--credentials`` against the real collector, the admin disables them, and the colleague's
session is refused on the very next request. The admin works either with the collector's admin
CLI on the running collector's store or over HTTP with the admin key; both stores."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rundial_collector.routes.credentials import DISABLED
from tests.cli.clirun import cli_env
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

pytestmark = pytest.mark.both_stores
EMAIL, PASSWORD = "colleague@example.com", "a colleague's password"


def _collector_users(collector: CollectorProcess, *args: str,
                     stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``rundial-collector users <args>`` as its own process, on the collector's store."""
    store = ["--database-url", collector.database_url] if collector.database_url else \
        ["--data-dir", str(collector.data_dir)]
    env = {k: v for k, v in cli_env(collector.data_dir).items()
           if not k.startswith("RUNDIAL_COLLECTOR_")}
    return subprocess.run([sys.executable, "-m", "rundial_collector", "users", *args, *store],
                          input=stdin, text=True, capture_output=True, timeout=60, env=env)


def _rundial(home: Path, collector: CollectorProcess, *args: str
             ) -> subprocess.CompletedProcess[str]:
    """The ``rundial`` CLI as its own process, as the colleague (their own HOME)."""
    env = cli_env(home, RUNDIAL_ENDPOINT=collector.url, RUNDIAL_PASSWORD=PASSWORD)
    return subprocess.run([sys.executable, "-m", "rundial.cli", *args], text=True,
                          capture_output=True, timeout=60, env=env)


def _add(collector: CollectorProcess, via: str) -> str:
    if via == "cli":
        done = _collector_users(collector, "add", EMAIL, "--password-stdin",
                                stdin=PASSWORD + "\n")
        assert done.returncode == 0, done.stderr
        return done.stdout.split("(", 1)[1].split(",", 1)[0]
    status, _, payload = request("POST", collector.url + "/api/v1/users",
                                 {"email": EMAIL, "password": PASSWORD},
                                 api_key=collector.api_key)
    assert status == 201, payload
    return str(payload["userId"])


def _disable(collector: CollectorProcess, via: str, user_id: str) -> None:
    if via == "cli":
        done = _collector_users(collector, "disable", EMAIL)
        assert done.returncode == 0 and "disabled" in done.stdout, done.stderr
        return
    status, _, payload = request("POST", collector.url + f"/api/v1/users/{user_id}/disable",
                                 {}, api_key=collector.api_key)
    assert status == 200 and payload["status"] == "disabled", payload


@pytest.mark.parametrize("via", ["cli", "http"])
def test_an_added_user_logs_in_with_the_cli_until_disabled(
        collector: CollectorProcess, tmp_path: Path, via: str) -> None:
    user_id = _add(collector, via)
    assert user_id.startswith("usr_")
    home = tmp_path / "colleague"
    home.mkdir()
    login = _rundial(home, collector, "auth", "login", "--credentials", "--email", EMAIL,
                     "--json")
    assert login.returncode == 0, login.stderr
    who = json.loads(_rundial(home, collector, "auth", "whoami", "--json").stdout)["whoami"]
    assert (who["principal"], who["email"], who["userId"]) == ("user", EMAIL, user_id)
    projects = _rundial(home, collector, "project", "ls", "--workspace",
                        collector.workspace, "--json")
    assert projects.returncode == 0, projects.stderr  # the session works for real commands
    _disable(collector, via, user_id)
    refused = _rundial(home, collector, "auth", "whoami", "--json")
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    again = _rundial(home, collector, "auth", "login", "--credentials", "--email", EMAIL,
                     "--json")
    assert again.returncode == 2 and DISABLED in again.stderr, again.stderr
    assert PASSWORD not in collector.log_text()
