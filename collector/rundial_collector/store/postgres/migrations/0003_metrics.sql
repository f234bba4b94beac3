-- Series and metric chunks (store/postgres/metrics*.py). Same design and column names as
-- SQLite's (store/sqlite/metrics.py): one metric_chunks row per (series, ingest request)
-- holding packed little-endian arrays, append-only, duplicate steps resolved at read time
-- (the higher chunk_id wins). Keys compare bytewise (COLLATE "C"), as SQLite orders them.
CREATE TABLE series (
    series_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    metric_key TEXT COLLATE "C" NOT NULL,
    UNIQUE (project_id, run_id, metric_key)
);
CREATE INDEX series_by_key ON series (project_id, metric_key);

-- resolved_count and blocks: the chunk's chart aggregates (store/chart_math.py chunk_blocks),
-- written by the same COPY as the chunk (SQLite keeps them in metric_chunk_aggs).
-- txid: the writing transaction, for the live stream's gap-free cursor (store/postgres/events).
CREATE TABLE metric_chunks (
    chunk_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id BIGINT NOT NULL REFERENCES series (series_id),
    writer_rank BIGINT,
    point_count INTEGER NOT NULL,
    step_min BIGINT NOT NULL,
    step_max BIGINT NOT NULL,
    ts_min BIGINT NOT NULL,
    ts_max BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    context_json TEXT,
    steps BYTEA NOT NULL,
    vals BYTEA NOT NULL,
    timestamps BYTEA NOT NULL,
    resolved_count INTEGER NOT NULL,
    blocks BYTEA NOT NULL,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX metric_chunks_by_series ON metric_chunks (series_id, chunk_id);
-- Packed numbers barely compress: store them uncompressed, out of line, so that ingest does
-- not spend CPU on compression and a read of a slice (substring) fetches only that slice.
ALTER TABLE metric_chunks ALTER COLUMN steps SET STORAGE EXTERNAL,
    ALTER COLUMN vals SET STORAGE EXTERNAL,
    ALTER COLUMN timestamps SET STORAGE EXTERNAL,
    ALTER COLUMN blocks SET STORAGE EXTERNAL;
