"""Metric ingest on PostgreSQL: series rows got or created race-free, chunks appended by COPY.

Everything per point (packing the arrays, resolving each chunk on its own for its chart
aggregates) is computed once, before the transaction (:func:`prepared_chunks`), so a retried
transaction only repeats the database work. In the transaction (:func:`write_prepared`):

1. the series ids of the request's keys come from this collector's cache of committed series
   (:class:`SeriesIds`; series rows are never deleted), else one ``SELECT`` finds them; the
   missing ones are inserted
   with ``INSERT ... ON CONFLICT DO NOTHING`` in sorted key order (two collectors creating the
   same keys wait for each other on the unique index in the same order, so they never
   deadlock) and selected again (under READ COMMITTED the second ``SELECT`` sees a row another
   collector committed meanwhile);
2. the steps and timestamps that several chunks share (a wide-rows or columns request: one
   run's keys logged together) are inserted once, as ``chunk_stepsets`` rows
   (:func:`insert_stepsets`, one statement; migration 0008), and those chunks' rows point at
   them with ``stepset_id`` (their own ``steps`` and ``timestamps`` NULL);
3. one ``COPY`` appends every chunk row with its aggregates. ``chunk_id`` comes from the
   identity sequence, in row order within the request; ``txid`` defaults to the transaction's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rundial_collector.store.chunk_rows import chunk_rows
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.postgres.engine import Conn

SeriesKey = tuple[str, str, str]  # project id, run id, metric key
CHUNK_COLUMNS = ("series_id", "writer_rank", "point_count", "step_min", "step_max", "ts_min",
                 "ts_max", "received_ms", "context_json", "steps", "vals", "timestamps",
                 "resolved_count", "blocks", "stepset_id")
_STEPS, _TIMESTAMPS = 7, 9  # positions of the steps and timestamps blobs in a prepared row
# How readers select a chunk's packed columns, wherever its steps and timestamps are kept (its
# own row or its stepset): ``CHUNK_BLOBS`` over ``metric_chunks c`` followed by ``STEPSETS``.
CHUNK_BLOBS = "COALESCE(c.steps, t.steps), c.vals, COALESCE(c.timestamps, t.timestamps)"
STEPSETS = " LEFT JOIN chunk_stepsets t ON t.stepset_id = c.stepset_id"
_SELECT_IDS = ("SELECT s.series_id, s.project_id, s.run_id, s.metric_key FROM series s"
               " JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (p, r, m)"
               " ON s.project_id = k.p AND s.run_id = k.r AND s.metric_key = k.m COLLATE \"C\"")
_INSERT_KEYS = ("INSERT INTO series (project_id, run_id, metric_key)"
                " SELECT p, r, m FROM unnest($1::text[], $2::text[], $3::text[])"
                " WITH ORDINALITY AS k (p, r, m, i) ORDER BY i ON CONFLICT DO NOTHING")
# Ids drawn (in a materialised CTE: once per row) and returned in the order of the arrays.
INSERT_STEPSETS = """
WITH x AS MATERIALIZED (
    SELECT u.i, nextval('chunk_stepsets_id_seq') AS id, u.s, u.t
    FROM unnest($1::bytea[], $2::bytea[]) WITH ORDINALITY AS u (s, t, i)
), stored AS (
    INSERT INTO chunk_stepsets (stepset_id, steps, timestamps) SELECT id, s, t FROM x ORDER BY i
)
SELECT id FROM x ORDER BY i
"""


@dataclass(frozen=True)
class PreparedChunk:
    """One chunk's row without its series id and receive time (see :data:`CHUNK_COLUMNS`)."""

    key: SeriesKey
    row: tuple[object, ...]  # writer_rank .. context_json, then the blobs and aggregates


def prepared_chunks(chunks: Sequence[SeriesChunk]) -> list[PreparedChunk]:
    """The rows of ``chunks``, in request order (:func:`.chunk_rows.chunk_rows`: computed once
    per group of chunks sharing their steps and timestamps). Empty chunks are skipped: they
    create no series either, so a key whose every value was rejected is never listed."""
    kept = [chunk for chunk in chunks if len(chunk.points)]
    return [PreparedChunk((c.project_id, c.run_id, c.metric_key), row)
            for c, row in zip(kept, chunk_rows(kept))]


@dataclass(frozen=True)
class Stepsets:
    """Which chunks of a request share their steps and timestamps (see the module docstring):
    ``blobs`` holds each shared (steps, timestamps) pair once; ``at`` gives each chunk's
    1-based position in it, 0 for a chunk that keeps its own inline."""

    blobs: list[tuple[bytes, bytes]]
    at: list[int]


