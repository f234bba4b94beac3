"""Columnar metric bodies against a real collector on both stores: the same rows sent as
columns and as wide JSON rows give the same replies and the same stored series (duplicate
steps inside and across requests included); idempotency and authorisation as for rows."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.collector.control import assert_error, new_key, new_target
from tests.collector.dataplane import ingest, post, project_id, run_id, series, steps_values
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.columns_body import CONTENT_TYPE, columns_body, rows_as_columns
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

Rows = list[tuple[int, int, dict[str, float]]]
STEPS = st.integers(-1, 5) | st.just(2**63 - 1)
VALUES = st.floats(-1e9, 1e9) | st.sampled_from([math.nan, math.inf, -math.inf, -0.0])


@st.composite
def requests(draw: st.DrawFn) -> list[tuple[int | None, Rows]]:
    """1-3 requests of uniform rows (one key set each), with an optional rank."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        keys = draw(st.lists(st.sampled_from(["a", "b", "c/d"]), min_size=1, max_size=3,
                             unique=True))
        rows = [(draw(STEPS), draw(st.integers(-1, 10**12)), {k: draw(VALUES) for k in keys})
                for _ in range(draw(st.integers(1, 12)))]
        out.append((draw(st.none() | st.integers(0, 3)), rows))
    return out


def _send_rows(proc: CollectorProcess, target: dict[str, Any], rows: Rows) -> dict[str, Any]:
    """The wide-rows JSON twin. JSON has no NaN or infinity: a non-finite value is sent as
    the out-of-range number ``1e999``/``-1e999``, which the rows path rejects as non-finite."""
    def number(v: float) -> str:
        return repr(v) if math.isfinite(v) else ("-1e999" if v < 0 else "1e999")
    text = ",".join(f"[{s},{t},{{{','.join(f'{json.dumps(k)}:{number(v)}' for k, v in d.items())}}}]"
                    for s, t, d in rows)
    raw = json.dumps(target)[:-1] + f',"rows":[{text}]}}'
    return ingest(proc, "metrics", None, raw=raw.encode(),
                  headers={"Content-Type": "application/json"})


def _send_columns(proc: CollectorProcess, target: dict[str, Any], rows: Rows,
                  **kwargs: Any) -> dict[str, Any]:
    return ingest(proc, "metrics", None, raw=rows_as_columns(target, rows), gzip_body=True,
                  headers={"Content-Type": CONTENT_TYPE, **kwargs.pop("headers", {})}, **kwargs)


def _reply(reply: dict[str, Any]) -> tuple[Any, ...]:
    return reply["accepted"], reply["rejected"], reply.get("errors")


@given(requests())
@settings(max_examples=25)
def test_columns_store_what_wide_rows_store(shared_collector: CollectorProcess,
                                           batches: list[tuple[int | None, Rows]]) -> None:
    proc = shared_collector
    pid, as_rows, as_columns = project_id(proc), run_id(), run_id()
    for rank, rows in batches:
        extra = {} if rank is None else {"rank": rank}
        by_rows = _send_rows(proc, {"projectId": pid, "runId": as_rows, **extra}, rows)
        by_columns = _send_columns(proc, {"projectId": pid, "runId": as_columns, **extra}, rows)
        assert _reply(by_columns) == _reply(by_rows)
    for rank in (None, 0, 1, 2, 3):
        assert _stored(proc, pid, as_columns, rank) == _stored(proc, pid, as_rows, rank)


def _stored(proc: CollectorProcess, pid: str, run: str, rank: int | None) -> Any:
    """The run's series (of one rank), or the error code when nothing made the run exist."""
    body = {"projectId": pid, "runId": run, "metricKeys": ["a", "b", "c/d"],
            "range": "full_run", "maxPointsPerSeries": 1000, "order": "asc",
            **({} if rank is None else {"rank": rank})}
    status, _, payload = post(proc, "query/series", body)
    return (status, payload["series"] if status == 200 else payload["error"]["code"])


def test_idempotency_key_repeat_of_columns_stores_nothing(shared_collector: CollectorProcess
                                                          ) -> None:
    proc = shared_collector
    pid, run = project_id(proc), run_id()
    rows = [(s, 1_000 + s, {"a": float(s), "b": -float(s)}) for s in range(50)]
    headers = {"Idempotency-Key": f"cols-{run}"}
    target = {"projectId": pid, "runId": run}
    assert _send_columns(proc, target, rows, headers=headers)["accepted"] == 100
    again = _send_columns(proc, target, rows, headers=headers, expect=200)
    assert again["duplicate"] is True and again["accepted"] == 100
    entry = series(proc, pid, run, ["a"], maxPointsPerSeries=100)["a"]
    assert entry["totalPoints"] == 50 and entry["supersededPoints"] == 0
    assert steps_values(entry) == [(s, float(s)) for s in range(50)]


def test_columns_need_metrics_write_on_the_body_project(shared_collector: CollectorProcess
                                                        ) -> None:
    """A key that may not write the body's project gets a 403 and nothing is stored; one that
    may stores by workspace and project slugs."""
    proc = shared_collector
    target = new_target(proc)
    reader = new_key(proc, target, ["project:read", "logs:write"])["apiKey"]
    writer = new_key(proc, target, ["metrics:write"])["apiKey"]
    run = run_id()
    slugs = {"workspace": target.workspace, "project": target.project, "runId": run}
    headers = {"Content-Type": CONTENT_TYPE}
    refused = columns_body(slugs, ["k"], [0, 1], [5, 6], [[9.0, 9.0]])
    status, _, payload = post(proc, "ingest/metrics", None, key=reader, raw=refused,
                              headers=headers)
    assert_error(status, payload, 403, "FORBIDDEN")
    raw = columns_body(slugs, ["k"], [0, 1], [5, 6], [[1.0, 2.0]])
    reply = ingest(proc, "metrics", None, key=writer, raw=raw, headers=headers)
    assert (reply["accepted"], reply["rejected"]) == (2, 0)
    entry = series(proc, target.project_id, run, ["k"])["k"]
    assert steps_values(entry) == [(0, 1.0), (1, 2.0)] and entry["supersededPoints"] == 0
