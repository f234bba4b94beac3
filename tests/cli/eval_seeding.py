"""Seed eval runs on a collector over HTTP (shared by the CLI and rc1 compatibility tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.collector.dataplane import project_id
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

V1 = "/api/v1"


@dataclass
class SeededDiff:
    baseline: str
    candidate: str
    regressed: list[str]  # example ids that regressed (scorer ``exact``)
    suite_id: str
    project_id: str


def _post(proc: CollectorProcess, path: str, body: dict[str, Any]) -> Any:
    status, _, payload = request("POST", proc.url + V1 + path, body, api_key=proc.api_key)
    assert status in (200, 201, 202), payload
    return payload


def seed_eval_diff(proc: CollectorProcess, examples: int, regressed: list[int]) -> SeededDiff:
    """A suite and two eval runs of ``examples`` examples (scorers ``exact`` and ``style``):
    every example passes in the baseline; in the candidate the ``regressed`` indexes fail
    ``exact`` (``style`` never changes)."""
    pid = project_id(proc)
    suite = _post(proc, "/evals/suites", {"projectId": pid, "name": "seeded", "scorers": [
        {"name": "exact"}, {"name": "style"}], "dataset": {"name": "d", "version": "1",
                                                         "artifactRef": "d:1"}})
    ids = [_post(proc, "/evals/runs", {"projectId": pid, "suiteId": suite["suite"]["suiteId"]}
                 )["evalRun"]["evalRunId"] for _ in range(2)]
    for eval_run_id, failing in ((ids[0], set()), (ids[1], set(regressed))):
        rows = [{"exampleId": f"ex{i:04d}", "scorer": scorer, "score": 0.0 if bad else 1.0,
                 "passed": not bad, "traceId": "b" * 32, "evidenceRef": None, "meta": {}}
                for i in range(examples) for scorer, bad in (("exact", i in failing),
                                                              ("style", False))]
        _post(proc, "/evals/results", {"projectId": pid, "evalRunId": eval_run_id,
                                       "rows": rows})
    return SeededDiff(ids[0], ids[1], [f"ex{i:04d}" for i in sorted(regressed)],
                      suite["suite"]["suiteId"], pid)
