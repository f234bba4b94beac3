"""Discovery, workspace/project/key administration, the v1 route inventory and bootstrap."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from rundial_collector.app import create_app
from rundial_collector.config import CollectorConfig
from tests.collector.control import (V1, assert_error, call, new_key, new_target, start_run,
                                     unique)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores

KEY_SHAPE = re.compile(r"rdk_[A-Za-z0-9_-]{43}")


def test_health_ready_without_auth(shared_collector: CollectorProcess) -> None:
    """/health/ready answers 200 {"status": "ready"} with no credentials."""
    status, payload = call(shared_collector, "GET", "/health/ready", key=None)
    assert status == 200 and payload["status"] == "ready"


def test_capabilities_without_auth(shared_collector: CollectorProcess) -> None:
    """cli/capabilities answers a JSON object with version, protocol 1 and features."""
    status, payload = call(shared_collector, "GET", f"{V1}/cli/capabilities", key=None)
    assert status == 200
    assert isinstance(payload["version"], str) and payload["protocol"] == 1
    assert "runs" in payload["features"]


def test_whoami_of_bootstrap_key(shared_collector: CollectorProcess) -> None:
    """The bootstrap key is a global admin api_key principal."""
    status, me = call(shared_collector, "GET", f"{V1}/auth/whoami")
    assert status == 200
    assert (me["authenticated"], me["principal"]) == (True, "api_key")
    assert me["scopes"] == ["admin"] and me["keyId"] and me["orgId"]


def test_workspaces_listing_pages(shared_collector: CollectorProcess) -> None:
    """The workspace list pages by cursor without gaps or repeats and always has a page."""
    for _ in range(3):
        new_target(shared_collector)
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, payload = call(shared_collector, "GET", f"{V1}/workspaces{query}")
        assert status == 200 and len(payload["workspaces"]) <= 2
        seen += [ws["workspaceSlug"] for ws in payload["workspaces"]]
        cursor = payload["page"]["nextCursor"]
        if not payload["page"]["hasMore"]:
            assert cursor is None
            break
    assert seen == sorted(set(seen)) and shared_collector.workspace in seen
    entry = call(shared_collector, "GET", f"{V1}/workspaces")[1]["workspaces"][0]
    assert {"workspaceSlug", "name", "role"} <= entry.keys()


def test_workspace_create_rules(shared_collector: CollectorProcess) -> None:
    """Create answers 201 with the entry, 409 on a duplicate slug, 400 on a bad slug."""
    slug = unique("ws")
    status, entry = call(shared_collector, "POST", f"{V1}/workspaces",
                         {"slug": slug, "name": "My WS"})
    assert status == 201 and (entry["workspaceSlug"], entry["name"]) == (slug, "My WS")
    status, payload = call(shared_collector, "POST", f"{V1}/workspaces", {"slug": slug})
    assert_error(status, payload, 409, "CONFLICT", "slug")
    status, payload = call(shared_collector, "POST", f"{V1}/workspaces", {"slug": "Bad Slug"})
    assert_error(status, payload, 400, "INVALID_REQUEST", "slug")
    status, payload = call(shared_collector, "POST", f"{V1}/workspaces", {"slug": 5})
    assert_error(status, payload, 400, "INVALID_REQUEST", "slug")


def test_workspace_scoped_keys_see_and_create_little(shared_collector: CollectorProcess) -> None:
    """A project key lists only its workspace and project and cannot create either."""
    target = new_target(shared_collector)
    new_target(shared_collector, workspace=target.workspace)
    key = new_key(shared_collector, target, ["admin"])["apiKey"]
    status, payload = call(shared_collector, "GET", f"{V1}/workspaces", key=key)
    assert [ws["workspaceSlug"] for ws in payload["workspaces"]] == [target.workspace]
    status, payload = call(shared_collector, "GET",
                           f"{V1}/workspaces/{target.workspace}/projects", key=key)
    assert [p["projectSlug"] for p in payload["projects"]] == [target.project]
    status, payload = call(shared_collector, "POST", f"{V1}/workspaces", {"slug": unique("w")},
                           key=key)
    assert_error(status, payload, 403, "FORBIDDEN")
    status, payload = call(shared_collector, "POST",
                           f"{V1}/workspaces/{target.workspace}/projects",
                           {"slug": unique("p")}, key=key)
    assert_error(status, payload, 403, "FORBIDDEN")


def test_projects_list_and_create(shared_collector: CollectorProcess) -> None:
    """Projects: 201 on create, 409 on duplicate, runCount in the list, 404 unknown workspace."""
    target = new_target(shared_collector)
    assert start_run(shared_collector, target)[0] == 201
    assert start_run(shared_collector, target)[0] == 201
    status, payload = call(shared_collector, "POST",
                           f"{V1}/workspaces/{target.workspace}/projects",
                           {"slug": target.project})
    assert_error(status, payload, 409, "CONFLICT", "slug")
    status, payload = call(shared_collector, "GET",
                           f"{V1}/workspaces/{target.workspace}/projects?limit=100")
    assert status == 200 and payload["page"] == {"hasMore": False, "nextCursor": None}
    [entry] = payload["projects"]
    assert (entry["projectSlug"], entry["runCount"]) == (target.project, 2)
    status, payload = call(shared_collector, "GET", f"{V1}/workspaces/{unique('no')}/projects")
    assert_error(status, payload, 404, "NOT_FOUND")


def test_projects_of_other_workspace_403(shared_collector: CollectorProcess) -> None:
    """Listing another workspace's projects with a bound key answers 403."""
    mine, other = new_target(shared_collector), new_target(shared_collector)
    key = new_key(shared_collector, mine, ["project:read"])["apiKey"]
    status, payload = call(shared_collector, "GET",
                           f"{V1}/workspaces/{other.workspace}/projects", key=key)
    assert_error(status, payload, 403, "FORBIDDEN")


