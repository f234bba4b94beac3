"""PostgreSQL's one-statement metric ingest (store/postgres/metrics_append.py): which batches
take it, and that it keeps the transaction's promises (exactly once across collectors, the
run's heartbeat, the notification after commit)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from rundial_collector.store.control_base import RunStart
from rundial_collector.store.data_base import Diagnostics, IngestBatch, SeriesChunk
from rundial_collector.store.series_math import Points, pack
from rundial_collector.store.postgres.store import PostgresStore
from tests.store.metric_helpers import chunk, ingest

Calls = dict[str, int]


def count_calls(store: PostgresStore, monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Count the engine's transactional and one-statement writes (still performed)."""
    calls: Calls = {"write": 0, "write_statement": 0}
    for name in calls:
        original: Callable[..., Awaitable[Any]] = getattr(store.engine, name)

        async def counted(fn: Any, _name: str = name,
                          _original: Callable[..., Awaitable[Any]] = original) -> Any:
            calls[_name] += 1
            return await _original(fn)

        monkeypatch.setattr(store.engine, name, counted)
    return calls


async def started_run(store: PostgresStore, run_id: str) -> str:
    """A project with a run whose heartbeat is long ago (1970); returns the project id."""
    workspace = await store.create_workspace("ws", "WS", exist_ok=True)
    project = await store.create_project(workspace.workspace_id, "proj", "PROJ", exist_ok=True)
    await store.start_run(RunStart(run_id=run_id, run_id_given=True,
                                   project_id=project.project_id, kind="training",
                                   resume="allow"), 1_000)
    return project.project_id


async def heartbeat_ms(store: PostgresStore, run_id: str) -> int:
    run = await store.get_run(run_id)
    assert run is not None and run.last_heartbeat_ms is not None
    return run.last_heartbeat_ms


async def test_a_warm_batch_of_one_run_is_one_statement_and_exactly_once(
        two_pg_stores: list[PostgresStore], monkeypatch: pytest.MonkeyPatch) -> None:
    """Once both collectors know the series, a batch of one run is one statement: it touches
    the run's heartbeat, is announced, and a key sent to both collectors at once is stored by
    exactly one of them (the other answers duplicate with the same count)."""
    a, b = two_pg_stores
    project = await started_run(a, "r1")
    for store in (a, b):  # the first batch creates the series: a transaction
        await ingest(store, chunk("r1", "loss", [(0, 0.0)], project_id=project),
                     chunk("r1", "acc", [(0, 0.0)], project_id=project))
    a.bookkeeping.touched_ms.clear()
    await a.engine.write(lambda conn: conn.execute("UPDATE runs SET last_heartbeat_ms = 1000"))
    calls = [count_calls(store, monkeypatch) for store in (a, b)]
    sent = a.notifier.sent_transactions
    before_ms = int(time.time() * 1000)
    for n in range(1, 21):
        batch = [chunk("r1", "loss", [(n, float(n)), (n + 100, 1.0)], project_id=project),
                 chunk("r1", "acc", [(n, -float(n))], project_id=project)]
        outcomes = await asyncio.gather(ingest(a, *batch, key=f"k{n}"),
                                        ingest(b, *batch, key=f"k{n}"))
        assert sorted(o.duplicate for o in outcomes) == [False, True]
        assert [o.accepted for o in outcomes] == [3, 3]
    assert [c["write"] for c in calls] == [0, 0]
    assert [c["write_statement"] for c in calls] == [20, 20]
    assert await heartbeat_ms(a, "r1") >= before_ms
    loss = await b.read_series(project, "r1", "loss")
    assert loss.raw_count == 2 + 40  # step 0 twice (once per collector), then 20 x 2
    assert loss.points.steps.tolist() == [0, *range(1, 21), *range(101, 121)]
    assert (await a.read_series(project, "r1", "acc")).points.values.tolist() == [
        0.0, *(-float(n) for n in range(1, 21))]
    await a.notifier.close()
    await b.notifier.close()
    assert a.notifier.sent_transactions + b.notifier.sent_transactions > sent


async def test_other_batches_keep_the_transaction(
        two_pg_stores: list[PostgresStore], monkeypatch: pytest.MonkeyPatch) -> None:
    """New series, two runs, or diagnostics to keep: the batch takes the ingest transaction."""
    store = two_pg_stores[0]
    project = await started_run(store, "r1")
    calls = count_calls(store, monkeypatch)
    loss = [(1, 1.0)]
    await ingest(store, chunk("r1", "loss", loss, project_id=project))  # a new series
    await ingest(store, chunk("r1", "loss", loss, project_id=project),
                 chunk("r2", "loss", loss, project_id=project))  # two runs (r2: new series)
    await ingest(store, chunk("r1", "loss", loss, project_id=project),
                 chunk("r2", "loss", loss, project_id=project))  # two runs, both known
    diagnostics = [Diagnostics(project, "r1", 5, '{"capturedAtMs": 5}')]
    await store.ingest_metrics(IngestBatch([chunk("r1", "loss", loss, project_id=project)], 1,
                                           None, diagnostics))
    assert calls == {"write": 4, "write_statement": 0}
    await ingest(store, chunk("r1", "loss", loss, project_id=project))
    assert calls == {"write": 4, "write_statement": 1}
    assert (await store.read_series(project, "r1", "loss")).raw_count == 5


async def test_shared_steps_and_timestamps_read_back_as_packed(
        two_pg_stores: list[PostgresStore], monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide-rows batch (keys sharing one steps and one timestamps array) beside a chunk of
    its own arrays, in one statement: every row reads back (its own blobs or its stepset's,
    tests/store/test_stepsets.py) the blobs of ``pack``."""
    store = two_pg_stores[0]
    project = await started_run(store, "r1")
    keys = ("a", "b", "c", "own")
    await ingest(store, *(chunk("r1", k, [(0, 0.0)], project_id=project) for k in keys))
    calls = count_calls(store, monkeypatch)
    steps = np.arange(1, 40, dtype=np.int64)
    stamps = steps * 3 + 5
    sent = [SeriesChunk(project, "r1", k, Points(steps, steps * 0.5 + j, stamps))
            for j, k in enumerate(keys[:3])]
    sent.insert(1, SeriesChunk(project, "r1", "own", Points(steps + 1, steps * 2.0, stamps + 1)))
    await ingest(store, *sent)
    assert calls == {"write": 0, "write_statement": 1}
    stored = await store.engine.read(lambda conn: conn.fetch(
        "SELECT s.metric_key, COALESCE(c.steps, t.steps), c.vals,"
        " COALESCE(c.timestamps, t.timestamps) FROM metric_chunks c JOIN series s"
        " USING (series_id) LEFT JOIN chunk_stepsets t ON t.stepset_id = c.stepset_id"
        " ORDER BY c.chunk_id DESC LIMIT 4"))
    assert [(r[0], r[1], r[2], r[3]) for r in reversed(stored)] == [
        (c.metric_key, *pack(c.points)) for c in sent]
