""""The later item wins" inside one ingest request, whatever the items' context or project
spelling (issue 14.3), checked on every read path of a real collector."""

from __future__ import annotations

from typing import Any

import pytest

from tests.collector.dataplane import ingest, pages, point, project_id, run_id, series, steps_values
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401


def _every_read(proc: CollectorProcess, pid: str, run: str, key: str
                ) -> dict[str, list[tuple[int, float]]]:
    """(step, value) pairs of ``key`` as tail, downsample, full pages and export read them."""
    out = {mode: steps_values(series(proc, pid, run, [key], mode=mode)[key])
           for mode in ("tail", "downsample")}
    body = {"projectId": pid, "runId": run, "metricKeys": [key], "mode": "full",
            "maxPointsPerSeries": 2}
    out["full"] = [(p["step"], p["value"]) for page in pages(proc, "query/series", body)
                   for e in page["series"] for p in e["points"]]
    export = {"projectId": pid, "runId": run, "startMs": 0, "endMs": 10**13, "limit": 2,
              "format": "json"}
    out["export"] = [(r["step"], r["value"]) for page in pages(proc, "export/metrics", export)
                     for r in page["rows"] if r["metricKey"] == key]
    return out


def _with_context(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "context": {"phase": "train"}}


def test_last_item_wins_across_context_and_no_context(shared_collector: CollectorProcess
                                                      ) -> None:
    """Step 1 sent as 1.0 (context), 2.0 (none), 3.0 (context) in one body reads 3.0."""
    pid, run = project_id(shared_collector), run_id()
    body = {"points": [_with_context(point(pid, run, "k", 1, 1.0)), point(pid, run, "k", 1, 2.0),
                       _with_context(point(pid, run, "k", 1, 3.0)), point(pid, run, "k", 0, 0.5)]}
    assert ingest(shared_collector, "metrics", body)["accepted"] == 4
    for path, got in _every_read(shared_collector, pid, run, "k").items():
        assert got == [(0, 0.5), (1, 3.0)], path


def test_last_item_wins_across_context_values(shared_collector: CollectorProcess) -> None:
    """Two different contexts interleaved: the item sent last wins its step."""
    pid, run = project_id(shared_collector), run_id()
    a = {**point(pid, run, "k", 5, 1.0), "context": {"split": "a"}}
    b = {**point(pid, run, "k", 5, 2.0), "context": {"split": "b"}}
    c = {**point(pid, run, "k", 5, 3.0), "context": {"split": "a"}}
    ingest(shared_collector, "metrics", {"points": [a, b, c]})
    for path, got in _every_read(shared_collector, pid, run, "k").items():
        assert got == [(5, 3.0)], path


@pytest.mark.parametrize("vectorised", [True, False])
def test_last_item_wins_across_project_spellings(shared_collector: CollectorProcess,
                                                 vectorised: bool) -> None:
    """A body mixing the project slug and its canonical id is one series in item order."""
    pid, run = project_id(shared_collector), run_id()
    slug = shared_collector.project
    items = [point(pid, run, "k", 1, 1.0), point(slug, run, "k", 1, 2.0),
             point(pid, run, "k", 1, 3.0), point(slug, run, "k", 2, 4.0),
             point(pid, run, "k", 2, 5.0)]
    if not vectorised:  # a context anywhere sends the body down the point-by-point path
        items.append(_with_context(point(pid, run, "other", 0, 0.0)))
    ingest(shared_collector, "metrics", {"points": items})
    for path, got in _every_read(shared_collector, pid, run, "k").items():
        assert got == [(1, 3.0), (2, 5.0)], path