def stepsets_of(chunks: Sequence[PreparedChunk]) -> Stepsets:
    """The shared steps and timestamps of ``chunks``: a pair of blob objects held by two chunks
    or more (:func:`.chunk_rows.chunk_rows` gives a group of chunks sharing their arrays the
    very same objects; by identity, so no blob is compared byte by byte)."""
    pairs = [(c.row[_STEPS], c.row[_TIMESTAMPS]) for c in chunks]
    uses: dict[tuple[int, int], int] = {}
    for steps, stamps in pairs:
        uses[id(steps), id(stamps)] = uses.get((id(steps), id(stamps)), 0) + 1
    blobs: list[tuple[bytes, bytes]] = []
    position: dict[tuple[int, int], int] = {}
    at = []
    for steps, stamps in pairs:
        key = (id(steps), id(stamps))
        if uses[key] < 2:
            at.append(0)
            continue
        if key not in position:
            assert isinstance(steps, bytes) and isinstance(stamps, bytes)
            blobs.append((steps, stamps))  # the list keeps the objects (and their ids) alive
            position[key] = len(blobs)
        at.append(position[key])
    return Stepsets(blobs, at)


def stored_row(row: tuple[object, ...], shared: bool) -> tuple[object, ...]:
    """A prepared row as stored: itself, or with its steps and timestamps left to a stepset
    (NULL) when ``shared``."""
    if not shared:
        return row
    return (*row[:_STEPS], None, row[_STEPS + 1], None, *row[_TIMESTAMPS + 1:])


def chunk_record(series_id: int, row: tuple[object, ...], received_ms: int,
                 stepset_id: int | None) -> tuple[object, ...]:
    """One ``metric_chunks`` row in :data:`CHUNK_COLUMNS` order; with a ``stepset_id``, its
    steps and timestamps are left to the stepset (:func:`stored_row`)."""
    kept = stored_row(row, stepset_id is not None)
    return (series_id, *kept[:6], received_ms, *kept[6:], stepset_id)


async def insert_stepsets(conn: Conn, blobs: Sequence[tuple[bytes, bytes]]) -> list[int]:
    """Insert ``blobs`` as ``chunk_stepsets`` rows (one statement, none when empty); their ids
    in the same order."""
    if not blobs:
        return []
    rows = await conn.fetch(INSERT_STEPSETS, [b[0] for b in blobs], [b[1] for b in blobs])
    return [int(row[0]) for row in rows]


SERIES_IDS_CACHED = 100_000  # series ids a collector remembers (about 20 MB at most)


class SeriesIds:
    """Series ids of committed series rows, least recently used evicted. Only ids whose row
    is committed may enter (:meth:`remember` after the transaction commits): an id seen in a
    transaction that rolled back may not exist. A series row deleted from outside makes the
    next COPY fail on its foreign key: the caller then calls :meth:`forget` and retries."""

    def __init__(self, capacity: int = SERIES_IDS_CACHED) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[SeriesKey, int] = OrderedDict()

    def known(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, int]:
        found = {key: self._ids[key] for key in keys if key in self._ids}
        for key in found:
            self._ids.move_to_end(key)
        return found

    def remember(self, ids: Mapping[SeriesKey, int]) -> None:
        self._ids.update(ids)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)

    def forget(self) -> None:
        self._ids.clear()


async def write_prepared(conn: Conn, chunks: Sequence[PreparedChunk], now_ms: int,
                         known: Mapping[SeriesKey, int] | None = None) -> dict[SeriesKey, int]:
    """Append ``chunks`` (inside the ingest transaction): series ids (``known`` ones as
    given), the shared steps and timestamps, then one COPY. Returns the series id of every key written."""
    if not chunks:
        return {}
    keys = sorted({c.key for c in chunks})
    ids = dict(known or {})
    if any(key not in ids for key in keys):
        ids.update(await series_ids(conn, [key for key in keys if key not in ids]))
    shared = stepsets_of(chunks)
    stepset_ids = await insert_stepsets(conn, shared.blobs)
    records = [chunk_record(ids[c.key], c.row, now_ms, stepset_ids[at - 1] if at else None)
               for c, at in zip(chunks, shared.at)]
    await conn.copy_records_to_table("metric_chunks", records=records, columns=CHUNK_COLUMNS)
    return {key: ids[key] for key in keys}


async def series_ids(conn: Conn, keys: list[SeriesKey]) -> dict[SeriesKey, int]:
    """The series id of each key (sorted), creating the missing series rows."""
    ids = await _select_ids(conn, keys)
    missing = [key for key in keys if key not in ids]
    if missing:
        await conn.execute(_INSERT_KEYS, *_columns(missing))
        ids.update(await _select_ids(conn, missing))
    return ids


async def _select_ids(conn: Conn, keys: list[SeriesKey]) -> dict[SeriesKey, int]:
    rows = await conn.fetch(_SELECT_IDS, *_columns(keys))
    return {(row[1], row[2], row[3]): int(row[0]) for row in rows}


def _columns(keys: list[SeriesKey]) -> tuple[list[str], list[str], list[str]]:
    return ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys])
