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
2. one ``COPY`` appends every chunk row with its aggregates. ``chunk_id`` comes from the
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
                 "resolved_count", "blocks")
_SELECT_IDS = ("SELECT s.series_id, s.project_id, s.run_id, s.metric_key FROM series s"
               " JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (p, r, m)"
               " ON s.project_id = k.p AND s.run_id = k.r AND s.metric_key = k.m COLLATE \"C\"")
_INSERT_KEYS = ("INSERT INTO series (project_id, run_id, metric_key)"
                " SELECT p, r, m FROM unnest($1::text[], $2::text[], $3::text[])"
                " WITH ORDINALITY AS k (p, r, m, i) ORDER BY i ON CONFLICT DO NOTHING")


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
    given), then one COPY. Returns the series id of every key written."""
    if not chunks:
        return {}
    keys = sorted({c.key for c in chunks})
    ids = dict(known or {})
    if any(key not in ids for key in keys):
        ids.update(await series_ids(conn, [key for key in keys if key not in ids]))
    records = [(ids[c.key], *c.row[:6], now_ms, *c.row[6:]) for c in chunks]
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
