"""Store contract: logs, spans, diagnostics and run_known, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from rundial_collector.store.base import Store
from rundial_collector.store.data_base import (LEVEL_RANK, Diagnostics, IngestBatch, LogLine,
                                               LogQuery, SpanRecord)

P, R = "proj-1", "run-1"


def line(ts: int, seq: int, message: str, level: str = "info", run: str = R,
         writer: str = "") -> LogLine:
    return LogLine(P, run, ts, seq, level, message, writer=writer)


def span(span_id: str, start_ns: int, end_ns: int | None, name: str = "step",
         run: str = R) -> SpanRecord:
    return SpanRecord(P, run, "t" * 32, span_id, None, name, "internal", start_ns, end_ns, "ok",
                      '{"a":1}', "[]", model="m", cost_usd=0.25)


async def all_lines(store: Store, **filters: Any) -> list[tuple[int, int, str]]:
    rows, more = await store.query_logs(LogQuery(P, R, 1000, False, **filters))
    assert not more
    return [(r.timestamp_ms, r.sequence, r.message) for r in rows]


async def test_log_lines_are_stored_once_and_in_order(store: Store) -> None:
    batch = IngestBatch([line(2, 0, "b"), line(1, 0, "a"), line(2, 1, "c")], 3)
    assert (await store.ingest_logs(batch)).accepted == 3
    await store.ingest_logs(batch)  # an exact re-send (no key): every line is skipped
    await store.ingest_logs(IngestBatch([line(1, 0, "a", writer="rank1")], 1))  # other writer
    assert await all_lines(store) == [(1, 0, "a"), (1, 0, "a"), (2, 0, "b"), (2, 1, "c")]


async def test_idempotency_key_repeat_stores_nothing(store: Store) -> None:
    first = await store.ingest_logs(IngestBatch([line(1, 0, "a")], 1, idempotency_key="k1"))
    again = await store.ingest_logs(IngestBatch([line(9, 0, "z")], 1, idempotency_key="k1"))
    assert (first.duplicate, again.duplicate, again.accepted) == (False, True, 1)
    assert await all_lines(store) == [(1, 0, "a")]


async def test_log_filters_and_keyset_paging(store: Store) -> None:
    levels = ["trace", "debug", "info", "warn", "error", "fatal"]
    await store.ingest_logs(IngestBatch(
        [line(10 + i, i, f"msg {name} Needle" if i % 2 else f"msg {name}", level=name)
         for i, name in enumerate(levels)], 6))
    assert [m for _, _, m in await all_lines(store, min_level=LEVEL_RANK["warn"])] == [
        "msg warn Needle", "msg error", "msg fatal Needle"]
    assert len(await all_lines(store, text="Needle")) == 3
    assert await all_lines(store, text="needle") == []  # case-sensitive, as SQLite's instr
    assert [t for t, _, _ in await all_lines(store, start_ms=11, end_ms=12)] == [11, 12]
    seen: list[int] = []
    after = None
    for newest_first in (False, True):
        seen, after = [], None
        while True:
            page, more = await store.query_logs(LogQuery(P, R, 4, newest_first, after=after))
            seen += [row.timestamp_ms for row in page]
            if not more:
                break
            last = page[-1]
            after = (last.timestamp_ms, last.sequence, last.log_id)
        expected = list(range(10, 16))
        assert seen == (expected[::-1] if newest_first else expected)


async def test_latest_diagnostics_keeps_the_newest_snapshot(store: Store) -> None:
    assert await store.latest_diagnostics(P, R) is None
    for captured, payload in ((5, '{"n":5}'), (9, '{"n":9}'), (7, '{"n":7}')):
        await store.ingest_logs(IngestBatch([], 0, diagnostics=[
            Diagnostics(P, R, captured, payload)]))
    assert await store.latest_diagnostics(P, R) == Diagnostics(P, R, 9, '{"n":9}')


async def test_spans_closed_copy_replaces_open_copy(store: Store) -> None:
    await store.ingest_spans(IngestBatch([span("s1", 100, None), span("s2", 50, 60)], 2))
    # open re-send changes nothing; closed copy of s1 replaces it; both copies in one batch:
    # the closed one wins
    await store.ingest_spans(IngestBatch([span("s1", 100, None, name="other")], 1))
    await store.ingest_spans(IngestBatch([span("s3", 70, None), span("s3", 70, 80)], 2))
    await store.ingest_spans(IngestBatch([span("s1", 100, 200)], 1))
    await store.ingest_spans(IngestBatch([span("s1", 100, 300, name="late")], 1))
    spans = await store.list_spans(P, R, 10)
    assert [(s.span_id, s.end_ns, s.name) for s in spans] == [
        ("s2", 60, "step"), ("s3", 80, "step"), ("s1", 200, "step")]
    assert spans[0] == span("s2", 50, 60)
    assert len(await store.list_spans(P, R, 2)) == 2


@pytest.mark.parametrize("kind", ["log", "span"])
async def test_run_known_by_its_events(store: Store, kind: str) -> None:
    assert not await store.run_known(P, "other")
    if kind == "log":
        await store.ingest_logs(IngestBatch([line(1, 0, "x", run="other")], 1))
    else:
        await store.ingest_spans(IngestBatch([span("s", 1, 2, run="other")], 1))
    assert await store.run_known(P, "other")
    assert not await store.run_known("proj-2", "other")
