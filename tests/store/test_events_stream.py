"""Store contract of the live stream's reads (EventStore), on SQLite and on PostgreSQL:
positions only grow, a tail after the head delivers exactly the rows committed since, and
replays cover the rows in a window."""

from __future__ import annotations

import numpy as np
import pytest

from rundial_collector.store.base import Store
from rundial_collector.store.data_base import IngestBatch, SeriesChunk
from rundial_collector.store.series_math import Points
from tests.store.test_events import P, R, line, span

BIG = (1000, 1000, 1000)


def points(steps: list[int]) -> Points:
    return Points(np.array(steps, dtype=np.int64), np.array(steps, dtype=np.float64) / 2,
                  np.array(steps, dtype=np.int64) * 10)


async def test_head_and_tail_of_lines_and_spans(store: Store) -> None:
    assert await store.event_head() == (0, 0, 0)
    await store.ingest_logs(IngestBatch([line(5, 0, "a"), line(6, 0, "other", run="r2")], 2))
    await store.ingest_spans(IngestBatch([span("s1", 1, None)], 1))
    head = await store.event_head()
    assert head[1] > 0 and head[2] > 0
    found = await store.tail_events(P, R, (0, 0, 0), BIG)
    assert [x.message for x in found.lines] == ["a"]
    assert [x.span.span_id for x in found.spans] == ["s1"]
    assert found.lines[-1].log_id <= head[1] and found.spans[-1].span_pk <= head[2]
    assert await store.tail_events(P, R, head, BIG) == type(found)([], [], [])

    await store.ingest_logs(IngestBatch([line(1, 0, "b"), line(2, 0, "c")], 2))
    await store.ingest_spans(IngestBatch([span("s1", 1, 9)], 1))  # closed copy: a new row
    later = await store.tail_events(P, R, head, BIG)
    assert [x.message for x in later.lines] == ["b", "c"]  # by position, not by time
    assert [(x.span.span_id, x.span.end_ns) for x in later.spans] == [("s1", 9)]
    assert later.spans[0].span_pk > head[2]
    new_head = await store.event_head()
    assert new_head[1] >= later.lines[-1].log_id > head[1]
    limited = await store.tail_events(P, R, head, (1, 1, 1))
    assert [x.message for x in limited.lines] == ["b"]


async def test_replay_lines_and_spans_in_a_window(store: Store) -> None:
    await store.ingest_logs(IngestBatch([line(3, 0, "early"), line(1, 0, "x")], 2))
    await store.ingest_spans(IngestBatch([span("a", 1, 2), span("b", 3, 4)], 2))
    mid = await store.event_head()
    await store.ingest_logs(IngestBatch([line(2, 0, "y"), line(2, 1, "z")], 2))
    await store.ingest_spans(IngestBatch([span("c", 5, 6)], 1))
    top = await store.event_head()
    everything = await store.replay_lines(P, R, (0, top[1]), None, 100)
    assert [x.message for x in everything] == ["x", "y", "z", "early"]  # time order
    assert [x.message for x in await store.replay_lines(P, R, (mid[1], top[1]), None, 100)] \
        == ["y", "z"]
    first = await store.replay_lines(P, R, (0, top[1]), None, 2)
    key = (first[-1].timestamp_ms, first[-1].sequence, first[-1].log_id)
    rest = await store.replay_lines(P, R, (0, top[1]), key, 100)
    assert [x.message for x in first + rest] == ["x", "y", "z", "early"]
    spans = await store.replay_spans(P, R, (0, top[2]), 100)
    assert [x.span.span_id for x in spans] == ["a", "b", "c"]
    assert [x.span.span_id for x in await store.replay_spans(P, R, (mid[2], top[2]), 100)] \
        == ["c"]
    assert [x.span.span_id for x in await store.replay_spans(P, R, (0, mid[2]), 1)] == ["a"]


async def test_metric_chunks_tail_and_replay(store: Store) -> None:
    if not hasattr(store, "ingest_metrics"):
        pytest.skip("this backend's metric part is not built yet")
    await store.ingest_metrics(IngestBatch([SeriesChunk(P, R, "loss", points([1, 2])),
                                            SeriesChunk(P, R, "acc", points([1]))], 3))
    head = await store.event_head()
    assert head[0] > 0
    await store.ingest_metrics(IngestBatch([SeriesChunk(P, R, "loss", points([3]), rank=2)],
                                           1))
    found = await store.tail_events(P, R, (0, 0, 0), BIG)
    assert [(c.metric_key, c.rank, c.points.steps.tolist()) for c in found.chunks] == [
        ("loss", None, [1, 2]), ("acc", None, [1]), ("loss", 2, [3])]
    assert found.chunks[1].chunk_id <= head[0] < found.chunks[2].chunk_id
    assert found.chunks[0].points.values.tolist() == [0.5, 1.0]
    series = await store.run_series(P, R)
    assert [key for _, key in series] == ["acc", "loss"]
    loss_id = series[1][0]
    top = await store.event_head()
    replayed = await store.series_chunks(loss_id, "loss", (0, top[0]), 10)
    assert [c.points.steps.tolist() for c in replayed] == [[1, 2], [3]]
    assert [c.points.steps.tolist()
            for c in await store.series_chunks(loss_id, "loss", (head[0], top[0]), 10)] == [[3]]