def test_api_key_create_list_revoke(shared_collector: CollectorProcess) -> None:
    """Create shows the rdk_ secret once with canonical scopes; list hides it; revoke marks it."""
    target = new_target(shared_collector)
    created = new_key(shared_collector, target, ["ingest:metrics", "query:read", "stream:read"],
                      label="ci")
    assert KEY_SHAPE.fullmatch(created["apiKey"])
    assert created["scopes"] == ["metrics:write", "project:read", "stream:read"]
    assert created["label"] == "ci" and created["revokedAtMs"] is None
    status, listing = call(shared_collector, "GET", f"{target.path}/api-keys")
    assert status == 200
    [entry] = listing["keys"]
    assert entry["keyId"] == created["keyId"] and "apiKey" not in entry
    status, revoked = call(shared_collector, "POST",
                           f"{target.path}/api-keys/{created['keyId']}/revoke", {})
    assert status == 200 and isinstance(revoked["revokedAtMs"], int)
    again = call(shared_collector, "POST", f"{target.path}/api-keys/{created['keyId']}/revoke",
                 {})[1]
    assert again["revokedAtMs"] == revoked["revokedAtMs"]
    listing = call(shared_collector, "GET", f"{target.path}/api-keys")[1]
    assert listing["keys"][0]["revokedAtMs"] == revoked["revokedAtMs"]


def test_api_key_validation(shared_collector: CollectorProcess) -> None:
    """Unknown scopes, empty scopes and past expiry answer 400 naming the field."""
    target = new_target(shared_collector)
    path = f"{target.path}/api-keys"
    status, payload = call(shared_collector, "POST", path, {"scopes": ["metrics:write", "nope"]})
    assert_error(status, payload, 400, "INVALID_REQUEST", "scopes[1]")
    status, payload = call(shared_collector, "POST", path, {"scopes": []})
    assert_error(status, payload, 400, "INVALID_REQUEST", "scopes")
    status, payload = call(shared_collector, "POST", path,
                           {"scopes": ["metrics:write"], "expiresAtMs": 1})
    assert_error(status, payload, 400, "INVALID_REQUEST", "expiresAtMs")
    status, payload = call(shared_collector, "POST", f"{path}/key_0000/revoke", {})
    assert_error(status, payload, 404, "NOT_FOUND")


def test_api_key_routes_need_admin_or_read(shared_collector: CollectorProcess) -> None:
    """Creating/revoking keys needs admin; listing needs project:read."""
    target = new_target(shared_collector)
    reader = new_key(shared_collector, target, ["project:read"])
    writer = new_key(shared_collector, target, ["metrics:write"])["apiKey"]
    path = f"{target.path}/api-keys"
    status, payload = call(shared_collector, "POST", path, {"scopes": ["admin"]},
                           key=reader["apiKey"])
    assert_error(status, payload, 403, "FORBIDDEN")
    status, payload = call(shared_collector, "POST", f"{path}/{reader['keyId']}/revoke", {},
                           key=reader["apiKey"])
    assert_error(status, payload, 403, "FORBIDDEN")
    assert call(shared_collector, "GET", path, key=reader["apiKey"])[0] == 200
    assert_error(*call(shared_collector, "GET", path, key=writer), 403, "FORBIDDEN")


