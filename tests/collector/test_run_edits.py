"""Run edits from the UI (docs/protocol.md §4.9): rename, tags, notes, soft delete; scopes,
bad input, the session cookie with its Origin rule, and deleted ids never revived."""

from __future__ import annotations

from typing import Any

import pytest

from tests.collector.control import (V1, Target, assert_error, call, details, finish, new_key,
                                     new_target, start_run, unique)
from tests.collector.uisession import login, with_cookie
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores


def _run(proc: CollectorProcess, target: Target, **fields: Any) -> str:
    status, payload = start_run(proc, target, runId=unique("run"), runName="before",
                                tags=["a"], **fields)
    assert status == 201, payload
    return str(payload["runId"])


@pytest.fixture(scope="module")
def target(shared_collector: CollectorProcess) -> Target:
    return new_target(shared_collector)


def test_edit_renames_tags_and_notes(shared_collector: CollectorProcess, target: Target) -> None:
    """One PATCH changes name, tags (trimmed, de-duplicated) and notes; reads show them."""
    run_id = _run(shared_collector, target)
    status, payload = call(shared_collector, "PATCH", f"{target.path}/runs/{run_id}",
                           {"runName": " after ", "tags": ["x", " y", "x"], "notes": "nø"})
    assert status == 200, payload
    assert (payload["runName"], payload["tags"], payload["notes"]) == ("after", ["x", "y"], "nø")
    shown = details(shared_collector, target, run_id)
    assert (shown["runName"], shown["tags"], shown["notes"]) == ("after", ["x", "y"], "nø")
    status, payload = call(shared_collector, "PATCH", f"{target.path}/runs/{run_id}",
                           {"notes": ""})
    assert status == 200 and payload["notes"] == "" and payload["runName"] == "after", payload


@pytest.mark.parametrize(("body", "field"), [
    ({"runName": "   "}, "runName"),
    ({"runName": "n" * 513}, "runName"),
    ({"runName": 5}, "runName"),
    ({"tags": "a"}, "tags"),
    ({"tags": ["ok", ""]}, "tags[1]"),
    ({"tags": ["t" * 65]}, "tags[0]"),
    ({"tags": [f"t{i}" for i in range(65)]}, "tags"),
    ({"tags": [1]}, "tags[0]"),
    ({"notes": "n" * 65_537}, "notes"),
    ({"notes": "é" * 32_769}, "notes"),
    ({"colour": "red"}, "colour"),
    ({}, None),
])
def test_edit_bad_input(shared_collector: CollectorProcess, target: Target, body: Any,
                        field: str | None) -> None:
    """Bad input is a 400 envelope naming the field; the run is unchanged."""
    run_id = _run(shared_collector, target)
    status, payload = call(shared_collector, "PATCH", f"{target.path}/runs/{run_id}", body)
    assert_error(status, payload, 400, "INVALID_REQUEST", field)
    assert details(shared_collector, target, run_id)["runName"] == "before"


def test_edit_unknown_or_other_project_is_404(shared_collector: CollectorProcess,
                                              target: Target) -> None:
    """An unknown run, or a run of another project named under this one, is a 404."""
    other = new_target(shared_collector)
    run_id = _run(shared_collector, other)
    for path in (f"{target.path}/runs/{run_id}", f"{target.path}/runs/nope-{run_id}"):
        for method, body in (("PATCH", {"runName": "x"}), ("DELETE", None)):
            status, payload = call(shared_collector, method, path, body)
            assert_error(status, payload, 404, "NOT_FOUND")
    assert details(shared_collector, other, run_id)["runName"] == "before"


def test_edit_scopes(shared_collector: CollectorProcess, target: Target) -> None:
    """Edits need a write scope; delete needs admin; read-only keys get 403; no key 401."""
    run_id = _run(shared_collector, target)
    path = f"{target.path}/runs/{run_id}"
    reader = new_key(shared_collector, target, ["project:read"])["apiKey"]
    writer = new_key(shared_collector, target, ["metrics:write"])["apiKey"]
    assert_error(*call(shared_collector, "PATCH", path, {"runName": "r"}, key=reader),
                 403, "FORBIDDEN")
    assert_error(*call(shared_collector, "PATCH", path, {"runName": "r"}, key=None),
                 401, "UNAUTHORIZED")
    assert call(shared_collector, "PATCH", path, {"runName": "w"}, key=writer)[0] == 200
    assert_error(*call(shared_collector, "DELETE", path, key=writer), 403, "FORBIDDEN")
    assert details(shared_collector, target, run_id)["runName"] == "w"


def test_edit_with_session_cookie_checks_origin(shared_collector: CollectorProcess,
                                                target: Target) -> None:
    """The UI's cookie works with the collector's own Origin, and is refused without it."""
    run_id = _run(shared_collector, target)
    secret, _ = login(shared_collector)
    path = f"{target.path}/runs/{run_id}"
    status, _, payload = with_cookie(shared_collector, "PATCH", path, secret, {"runName": "c"})
    assert_error(status, payload, 403, "FORBIDDEN")
    status, _, payload = with_cookie(shared_collector, "PATCH", path, secret,
                                     {"runName": "c"}, origin="http://evil.example")
    assert_error(status, payload, 403, "FORBIDDEN")
    status, _, payload = with_cookie(shared_collector, "PATCH", path, secret,
                                     {"runName": "c"}, origin=shared_collector.url)
    assert status == 200 and payload["runName"] == "c", payload
    status, _, payload = with_cookie(shared_collector, "DELETE", path, secret,
                                     origin=shared_collector.url)
    assert status == 200 and payload == {"runId": run_id, "deleted": True,
                                         "requestId": payload["requestId"]}


def test_delete_hides_run_and_refuses_revival(shared_collector: CollectorProcess) -> None:
    """A deleted run is gone from details, lists, the runs table and the project count;
    its id cannot be started again (409), and status, config and heartbeat are 404."""
    target = new_target(shared_collector)
    run_id, kept = _run(shared_collector, target), _run(shared_collector, target)
    status, payload = call(shared_collector, "DELETE", f"{target.path}/runs/{run_id}")
    assert status == 200, payload
    assert_error(*call(shared_collector, "GET", f"{target.path}/runs/{run_id}"), 404, "NOT_FOUND")
    listed = call(shared_collector, "GET", f"{target.path}/runs/query")[1]
    assert [run["runId"] for run in listed["runs"]] == [kept]
    table = call(shared_collector, "GET", f"{target.path}/runs-table")[1]
    assert table["columns"]["runId"] == [kept]
    projects = call(shared_collector, "GET", f"{V1}/workspaces/{target.workspace}/projects")[1]
    assert projects["projects"][0]["runCount"] == 1, projects
    for resume in ("never", "allow", "must"):
        status, payload = start_run(shared_collector, target, runId=run_id, resume=resume)
        assert_error(status, payload, 409, "CONFLICT", "runId")
    assert_error(*finish(shared_collector, run_id), 404, "NOT_FOUND")
    assert_error(*call(shared_collector, "POST", f"{V1}/runs/{run_id}/config",
                       {"config": {"a": 1}}), 404, "NOT_FOUND")
    assert_error(*call(shared_collector, "POST", f"{V1}/runs/{run_id}/heartbeat", {}),
                 404, "NOT_FOUND")
    assert_error(*call(shared_collector, "DELETE", f"{target.path}/runs/{run_id}"),
                 404, "NOT_FOUND")
