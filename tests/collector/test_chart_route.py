"""``POST /api/v1/query/chart`` against a real collector: the same exact buckets as the naive
model (:mod:`tests.collector.test_chart_read`) over HTTP, empty entries, access and bad input."""

from __future__ import annotations

import math
import re
import sqlite3
from contextlib import closing
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rundial_collector.routes.chart import chart_body
from rundial_collector.store.chart_math import Blocks
from rundial_collector.store.data_base import ChartSeries
from rundial_collector.store.series_math import Points
from tests.collector.control import new_key, new_target
from tests.collector.dataplane import database, ingest, point, post, project_id, run_id
from tests.collector.series_model import Point
from tests.collector.test_chart_read import MAX64, check
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

ROUTE = "query/chart"


def chart(proc: CollectorProcess, body: dict[str, Any], key: str | None = "admin"
          ) -> tuple[int, Any]:
    status, _, payload = post(proc, ROUTE, body, key=key)
    return status, payload


def as_series(entry: dict[str, Any]) -> ChartSeries:
    """A reply entry back as the store's :class:`ChartSeries` (null → NaN)."""
    def ints(name: str) -> np.ndarray:
        return np.array(entry[name], np.int64)

    def floats(name: str) -> np.ndarray:
        return np.array([math.nan if v is None else v for v in entry[name]], np.float64)

    raw = buckets = None
    if entry["mode"] == "raw":
        raw = Points(ints("steps"), floats("values"), ints("timestampsMs"))
    else:
        buckets = Blocks(ints("stepStart"), ints("stepEnd"), ints("count"),
                         ints("lastTimestampMs"), floats("min"), floats("max"), floats("last"))
    return ChartSeries(True, entry["pointsLogged"], entry["pointsInRange"],
                       entry["duplicatesResolved"], entry["firstStep"], entry["lastStep"], raw,
                       buckets)


def log_chunks(proc: CollectorProcess, pid: str, run: str, key: str,
               chunks: list[list[tuple[int, float]]]) -> list[Point]:
    """One ingest request (so one stored chunk) per list; the raw points in ingest order."""
    raw: list[Point] = []
    for number, chunk in enumerate(chunks):
        pts = [point(pid, run, key, s, v, ts=number * 1000 + i) for i, (s, v) in enumerate(chunk)]
        ingest(proc, "metrics", {"points": pts})
        raw += [(s, v, number * 1000 + i) for i, (s, v) in enumerate(chunk)]
    return raw


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[list[tuple[int, float]]], int | None, int | None, int]:
    base = draw(st.sampled_from([0, MAX64 - 300]))  # steps over HTTP are 0..2^63-1
    step = st.integers(0, 300)
    chunk = st.lists(st.tuples(step, st.floats(-1e6, 1e6)), min_size=1, max_size=60)
    chunks = [[(base + s, v) for s, v in c] for c in draw(st.lists(chunk, min_size=1,
                                                                  max_size=5))]
    bounds = sorted(draw(st.lists(step, min_size=2, max_size=2)))
    start, end = (None, None) if draw(st.booleans()) else (base + bounds[0], base + bounds[1])
    return chunks, start, end, draw(st.integers(1, 25))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases())
def test_chart_over_http_matches_the_model(shared_collector: CollectorProcess,
                                           case: tuple[list[list[tuple[int, float]]],
                                                       int | None, int | None, int]) -> None:
    chunks, start, end, buckets = case
    pid, run = project_id(shared_collector), run_id()
    raw = log_chunks(shared_collector, pid, run, "loss", chunks)
    status, payload = chart(shared_collector, {
        "projectId": pid, "buckets": buckets, "startStep": start, "endStep": end,
        "series": [{"runId": run, "metricKey": "loss"}]})
    assert status == 200, payload
    (entry,) = payload["series"]
    assert (entry["runId"], entry["metricKey"]) == (run, "loss")
    check(as_series(entry), raw, start, end, buckets, exact_cells=False)


def test_many_series_in_one_request_in_order(shared_collector: CollectorProcess) -> None:
    """Long series come back bucketed from stored aggregates, short ones raw, in order."""
    pid, runs = project_id(shared_collector), [run_id(), run_id()]
    raws = {}
    for n, run in enumerate(runs):
        rows = [[s, 1_700_000_000_000 + s, {"a": math.sin(s / 50) * (n + 1), "b": float(s)}]
                for s in range(5000)]
        rows += [[s, 1_800_000_000_000 + s, {"a": -5.0}] for s in range(1000, 1100)]  # resume
        ingest(shared_collector, "metrics", {"projectId": pid, "runId": run, "rows": rows[:5000]})
        ingest(shared_collector, "metrics", {"projectId": pid, "runId": run, "rows": rows[5000:]})
        raws[run] = [(r[0], r[2]["a"], r[1]) for r in rows]
    refs = [{"runId": r, "metricKey": "a"} for r in runs] + [{"runId": runs[0], "metricKey": "b"}]
    status, payload = chart(shared_collector, {"projectId": pid, "buckets": 40, "series": refs})
    assert status == 200, payload
    got = payload["series"]
    assert [(e["runId"], e["metricKey"]) for e in got] == [(r["runId"], r["metricKey"])
                                                           for r in refs]
    for run, entry in zip(runs, got):
        assert entry["mode"] == "buckets" and entry["duplicatesResolved"] == 100
        check(as_series(entry), raws[run], None, None, 40, exact_cells=False)
    status, zoom = chart(shared_collector, {"projectId": pid, "buckets": 1000, "startStep": 1050,
                                            "endStep": 1449, "series": refs[:1]})
    assert status == 200 and zoom["series"][0]["mode"] == "raw"
    assert zoom["series"][0]["steps"] == list(range(1050, 1450))
    assert zoom["series"][0]["values"][:50] == [-5.0] * 50


