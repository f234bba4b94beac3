"""Query and export routes against a real collector: modes, windows, paging, CSV, access."""

from __future__ import annotations

import csv
import io
import urllib.parse

import pytest

from tests.collector.control import V1, call, new_key, new_target, start_run
from tests.collector.dataplane import (ingest, pages, point, post, project_id, run_id, series,
                                       steps_values)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401


@pytest.fixture(scope="module")
def loaded(shared_collector: CollectorProcess) -> tuple[str, str]:
    """A run with 'spiky' (300 steps, one spike up and one down), 'flat' and 'system/cpu'."""
    pid, run = project_id(shared_collector), run_id()
    rows = [[s, 10_000 + s, {"spiky": 100.0 if s == 123 else (-50.0 if s == 200 else s * 0.01),
                             "flat": 1.0, "system/cpu": 50.0}] for s in range(300)]
    ingest(shared_collector, "metrics", {"projectId": pid, "runId": run, "rows": rows},
           gzip_body=True)
    return pid, run


def test_tail_is_last_n_ascending(shared_collector: CollectorProcess,
                                  loaded: tuple[str, str]) -> None:
    """The default mode returns the last N points by step in ascending order, never more."""
    pid, run = loaded
    entry = series(shared_collector, pid, run, ["spiky"], maxPointsPerSeries=10)["spiky"]
    assert [s for s, _ in steps_values(entry)] == list(range(290, 300))
    assert entry["totalPoints"] == 300
    desc = series(shared_collector, pid, run, ["spiky"], maxPointsPerSeries=3, order="desc")
    assert [s for s, _ in steps_values(desc["spiky"])] == [299, 298, 297]


def test_downsample_keeps_spikes_within_budget(shared_collector: CollectorProcess,
                                               loaded: tuple[str, str]) -> None:
    """Downsampling to N keeps the global min and max and the last point, with at most N."""
    pid, run = loaded
    entry = series(shared_collector, pid, run, ["spiky"], maxPointsPerSeries=30,
                   mode="downsample")["spiky"]
    got = steps_values(entry)
    assert 3 <= len(got) <= 30
    assert (123, 100.0) in got and (200, -50.0) in got and got[-1][0] == 299
    assert [s for s, _ in got] == sorted({s for s, _ in got})


def test_full_mode_pages_every_point(shared_collector: CollectorProcess,
                                     loaded: tuple[str, str]) -> None:
    """Full mode pages through every resolved point of every key, in key then step order."""
    pid, run = loaded
    seen: list[tuple[str, int]] = []
    body = {"projectId": pid, "runId": run, "metricKeys": ["flat", "spiky"], "mode": "full",
            "maxPointsPerSeries": 70}
    for payload in pages(shared_collector, "query/series", body):
        assert sum(len(e["points"]) for e in payload["series"]) <= 70
        seen += [(e["metricKey"], p["step"]) for e in payload["series"] for p in e["points"]]
    assert seen == [("flat", s) for s in range(300)] + [("spiky", s) for s in range(300)]


def test_all_keys_when_metric_keys_omitted(shared_collector: CollectorProcess,
                                           loaded: tuple[str, str]) -> None:
    """Without metricKeys every key of the run is returned, user keys before system/ keys."""
    pid, run = loaded
    status, _, payload = post(shared_collector, "query/series",
                              {"projectId": pid, "runId": run, "maxPointsPerSeries": 1})
    assert status == 200
    assert [e["metricKey"] for e in payload["series"]] == ["flat", "spiky", "system/cpu"]


def test_metric_keys_route(shared_collector: CollectorProcess, loaded: tuple[str, str]) -> None:
    """metrics/keys lists a run's keys with counts, honours limit and pages with a cursor."""
    pid, run = loaded
    query = urllib.parse.urlencode({"projectId": pid, "runId": run, "limit": 2})
    status, first = call(shared_collector, "GET", f"{V1}/metrics/keys?{query}")
    assert status == 200, first
    assert first["keys"] == [
        {"metricKey": "flat", "pointCount": 300, "lastStep": 299, "lastTimestampMs": 10_299},
        {"metricKey": "spiky", "pointCount": 300, "lastStep": 299, "lastTimestampMs": 10_299}]
    cursor = first["page"]["nextCursor"]
    status, second = call(shared_collector, "GET", f"{V1}/metrics/keys?{query}&cursor={cursor}")
    assert [k["metricKey"] for k in second["keys"]] == ["system/cpu"]
    assert second["page"]["hasMore"] is False
    status, whole = call(shared_collector, "GET", f"{V1}/metrics/keys?projectId={pid}&limit=500")
    assert {"metricKey": "spiky", "runCount": 1} in whole["keys"]


def test_export_window_is_inclusive_and_deduplicated(shared_collector: CollectorProcess) -> None:
    """Export keeps the winning point per step and filters its timestampMs inclusively."""
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "metrics", {"points": [
        point(pid, run, "a", s, float(s), ts=1000 + s) for s in range(10)]})
    ingest(shared_collector, "metrics", {"points": [
        point(pid, run, "a", 3, 33.0, ts=5000), point(pid, run, "a", 4, 44.0, ts=1004)]})
    rows = [r for p in pages(shared_collector, "export/metrics",
                             {"projectId": pid, "runId": run, "startMs": 1002, "endMs": 1006,
                              "limit": 2, "format": "json"}) for r in p["rows"]]
    assert [(r["step"], r["value"], r["timestampMs"]) for r in rows] == [
        (2, 2.0, 1002), (4, 44.0, 1004), (5, 5.0, 1005), (6, 6.0, 1006)]
    assert all(r["metricKey"] == "a" for r in rows)


