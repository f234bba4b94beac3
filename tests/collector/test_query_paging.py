"""Key paging of the read routes on a run with more keys than one page visits (issue #14.4).

Exports, ``full`` pages and ``tail``/``downsample`` replies without ``metricKeys`` must reach
every key of the run, paged, and say ``hasMore`` true while keys remain.
"""

from __future__ import annotations

import base64
import csv
import io
from typing import Any

import orjson
import pytest

from tests.collector.control import V1, assert_error, call, new_target
from tests.collector.dataplane import ingest, pages, post, project_id, run_id
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

USER_KEYS = [f"k{i:04d}" for i in range(1500)]
STEPS = (0, 1)


@pytest.fixture(scope="module")
def wide_run(shared_collector: CollectorProcess) -> tuple[str, str]:
    """A run with 1,500 user keys and ``system/cpu``, each at steps 0 and 1 (in a project of
    its own, so that project-wide key listings of other tests do not see them)."""
    pid, run = new_target(shared_collector).project_id, run_id()
    values = {key: 1.0 for key in [*USER_KEYS, "system/cpu"]}
    ingest(shared_collector, "metrics", {"projectId": pid, "runId": run,
                                         "rows": [[s, 1000 + s, values] for s in STEPS]})
    return pid, run


def test_export_without_metric_keys_exports_every_key(shared_collector: CollectorProcess,
                                                      wide_run: tuple[str, str]) -> None:
    """Every row of all 1,501 keys, alphabetically, whatever the page size."""
    pid, run = wide_run
    expected = [(key, s) for key in sorted([*USER_KEYS, "system/cpu"]) for s in STEPS]
    for limit in (1000, 100_000):
        body = {"projectId": pid, "runId": run, "startMs": 0, "endMs": 10**6, "limit": limit}
        replies = list(pages(shared_collector, "export/metrics", body))
        rows = [(r["metricKey"], r["step"]) for p in replies for r in p["rows"]]
        assert rows == expected
        assert all(p["page"]["hasMore"] for p in replies[:-1])


def test_csv_export_without_metric_keys_exports_every_key(
        shared_collector: CollectorProcess, wide_run: tuple[str, str]) -> None:
    """The CSV pages, followed by their cursor header, hold every key once."""
    pid, run = wide_run
    body: dict[str, Any] = {"projectId": pid, "runId": run, "startMs": 0, "endMs": 10**6,
                            "limit": 100_000, "format": "csv"}
    text = b""
    while True:
        status, headers, chunk = post(shared_collector, "export/metrics", body)
        assert status == 200, chunk
        text += chunk
        if not headers["x-rundial-next-cursor"]:
            break
        body["cursor"] = headers["x-rundial-next-cursor"]
    table = list(csv.reader(io.StringIO(text.decode())))
    assert len(table) == 1 + 1501 * len(STEPS) and table[-1][0] == "system/cpu"


def test_full_mode_without_metric_keys_pages_every_key(shared_collector: CollectorProcess,
                                                       wide_run: tuple[str, str]) -> None:
    """``full`` walks every key in metrics/keys order (user keys, then system/ keys)."""
    pid, run = wide_run
    body = {"projectId": pid, "runId": run, "mode": "full", "maxPointsPerSeries": 100_000}
    entries = [e for p in pages(shared_collector, "query/series", body) for e in p["series"]]
    assert [e["metricKey"] for e in entries] == [*USER_KEYS, "system/cpu"]
    assert all([p["step"] for p in e["points"]] == list(STEPS) for e in entries)


@pytest.mark.parametrize("mode", ["tail", "downsample"])
def test_shaped_reads_without_metric_keys_page_the_keys(shared_collector: CollectorProcess,
                                                        wide_run: tuple[str, str],
                                                        mode: str) -> None:
    """Without metricKeys a tail/downsample reply carries at most 1,000 keys and a page that
    leads to the rest (it used to stop at 1,000 keys without saying so)."""
    pid, run = wide_run
    body = {"projectId": pid, "runId": run, "mode": mode, "maxPointsPerSeries": 5}
    replies = list(pages(shared_collector, "query/series", body))
    assert [len(p["series"]) for p in replies] == [1000, 501]
    assert [e["metricKey"] for p in replies for e in p["series"]] == [*USER_KEYS, "system/cpu"]


def test_full_pages_have_no_entry_for_keys_without_points(
        shared_collector: CollectorProcess) -> None:
    """A key with no points in a page has no entry in it (not an empty one)."""
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "metrics", {"projectId": pid, "runId": run, "rows": [
        [s, 1000 + s, {"a": 1.0, "b": 2.0}] for s in range(3)]})
    body = {"projectId": pid, "runId": run, "mode": "full", "maxPointsPerSeries": 3,
            "metricKeys": ["a", "nothing", "b"]}
    replies = list(pages(shared_collector, "query/series", body))
    assert [[(e["metricKey"], len(e["points"])) for e in p["series"]] for p in replies] == [
        [("a", 3)], [("b", 3)]]


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


PAGED_READS = [("query/series", {"mode": "full"}), ("query/series", {"mode": "tail"}),
               ("export/metrics", {"startMs": 0, "endMs": 10**6})]


@pytest.mark.parametrize(("route", "extra"), PAGED_READS)
def test_foreign_key_cursors_are_400(shared_collector: CollectorProcess, route: str,
                                     extra: dict[str, Any]) -> None:
    """A key cursor with a step outside [-1, 2**63 - 1] or of the wrong type is a 400 naming
    ``cursor``, never a 500; so is (with metricKeys) a key that was not asked for."""
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "metrics", {"projectId": pid, "runId": run,
                                         "rows": [[0, 1000, {"a": 1.0}]]})
    body = {"projectId": pid, "runId": run, **extra}
    for values in (["a", 2**63], ["a", -2], ["a", "1"], [1, 1], ["a", 1, 2]):
        status, _, reply = post(shared_collector, route, {**body, "cursor": _cursor(values)})
        assert_error(status, reply, 400, "INVALID_REQUEST", "cursor")
    if extra.get("mode") != "tail":  # a tail reply with metricKeys has no pages
        status, _, reply = post(shared_collector, route, {**body, "metricKeys": ["a"],
                                                          "cursor": _cursor(["b", -1])})
        assert_error(status, reply, 400, "INVALID_REQUEST", "cursor")


@pytest.mark.parametrize(("route", "values"), [
    ("metrics/keys", [2**63]), ("query/logs", [2**63, 1, 1]), ("export/logs", [1, 1, 2**64 - 1]),
    ("query/logs", [True, 1, 1])])
def test_out_of_range_offset_and_log_cursors_are_400(shared_collector: CollectorProcess,
                                                     route: str, values: list[Any]) -> None:
    """Cursor numbers that SQLite cannot bind (past int64, still valid JSON for our decoder) are a
    400 naming ``cursor`` (they were a 500)."""
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "metrics", {"projectId": pid, "runId": run,
                                         "rows": [[0, 1000, {"a": 1.0}]]})
    if route == "metrics/keys":
        status, reply = call(shared_collector, "GET", f"{V1}/metrics/keys?projectId={pid}"
                             f"&runId={run}&cursor={_cursor(values)}")
    else:
        status, _, reply = post(shared_collector, route, {
            "projectId": pid, "runId": run, "startMs": 0, "endMs": 10**6,
            "cursor": _cursor(values)})
    assert_error(status, reply, 400, "INVALID_REQUEST", "cursor")
