"""Model-based test of the ingest-to-read path: random ingest requests (duplicates within and
across requests, mixed contexts and project spellings, out-of-order and extreme steps, rejected
values, points and wide rows) against a naive "last accepted item wins" model, on every store
read: the resolved series (tail, downsample), step pages (full pages, export) and keys."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.ingest.items import ItemErrors
from rundial_collector.ingest.points import chunks_from_points
from rundial_collector.ingest.rows import chunks_from_rows
from rundial_collector.ingest.schemas import PointIn
from rundial_collector.store.series_cache import SeriesCache
from rundial_collector.store.sqlite.data import DATA_SCHEMA
from rundial_collector.store.sqlite.metrics import MetricReader, metric_keys, write_chunks
from rundial_collector.store.sqlite.series_page import read_page

PROJECT = "prj_1"
SPELLINGS = {"prj_1": PROJECT, "proj-slug": PROJECT}
RUN = "r1"
KEYS = ("a", "b")
STEPS = st.one_of(st.integers(0, 2), st.sampled_from([2**62, 2**62 + 1, 2**63 - 2, 2**63 - 1]))
VALUES = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([float("inf"), float("nan"), None]))
CONTEXTS = st.sampled_from([None, {"phase": "x"}, {"phase": "y"}])

Item = tuple[str, int, Any, int]  # metric key, step, value, timestamp


def _points(items: list[tuple[str, str, int, Any, int, Any]]) -> list[PointIn]:
    return [PointIn(spelling, RUN, key, step, ts, value, context)
            for spelling, key, step, value, ts, context in items]


point_requests = st.lists(st.tuples(st.sampled_from(list(SPELLINGS)), st.sampled_from(KEYS),
                                    STEPS, VALUES, st.integers(0, 10**6), CONTEXTS),
                          min_size=1, max_size=12).map(lambda x: ("points", _points(x)))
row_requests = st.lists(st.tuples(STEPS, st.integers(0, 10**6),
                                  st.dictionaries(st.sampled_from(KEYS), VALUES, min_size=1)),
                        min_size=1, max_size=8).map(lambda x: ("rows", x))
requests = st.lists(st.one_of(point_requests, row_requests), min_size=1, max_size=6)


@contextmanager
def _database() -> Iterator[sqlite3.Connection]:
    """A fresh in-memory database with the data-plane schema."""
    with closing(sqlite3.connect(":memory:", isolation_level=None)) as db:
        for statement in DATA_SCHEMA:
            db.executescript(statement)
        yield db


def _accepted(kind: str, body: Any) -> list[Item]:
    """The model: which items are accepted, in the order they were sent."""
    if kind == "points":
        return [(p.metricKey, int(p.step), p.value, p.timestampMs) for p in body
                if _finite(p.value)]
    return [(key, step, value, ts) for step, ts, values in body
            for key, value in values.items() if _finite(value)]


def _finite(value: Any) -> bool:
    return value is not None and value == value and abs(value) != float("inf")


def _ingest(conn: sqlite3.Connection, kind: str, body: Any, now_ms: int) -> None:
    errs = ItemErrors()
    if kind == "points":
        chunks, _ = chunks_from_points(body, SPELLINGS, errs)
    else:
        chunks, _ = chunks_from_rows(body, PROJECT, RUN, None, errs)
    write_chunks(conn, chunks, now_ms)


@settings(max_examples=150, deadline=None)
@given(requests)
def test_every_read_matches_last_accepted_item_wins(batch: list[tuple[str, Any]]) -> None:
    """After each request, every read equals the model (the cache is extended between reads)."""
    reader = MetricReader(SeriesCache())
    model: dict[str, dict[int, tuple[float, int]]] = {}
    raw: dict[str, int] = {}
    with _database() as conn:
        for n, (kind, body) in enumerate(batch):
            _ingest(conn, kind, body, now_ms=n)
            for key, step, value, ts in _accepted(kind, body):
                model.setdefault(key, {})[step] = (float(value), ts)
                raw[key] = raw.get(key, 0) + 1
            _check_reads(conn, reader, model, raw)


def _check_reads(conn: sqlite3.Connection, reader: MetricReader,
                 model: dict[str, dict[int, tuple[float, int]]], raw: dict[str, int]) -> None:
    listed = metric_keys(conn, PROJECT, RUN, 10, 0)
    assert [(k.metric_key, k.point_count) for k in listed] == sorted(raw.items())
    for key in KEYS:
        expected = sorted((s, v, t) for s, (v, t) in model.get(key, {}).items())
        got = reader.read_series(conn, PROJECT, RUN, key, None)
        assert _triples(got.points) == expected and got.raw_count == raw.get(key, 0)
        assert _paged(lambda after: reader.read_page(conn, PROJECT, RUN, key, None, after, 2)
                      ) == expected
        series_id = conn.execute("SELECT series_id FROM series WHERE metric_key = ?",
                                 (key,)).fetchone()
        if series_id is not None:  # the uncached, step-range page reader
            assert _paged(lambda after: read_page(conn, series_id[0], None, after, 2)) == expected


def _triples(points: Any) -> list[tuple[int, float, int]]:
    return list(zip(points.steps.tolist(), points.values.tolist(), points.timestamps.tolist()))


def _paged(read: Any) -> list[tuple[int, float, int]]:
    out: list[tuple[int, float, int]] = []
    after = -1
    while True:
        page = _triples(read(after))
        out += page
        if len(page) < 2:
            return out
        after = page[-1][0]
