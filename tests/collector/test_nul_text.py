"""Text with NUL characters in metric reads and writes: PostgreSQL text cannot hold NUL, so the
collector must answer the same on both backends instead of failing (a 500) on PostgreSQL."""

from __future__ import annotations

from tests.collector.dataplane import ingest, point, post, project_id, run_id, series, steps_values
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401
from rundial_collector.web.paging import encode_cursor

NUL_KEY = "loss\x00x"


def test_a_metric_key_with_nul_is_rejected_alone(shared_collector: CollectorProcess) -> None:
    pid, run = project_id(shared_collector), run_id()
    reply = ingest(shared_collector, "metrics", {"points": [
        point(pid, run, NUL_KEY, 0, 1.0), point(pid, run, "loss", 1, 2.0)]})
    assert (reply["accepted"], reply["rejected"]) == (1, 1)
    assert reply["errors"][0]["field"] == "points[0].metricKey"
    reply = ingest(shared_collector, "metrics", {"projectId": pid, "runId": run,
                                                 "rows": [[2, 3, {NUL_KEY: 1.0, "loss": 3.0}]]})
    assert (reply["accepted"], reply["rejected"]) == (1, 1)
    assert steps_values(series(shared_collector, pid, run, ["loss"])["loss"]) == [(1, 2.0),
                                                                                  (2, 3.0)]


def test_reads_naming_text_with_nul_find_nothing(shared_collector: CollectorProcess) -> None:
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "metrics", {"points": [point(pid, run, "loss", s, 1.0)
                                                    for s in range(3)]})
    assert series(shared_collector, pid, run, [NUL_KEY])[NUL_KEY]["points"] == []
    assert series(shared_collector, pid, run, [NUL_KEY], mode="full") == {}  # no points
    status, _, reply = post(shared_collector, "query/chart", {
        "projectId": pid, "buckets": 10, "series": [{"runId": run, "metricKey": NUL_KEY},
                                                     {"runId": run, "metricKey": "loss"}]})
    assert status == 200, reply
    assert [entry["pointsLogged"] for entry in reply["series"]] == [0, 3]
    # a cursor naming a key with NUL resumes at the next stored key ("loss" > "lo\0ss")
    cursor = encode_cursor(["lo\x00ss", -1])
    status, _, reply = post(shared_collector, "query/series", {
        "projectId": pid, "runId": run, "mode": "full", "cursor": cursor})
    assert status == 200, reply
    assert [entry["metricKey"] for entry in reply["series"]] == ["loss"]
    status, _, reply = post(shared_collector, "query/series", {
        "projectId": pid, "runId": run, "mode": "full", "cursor": encode_cursor(["loss\x00",
                                                                                  -1])})
    assert status == 200, reply
    assert reply["series"] == []
