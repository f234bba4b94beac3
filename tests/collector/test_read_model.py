"""Model-based test of the read paths (issue 14, "Tests").

Random sequences of ingest requests (rc1 ``points`` and wide ``rows``; duplicate steps within
and across requests; contexts and project spellings, slug or ``prj_`` id, mixed inside one
request; out-of-order steps, steps near 2**62 and 2**63 - 1; rejected items) go to a real
collector, and every read path (``metrics/keys``, ``tail``, ``downsample``, ``full`` pages and
``export/metrics``) is compared with a naive model: per key, the accepted items in the order
they were sent, the last one of each step winning.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.collector.control import V1, call
from tests.collector.dataplane import ingest, pages, post, project_id, run_id
from tests.collector.series_model import Point, downsample_model, resolve_model
from tests.helpers.collector_proc import CollectorProcess

KEYS = ["a", "Z", "b/c", "system/cpu", "system/gpu.0.util"]
INT64_MAX = 2**63 - 1
# Steps of one example crowd into a narrow band (at 0, just below 2**62 or at the top of int64,
# where float64 cannot tell neighbouring steps apart), so duplicates are frequent; now and then
# a far step from another band, or -1, which is rejected (the item, or the whole wide row).
BAND = st.shared(st.sampled_from([0, 2**62 - 10, INT64_MAX - 30]), key="band")
STEPS = st.one_of(BAND.flatmap(lambda low: st.integers(low, low + 30)),
                  st.sampled_from([0, 2**62, INT64_MAX, -1]))
VALUES = st.floats(allow_nan=False, allow_infinity=False) | st.none()  # null is rejected
CONTEXTS = st.sampled_from([None, {"phase": "train"}, {"split": "a"}])
SPELLINGS = st.sampled_from(["id", "slug"])
TIMESTAMPS = st.integers(1000, 1030)

ITEM = st.tuples(st.sampled_from(KEYS), STEPS, VALUES, TIMESTAMPS, CONTEXTS, SPELLINGS)
# Variants of an item: the same key and step again, with another value, time, context and
# project spelling (so a series is split across contexts and spellings inside one request).
RESENDS = st.lists(st.tuples(st.integers(0, 63), VALUES, TIMESTAMPS, CONTEXTS, SPELLINGS),
                   max_size=8)


def _with_resends(items: list[Any]) -> st.SearchStrategy[list[Any]]:
    """``items`` plus re-sent variants of some of them, in a random order."""
    return RESENDS.map(lambda resends: items + [
        (*items[i % len(items)][:2], value, ts, context, spelling)
        for i, value, ts, context, spelling in resends]).flatmap(st.permutations)


point_items = st.lists(ITEM, min_size=1, max_size=8).flatmap(_with_resends)
wide_rows = st.tuples(SPELLINGS, st.lists(st.tuples(
    STEPS, TIMESTAMPS, st.dictionaries(st.sampled_from(KEYS), VALUES, min_size=1)),
    min_size=1, max_size=5))
# A dense run of consecutive steps of the band (out of order), so that downsampling has more
# points than its budget where float64 cannot tell the steps apart.
dense_rows = BAND.flatmap(lambda low: st.tuples(SPELLINGS, st.lists(st.tuples(
    TIMESTAMPS, st.dictionaries(st.sampled_from(KEYS), VALUES, min_size=1)),
    min_size=12, max_size=31).flatmap(lambda cells: st.permutations(
        [(low + i, ts, values) for i, (ts, values) in enumerate(cells)]))))
requests = st.lists(st.one_of(point_items.map(lambda items: ("points", items)),
                              wide_rows.map(lambda rows: ("rows", rows)),
                              dense_rows.map(lambda rows: ("rows", rows))),
                    min_size=1, max_size=5)


@dataclass
class Model:
    """Accepted raw points per key, in the order the collector must apply them."""

    raw: dict[str, list[Point]] = field(default_factory=dict)

    def accept(self, key: str, step: int, value: float | None, ts: int) -> None:
        if value is not None and step >= 0:
            self.raw.setdefault(key, []).append((step, float(value), ts))

    def keys(self) -> list[str]:
        """Keys with data in metrics/keys order: user keys, then system/ keys."""
        return sorted(self.raw, key=lambda k: (k.startswith("system/"), k))

    def resolved(self, key: str) -> list[Point]:
        return resolve_model(self.raw.get(key, []))


def _send(proc: CollectorProcess, run: str, spell: dict[str, str], kind: str, body: Any,
          model: Model) -> None:
    """Ingest one request and record what the model says it accepts."""
    if kind == "points":
        items = []
        for key, step, value, ts, context, spelling in body:
            items.append({"projectId": spell[spelling], "runId": run, "metricKey": key,
                          "step": step, "timestampMs": ts, "value": value,
                          **({"context": context} if context else {})})
            model.accept(key, step, value, ts)
        ingest(proc, "metrics", {"points": items})
        return
    spelling, rows = body
    for step, ts, values in rows:
        for key, value in values.items():
            model.accept(key, step, value, ts)
    ingest(proc, "metrics", {"projectId": spell[spelling], "runId": run,
                             "rows": [[step, ts, values] for step, ts, values in rows]})


def _triples(points: list[dict[str, Any]]) -> list[Point]:
    return [(p["step"], p["value"], p["timestampMs"]) for p in points]


def _check_keys(proc: CollectorProcess, pid: str, run: str, model: Model) -> None:
    query = urllib.parse.urlencode({"projectId": pid, "runId": run, "limit": 1000})
    status, reply = call(proc, "GET", f"{V1}/metrics/keys?{query}")
    assert status == 200, reply
    assert reply["keys"] == [
        {"metricKey": k, "pointCount": len(model.raw[k]),
         "lastStep": max(s for s, _, _ in model.raw[k]),
         "lastTimestampMs": max(t for _, _, t in model.raw[k])} for k in model.keys()]


def _check_shaped(proc: CollectorProcess, pid: str, run: str, model: Model, budget: int) -> None:
    """tail (every key asked for, data or not) and downsample (keys omitted)."""
    status, _, tail = post(proc, "query/series", {"projectId": pid, "runId": run,
                                                  "metricKeys": KEYS,
                                                  "maxPointsPerSeries": budget})
    assert status == 200, tail
    for entry in tail["series"]:
        key, resolved = entry["metricKey"], model.resolved(entry["metricKey"])
        assert _triples(entry["points"]) == resolved[-budget:], key
        assert entry["totalPoints"] == len(resolved), key
        assert entry["supersededPoints"] == len(model.raw.get(key, [])) - len(resolved), key
    assert [e["metricKey"] for e in tail["series"]] == KEYS
    status, _, down = post(proc, "query/series", {"projectId": pid, "runId": run,
                                                  "mode": "downsample",
                                                  "maxPointsPerSeries": budget})
    assert status == 200, down
    assert [(e["metricKey"], _triples(e["points"])) for e in down["series"]] == [
        (k, downsample_model(model.resolved(k), budget)) for k in model.keys()]
    assert down["page"]["hasMore"] is False


def _check_full(proc: CollectorProcess, pid: str, run: str, model: Model, limit: int) -> None:
    """Full pages of every key of the run, and of every key of KEYS (with or without data)."""
    for keys, order in ((None, model.keys()), (KEYS, KEYS)):
        body = {"projectId": pid, "runId": run, "mode": "full", "maxPointsPerSeries": limit,
                **({"metricKeys": keys} if keys else {})}
        got: list[tuple[str, Point]] = []
        for page in pages(proc, "query/series", body):
            assert sum(len(e["points"]) for e in page["series"]) <= limit
            assert all(e["points"] for e in page["series"])  # no entry without points
            got += [(e["metricKey"], p) for e in page["series"] for p in _triples(e["points"])]
        assert got == [(k, p) for k in order for p in model.resolved(k)]


def _check_export(proc: CollectorProcess, pid: str, run: str, model: Model, limit: int,
                  window: tuple[int, int]) -> None:
    body = {"projectId": pid, "runId": run, "startMs": window[0], "endMs": window[1],
            "limit": limit}
    rows = [(r["metricKey"], (r["step"], r["value"], r["timestampMs"]))
            for page in pages(proc, "export/metrics", body) for r in page["rows"]]
    assert rows == [(k, p) for k in sorted(model.raw) for p in model.resolved(k)
                    if window[0] <= p[2] <= window[1]]


TRAIN = {"phase": "train"}


@given(requests, st.integers(1, 12), st.integers(1, 5), TIMESTAMPS, TIMESTAMPS)
@example([("points", [("a", 1, 1.0, 1000, TRAIN, "id"), ("a", 1, 2.0, 1001, None, "id"),
                      ("a", 1, 3.0, 1002, TRAIN, "id")])], 3, 2, 1000, 1030)  # issue 14.3
@example([("points", [("a", 1, 1.0, 1000, None, "id"), ("a", 1, 2.0, 1001, None, "slug"),
                      ("a", 1, 3.0, 1002, None, "id")])], 3, 2, 1000, 1030)  # issue 14.3
# Each example costs about 15 requests: no shrinking (a failure is reported as generated, within
# the test timeout), and the known reproductions of issue 14.3 always run first.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
def test_every_read_path_matches_the_last_item_wins_model(
        shared_collector: CollectorProcess, sent: list[tuple[str, Any]], budget: int,
        page_limit: int, start_ms: int, end_ms: int) -> None:
    """Whatever was sent, in whatever order and spelling, each read path answers as the model."""
    pid, run = project_id(shared_collector), run_id()
    status, started = call(shared_collector, "POST", f"{V1}/runs/start", {
        "projectId": pid, "runId": run, "kind": "training", "resume": "never",
        "client": {"name": "model-test", "version": "0"}})
    assert status == 201, started
    spell = {"id": pid, "slug": shared_collector.project}
    model = Model()
    for kind, body in sent:
        _send(shared_collector, run, spell, kind, body, model)
    _check_keys(shared_collector, pid, run, model)
    _check_shaped(shared_collector, pid, run, model, budget)
    _check_full(shared_collector, pid, run, model, page_limit)
    _check_export(shared_collector, pid, run, model, page_limit,
                  (min(start_ms, end_ms), max(start_ms, end_ms)))
