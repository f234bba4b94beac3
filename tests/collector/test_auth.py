"""Authentication, scopes and project resolution against a real collector."""

from __future__ import annotations

import time

import pytest

from tests.collector.control import (V1, assert_error, call, new_key, new_target, start_run,
                                     unique)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401
from tests.helpers.waiting import wait_until

WHOAMI = f"{V1}/auth/whoami"

pytestmark = pytest.mark.both_stores


def test_missing_key_is_401(shared_collector: CollectorProcess) -> None:
    """A protected route without Authorization answers 401 UNAUTHORIZED in the envelope."""
    status, payload = call(shared_collector, "GET", WHOAMI, key=None)
    assert_error(status, payload, 401, "UNAUTHORIZED")


def test_unknown_key_is_401(shared_collector: CollectorProcess) -> None:
    """A bearer key the collector never issued answers 401."""
    status, payload = call(shared_collector, "GET", WHOAMI, key="rdk_" + "x" * 43)
    assert_error(status, payload, 401, "UNAUTHORIZED")


@pytest.mark.parametrize("header", ["Basic {key}", "{key}", "Bearer", "Token {key}"])
def test_key_only_accepted_as_bearer(shared_collector: CollectorProcess, header: str) -> None:
    """A valid key sent any other way than 'Authorization: Bearer <key>' answers 401."""
    value = header.format(key=shared_collector.api_key)
    status, _, payload = request("GET", shared_collector.url + WHOAMI,
                                 headers={"Authorization": value})
    assert_error(status, payload, 401, "UNAUTHORIZED")


def test_revoked_key_is_401(shared_collector: CollectorProcess) -> None:
    """A key stops working as soon as it is revoked."""
    target = new_target(shared_collector)
    created = new_key(shared_collector, target, ["project:read"])
    assert call(shared_collector, "GET", WHOAMI, key=created["apiKey"])[0] == 200
    status, _ = call(shared_collector, "POST",
                     f"{target.path}/api-keys/{created['keyId']}/revoke", {})
    assert status == 200
    status, payload = call(shared_collector, "GET", WHOAMI, key=created["apiKey"])
    assert_error(status, payload, 401, "UNAUTHORIZED")


def test_expired_key_is_401(shared_collector: CollectorProcess) -> None:
    """A key with expiresAtMs stops working once that time has passed."""
    target = new_target(shared_collector)
    created = new_key(shared_collector, target, ["project:read"],
                      expiresAtMs=int(time.time() * 1000) + 1500)
    assert call(shared_collector, "GET", WHOAMI, key=created["apiKey"])[0] == 200
    wait_until(lambda: call(shared_collector, "GET", WHOAMI, key=created["apiKey"])[0] == 401,
               timeout_seconds=10, interval_seconds=0.1, message="key expiry")


def test_key_of_another_workspace_is_403(shared_collector: CollectorProcess) -> None:
    """A key bound to one workspace gets 403 on another workspace's project."""
    mine, other = new_target(shared_collector), new_target(shared_collector)
    key = new_key(shared_collector, mine, ["metrics:write", "project:read"])["apiKey"]
    status, payload = start_run(shared_collector, other, key=key)
    assert_error(status, payload, 403, "FORBIDDEN")
    status, payload = call(shared_collector, "POST", f"{V1}/runs/resolve-target",
                           {"workspace": other.workspace, "project": other.project}, key=key)
    assert_error(status, payload, 403, "FORBIDDEN")
    status, payload = call(shared_collector, "GET", f"{other.path}/runs/query", key=key)
    assert_error(status, payload, 403, "FORBIDDEN")


def test_project_key_on_sibling_project_is_403(shared_collector: CollectorProcess) -> None:
    """A project-bound key gets 403 on another project of the same workspace."""
    mine = new_target(shared_collector)
    sibling = new_target(shared_collector, workspace=mine.workspace)
    key = new_key(shared_collector, mine, ["metrics:write"])["apiKey"]
    assert start_run(shared_collector, mine, key=key)[0] == 201
    status, payload = start_run(shared_collector, sibling, key=key)
    assert_error(status, payload, 403, "FORBIDDEN")


