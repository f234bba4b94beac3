"""Metric ingest in one statement: the common requests' whole transaction in one round trip.

The common ingest request (an SDK's flush: one run, series this collector has already written,
no ``clientDiagnostics``, no purge due: :func:`fits_one_statement`) needs no statement before
its rows. One statement (:data:`APPEND_SQL`) stores one such request or several at once
(:mod:`.append_queue` gathers the requests that arrive while a statement runs), doing what the
transaction of :mod:`.ingest_tx` does in five to seven round trips per request (``BEGIN``,
claim the key, the stepsets, ``COPY`` (two), touch the run, ``COMMIT``). It runs through
:meth:`.PgEngine.write_statement`, in its own implicit transaction:

1. ``claimed`` inserts the requests' idempotency keys (``ON CONFLICT DO NOTHING``, in key
   order, so two statements claiming the same keys wait for each other in the same order);
2. ``go`` lists the requests to store: those without a key and those whose key was claimed;
   a request whose key was used already stores nothing (it is answered ``duplicate``);
3. ``x`` and ``stepsets`` store the steps and timestamps that several chunks of a request
   share once each (``chunk_stepsets``, ids drawn per row and kept by position, as
   :data:`.metrics_write.INSERT_STEPSETS` does; :func:`.metrics_write.stepsets_of`);
4. ``chunks`` appends every chunk row of the requests in ``go`` from parallel arrays
   (``unnest ... WITH ORDINALITY``, inserted in request order, so ``chunk_id`` grows in row
   order within a request as with ``COPY``, and a later request's chunks win its duplicate
   steps): a chunk with a stepset stores its id and NULL steps and timestamps, one alone its
   own blobs;
5. ``due`` locks the runs to touch in (project, run) order (``FOR UPDATE``: two statements
   touching the same runs never deadlock) and ``touched`` rewrites their heartbeat unless it
   is newer than the granularity; only runs of requests in ``go`` are touched.

Exactly-once holds as in :mod:`.ingest_tx`: a request's key row and its chunk rows commit
together or not at all, and a racing claim of the same key waits on its index entry, then
conflicts (that request stores nothing and answers ``duplicate`` with the recorded count).
Two requests with the same key are never in one statement (:mod:`.append_queue`). A series row
deleted from outside fails the foreign key for the whole statement: nothing is stored, and
each request's caller forgets its cached ids and takes the transactional path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rundial_collector.store.data_base import IngestBatch, SeriesChunk
from rundial_collector.store.postgres.engine import Conn
from rundial_collector.store.postgres.ingest_tx import HEARTBEAT_GRANULARITY_MS, IngestBookkeeping
from rundial_collector.store.postgres.metrics_write import (PreparedChunk, SeriesKey,
                                                             stepsets_of, stored_row)

__all__ = ["APPEND_SQL", "AppendRequest", "append_in_one_statement", "fits_one_statement"]

APPEND_SQL = """
WITH req AS (
    SELECT r.k, r.a, r.i FROM unnest($1::text[], $3::text::integer[]) WITH ORDINALITY AS r (k, a, i)
), claimed AS (
    INSERT INTO idempotency_keys (idem_key, created_ms, accepted)
    SELECT k, $2::bigint, a FROM req WHERE k IS NOT NULL ORDER BY k
    ON CONFLICT (idem_key) DO NOTHING RETURNING idem_key
), go AS MATERIALIZED (
    SELECT i FROM req WHERE k IS NULL OR k IN (SELECT idem_key FROM claimed)
), x AS MATERIALIZED (
    SELECT u.i, nextval('chunk_stepsets_id_seq') AS id, u.s, u.t
    FROM unnest($19::bytea[], $20::bytea[], $21::text::bigint[])
         WITH ORDINALITY AS u (s, t, r, i)
    WHERE u.r IN (SELECT i FROM go)
), stepsets AS (
    INSERT INTO chunk_stepsets (stepset_id, steps, timestamps)
    SELECT id, s, t FROM x ORDER BY i
    RETURNING 1
), chunks AS (
    INSERT INTO metric_chunks (series_id, writer_rank, point_count, step_min, step_max, ts_min,
                               ts_max, received_ms, context_json, steps, vals, timestamps,
                               resolved_count, blocks, stepset_id)
    SELECT c.series_id, c.writer_rank, c.point_count, c.step_min, c.step_max, c.ts_min,
           c.ts_max, $2, c.context_json, c.steps, c.vals, c.timestamps, c.resolved_count,
           c.blocks, x.id
    FROM unnest($4::text::bigint[], $5::text::bigint[], $6::text::integer[],
                $7::text::bigint[], $8::text::bigint[], $9::text::bigint[], $10::text::bigint[],
                $11::text[], $12::bytea[], $13::bytea[], $14::bytea[], $15::text::integer[],
                $16::bytea[], $17::text::integer[], $18::text::bigint[])
         WITH ORDINALITY AS c (series_id, writer_rank, point_count, step_min, step_max, ts_min,
                               ts_max, context_json, steps, vals, timestamps, resolved_count,
                               blocks, stepset_at, r, i)
         LEFT JOIN x ON x.i = c.stepset_at
    WHERE c.r IN (SELECT i FROM go)
    ORDER BY c.i
    RETURNING 1
), due AS (
    SELECT w.project_id, w.run_id FROM runs w
    JOIN unnest($22::text[], $23::text[], $24::text::bigint[]) AS u (p, n, r)
      ON w.project_id = u.p AND w.run_id = u.n
    WHERE w.last_heartbeat_ms < $25 AND u.r IN (SELECT i FROM go)
    ORDER BY w.project_id, w.run_id
    FOR UPDATE OF w
), touched AS (
    UPDATE runs SET last_heartbeat_ms = $2, updated_ms = $2
    FROM due WHERE runs.project_id = due.project_id AND runs.run_id = due.run_id
    RETURNING 1
)
SELECT ARRAY(SELECT i FROM go ORDER BY i) AS stored, (SELECT count(*) FROM chunks) AS chunk_rows,
       (SELECT count(*) FROM touched) AS touched_rows,
       (SELECT count(*) FROM stepsets) AS stepset_rows
