"""Two collectors on one PostgreSQL database, over HTTP: started at once (both migrate and
bootstrap the same workspace and project), then racing on the control plane. A race is a 409
for the loser, never a 500, and what one collector commits the other serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.collector.control import V1, Target, call, new_key, unique
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.postgres import PgCluster
from tests.helpers.waiting import wait_until

ROUNDS = 8


def _started_pair(url: str, base: Path) -> Iterator[list[CollectorProcess]]:
    """Two collectors on the database ``url``, started concurrently; stopped at the end."""
    procs = [CollectorProcess(base / f"c{i}", database_url=url) for i in range(2)]
    for proc in procs[1:]:  # one bootstrap target and key, as a deployment would configure
        proc.api_key = procs[0].api_key
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda proc: proc.start(), procs))
        yield procs
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture(scope="module")
def fresh_pair(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[list[CollectorProcess]]:
    """Two collectors started together on a fresh database, for the tests of what that start
    made (they read it, and log in; they create nothing else)."""
    yield from _started_pair(pg_cluster.new_database(), tmp_path_factory.mktemp("fresh-pair"))


@pytest.fixture(scope="module")
def pair(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[list[CollectorProcess]]:
    """Two collectors on one database, shared by the module's race tests (each races on
    names, projects, runs and keys of its own)."""
    yield from _started_pair(pg_cluster.new_database(), tmp_path_factory.mktemp("pair"))


def _race(procs: list[CollectorProcess], method: str, path: str,
          body: Any) -> list[tuple[int, Any]]:
    with ThreadPoolExecutor(len(procs)) as pool:
        return list(pool.map(lambda proc: call(proc, method, path, body), procs))


def test_both_bootstrapped_and_share_one_project(fresh_pair: list[CollectorProcess]) -> None:
    first, second = fresh_pair
    status, projects = call(second, "GET", f"{V1}/workspaces/{first.workspace}/projects")
    assert status == 200 and [p["projectSlug"] for p in projects["projects"]] == [
        first.project], projects


def test_same_slug_on_two_collectors_is_one_201_and_one_409(
        pair: list[CollectorProcess]) -> None:
    for _ in range(ROUNDS):
        replies = _race(pair, "POST", f"{V1}/workspaces", {"slug": unique("ws")})
        assert sorted(status for status, _ in replies) == [201, 409], replies


def test_same_run_started_on_two_collectors_is_created_once(
        pair: list[CollectorProcess]) -> None:
    status, project = call(pair[0], "POST", f"{V1}/workspaces/{pair[0].workspace}/projects",
                           {"slug": unique("proj")})
    assert status == 201, project
    for resume, expected in (("allow", [200, 201]), ("never", [201, 409])):
        for _ in range(ROUNDS):
            body = {"projectId": project["projectId"], "kind": "training", "resume": resume,
                    "runId": unique("run")}
            replies = _race(pair, "POST", f"{V1}/runs/start", body)
            assert sorted(status for status, _ in replies) == expected, replies


def test_a_key_revoked_on_one_collector_is_refused_by_the_other(
        pair: list[CollectorProcess]) -> None:
    first, second = pair
    status, project = call(first, "POST", f"{V1}/workspaces/{first.workspace}/projects",
                           {"slug": unique("proj")})
    assert status == 201, project
    target = Target(first.workspace, project["projectSlug"], project["projectId"])
    key = new_key(first, target, ["project:read"])
    whoami = f"{V1}/auth/whoami"
    assert call(second, "GET", whoami, key=key["apiKey"])[0] == 200
    status, _ = call(first, "POST", f"{target.path}/api-keys/{key['keyId']}/revoke")
    assert status == 200
    wait_until(lambda: call(second, "GET", whoami, key=key["apiKey"])[0] == 401,
               timeout_seconds=15.0, message="the revocation to reach the other collector")


def test_a_revoked_agents_key_is_refused_by_the_other_collector(
        pair: list[CollectorProcess]) -> None:
    """Revoking an agent on one collector revokes its keys everywhere (within the auth TTL)."""
    first, second = pair
    agents = f"{V1}/workspaces/{first.workspace}/agents"
    status, agent = call(first, "POST", agents, {"name": unique("bot")})
    assert status == 201, agent
    status, key = call(first, "POST", f"{agents}/{agent['agentId']}/api-keys",
                       {"projectSlug": first.project})
    assert status == 201, key
    whoami = f"{V1}/auth/whoami"
    assert call(second, "GET", whoami, key=key["apiKey"])[0] == 200
    assert call(first, "POST", f"{agents}/{agent['agentId']}/revoke", {})[0] == 200
    wait_until(lambda: call(second, "GET", whoami, key=key["apiKey"])[0] == 401,
               timeout_seconds=15.0, message="the agent revocation to reach the other collector")


def test_two_collectors_bootstrap_exactly_one_first_user(
        fresh_pair: list[CollectorProcess]) -> None:
    """Started together on a fresh database: one password file, printed once, valid on both."""
    files = [proc.data_dir / "admin_password" for proc in fresh_pair]
    assert sum(f.exists() for f in files) == 1, files
    password = next(f for f in files if f.exists()).read_text().strip()
    assert sum(proc.log_text().count(password) for proc in fresh_pair) == 1
    for proc in fresh_pair:
        status, _ = call(proc, "POST", f"{V1}/auth/login/credentials",
                         {"email": "admin@localhost", "password": password}, key=None)
        assert status == 200
