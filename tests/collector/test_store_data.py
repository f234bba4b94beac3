"""Unit tests of the data-plane SQL helpers on an in-memory SQLite database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import numpy as np
import pytest

from rundial_collector.config import CollectorConfig
from rundial_collector.store.data_base import LogLine, LogQuery, SeriesChunk
from rundial_collector.store.series_math import EMPTY, Points
from rundial_collector.store import event_rows
from rundial_collector.store.sqlite.data import (DATA_SCHEMA, PURGE_INTERVAL_MS, SQLiteData,
                                                 _claim_key)
from rundial_collector.store.sqlite.logs import query_lines, write_lines
from rundial_collector.store.sqlite.metrics import metric_keys, series_exists, write_chunks


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    """A fresh in-memory database with the data-plane schema."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    for statement in DATA_SCHEMA:
        db.executescript(statement)
    yield db
    db.close()


def test_claim_key_records_the_first_count(conn: sqlite3.Connection) -> None:
    """The first claim of a key wins; a repeat returns the count recorded with it."""
    assert _claim_key(conn, "k", 7, now_ms=1) is None
    assert _claim_key(conn, "k", 99, now_ms=2) == 7


def test_expired_keys_are_purged_at_most_once_a_minute(conn: sqlite3.Connection) -> None:
    """Keys older than the TTL go at the first purge; the next purge waits a minute."""
    data = SQLiteData()
    data.config = CollectorConfig(idempotency_ttl_seconds=10)
    now = 1_000_000_000
    for key, created in (("old", now - 11_000), ("fresh", now - 9_000)):
        _claim_key(conn, key, 1, created)
    data._maybe_purge(conn, now)
    assert [r[0] for r in conn.execute("SELECT idem_key FROM idempotency_keys")] == ["fresh"]
    data._maybe_purge(conn, now + PURGE_INTERVAL_MS - 1)
    assert conn.execute("SELECT count(*) FROM idempotency_keys").fetchone()[0] == 1
    data._maybe_purge(conn, now + PURGE_INTERVAL_MS)
    assert conn.execute("SELECT count(*) FROM idempotency_keys").fetchone()[0] == 0


def test_log_pages_end_early_on_long_messages(conn: sqlite3.Connection,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A page stops at the message-size budget and says more follow; paging still sees all."""
    monkeypatch.setattr(event_rows, "PAGE_MAX_MESSAGE_CHARS", 25)
    write_lines(conn, [LogLine("p", "r", 1000 + i, i, "info", "x" * 10) for i in range(7)], 0)
    seen: list[int] = []
    after = None
    while True:
        rows, more = query_lines(conn, LogQuery("p", "r", 100, newest_first=False, after=after))
        assert len(rows) <= 3
        seen += [row.sequence for row in rows]
        if not more:
            break
        after = (rows[-1].timestamp_ms, rows[-1].sequence, rows[-1].log_id)
    assert seen == list(range(7))


def test_series_without_points_is_neither_listed_nor_a_known_run(conn: sqlite3.Connection
                                                                 ) -> None:
    """Empty chunks create no series, and a chunkless series row (left by older versions) is not
    listed by metrics/keys nor makes its run known (#14.5)."""
    write_chunks(conn, [SeriesChunk("p", "r", "empty", EMPTY)], 0)
    assert conn.execute("SELECT count(*) FROM series").fetchone()[0] == 0
    conn.execute("INSERT INTO series (project_id, run_id, metric_key) VALUES ('p', 'r', 'old')")
    assert metric_keys(conn, "p", None, 10, 0) == [] and metric_keys(conn, "p", "r", 10, 0) == []
    assert not series_exists(conn, "p", "r")
    write_chunks(conn, [SeriesChunk("p", "r", "old", Points(
        np.array([1], np.int64), np.array([2.0]), np.array([3], np.int64)))], 0)
    assert [k.metric_key for k in metric_keys(conn, "p", None, 10, 0)] == ["old"]
    assert series_exists(conn, "p", "r")
