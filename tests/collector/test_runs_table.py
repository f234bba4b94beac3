"""The compact runs table route (docs/protocol.md §4.10): shape, keyset pages, the 10,000-run
bound, bad input, scopes; and a 10,000-run x 20-key project read through the store."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from rundial_collector.config import CollectorConfig
from rundial_collector.routes.runs_table import TABLE_MAX_RUNS, table_body
from rundial_collector.store.control_base import RunQuery, RunStart
from rundial_collector.store.sqlite.store import SQLiteStore
from tests.collector.control import (Target, assert_error, call, finish, new_key, new_target,
                                     start_run)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores


@pytest.fixture(scope="module")
def table_target(shared_collector: CollectorProcess) -> Target:
    """Three runs t0..t2 with overlapping config; t1 failed with a reason."""
    target = new_target(shared_collector)
    for index in range(3):
        config = {"lr": 10.0 ** -index, "opt": "adam", "summary.loss": index / 10}
        if index == 2:
            config["extra"] = [1, 2]
        status, payload = start_run(shared_collector, target, runId=f"t{index}-{target.project}",
                                    runName=f"t{index}", tags=[f"tag{index}"], group="g",
                                    config=config, startedAtMs=1_700_000_000_000 + index,
                                    client={"name": "x", "version": "1", "host": "gpu-1"})
        assert status == 201, payload
    finish(shared_collector, f"t1-{target.project}", "failed", reason="oom")
    return target


def _decode(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows as dicts (what the UI decodes)."""
    rows = []
    for i in range(payload["count"]):
        row = {name: column[i] for name, column in payload["columns"].items()}
        row["config"] = payload["config"][i]
        rows.append(row)
    return rows


def test_table_is_compact_and_complete(shared_collector: CollectorProcess,
                                       table_target: Target) -> None:
    """Columns hold every run newest first, with its config (summaries included)."""
    status, payload = call(shared_collector, "GET", f"{table_target.path}/runs-table")
    assert status == 200, payload
    assert payload["page"] == {"hasMore": False, "nextCursor": None}
    assert payload["projectId"] == table_target.project_id
    rows = _decode(payload)
    assert [row["runName"] for row in rows] == ["t2", "t1", "t0"]
    assert [row["status"] for row in rows] == ["running", "failed", "running"]
    assert rows[1]["reason"] == "oom" and rows[0]["host"] == "gpu-1"
    assert rows[0]["tags"] == ["tag2"] and rows[0]["group"] == "g"
    assert rows[0]["config"] == {"lr": 0.01, "opt": "adam", "summary.loss": 0.2, "extra": [1, 2]}
    assert rows[2]["config"] == {"lr": 1.0, "opt": "adam", "summary.loss": 0.0}


def test_table_pages_by_keyset_cursor(shared_collector: CollectorProcess,
                                      table_target: Target) -> None:
    """``limit`` pages follow each other without gaps or repeats."""
    names: list[str] = []
    path = f"{table_target.path}/runs-table?limit=2"
    for _ in range(3):
        status, payload = call(shared_collector, "GET", path)
        assert status == 200, payload
        names += [row["runName"] for row in _decode(payload)]
        if not payload["page"]["hasMore"]:
            break
        path = f"{table_target.path}/runs-table?limit=2&cursor={payload['page']['nextCursor']}"
    assert names == ["t2", "t1", "t0"]


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=x", "limit"), ("cursor=%%%", "cursor"),
    ("cursor=WyJhIiwiYiJd", "cursor"),  # ["a","b"]: not an int start
    ("cursor=WzEsMl0", "cursor"),  # [1,2]: not a run id
])
def test_table_bad_query(shared_collector: CollectorProcess, table_target: Target, query: str,
                         field: str) -> None:
    status, payload = call(shared_collector, "GET", f"{table_target.path}/runs-table?{query}")
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


def test_table_auth(shared_collector: CollectorProcess, table_target: Target) -> None:
    """No key 401, a write-only key 403, an unknown project 404."""
    writer = new_key(shared_collector, table_target, ["metrics:write"])["apiKey"]
    path = f"{table_target.path}/runs-table"
    assert_error(*call(shared_collector, "GET", path, key=None), 401, "UNAUTHORIZED")
    assert_error(*call(shared_collector, "GET", path, key=writer), 403, "FORBIDDEN")
    assert_error(*call(shared_collector, "GET", path.replace(table_target.project, "nope")),
                 404, "NOT_FOUND")


async def _seed(store: SQLiteStore, project_id: str, runs: int, keys: int) -> None:
    for first in range(0, runs, 200):
        await asyncio.gather(*(store.start_run(RunStart(
            f"run{i:05d}", True, project_id, "training", "never", name=f"n{i}",
            config={f"k{k}": i * k / 7 for k in range(keys)}, started_ms=1_000_000 + i),
            2_000_000) for i in range(first, min(runs, first + 200))))


@pytest.mark.serial  # prints its timings: measured alone
async def test_ten_thousand_runs(tmp_path: Path) -> None:
    """10,000 runs x 20 config keys come back in one bounded page (and in keyset pages), all
    of them, with every config value. Timing is printed, not asserted."""
    store = SQLiteStore(CollectorConfig(data_dir=tmp_path))
    await store.start()
    try:
        ws = await store.create_workspace("w", "w")
        project = await store.create_project(ws.workspace_id, "p", "p")
        await _seed(store, project.project_id, TABLE_MAX_RUNS, 20)
        begun = time.perf_counter()
        runs, more = await store.query_table_rows(
            RunQuery(project.project_id, TABLE_MAX_RUNS, "desc", "startedAtMs"), 2_000_000)
        read = time.perf_counter()
        body = table_body(runs, {})
        done = time.perf_counter()
        print(f"\n10k runs x 20 keys: store read {1000 * (read - begun):.0f} ms, "
              f"reply {1000 * (done - read):.0f} ms, {len(body) / 1e6:.2f} MB")
        payload = orjson.loads(body)
        assert not more and payload["count"] == TABLE_MAX_RUNS
        assert payload["columns"]["runId"][0] == "run09999"
        assert payload["config"][0] == {f"k{k}": 9999 * k / 7 for k in range(20)}
        assert all(len(config) == 20 for config in payload["config"])
        page, more = await store.query_table_rows(
            RunQuery(project.project_id, 4000, "desc", "startedAtMs",
                     after=(runs[3999].started_ms, runs[3999].run_id)), 2_000_000)
        assert more and [run.run_id for run in page] == [run.run_id for run in runs[4000:8000]]
    finally:
        await store.close()
