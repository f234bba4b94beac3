-- Steps and timestamps stored once per request (store/postgres/metrics_write.py stepsets).
-- The chunks of a wide-rows or columns request (one run's keys logged together) share one
-- steps and one timestamps array. Stored on every chunk row, they were two thirds of the
-- points' bytes and of their WAL (about 30 bytes a point written, 12 without them), which
-- set how often PostgreSQL checkpoints under sustained ingest. Such chunks now point at one
-- chunk_stepsets row (stepset_id) and keep steps and timestamps NULL; a chunk alone keeps
-- them inline, as every row written before this version does. Readers take
-- COALESCE(c.steps, t.steps) over a LEFT JOIN on stepset_id.
--
-- No foreign key from metric_chunks.stepset_id: its per-row check would lock (and so rewrite)
-- the stepset row for every chunk. The stepset is inserted by the same statement or
-- transaction as its chunks, and neither table is ever updated or deleted from.
CREATE SEQUENCE chunk_stepsets_id_seq AS BIGINT;
CREATE TABLE chunk_stepsets (
    stepset_id BIGINT PRIMARY KEY DEFAULT nextval('chunk_stepsets_id_seq'),
    steps BYTEA NOT NULL,
    timestamps BYTEA NOT NULL
);
ALTER SEQUENCE chunk_stepsets_id_seq OWNED BY chunk_stepsets.stepset_id;
ALTER TABLE chunk_stepsets ALTER COLUMN steps SET STORAGE EXTERNAL,
    ALTER COLUMN timestamps SET STORAGE EXTERNAL;
-- NOT VALID: rows written before this version are inline, so the check holds for them; it is
-- not re-verified by a scan of a possibly large table while every collector waits to start.
ALTER TABLE metric_chunks ADD COLUMN stepset_id BIGINT,
    ALTER COLUMN steps DROP NOT NULL,
    ALTER COLUMN timestamps DROP NOT NULL,
    ADD CONSTRAINT metric_chunks_steps_once CHECK (
        (stepset_id IS NULL AND steps IS NOT NULL AND timestamps IS NOT NULL)
        OR (stepset_id IS NOT NULL AND steps IS NULL AND timestamps IS NULL)) NOT VALID;
