"""The UI's batched look-ups (docs/protocol.md §4.12): ``query/keys``, ``query/runs`` and the
project by slugs: their replies agree with the per-run routes, unknown runs are reported, the
keys reply pages, bad input is a 400 naming the field, and ``project:read`` is required."""

from __future__ import annotations

from typing import Any

import pytest

from tests.collector.control import (V1, Target, assert_error, call, new_key, new_target,
                                     start_run)
from tests.collector.dataplane import ingest, point
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

KEYS = {"a": ["train/loss", "system/gpu", "eval/acc", "lr"], "b": ["train/loss"], "c": []}


@pytest.fixture(scope="module")
def target(shared_collector: CollectorProcess) -> Target:
    """Runs a, b (metrics) and c (no metrics) in a fresh project; ids ``<name>-<project>``."""
    made = new_target(shared_collector)
    for name, keys in KEYS.items():
        run = f"{name}-{made.project}"
        status, payload = start_run(shared_collector, made, runId=run, runName=f"run {name}",
                                    config={"lr": len(keys)}, startedAtMs=1_700_000_000_000)
        assert status == 201, payload
        if keys:
            ingest(shared_collector, "metrics",
                   {"points": [point(made.project_id, run, key, 0, 1.0) for key in keys]})
    return made


def _run(target: Target, name: str) -> str:
    return f"{name}-{target.project}"


def _keys(proc: CollectorProcess, target: Target, run_ids: list[str], key: str | None = "admin",
          **extra: Any) -> tuple[int, Any]:
    return call(proc, "POST", f"{V1}/query/keys",
                {"projectId": target.project_id, "runIds": run_ids, **extra}, key=key)


def _one_run_keys(proc: CollectorProcess, target: Target, run_id: str) -> list[str]:
    status, payload = call(proc, "GET", f"{V1}/metrics/keys?projectId={target.project_id}"
                           f"&runId={run_id}&limit=1000")
    assert status == 200, payload
    return [k["metricKey"] for k in payload["keys"]]


def test_keys_of_many_runs_match_the_per_run_route(shared_collector: CollectorProcess,
                                                   target: Target) -> None:
    """Each run's keys in ``metrics/keys`` order; unknown runs listed apart; repeats once."""
    runs = [_run(target, n) for n in ("a", "b", "c")]
    status, payload = _keys(shared_collector, target, [*runs, "nobody", runs[0]])
    assert status == 200, payload
    assert payload["projectId"] == target.project_id
    assert payload["unknownRunIds"] == ["nobody"]
    assert payload["page"] == {"hasMore": False, "nextCursor": None}
    assert [r["runId"] for r in payload["runs"]] == runs
    for entry in payload["runs"]:
        assert entry["keys"] == _one_run_keys(shared_collector, target, entry["runId"])
        assert entry["complete"] is True
    assert payload["runs"][0]["keys"] == ["eval/acc", "lr", "train/loss", "system/gpu"]


def test_keys_reply_pages_by_limit(shared_collector: CollectorProcess, target: Target) -> None:
    """With ``limit`` 3, run a's 4 keys are cut after 3; the cursor resumes inside it."""
    runs = [_run(target, n) for n in ("a", "b", "c")] + ["nobody"]
    pages: list[Any] = []
    cursor = None
    while True:
        status, payload = _keys(shared_collector, target, runs, limit=3,
                                **({"cursor": cursor} if cursor else {}))
        assert status == 200, payload
        pages.append(payload)
        cursor = payload["page"]["nextCursor"]
        if not payload["page"]["hasMore"]:
            break
        assert len(pages) < 10
    assert all(sum(len(r["keys"]) for r in p["runs"]) <= 3 for p in pages)
    merged: dict[str, list[str]] = {}
    for p in pages:
        for entry in p["runs"]:
            merged.setdefault(entry["runId"], []).extend(entry["keys"])
    assert merged == {run: _one_run_keys(shared_collector, target, run) for run in runs[:3]}
    assert pages[0]["runs"][0]["complete"] is False
    assert [u for p in pages for u in p["unknownRunIds"]] == ["nobody"]


@pytest.mark.parametrize("body,field", [
    ({"runIds": []}, "runIds"),
    ({"runIds": [f"r{i}" for i in range(401)]}, "runIds"),
    ({"runIds": ["r", " "]}, "runIds[1]"),
    ({"runIds": "r"}, "runIds"),
    ({"runIds": ["x" * 257]}, "runIds[0]"),
    ({"runIds": ["r"], "limit": 0}, "limit"),
    ({"runIds": ["r"], "limit": 20_001}, "limit"),
    ({"runIds": ["r"], "cursor": "nonsense"}, "cursor"),
    ({"runIds": ["r"], "cursor": "WzUsMF0"}, "cursor"),  # [5,0]: past the one run
])
def test_keys_bad_input_names_the_field(shared_collector: CollectorProcess, target: Target,
                                        body: dict[str, Any], field: str) -> None:
    status, payload = call(shared_collector, "POST", f"{V1}/query/keys",
                           {"projectId": target.project_id, **body})
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