# The published rc1 protocol's endpoint inventory (its §2: 38 /api/v1 method+path pairs plus
# /health/ready), placeholders written as {}.
V1_INVENTORY = [
    ("POST", "/api/v1/runs/resolve-target"), ("POST", "/api/v1/runs/start"),
    ("POST", "/api/v1/runs/{}/status"), ("POST", "/api/v1/runs/{}/config"),
    ("POST", "/api/v1/ingest/metrics"), ("POST", "/api/v1/ingest/logs"),
    ("POST", "/api/v1/ingest/traces"), ("POST", "/api/v1/evals/results"),
    ("POST", "/api/v1/artifacts/initiate"), ("POST", "/api/v1/artifacts/finalize"),
    ("POST", "/api/v1/artifacts/use"), ("POST", "/api/v1/artifacts/download"),
    ("POST", "/api/v1/ingest/media"), ("GET", "/api/v1/metrics/keys"),
    ("POST", "/api/v1/query/series"), ("POST", "/api/v1/export/metrics"),
    ("POST", "/api/v1/query/logs"), ("POST", "/api/v1/export/logs"),
    ("GET", "/api/v1/auth/whoami"), ("POST", "/api/v1/auth/login/credentials"),
    ("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/cli/capabilities"),
    ("GET", "/api/v1/workspaces"), ("GET", "/api/v1/workspaces/{}/projects"),
    ("GET", "/api/v1/workspaces/{}/projects/{}/runs/query"),
    ("GET", "/api/v1/workspaces/{}/projects/{}/runs/{}"),
    ("POST", "/api/v1/workspaces/{}/projects/{}/api-keys"),
    ("GET", "/api/v1/workspaces/{}/projects/{}/api-keys"),
    ("POST", "/api/v1/workspaces/{}/projects/{}/api-keys/{}/revoke"),
    ("POST", "/api/v1/workspaces/{}/agents"), ("GET", "/api/v1/workspaces/{}/agents"),
    ("POST", "/api/v1/workspaces/{}/agents/{}/revoke"),
    ("POST", "/api/v1/workspaces/{}/agents/{}/api-keys"),
    ("GET", "/api/v1/workspaces/{}/agents/{}/api-keys"),
    ("GET", "/api/v1/workspaces/{}/audit"), ("POST", "/api/v1/evals/suites"),
    ("POST", "/api/v1/evals/runs"), ("POST", "/api/v1/query/evals/diff"),
    ("GET", "/health/ready"),
]


def test_every_published_route_is_served(tmp_path: Path) -> None:
    """Every method+path of the published protocol's inventory has a handler in the app."""
    app = create_app(CollectorConfig(data_dir=tmp_path))
    served = {(route.method, re.sub(r"\{[^}]*\}", "{}", route.resource.canonical))
              for route in app.router.routes() if route.resource is not None}
    assert len(V1_INVENTORY) == 39
    assert [pair for pair in V1_INVENTORY if pair not in served] == []


def test_env_bootstrap_key_never_printed(collector: CollectorProcess) -> None:
    """The env bootstrap key works, is never logged, and a restart keeps one workspace."""
    collector.stop()
    collector.start()
    status, payload = call(collector, "GET", f"{V1}/workspaces")
    assert status == 200
    assert [ws["workspaceSlug"] for ws in payload["workspaces"]] == [collector.workspace]
    assert collector.api_key not in collector.log_text()
    assert not (collector.data_dir / "admin_api_key").exists()


def test_generated_admin_key(tmp_path: Path) -> None:
    """Without an env key a 0600 key file is written and printed once, even across restarts."""
    proc = CollectorProcess(tmp_path / "data", extra_env={"RUNDIAL_BOOTSTRAP_API_KEY": ""})
    proc.start()
    try:
        key_file = proc.data_dir / "admin_api_key"
        secret = key_file.read_text().strip()
        assert KEY_SHAPE.fullmatch(secret)
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert proc.log_text().count(secret) == 1
        assert call(proc, "GET", f"{V1}/auth/whoami", key=secret)[0] == 200
        proc.stop()
        proc.start()
        assert key_file.read_text().strip() == secret
        assert proc.log_text().count(secret) == 1
        assert str(key_file) in proc.log_text().split(secret, 1)[1]
        status, payload = call(proc, "GET", f"{V1}/workspaces", key=secret)
        assert [ws["workspaceSlug"] for ws in payload["workspaces"]] == [proc.workspace]
    finally:
        proc.stop()


def test_a_slug_or_start_token_with_a_trailing_newline_is_a_400(
        shared_collector: CollectorProcess) -> None:
    """Patterns match the whole value: ``$`` would accept ``"ws\\n"`` (a slug no URL can name)."""
    status, payload = call(shared_collector, "POST", f"{V1}/workspaces",
                           {"slug": unique("ws") + "\n"})
    assert status == 400, payload
    target = new_target(shared_collector)
    status, payload = start_run(shared_collector, target, runId=unique("run"),
                                startToken="st_x\n")
    assert status == 400, payload
