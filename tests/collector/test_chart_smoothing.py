"""Server-side chart smoothing (docs/protocol.md §4.8 ``smoothing``): the golden vectors the JS
smoother shares (tests/golden/smoothing.json), exactness against plain loops, and the route."""

from __future__ import annotations

import json
import math
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rundial_collector.query.chart_smooth import debiased_ema, running_mean
from rundial_collector.query.chart_smoothing import ResolvedCache
from rundial_collector.store.series_math import Points
from tests.collector.dataplane import ingest, post, project_id, run_id
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "smoothing.json").read_text())
TOLERANCE = GOLDEN["relativeTolerance"]


def ema_loop(values: list[float], weight: float) -> list[float]:
    """The definition, one point at a time (TensorBoard's debiased EMA over finite points)."""
    out, y, seen, last = [], 0.0, 0, math.nan
    for x in values:
        if math.isfinite(x):
            y, seen = weight * y + (1 - weight) * x, seen + 1
            last = y / (1 - weight ** seen)
        out.append(last)
    return out


def mean_loop(values: list[float], window: int) -> list[float]:
    """The definition: the exact mean of the last ``window`` finite points, at every point."""
    out: list[float] = []
    kept: deque[float] = deque(maxlen=window)
    last = math.nan
    for x in values:
        if math.isfinite(x):
            kept.append(x)
            last = math.fsum(kept) / len(kept)
        out.append(last)
    return out


def floats(values: list[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], np.float64)


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    assert np.array_equal(np.isnan(got), np.isnan(want))
    both = ~np.isnan(want)
    assert np.allclose(got[both], want[both], rtol=TOLERANCE, atol=0.0), (got, want)


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: c["name"])
def test_golden_vectors(case: dict[str, Any]) -> None:
    values, spec = floats(case["values"]), case["smoothing"]
    got = (debiased_ema(values, spec["weight"]) if spec["kind"] == "ema"
           else running_mean(values, spec["windowPoints"]))
    assert_close(got, floats(case["expected"]))


values_strategy = st.lists(st.one_of(st.floats(-1e3, 1e3), st.just(math.nan)), max_size=3000)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(values_strategy, st.sampled_from([0.0, 1e-80, 0.001, 0.3, 0.6, 0.9, 0.99, 0.999, 0.9999]),
       st.floats(1.0, 10.0))
def test_blockwise_ema_equals_the_loop(values: list[float], weight: float, offset: float
                                       ) -> None:
    shifted = [v + 2e3 * offset for v in values]  # away from 0, so relative error is meaningful
    assert_close(debiased_ema(np.array(shifted), weight), np.array(ema_loop(shifted, weight)))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(values_strategy, st.integers(1, 700))
def test_blockwise_mean_equals_the_loop(values: list[float], window: int) -> None:
    shifted = [v + 5e3 for v in values]
    assert_close(running_mean(np.array(shifted), window), np.array(mean_loop(shifted, window)))


def test_long_series_stays_exact() -> None:
    """Many blocks (and a second scan level) over 200k points, against the loop."""
    rng = np.random.default_rng(7)
    values = rng.normal(10.0, 1.0, 200_000)
    values[rng.integers(0, values.size, 5000)] = np.nan
    listed = values.tolist()
    for weight in (0.6, 0.999):
        assert_close(debiased_ema(values, weight), np.array(ema_loop(listed, weight)))
    assert_close(running_mean(values, 1000), np.array(mean_loop(listed, 1000)))


def chart(proc: CollectorProcess, body: dict[str, Any]) -> tuple[int, Any]:
    status, _, payload = post(proc, "query/chart", body)
    return status, payload


def log_series(proc: CollectorProcess, values: list[float]) -> tuple[str, str]:
    pid, run = project_id(proc), run_id()
    rows = [[s, 1_700_000_000_000 + s, {"k": v}] for s, v in enumerate(values)]
    for i in range(0, len(rows), 5000):
        ingest(proc, "metrics", {"projectId": pid, "runId": run, "rows": rows[i:i + 5000]})
    return pid, run