def test_runs_by_id_match_run_details(shared_collector: CollectorProcess,
                                      target: Target) -> None:
    """Details as ``GET …/runs/{runId}``; unknown, deleted and other projects' runs reported."""
    other = new_target(shared_collector)
    status, payload = start_run(shared_collector, other, runId=f"x-{other.project}")
    assert status == 201, payload
    gone = _run(target, "d")
    assert start_run(shared_collector, target, runId=gone)[0] == 201
    status, payload = call(shared_collector, "DELETE", f"{target.path}/runs/{gone}")
    assert status in (200, 204), payload
    runs = [_run(target, "b"), _run(target, "a"), gone, "nobody", f"x-{other.project}"]
    status, payload = call(shared_collector, "POST", f"{V1}/query/runs",
                           {"projectId": target.project_id, "runIds": runs})
    assert status == 200, payload
    assert payload["unknownRunIds"] == runs[2:]
    for entry, run_id in zip(payload["runs"], runs[:2], strict=True):
        status, one = call(shared_collector, "GET", f"{target.path}/runs/{run_id}")
        one.pop("requestId")
        assert status == 200 and entry == one


def test_project_by_slugs(shared_collector: CollectorProcess, target: Target) -> None:
    status, payload = call(shared_collector, "GET", target.path)
    assert status == 200, payload
    assert (payload["projectId"], payload["projectSlug"], payload["workspaceSlug"]) == (
        target.project_id, target.project, target.workspace)
    assert "runCount" not in payload  # not computed here: absent rather than a wrong 0
    status, payload = call(shared_collector, "GET", f"{V1}/workspaces/{target.workspace}"
                           "/projects/nope")
    assert_error(status, payload, 404, "NOT_FOUND")


@pytest.mark.parametrize("route", ["keys", "runs", "project"])
def test_batch_routes_need_project_read(shared_collector: CollectorProcess, target: Target,
                                        route: str) -> None:
    """A write-only key of the project gets 403, no key 401, a read key of it 200."""
    def ask(key: str | None) -> tuple[int, Any]:
        if route == "project":
            return call(shared_collector, "GET", target.path, key=key)
        return call(shared_collector, "POST", f"{V1}/query/{route}",
                    {"projectId": target.project_id, "runIds": [_run(target, "a")]}, key=key)

    write_only = new_key(shared_collector, target, ["metrics:write"])["apiKey"]
    reader = new_key(shared_collector, target, ["project:read"])["apiKey"]
    assert_error(*ask(write_only), 403, "FORBIDDEN")
    assert ask(None)[0] == 401
    assert ask(reader)[0] == 200


@pytest.mark.parametrize("route", ["keys", "runs"])
def test_batch_routes_take_the_project_by_its_slugs(shared_collector: CollectorProcess,
                                                    target: Target, route: str) -> None:
    """``workspace`` + ``project`` slugs name the project as ``projectId`` does (what a page's
    URL holds); an unknown one is a 404, neither form a 400 naming ``projectId``."""
    runs = [_run(target, "a"), "nobody"]
    by_id = call(shared_collector, "POST", f"{V1}/query/{route}",
                 {"projectId": target.project_id, "runIds": runs})
    by_slugs = call(shared_collector, "POST", f"{V1}/query/{route}",
                    {"workspace": target.workspace, "project": target.project, "runIds": runs})
    assert by_id[0] == by_slugs[0] == 200, by_slugs
    by_id[1].pop("requestId")
    by_slugs[1].pop("requestId")
    assert by_slugs[1] == by_id[1] and by_slugs[1]["projectId"] == target.project_id
    assert by_slugs[1]["unknownRunIds"] == ["nobody"]
    status, payload = call(shared_collector, "POST", f"{V1}/query/{route}",
                           {"workspace": target.workspace, "project": "nope", "runIds": runs})
    assert_error(status, payload, 404, "NOT_FOUND")
    status, payload = call(shared_collector, "POST", f"{V1}/query/{route}",
                           {"workspace": target.workspace, "runIds": runs})
    assert_error(status, payload, 400, "INVALID_REQUEST", "projectId")
