"""Agents, agent-scoped keys and the audit log over HTTP against the real collector, on both
backends (v1 doc §8.8, docs/protocol.md §4.12)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.collector.control import (V1, Target, assert_error, call, finish, new_key,
                                     new_target, start_run, unique)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores


def _agents(target: Target) -> str:
    return f"{V1}/workspaces/{target.workspace}/agents"


def _audit(proc: CollectorProcess, target: Target, query: str = "",
           key: str | None = "admin") -> list[dict[str, Any]]:
    status, payload = call(proc, "GET", f"{V1}/workspaces/{target.workspace}/audit{query}",
                           key=key)
    assert status == 200, payload
    events: list[dict[str, Any]] = payload["events"]
    return events


def _new_agent(proc: CollectorProcess, target: Target, name: str = "bot") -> dict[str, Any]:
    status, payload = call(proc, "POST", _agents(target), {"name": name})
    assert status == 201, payload
    return payload


def _agent_key(proc: CollectorProcess, target: Target, agent_id: str,
               **extra: Any) -> dict[str, Any]:
    status, payload = call(proc, "POST", f"{_agents(target)}/{agent_id}/api-keys",
                           {"projectSlug": target.project, **extra})
    assert status == 201, payload
    return payload


def test_agents_create_list_page_and_refuse_a_duplicate_active_name(
        shared_collector: CollectorProcess) -> None:
    target = new_target(shared_collector)
    a = _new_agent(shared_collector, target, "alpha")
    b = _new_agent(shared_collector, target, "beta")
    assert a["agentId"].startswith("agt_") and a["status"] == "active"
    status, payload = call(shared_collector, "POST", _agents(target), {"name": "alpha"})
    assert_error(status, payload, 409, "CONFLICT", "name")
    status, payload = call(shared_collector, "GET", _agents(target) + "?limit=1")
    assert status == 200 and len(payload["agents"]) == 1 and payload["page"]["hasMore"]
    cursor = payload["page"]["nextCursor"]
    status, rest = call(shared_collector, "GET", _agents(target) + f"?limit=1&cursor={cursor}")
    ids = {payload["agents"][0]["agentId"], rest["agents"][0]["agentId"]}
    assert ids == {a["agentId"], b["agentId"]}
    assert set(rest["agents"][0]) >= {"agentId", "name", "status", "updatedAtMs"}
    status, payload = call(shared_collector, "GET", _agents(target) + "?status=paused")
    assert_error(status, payload, 400, "INVALID_REQUEST", "status")
    status, payload = call(shared_collector, "POST", _agents(target), {"name": "  "})
    assert_error(status, payload, 400, "INVALID_REQUEST", "name")


def test_agent_keys_work_until_the_agent_is_revoked(shared_collector: CollectorProcess) -> None:
    target = new_target(shared_collector)
    agent = _new_agent(shared_collector, target)
    key = _agent_key(shared_collector, target, agent["agentId"], label="ci")
    secret = key["apiKey"]
    assert key["agentId"] == agent["agentId"] and key["scopes"] == [
        "metrics:write", "project:read", "stream:read"]
    status, who = call(shared_collector, "GET", f"{V1}/auth/whoami", key=secret)
    assert status == 200 and who["principal"] == "api_key" and who["agentId"] == agent["agentId"]
    status, run = start_run(shared_collector, target, key=secret, runId=unique("run"))
    assert status == 201, run
    status, listed = call(shared_collector, "GET", f"{_agents(target)}/{agent['agentId']}/api-keys")
    assert [k["keyId"] for k in listed["keys"]] == [key["keyId"]]
    assert "apiKey" not in listed["keys"][0] and listed["keys"][0]["revokedAtMs"] is None
    status, revoked = call(shared_collector, "POST",
                           f"{_agents(target)}/{agent['agentId']}/revoke", {})
    assert status == 200 and revoked["status"] == "revoked"
    assert revoked["revokedKeyIds"] == [key["keyId"]]
    status, payload = call(shared_collector, "GET", f"{V1}/auth/whoami", key=secret)
    assert_error(status, payload, 401, "UNAUTHORIZED")
    status, payload = call(shared_collector, "POST",
                           f"{_agents(target)}/{agent['agentId']}/api-keys",
                           {"projectSlug": target.project})
    assert_error(status, payload, 409, "CONFLICT")
    status, payload = call(shared_collector, "GET", _agents(target) + "?status=revoked")
    assert [a["agentId"] for a in payload["agents"]] == [agent["agentId"]]


def test_agent_key_input_is_checked(shared_collector: CollectorProcess) -> None:
    target = new_target(shared_collector)
    agent_id = _new_agent(shared_collector, target)["agentId"]
    path = f"{_agents(target)}/{agent_id}/api-keys"
    status, payload = call(shared_collector, "POST", path,
                           {"projectSlug": target.project, "scopes": ["admin"]})
    assert_error(status, payload, 400, "INVALID_REQUEST", "scopes")
    status, payload = call(shared_collector, "POST", path, {"projectSlug": "nope"})
    assert_error(status, payload, 404, "NOT_FOUND")
    status, payload = call(shared_collector, "POST", f"{_agents(target)}/agt_nope/api-keys",
                           {"projectSlug": target.project})
    assert_error(status, payload, 404, "NOT_FOUND")
    status, payload = call(shared_collector, "POST", path, {})
    assert_error(status, payload, 400, "INVALID_REQUEST", "projectSlug")


def test_agents_and_audit_need_workspace_admin(shared_collector: CollectorProcess) -> None:
    target = new_target(shared_collector)
    reader = new_key(shared_collector, target, ["project:read"])["apiKey"]
    for method, path in (("POST", _agents(target)), ("GET", _agents(target)),
                         ("GET", f"{V1}/workspaces/{target.workspace}/audit")):
        status, payload = call(shared_collector, method, path,
                               {"name": "x"} if method == "POST" else None, key=reader)
        assert_error(status, payload, 403, "FORBIDDEN")
        status, payload = call(shared_collector, method, path,
                               {"name": "x"} if method == "POST" else None, key=None)
        assert_error(status, payload, 401, "UNAUTHORIZED")
    status, payload = call(shared_collector, "GET", f"{V1}/workspaces/ws-nope/agents")
    assert_error(status, payload, 404, "NOT_FOUND")


def test_audit_records_key_agent_and_run_lifecycle_without_secrets(
        shared_collector: CollectorProcess) -> None:
    target = new_target(shared_collector)
    key = new_key(shared_collector, target, ["metrics:write", "project:read"])
    agent = _new_agent(shared_collector, target)
    agent_key = _agent_key(shared_collector, target, agent["agentId"])
    run_id = unique("run")
    assert start_run(shared_collector, target, key=agent_key["apiKey"], runId=run_id)[0] == 201
    assert finish(shared_collector, run_id, "failed", key=agent_key["apiKey"])[0] == 200
    assert finish(shared_collector, run_id, "failed")[0] == 200  # a repeat changes nothing
    status, _ = call(shared_collector, "PATCH", f"{target.path}/runs/{run_id}",
                     {"runName": "renamed", "notes": "n"})
    assert status == 200
    assert call(shared_collector, "DELETE", f"{target.path}/runs/{run_id}")[0] == 200
    assert call(shared_collector, "POST", f"{target.path}/api-keys/{key['keyId']}/revoke",
                {})[0] == 200
    assert call(shared_collector, "POST", f"{_agents(target)}/{agent['agentId']}/revoke",
                {})[0] == 200
    everything = _audit(shared_collector, target)
    assert {e["action"] for e in everything if e["workspaceSlug"] is None} <= {
        "user.create", "user.login"}  # a global admin also sees events of no workspace
    events = [e for e in everything if e["workspaceSlug"] == target.workspace]
    assert [(e["action"], e["targetId"]) for e in reversed(events)] == [
        ("api_key.create", key["keyId"]), ("agent.create", agent["agentId"]),
        ("api_key.create", agent_key["keyId"]), ("run.start", run_id), ("run.fail", run_id),
        ("run.edit", run_id), ("run.delete", run_id), ("api_key.revoke", key["keyId"]),
        ("agent.revoke", agent["agentId"])]
    by_agent = [e for e in events if e["actorKind"] == "agent"]
    assert [e["action"] for e in by_agent] == ["run.fail", "run.start"]
    assert all(e["actorId"] == agent["agentId"] == e["agentId"] for e in by_agent)
    assert events[-1]["actorKind"] == "api_key" and events[-1]["workspaceSlug"] == target.workspace
    assert events[3]["details"] == {"fields": ["runName", "notes"]}
    text = repr(events)
    assert key["apiKey"] not in text and agent_key["apiKey"] not in text
    assert [e["action"] for e in _audit(shared_collector, target, "?actorKind=agent")] == [
        "run.fail", "run.start"]
    assert len(_audit(shared_collector, target, f"?agentId={agent['agentId']}")) == 2
    assert _audit(shared_collector, target, "?limit=4") == everything[:4]


def test_audit_pages_and_rejects_bad_filters(shared_collector: CollectorProcess) -> None:
    target = new_target(shared_collector)
    for name in ("a", "b", "c"):
        _new_agent(shared_collector, target, name)
    path = f"{V1}/workspaces/{target.workspace}/audit"
    status, page1 = call(shared_collector, "GET", path + "?limit=2&actorKind=api_key")
    assert status == 200 and page1["page"]["hasMore"] is True
    status, page2 = call(shared_collector, "GET", path + "?limit=2&actorKind=api_key"
                         f"&cursor={page1['page']['nextCursor']}")
    names = [e["details"]["name"] for e in page1["events"] + page2["events"]]
    assert names == ["c", "b", "a"] and page2["page"] == {"hasMore": False, "nextCursor": None}
    status, payload = call(shared_collector, "GET", path + "?actorKind=robot")
    assert_error(status, payload, 400, "INVALID_REQUEST", "actorKind")
    status, payload = call(shared_collector, "GET", path + "?cursor=bm9wZQ")
    assert_error(status, payload, 400, "INVALID_REQUEST", "cursor")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_audit_entries_cannot_be_edited_or_deleted(shared_collector: CollectorProcess,
                                                   method: str) -> None:
    target = new_target(shared_collector)
    _new_agent(shared_collector, target)
    before = _audit(shared_collector, target)
    path = f"{V1}/workspaces/{target.workspace}/audit"
    status, payload = call(shared_collector, method, path, {"action": "x"})
    assert_error(status, payload, 405, "INVALID_REQUEST")
    status, payload = call(shared_collector, method, f"{path}/{before[0]['eventId']}",
                           {"action": "x"})
    assert_error(status, payload, 404, "NOT_FOUND")
    assert _audit(shared_collector, target) == before