def test_unknown_run_or_key_is_an_empty_entry(shared_collector: CollectorProcess) -> None:
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "metrics", {"points": [point(pid, run, "k", 1, 1.0)]})
    status, payload = chart(shared_collector, {"projectId": pid, "series": [
        {"runId": run_id(), "metricKey": "k"}, {"runId": run, "metricKey": "nope"},
        {"runId": run, "metricKey": "k"}]})
    assert status == 200, payload
    unknown, no_key, single = payload["series"]
    assert (unknown["mode"], unknown["reason"]) == ("empty", "unknown run")
    assert (no_key["mode"], no_key["reason"]) == ("empty", "no points logged for this key")
    assert (single["mode"], single["steps"], single["values"]) == ("raw", [1], [1.0])


BAD = [({"buckets": 0}, "buckets"), ({"buckets": 4001}, "buckets"), ({"series": []}, "series"),
       ({"series": [{"runId": "r", "metricKey": "k"}] * 401}, "series"),
       ({"series": [{"runId": "r", "metricKey": "k"}] * 300, "buckets": 4000}, "buckets"),
       ({"startStep": 5, "endStep": 4}, "endStep"), ({"startStep": 2**63}, "startStep"),
       ({"x": "wall"}, "x"), ({"series": [{"runId": "", "metricKey": "k"}]}, "series[0]"),
       ({"series": [{"runId": "r"}]}, "metricKey"), ({"buckets": "many"}, "buckets")]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_is_a_400_naming_the_field(shared_collector: CollectorProcess,
                                             change: dict[str, Any], field: str) -> None:
    body = {"projectId": project_id(shared_collector), "buckets": 10,
            "series": [{"runId": "r", "metricKey": "k"}], **change}
    status, payload = chart(shared_collector, body)
    assert status == 400, payload
    assert payload["error"]["code"] == "INVALID_REQUEST" and field in str(payload["error"])


def test_chart_needs_project_read(shared_collector: CollectorProcess) -> None:
    mine = new_target(shared_collector)
    write_only = new_key(shared_collector, mine, ["metrics:write"])["apiKey"]
    body = {"projectId": mine.project_id, "series": [{"runId": "r", "metricKey": "k"}]}
    assert chart(shared_collector, body, key=write_only)[0] == 403
    assert chart(shared_collector, body, key=None)[0] == 401


def test_a_database_from_before_aggregates_is_migrated(collector: CollectorProcess) -> None:
    """A database without the aggregates table (an older collector's) gains it at start; its
    chunks are charted from raw points and new chunks get aggregates."""
    pid, run = project_id(collector), run_id()
    rows = [[s, 1_700_000_000_000 + s, {"k": float(s % 50)}] for s in range(3000)]
    ingest(collector, "metrics", {"projectId": pid, "runId": run, "rows": rows})
    collector.stop()
    with closing(sqlite3.connect(collector.data_dir / "rundial.sqlite3")) as conn:
        conn.execute("DROP TABLE metric_chunk_aggs")
        conn.commit()
    collector.start()
    more = [[s, 1_700_000_000_000 + s, {"k": -1.0}] for s in range(3000, 6000)]
    ingest(collector, "metrics", {"projectId": pid, "runId": run, "rows": more})
    status, payload = chart(collector, {"projectId": pid, "buckets": 30,
                                        "series": [{"runId": run, "metricKey": "k"}]})
    assert status == 200, payload
    raw = [(r[0], r[2]["k"], r[1]) for r in rows + more]
    check(as_series(payload["series"][0]), raw, None, None, 30, exact_cells=False)
    with database(collector) as conn:
        assert conn.execute("SELECT count(*) FROM metric_chunk_aggs").fetchone()[0] == 1


def test_nan_buckets_render_as_null() -> None:
    nan = np.array([math.nan])
    one = np.array([1], np.int64)
    series = ChartSeries(True, 1, 1, 0, 0, 0, None, Blocks(one, one, one, one, nan, nan, nan))
    assert orjson.loads(orjson.dumps(chart_body(series), option=orjson.OPT_SERIALIZE_NUMPY)
                        )["min"] == [None]


def test_answers_say_where_the_server_time_went(shared_collector: CollectorProcess) -> None:
    """``Server-Timing``: the chart route's phases (store, smooth, render) and ``total``, each
    ``name;dur=<ms>`` with the phases within the total; other answers, errors and UI files
    included, carry ``total``."""
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "metrics", {"points": [point(pid, run, "a", s, float(s))
                                                    for s in range(50)]})
    status, headers, payload = post(shared_collector, ROUTE, {
        "projectId": pid, "buckets": 10, "series": [{"runId": run, "metricKey": "a"}]})
    assert status == 200, payload
    timings = dict(item.strip().split(";dur=") for item in headers["Server-Timing"].split(","))
    assert list(timings) == ["store", "smooth", "render", "total"], headers["Server-Timing"]
    ms = {name: float(value) for name, value in timings.items()}
    assert all(value >= 0 for value in ms.values())
    assert ms["store"] + ms["smooth"] + ms["render"] <= ms["total"] + 0.3  # each rounded to 0.1
    status, headers, _ = post(shared_collector, ROUTE, {"projectId": pid, "buckets": 0,
                                                        "series": []})
    assert status == 400 and re.fullmatch(r"total;dur=\d+\.\d", headers["Server-Timing"])
    status, headers, _ = request("GET", shared_collector.url + "/login")
    assert status == 200 and re.fullmatch(r"total;dur=\d+\.\d", headers["Server-Timing"])
