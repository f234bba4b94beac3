"""Run liveness: the heartbeat route, ``lost`` after the grace period, revival by late data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.events.streaming import call, closed, connect, of_type, receive_until
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.both_stores

GRACE_SECONDS = "2"


@pytest.fixture(scope="module")
def quick_lost(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A collector that calls a run lost after 2 s of silence and polls streams every 0.2 s."""
    proc = CollectorProcess(Path(tmp_path_factory.mktemp("quick-lost")) / "data", extra_env={
        "RUNDIAL_COLLECTOR_LOST_AFTER_SECONDS": GRACE_SECONDS,
        "RUNDIAL_COLLECTOR_EVENTS_POLL_SECONDS": "0.2"})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _http(proc: CollectorProcess, method: str, path: str, body: Any = None,
          key: str | None = "admin") -> tuple[int, Any]:
    api_key = proc.api_key if key == "admin" else key
    status, _, payload = request(method, proc.url + "/api/v1" + path, body, api_key=api_key)
    return status, payload


def _start(proc: CollectorProcess) -> tuple[str, str]:
    status, run = _http(proc, "POST", "/runs/start", {
        "projectId": proc.project, "kind": "agent", "resume": "never",
        "client": {"name": "t", "version": "0"}})
    assert status == 201, run
    return run["projectId"], run["runId"]


def _details(proc: CollectorProcess, rid: str) -> dict[str, Any]:
    status, run = _http(proc, "GET", f"/workspaces/{proc.workspace}/projects/{proc.project}"
                        f"/runs/{rid}")
    assert status == 200, run
    return dict(run)


def _listed(proc: CollectorProcess, rid: str, statuses: str) -> dict[str, Any] | None:
    status, page = _http(proc, "GET", f"/workspaces/{proc.workspace}/projects/{proc.project}"
                         f"/runs/query?limit=500&statuses={statuses}&search={rid}")
    assert status == 200, page
    return next((run for run in page["runs"] if run["runId"] == rid), None)


def _heartbeat(proc: CollectorProcess, rid: str, body: Any = None, key: str | None = "admin"
               ) -> tuple[int, Any]:
    return _http(proc, "POST", f"/runs/{rid}/heartbeat", {} if body is None else body, key)


def test_heartbeat_route_replies_with_liveness(shared_collector: CollectorProcess) -> None:
    """A heartbeat answers 200 with the run's status and last heartbeat time."""
    pid, rid = _start(shared_collector)
    status, reply = _heartbeat(shared_collector, rid, {"projectId": pid, "status": "running"})
    assert status == 200, reply
    assert reply["runId"] == rid and reply["status"] == "running"
    assert isinstance(reply["lastHeartbeatMs"], int)
    assert _details(shared_collector, rid)["lastHeartbeatMs"] == reply["lastHeartbeatMs"]


@pytest.mark.parametrize(("body", "rid", "key", "expected", "code", "field"), [
    ({}, "run-missing-for-heartbeat", "admin", 404, "NOT_FOUND", None),
    ({"projectId": "no-such-project"}, None, "admin", 404, "NOT_FOUND", None),
    ({"status": "completed"}, None, "admin", 400, "INVALID_REQUEST", "status"),
    ({}, None, None, 401, "UNAUTHORIZED", None),
    ({}, None, "rdk_wrong", 401, "UNAUTHORIZED", None)])
def test_heartbeat_errors(shared_collector: CollectorProcess, body: dict[str, Any],
                          rid: str | None, key: str | None, expected: int, code: str,
                          field: str | None) -> None:
    """Unknown runs/projects are 404, other statuses 400, missing keys 401 (v1 envelope)."""
    rid = rid or _start(shared_collector)[1]
    status, reply = _heartbeat(shared_collector, rid, body, key)
    assert status == expected and reply["error"]["code"] == code, reply
    assert reply["error"]["details"].get("field") == field


def test_heartbeat_needs_a_write_scope(shared_collector: CollectorProcess) -> None:
    """A read-only key may not send heartbeats (403)."""
    proc = shared_collector
    _, rid = _start(proc)
    status, created = _http(proc, "POST", f"/workspaces/{proc.workspace}/projects/"
                            f"{proc.project}/api-keys", {"scopes": ["project:read"]})
    assert status == 201, created
    status, reply = _heartbeat(proc, rid, key=created["apiKey"])
    assert status == 403 and reply["error"]["code"] == "FORBIDDEN"


def test_heartbeat_does_not_reopen_a_finished_run(shared_collector: CollectorProcess) -> None:
    """A terminal run stays terminal (``killed`` included) when a heartbeat arrives."""
    _, rid = _start(shared_collector)
    status, reply = _http(shared_collector, "POST", f"/runs/{rid}/status", {"status": "killed"})
    assert status == 200 and reply["status"] == "killed", reply
    status, reply = _heartbeat(shared_collector, rid)
    assert status == 200 and reply["status"] == "killed"


def test_lost_then_revived_by_ingest_and_heartbeat(quick_lost: CollectorProcess) -> None:
    """A silent run reads lost (details, list, statuses filter); data or a heartbeat revive it."""
    pid, rid = _start(quick_lost)
    wait_until(lambda: _details(quick_lost, rid)["status"] == "lost", message="run lost")
    assert _listed(quick_lost, rid, "lost") is not None
    assert _listed(quick_lost, rid, "running") is None
    assert _listed(quick_lost, rid, "")["status"] == "lost"  # type: ignore[index]
    before = _details(quick_lost, rid)["lastHeartbeatMs"]
    status, _ = _http(quick_lost, "POST", "/ingest/metrics", {"points": [
        {"projectId": pid, "runId": rid, "metricKey": "late", "step": 1, "timestampMs": 1,
         "value": 1.0}]})
    assert status == 202
    revived = _details(quick_lost, rid)
    assert revived["status"] == "running" and revived["lastHeartbeatMs"] > before
    assert _listed(quick_lost, rid, "running") is not None
    wait_until(lambda: _details(quick_lost, rid)["status"] == "lost", message="lost again")
    status, reply = _heartbeat(quick_lost, rid)
    assert status == 200 and reply["status"] == "running"


async def test_stream_reports_lost_and_revival(quick_lost: CollectorProcess) -> None:
    """Watchers see ``state: lost`` without any request, then ``running`` after a heartbeat."""
    pid, rid = _start(quick_lost)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, quick_lost, rid)
        await receive_until(ws, lambda ms: any(
            m["type"] == "state" and m["status"] == "lost" for m in ms))
        status, _ = await call(session, quick_lost, "POST", f"/runs/{rid}/heartbeat",
                               {"projectId": pid})
        assert status == 200
        revived = await receive_until(ws, lambda ms: any(
            m["type"] == "state" and m["status"] == "running" for m in ms))
        assert revived[-1]["lastHeartbeatMs"] is not None
        await call(session, quick_lost, "POST", f"/runs/{rid}/status", {"status": "killed"})
        final = await closed(ws)
        assert of_type(final, "state")[-1]["status"] == "killed" and ws.close_code == 1000
