"""Metric ingest in one statement: the common request's whole transaction in one round trip.

The common ingest request (an SDK's flush: one run, series this collector has already written,
no ``clientDiagnostics``, no purge due) needs no statement before its rows. For it, one
statement (:data:`APPEND_SQL`) does what the transaction of :mod:`.ingest_tx` does in five to
seven round trips (``BEGIN``, claim the key, the stepsets, ``COPY`` (two), touch the run,
``COMMIT``), run by
:meth:`.PgEngine.write_statement` in its own implicit transaction:

1. ``claimed`` inserts the idempotency key (``ON CONFLICT DO NOTHING``; none without a key);
2. ``go`` is one row when there is no key or the key was claimed: it gates everything else;
3. ``x`` and ``stepsets`` store the steps and timestamps that several chunks share once each
   (``chunk_stepsets``, ids drawn per row and kept by position, as
   :data:`.metrics_write.INSERT_STEPSETS` does; :func:`.metrics_write.stepsets_of`);
4. ``chunks`` appends every chunk row from parallel arrays (``unnest ... WITH ORDINALITY``,
   inserted in request order, so ``chunk_id`` grows in row order as with ``COPY``): a chunk
   with a stepset stores its id and NULL steps and timestamps, one alone its own blobs;
5. ``touched`` rewrites the run's heartbeat unless it is newer than the granularity.

Exactly-once holds as in :mod:`.ingest_tx`: the key's row and the chunk rows commit together or
not at all, and a racing claim of the same key waits on its index entry, then conflicts (its
statement stores nothing and the request answers ``duplicate`` with the recorded count). A
series row deleted from outside fails the foreign key (the caller forgets its cached ids and
takes the transactional path).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from rundial_collector.store.data_base import IngestBatch, SeriesChunk, WriteOutcome
from rundial_collector.store.postgres.engine import Conn, PgEngine
from rundial_collector.store.postgres.ingest_notify import RunNotifier
from rundial_collector.store.postgres.ingest_tx import (HEARTBEAT_GRANULARITY_MS,
                                                        IngestBookkeeping, RunTouches,
                                                        recorded_count)
from rundial_collector.store.postgres.metrics_write import (PreparedChunk, SeriesKey,
                                                             stepsets_of, stored_row)

__all__ = ["APPEND_SQL", "append", "append_in_one_statement", "fits_one_statement"]

APPEND_SQL = """
WITH claimed AS (
    INSERT INTO idempotency_keys (idem_key, created_ms, accepted)
    SELECT $1::text, $2::bigint, $3::integer WHERE $1::text IS NOT NULL
    ON CONFLICT (idem_key) DO NOTHING RETURNING 1
), go AS (
    SELECT 1 AS ok WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM claimed)
), x AS MATERIALIZED (
    SELECT u.i, nextval('chunk_stepsets_id_seq') AS id, u.s, u.t
    FROM unnest($21::bytea[], $22::bytea[]) WITH ORDINALITY AS u (s, t, i)
    WHERE EXISTS (SELECT 1 FROM go)
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
    FROM unnest($4::bigint[], $5::bigint[], $6::integer[], $7::bigint[], $8::bigint[],
                $9::bigint[], $10::bigint[], $11::text[], $12::bytea[], $13::bytea[],
                $14::bytea[], $15::integer[], $16::bytea[], $17::integer[])
         WITH ORDINALITY AS c (series_id, writer_rank, point_count, step_min, step_max, ts_min,
                               ts_max, context_json, steps, vals, timestamps, resolved_count,
                               blocks, stepset_at, i)
         LEFT JOIN x ON x.i = c.stepset_at
    WHERE EXISTS (SELECT 1 FROM go)
    ORDER BY c.i
    RETURNING 1
), touched AS (
    UPDATE runs SET last_heartbeat_ms = $2, updated_ms = $2
    WHERE project_id = $18 AND run_id = $19 AND last_heartbeat_ms < $20
      AND EXISTS (SELECT 1 FROM go)
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM go) AS stored, (SELECT count(*) FROM chunks) AS chunk_rows,
       (SELECT count(*) FROM touched) AS touched_rows,
       (SELECT count(*) FROM stepsets) AS stepset_rows
"""
_COLUMNS = 14  # chunk columns sent as arrays: series_id, the prepared row, the stepset position


async def append_in_one_statement(conn: Conn, key: str | None, accepted: int,
                                  chunks: Sequence[PreparedChunk], ids: Mapping[SeriesKey, int],
                                  touch: tuple[str, str] | None, now_ms: int) -> bool:
    """Run :data:`APPEND_SQL` (outside any transaction): claim ``key``, append ``chunks``
    (every key in ``ids``), touch ``touch`` (a (project id, run id), or None). Returns whether
    it stored; False means ``key`` was already used (nothing was written)."""
    shared = stepsets_of(chunks)
    columns: list[list[object]] = [[] for _ in range(_COLUMNS)]
    for chunk, at in zip(chunks, shared.at):
        for column, value in zip(columns, (ids[chunk.key], *stored_row(chunk.row, at > 0), at)):
            column.append(value)
    project_id, run_id = touch if touch is not None else (None, None)
    row = await conn.fetchrow(APPEND_SQL, key, now_ms, accepted, *columns, project_id, run_id,
                              now_ms - HEARTBEAT_GRANULARITY_MS,
                              [b[0] for b in shared.blobs], [b[1] for b in shared.blobs])
    assert row is not None
    return bool(row["stored"])


def fits_one_statement(batch: IngestBatch[SeriesChunk], known: Mapping[SeriesKey, int],
                       chunks: Sequence[PreparedChunk], bookkeeping: IngestBookkeeping,
                       now_ms: int) -> bool:
    """Whether ``batch`` can take :func:`append`: every series id known (committed), at most
    one run, no diagnostics to keep, no purge of expired keys due."""
    return (len({(x.project_id, x.run_id) for x in batch.items}) <= 1
            and not batch.diagnostics and all(c.key in known for c in chunks)
            and not bookkeeping.purge_due(now_ms))


async def append(engine: PgEngine, batch: IngestBatch[SeriesChunk],
                 chunks: Sequence[PreparedChunk], ids: Mapping[SeriesKey, int],
                 bookkeeping: IngestBookkeeping, notifier: RunNotifier) -> WriteOutcome:
    """Store a batch that :func:`fits_one_statement` in one statement; the same outcome, and
    the same announcement after commit, as :func:`.ingest_tx.ingest`."""
    touches = RunTouches(bookkeeping, batch)

    async def job(conn: Conn) -> bool:
        now_ms = int(time.time() * 1000)
        touched = touches.due(now_ms)
        return await append_in_one_statement(conn, batch.idempotency_key, batch.accepted,
                                             chunks, ids, touched[0] if touched else None,
                                             now_ms)

    if not await engine.write_statement(job):
        assert batch.idempotency_key is not None
        return WriteOutcome(await engine.read(lambda conn: recorded_count(
            conn, batch.idempotency_key or "")), duplicate=True)
    touches.committed()
    notifier.announce(touches.runs)
    return WriteOutcome(batch.accepted)
