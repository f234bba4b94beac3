"""Run lists (v1 doc §3.6): ordering, filters, search, keyset paging; the derived lost status."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.collector.control import (V1, Target, assert_error, call, details, finish,
                                     new_target, start_run)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.both_stores

RESOLVE = f"{V1}/runs/resolve-target"


# -- runs/query -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def listed(shared_collector: CollectorProcess) -> Target:
    """A project with five runs named n0..n4, n1 completed and n3 failed."""
    project = new_target(shared_collector)
    for index in range(5):
        _, run = start_run(shared_collector, project, runId=f"r{index}-{project.project}",
                           runName=f"n{index}")
        if index in (1, 3):
            finish(shared_collector, run["runId"], "completed" if index == 1 else "failed")
    return project


def _all_pages(proc: CollectorProcess, target: Target, query: str) -> list[str]:
    names: list[str] = []
    cursor = ""
    for _ in range(10):
        status, payload = call(proc, "GET", f"{target.path}/runs/query?{query}{cursor}")
        assert status == 200, payload
        names += [run["runName"] for run in payload["runs"]]
        if not payload["page"]["hasMore"]:
            assert payload["page"]["nextCursor"] is None
            return names
        cursor = f"&cursor={payload['page']['nextCursor']}"
    raise AssertionError("too many pages")


@pytest.mark.parametrize(("query", "expected"), [
    ("limit=2&order=asc&orderBy=runName", ["n0", "n1", "n2", "n3", "n4"]),
    ("limit=2&order=desc&orderBy=runName", ["n4", "n3", "n2", "n1", "n0"]),
    ("limit=3&order=asc&orderBy=runId", ["n0", "n1", "n2", "n3", "n4"]),
    ("limit=1&order=asc&orderBy=startedAtMs", ["n0", "n1", "n2", "n3", "n4"]),
    ("limit=2", ["n4", "n3", "n2", "n1", "n0"]),
    ("statuses=completed,failed&order=asc&orderBy=runName", ["n1", "n3"]),
    ("statuses=running&order=asc&orderBy=runName&limit=1", ["n0", "n2", "n4"]),
    ("search=N2&orderBy=runName", ["n2"]),
])
def test_query_runs(shared_collector: CollectorProcess, listed: Target, query: str,
                    expected: list[str]) -> None:
    """Run lists order, filter, search and page by keyset cursor without gaps or repeats."""
    assert _all_pages(shared_collector, listed, query) == expected


@pytest.mark.parametrize(("query", "field"), [
    ("order=up", "order"), ("orderBy=name", "orderBy"), ("limit=0", "limit"),
    ("limit=x", "limit"), ("cursor=%%%", "cursor"), ("statuses=done", "statuses"),
    ("cursor=WyJzdGFydGVkQXRNcyIsImRlc2MiLHsieCI6MX0sInIiXQ", "cursor"),  # forged value type
])
def test_query_runs_validation(shared_collector: CollectorProcess, listed: Target, query: str,
                               field: str) -> None:
    """Bad query parameters are a 400 naming the parameter."""
    status, payload = call(shared_collector, "GET", f"{listed.path}/runs/query?{query}")
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


def test_query_cursor_bound_to_order(shared_collector: CollectorProcess, listed: Target) -> None:
    """A cursor issued for one orderBy is rejected for another."""
    payload = call(shared_collector, "GET", f"{listed.path}/runs/query?limit=1")[1]
    cursor = payload["page"]["nextCursor"]
    status, payload = call(shared_collector, "GET",
                           f"{listed.path}/runs/query?orderBy=runId&cursor={cursor}")
    assert_error(status, payload, 400, "INVALID_REQUEST", "cursor")


def test_silent_run_reads_as_lost(tmp_path: Path) -> None:
    """A running run without activity for lost_after_seconds reads as lost; finishing works."""
    proc = CollectorProcess(tmp_path / "data",
                            extra_env={"RUNDIAL_COLLECTOR_LOST_AFTER_SECONDS": "0.3"})
    proc.start()
    try:
        project = Target(proc.workspace, proc.project, "")
        project.project_id = call(proc, "POST", RESOLVE, {"workspace": proc.workspace,
                                                          "project": proc.project})[1]["projectId"]
        run_id = start_run(proc, project)[1]["runId"]
        wait_until(lambda: details(proc, project, run_id)["status"] == "lost", timeout_seconds=10,
                   interval_seconds=0.05, message="run reads as lost")
        assert _all_pages(proc, project, "statuses=lost") == [None]
        assert finish(proc, run_id)[1]["status"] == "completed"
    finally:
        proc.stop()