def test_missing_scope_is_403(shared_collector: CollectorProcess) -> None:
    """A read-only key cannot start runs and a write-only key cannot read run details."""
    target = new_target(shared_collector)
    reader = new_key(shared_collector, target, ["project:read"])["apiKey"]
    writer = new_key(shared_collector, target, ["metrics:write"])["apiKey"]
    status, payload = start_run(shared_collector, target, key=reader)
    assert_error(status, payload, 403, "FORBIDDEN")
    status, run = start_run(shared_collector, target, key=writer)
    assert status == 201
    status, payload = call(shared_collector, "GET", f"{target.path}/runs/{run['runId']}",
                           key=writer)
    assert_error(status, payload, 403, "FORBIDDEN")
    assert call(shared_collector, "GET", f"{target.path}/runs/{run['runId']}",
                key=reader)[0] == 200


def test_whoami_of_project_key(shared_collector: CollectorProcess) -> None:
    """whoami reports api_key, the key id, canonical scopes and the bound workspace/project."""
    target = new_target(shared_collector)
    created = new_key(shared_collector, target, ["ingest:metrics", "query:read"])
    status, me = call(shared_collector, "GET", WHOAMI, key=created["apiKey"])
    assert status == 200
    assert me["authenticated"] is True and me["principal"] == "api_key"
    assert me["keyId"] == created["keyId"]
    assert me["scopes"] == ["metrics:write", "project:read"]
    assert (me["workspaceSlug"], me["projectSlug"]) == (target.workspace, target.project)
    assert me["orgId"]


def test_project_slug_as_project_id(shared_collector: CollectorProcess) -> None:
    """runs/start accepts a project slug as projectId when it is unambiguous for the key."""
    target = new_target(shared_collector)
    key = new_key(shared_collector, target, ["metrics:write"])["apiKey"]
    status, run = call(shared_collector, "POST", f"{V1}/runs/start",
                       {"projectId": target.project, "kind": "training", "resume": "never"},
                       key=key)
    assert status == 201, run
    assert run["projectId"] == target.project_id


def test_ambiguous_project_slug_is_409(shared_collector: CollectorProcess) -> None:
    """A project slug present in two visible workspaces answers 409; a bound key resolves it."""
    slug = unique("dup")
    targets = []
    for _ in range(2):
        ws = unique("ws")
        assert call(shared_collector, "POST", f"{V1}/workspaces", {"slug": ws})[0] == 201
        status, proj = call(shared_collector, "POST", f"{V1}/workspaces/{ws}/projects",
                            {"slug": slug})
        assert status == 201
        targets.append(proj)
    body = {"projectId": slug, "kind": "training", "resume": "never"}
    status, payload = call(shared_collector, "POST", f"{V1}/runs/start", body)
    assert_error(status, payload, 409, "CONFLICT", "projectId")
    ws_key = call(shared_collector, "POST",
                  f"{V1}/workspaces/{targets[1]['workspaceSlug']}/projects/{slug}/api-keys",
                  {"scopes": ["metrics:write"]})[1]["apiKey"]
    status, run = call(shared_collector, "POST", f"{V1}/runs/start", body, key=ws_key)
    assert status == 201 and run["projectId"] == targets[1]["projectId"]


def test_unknown_project_id_is_404(shared_collector: CollectorProcess) -> None:
    """runs/start with a projectId that names no project answers 404 NOT_FOUND."""
    status, payload = call(shared_collector, "POST", f"{V1}/runs/start",
                           {"projectId": "prj_000000000000", "kind": "training",
                            "resume": "never"})
    assert_error(status, payload, 404, "NOT_FOUND")