def test_export_pages_across_keys(shared_collector: CollectorProcess,
                                  loaded: tuple[str, str]) -> None:
    """Large exports page across keys alphabetically and return every row exactly once."""
    pid, run = loaded
    rows = [(r["metricKey"], r["step"]) for p in pages(
        shared_collector, "export/metrics", {"projectId": pid, "runId": run, "startMs": 0,
                                             "endMs": 10**13, "limit": 250}) for r in p["rows"]]
    keys = ["flat", "spiky", "system/cpu"]
    assert rows == [(k, s) for k in keys for s in range(300)]


def test_export_metrics_csv(shared_collector: CollectorProcess) -> None:
    """CSV export has one header, guards formula-like keys and carries the cursor in a header."""
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "metrics", {"points": [
        point(pid, run, "=cmd,x", s, -0.5 * s, ts=s) for s in range(3)]})
    body = {"projectId": pid, "runId": run, "startMs": 0, "endMs": 10, "limit": 2,
            "format": "csv"}
    status, headers, first = post(shared_collector, "export/metrics", body)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    cursor = headers["x-rundial-next-cursor"]
    status, headers, second = post(shared_collector, "export/metrics", {**body, "cursor": cursor})
    assert headers["x-rundial-next-cursor"] == ""
    table = list(csv.reader(io.StringIO((first + second).decode())))
    assert table == [["metricKey", "step", "timestampMs", "value"], ["'=cmd,x", "0", "0", "-0.0"],
                     ["'=cmd,x", "1", "1", "-0.5"], ["'=cmd,x", "2", "2", "-1.0"]]


def _lines(pid: str, run: str) -> list[dict[str, object]]:
    levels = ["debug", "info", "warn", "error"]
    return [{"projectId": pid, "runId": run, "timestampMs": 1000 + i // 2, "sequence": i + 1,
             "level": levels[i % 4], "message": f"msg {i} {'needle' if i % 3 == 0 else ''}",
             "truncated": False} for i in range(20)]


def test_query_logs_newest_first_with_filters(shared_collector: CollectorProcess) -> None:
    """query/logs pages newest first and applies minLevel and the text filter."""
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "logs", {"lines": _lines(pid, run)})
    body = {"projectId": pid, "runId": run, "limit": 3, "minLevel": "warn", "text": "needle",
            "order": "desc"}
    rows = [r for p in pages(shared_collector, "query/logs", body) for r in p["rows"]]
    expected = [i for i in range(19, -1, -1) if i % 4 >= 2 and i % 3 == 0]
    assert [r["sequence"] - 1 for r in rows] == expected
    assert all(r["level"] in ("warn", "error") for r in rows)


def test_export_logs_window_json_and_csv(shared_collector: CollectorProcess) -> None:
    """export/logs returns the window oldest first, paged, as JSON or CSV."""
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "logs", {"lines": _lines(pid, run)})
    body = {"projectId": pid, "runId": run, "startMs": 1002, "endMs": 1004, "limit": 4}
    rows = [r for p in pages(shared_collector, "export/logs", body) for r in p["rows"]]
    assert [r["sequence"] for r in rows] == [5, 6, 7, 8, 9, 10]
    status, headers, text = post(shared_collector, "export/logs",
                                 {**body, "limit": 100, "format": "csv"})
    assert status == 200 and headers["x-rundial-next-cursor"] == ""
    table = list(csv.reader(io.StringIO(text.decode())))
    assert table[0] == ["timestampMs", "sequence", "level", "message"]
    assert [row[1] for row in table[1:]] == ["5", "6", "7", "8", "9", "10"]


READS = [("query/series", {"metricKeys": ["k"]}),
         ("export/metrics", {"startMs": 0, "endMs": 1}),
         ("query/logs", {}), ("export/logs", {"startMs": 0, "endMs": 1})]


@pytest.mark.parametrize(("route", "extra"), READS)
def test_unknown_run_or_project_is_404(shared_collector: CollectorProcess, route: str,
                                       extra: dict[str, object]) -> None:
    """Reads of a run with neither a runs row nor data, or of an unknown project, answer 404."""
    pid = project_id(shared_collector)
    for project, run in ((pid, run_id()), ("prj_000000000000", run_id())):
        status, _, payload = post(shared_collector, route,
                                  {"projectId": project, "runId": run, **extra})
        assert status == 404 and payload["error"]["code"] == "NOT_FOUND", payload


def test_started_run_without_data_reads_empty(shared_collector: CollectorProcess) -> None:
    """A started run with no data yet is known: its series are empty, not 404."""
    target = new_target(shared_collector)
    status, started = start_run(shared_collector, target)
    assert status == 201
    got = series(shared_collector, target.project_id, started["runId"], ["k"])
    assert got["k"]["points"] == []


@pytest.mark.parametrize(("route", "extra"), READS)
def test_reads_need_project_read_on_that_project(shared_collector: CollectorProcess,
                                                 route: str, extra: dict[str, object]) -> None:
    """A write-only key, or a key of another workspace, is refused with 403."""
    mine, theirs = new_target(shared_collector), new_target(shared_collector)
    run = run_id()
    ingest(shared_collector, "metrics", {"points": [point(mine.project_id, run, "k", 0, 1.0)]})
    write_only = new_key(shared_collector, mine, ["metrics:write"])["apiKey"]
    foreign = new_key(shared_collector, theirs, ["project:read"])["apiKey"]
    for key in (write_only, foreign):
        status, _, payload = post(shared_collector, route,
                                  {"projectId": mine.project_id, "runId": run, **extra}, key=key)
        assert status == 403 and payload["error"]["code"] == "FORBIDDEN", payload