def test_route_smooths_full_resolution(shared_collector: CollectorProcess) -> None:
    """Bucketed: the smoothed value at each bucket's last point, from every resolved point;
    zoomed raw: the same curve (smoothing starts at the series' start, not the zoom's)."""
    values = [math.sin(s / 40.0) * 3 + (s % 7) for s in range(12_000)]
    pid, run = log_series(shared_collector, values)
    series = [{"runId": run, "metricKey": "k"}, {"runId": run_id(), "metricKey": "k"}]
    want = ema_loop(values, 0.9)
    status, reply = chart(shared_collector, {"projectId": pid, "buckets": 50, "series": series,
                                             "smoothing": {"kind": "ema", "weight": 0.9}})
    assert status == 200, reply
    entry, unknown = reply["series"]
    assert entry["mode"] == "buckets" and unknown["mode"] == "empty"
    assert "smoothed" not in unknown
    assert_close(np.array(entry["smoothed"]), np.array([want[e] for e in entry["stepEnd"]]))
    status, zoom = chart(shared_collector, {
        "projectId": pid, "buckets": 500, "startStep": 6000, "endStep": 6199,
        "series": series[:1], "smoothing": {"kind": "mean", "windowPoints": 300}})
    assert status == 200 and zoom["series"][0]["mode"] == "raw"
    assert_close(np.array(zoom["series"][0]["smoothed"]),
                 np.array(mean_loop(values, 300)[6000:6200]))


def test_smoothed_only_leaves_out_the_points(shared_collector: CollectorProcess) -> None:
    pid, run = log_series(shared_collector, [float(s) for s in range(300)])
    status, reply = chart(shared_collector, {
        "projectId": pid, "buckets": 1000, "series": [{"runId": run, "metricKey": "k"}],
        "smoothing": {"kind": "ema", "weight": 0.5}, "smoothedOnly": True})
    assert status == 200, reply
    (entry,) = reply["series"]
    assert entry["mode"] == "raw" and "steps" not in entry and "values" not in entry
    assert entry["pointsInRange"] == 300 and len(entry["smoothed"]) == 300


BAD = [({"kind": "gauss"}, "smoothing.kind"), ({"kind": "ema"}, "smoothing.weight"),
       ({"kind": "ema", "weight": 1.0}, "smoothing.weight"),
       ({"kind": "ema", "weight": -0.1}, "smoothing.weight"),
       ({"kind": "mean", "windowPoints": 0}, "smoothing.windowPoints"),
       ({"kind": "mean", "windowPoints": 10**7}, "smoothing.windowPoints"),
       ({"kind": "mean", "windowPoints": 2.5}, "windowPoints"), (None, "smoothedOnly")]


@pytest.mark.parametrize(("smoothing", "field"), BAD)
def test_bad_smoothing_is_a_400(shared_collector: CollectorProcess, smoothing: Any,
                                field: str) -> None:
    body: dict[str, Any] = {"projectId": project_id(shared_collector),
                            "series": [{"runId": "r", "metricKey": "k"}], "smoothedOnly": True}
    if smoothing is not None:
        body["smoothing"] = smoothing
    status, reply = chart(shared_collector, body)
    assert status == 400, reply
    assert reply["error"]["code"] == "INVALID_REQUEST" and field in str(reply["error"])


def test_resolved_cache_is_bounded_and_least_recently_used_goes_first() -> None:
    def pts(n: int) -> Points:
        return Points(np.arange(n, dtype=np.int64), np.zeros(n), np.zeros(n, np.int64))

    cache = ResolvedCache(limit_points=10)
    cache.put(("a",), pts(4))
    cache.put(("b",), pts(4))
    assert cache.get(("a",)) is not None  # a is now the most recent
    cache.put(("c",), pts(4))  # 12 > 10: b goes
    assert cache.get(("b",)) is None and cache.get(("a",)) is not None
    cache.put(("huge",), pts(11))
    assert cache.get(("huge",)) is None


def test_smoothing_follows_new_points(shared_collector: CollectorProcess) -> None:
    """A slider move after more points were logged smooths them too (no stale cache)."""
    values = [float(s % 5) for s in range(3000)]
    pid, run = log_series(shared_collector, values)
    body = {"projectId": pid, "buckets": 30, "series": [{"runId": run, "metricKey": "k"}],
            "smoothing": {"kind": "mean", "windowPoints": 10}}
    first = chart(shared_collector, body)[1]["series"][0]
    more = [100.0] * 500
    ingest(shared_collector, "metrics", {"projectId": pid, "runId": run, "rows": [
        [3000 + i, 1_800_000_000_000 + i, {"k": v}] for i, v in enumerate(more)]})
    second = chart(shared_collector, body)[1]["series"][0]
    assert first["smoothed"][-1] != second["smoothed"][-1]
    assert second["smoothed"][-1] == pytest.approx(100.0)
