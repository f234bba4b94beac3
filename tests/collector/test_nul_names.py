"""NUL (U+0000) in the names, labels, filters and references of the collector's other routes,
on both store backends.

PostgreSQL text cannot hold NUL: a workspace or project name, an API key label or an agent
name holding one was stored by a SQLite collector and answered 400 without ``details.field``
by a PostgreSQL one; a read naming such a text (a run search, a log text filter, an agent, a
user, an artifact, a path workspace, a cursor) found nothing on SQLite and was a 400 on
PostgreSQL. Now a write is a 400 naming the field on both (nothing stored), and a read matches
nothing on both: an empty 200, or a 404 where one named thing is looked up.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from tests.collector.control import V1, assert_error, call, unique
from tests.collector.dataplane import ingest, post, project_id, run_id
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401
from rundial_collector.web.paging import encode_cursor

NUL = "a\x00b"
Q = urllib.parse.quote(NUL)  # a%00b, for paths and query strings


def _paths(proc: CollectorProcess) -> tuple[str, str]:
    ws = f"{V1}/workspaces/{proc.workspace}"
    return ws, f"{ws}/projects/{proc.project}"


def _agent(proc: CollectorProcess) -> str:
    ws, _ = _paths(proc)
    status, reply = call(proc, "POST", f"{ws}/agents", {"name": unique("agent")})
    assert status == 201, reply
    return str(reply["agentId"])


def test_names_and_labels_with_nul_are_a_400_naming_the_field(
        shared_collector: CollectorProcess) -> None:
    """Creating a workspace, project, API key or agent, or an agent's key, with NUL in its
    name or label: 400 naming the field on both backends, and nothing is created."""
    proc = shared_collector
    ws, project = _paths(proc)
    ws_slug, proj_slug = unique("ws"), unique("proj")
    agent = _agent(proc)
    writes: list[tuple[str, dict[str, Any], str]] = [
        (f"{V1}/workspaces", {"slug": ws_slug, "name": NUL}, "name"),
        (f"{ws}/projects", {"slug": proj_slug, "name": NUL}, "name"),
        (f"{project}/api-keys", {"scopes": ["project:read"], "label": NUL}, "label"),
        (f"{ws}/agents", {"name": NUL}, "name"),
        (f"{ws}/agents/{agent}/api-keys", {"projectSlug": proc.project, "label": NUL}, "label"),
    ]
    for path, body, field in writes:
        status, reply = call(proc, "POST", path, body)
        assert_error(status, reply, 400, "INVALID_REQUEST", field)
        assert "NUL" in reply["error"]["message"]
    assert call(proc, "GET", f"{V1}/workspaces/{ws_slug}/projects")[0] == 404
    status, reply = call(proc, "GET", f"{ws}/projects?limit=1000")
    assert proj_slug not in [p["projectSlug"] for p in reply["projects"]]
    status, reply = call(proc, "GET", f"{project}/api-keys")
    assert NUL not in [k["label"] for k in reply["keys"]]
    status, reply = call(proc, "GET", f"{ws}/agents?limit=1000")
    assert NUL not in [a["name"] for a in reply["agents"]]
    status, reply = call(proc, "GET", f"{ws}/agents/{agent}/api-keys")
    assert status == 200 and reply["keys"] == [], reply


def test_text_filters_with_nul_match_nothing(shared_collector: CollectorProcess) -> None:
    """A run search, a log text filter, an audit agent, a media key, a lineage run, a batch of
    run ids and an eval run holding NUL: 200 with nothing found, on both backends."""
    proc = shared_collector
    ws, project = _paths(proc)
    pid, run = project_id(proc), run_id()
    status, _ = call(proc, "POST", f"{V1}/runs/start", {"projectId": pid, "runId": run})
    assert status == 201
    ingest(proc, "logs", {"lines": [{"projectId": pid, "runId": run, "timestampMs": 1,
                                     "sequence": 0, "level": "info", "message": "ab"}]})
    status, reply = call(proc, "GET", f"{project}/runs/query?search={Q}")
    assert status == 200 and reply["runs"] == [], reply
    status, _, reply = post(proc, "query/logs", {"projectId": pid, "runId": run, "text": NUL})
    assert status == 200 and reply["rows"] == [], reply
    status, _, reply = post(proc, "export/logs", {"projectId": pid, "runId": run, "text": NUL,
                                                  "startMs": 0, "endMs": 10})
    assert status == 200 and reply["rows"] == [], reply
    status, reply = call(proc, "GET", f"{ws}/audit?agentId={Q}")
    assert status == 200 and reply["events"] == [], reply
    status, reply = call(proc, "GET", f"{V1}/media?projectId={pid}&runId={run}&mediaKey={Q}")
    assert status == 200 and reply["items"] == [], reply
    status, reply = call(proc, "GET", f"{project}/runs/{run}/media/steps?mediaKey={Q}")
    assert status == 200 and reply["steps"] == [], reply
    status, reply = call(proc, "GET", f"{V1}/artifacts/lineage?projectId={pid}&runId={Q}")
    assert status == 200 and (reply["used"], reply["produced"]) == ([], []), reply
    status, _, reply = post(proc, "query/runs", {"projectId": pid, "runIds": [run, NUL]})
    assert status == 200 and reply["unknownRunIds"] == [NUL], reply
    assert [r["runId"] for r in reply["runs"]] == [run]
    status, reply = call(proc, "GET", f"{V1}/evals/runs/{Q}/results?projectId={pid}")
    assert status == 200 and reply["rows"] == [], reply


def test_references_holding_nul_are_a_404(shared_collector: CollectorProcess) -> None:
    """A path workspace, run, API key, agent, user or artifact, or a body artifact or run,
    holding NUL names nothing: 404 on both backends (PostgreSQL answered 400 without a
    field)."""
    proc = shared_collector
    ws, project = _paths(proc)
    pid = project_id(proc)
    artifact = {"projectId": pid, "runId": "r", "artifactId": NUL}
    refs: list[tuple[str, str, Any]] = [
        ("GET", f"{V1}/workspaces/{Q}/projects", None),
        ("POST", f"{V1}/workspaces/{Q}/projects", {"slug": unique("proj")}),
        ("GET", f"{V1}/workspaces/{Q}/audit", None),
        ("PATCH", f"{project}/runs/{Q}", {"notes": "x"}),
        ("DELETE", f"{project}/runs/{Q}", None),
        ("POST", f"{project}/api-keys/{Q}/revoke", None),
        ("POST", f"{ws}/agents/{Q}/revoke", None),
        ("GET", f"{ws}/agents/{Q}/api-keys", None),
        ("POST", f"{V1}/users/{Q}/disable", None),
        ("POST", f"{V1}/users/{Q}/password", {}),
        ("GET", f"{project}/artifacts/{Q}/files", None),
        ("GET", f"{V1}/artifacts/lineage?projectId={pid}&artifactId={Q}", None),
        ("POST", f"{V1}/artifacts/download", {**artifact, "path": "f"}),
        ("POST", f"{V1}/artifacts/finalize", {**artifact, "uploadId": "u"}),
        ("GET", f"{V1}/metrics/keys?projectId={pid}&runId={Q}", None),
        ("POST", f"{V1}/query/logs", {"projectId": pid, "runId": NUL}),
        ("POST", f"{V1}/query/spans", {"projectId": pid, "runId": NUL}),
    ]
    for method, path, body in refs:
        status, reply = call(proc, method, path, body)
        assert_error(status, reply, 404, "NOT_FOUND")


def test_a_login_with_nul_in_the_email_is_refused_as_unknown(
        shared_collector: CollectorProcess) -> None:
    """A credential login whose email holds NUL finds no user: 401 on both backends."""
    status, reply = call(shared_collector, "POST", f"{V1}/auth/login/credentials",
                         {"email": "a\x00b@example.com", "password": "long enough pw"},
                         key=None)
    assert_error(status, reply, 401, "UNAUTHORIZED")


def test_a_listing_cursor_holding_nul_is_a_400_naming_it(
        shared_collector: CollectorProcess) -> None:
    """A query-string cursor with NUL in a text value was never issued: 400 naming
    ``cursor`` on both backends (SQLite used to page from it, PostgreSQL answered 400 without
    a field)."""
    proc = shared_collector
    ws, project = _paths(proc)
    one = encode_cursor([NUL])
    listings = [f"{V1}/workspaces?cursor={one}", f"{ws}/projects?cursor={one}",
                f"{ws}/agents?cursor={one}", f"{V1}/users?cursor={one}",
                f"{project}/runs/query?orderBy=runName&cursor="
                + encode_cursor(["runName", "desc", NUL, "r"]),
                f"{project}/runs-table?cursor=" + encode_cursor([1, NUL])]
    for path in listings:
        status, reply = call(proc, "GET", path)
        assert_error(status, reply, 400, "INVALID_REQUEST", "cursor")