"""
# The integer columns among the chunk arrays (series_id, rank, point count, the four bounds,
# resolved count, stepset position, request position) and the requests' own integer arrays
# go as array literals (``{1,2,NULL}``, cast by the statement): asyncpg checks each element of
# a list parameter against abstract base classes, which was a third of the statement's
# encoding time; a literal is one text value.
_INTEGER_COLUMNS = frozenset((0, 1, 2, 3, 4, 5, 6, 11, 13, 14))
_COLUMNS = 15  # series_id, the prepared row (12), the stepset position, the request position


@dataclass(frozen=True)
class AppendRequest:
    """One ingest request's part of :data:`APPEND_SQL`: its key (None: no key), its accepted
    count (recorded with the key), its chunks (every key in ``ids``) and its run, touched
    when ``touch`` (a (project id, run id); None: not due)."""

    key: str | None
    accepted: int
    chunks: Sequence[PreparedChunk]
    ids: Mapping[SeriesKey, int]
    touch: tuple[str, str] | None = None


async def append_in_one_statement(conn: Conn, requests: Sequence[AppendRequest],
                                  now_ms: int) -> list[bool]:
    """Run :data:`APPEND_SQL` (outside any transaction) for ``requests`` (no two with the same
    key): whether each stored; False means its key was already used (it wrote nothing)."""
    rows: list[tuple[object, ...]] = []
    blobs: list[tuple[bytes, bytes]] = []
    blob_requests: list[int] = []
    for position, request in enumerate(requests, 1):
        shared = stepsets_of(request.chunks)
        offset = len(blobs)
        rows.extend((request.ids[chunk.key], *stored_row(chunk.row, at > 0),
                     at + offset if at else 0, position)
                    for chunk, at in zip(request.chunks, shared.at))
        blobs.extend(shared.blobs)
        blob_requests.extend([position] * len(shared.blobs))
    columns = list(map(list, zip(*rows))) if rows else [[] for _ in range(_COLUMNS)]
    params = [_array_literal(column) if i in _INTEGER_COLUMNS else column
              for i, column in enumerate(columns)]
    touches = [(position, request.touch) for position, request in enumerate(requests, 1)
               if request.touch is not None]
    row = await conn.fetchrow(
        APPEND_SQL, [r.key for r in requests], now_ms, _array_literal([r.accepted for r in requests]),
        *params, [b[0] for b in blobs], [b[1] for b in blobs], _array_literal(blob_requests),
        [t[1][0] for t in touches], [t[1][1] for t in touches],
        _array_literal([t[0] for t in touches]), now_ms - HEARTBEAT_GRANULARITY_MS)
    assert row is not None
    stored = set(row["stored"])
    return [position in stored for position in range(1, len(requests) + 1)]


def _array_literal(values: Sequence[object]) -> str:
    """PostgreSQL's text form of an integer array (None is NULL)."""
    return "{" + ",".join(["NULL" if v is None else str(v) for v in values]) + "}"


def fits_one_statement(batch: IngestBatch[SeriesChunk], known: Mapping[SeriesKey, int],
                       chunks: Sequence[PreparedChunk], bookkeeping: IngestBookkeeping,
                       now_ms: int) -> bool:
    """Whether ``batch`` can take :data:`APPEND_SQL`: every series id known (committed), at
    most one run, no diagnostics to keep, no purge of expired keys due."""
    return (len({(x.project_id, x.run_id) for x in batch.items}) <= 1
            and not batch.diagnostics and all(c.key in known for c in chunks)
            and not bookkeeping.purge_due(now_ms))
