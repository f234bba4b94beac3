-- Log lines, spans and the live stream's positions (store/postgres/events*.py).
--
-- Gap-free stream positions across concurrent writers. An IDENTITY id is drawn when a row is
-- inserted, not when it commits: with several collectors a row with a smaller id can commit
-- after one with a bigger id, and a reader that moved its cursor past the bigger id would skip
-- it. So the stream's position of a row is (its transaction id << 24) | (its ordinal within
-- that transaction), drawn by rundial_event_pos() at insert time. Positions then follow the
-- order of transaction ids, and a reader exposes only positions below
-- pg_snapshot_xmin(pg_current_snapshot()) << 24: every transaction below that xmin has ended,
-- and every transaction still running or yet to start writes positions above it. Hence every
-- row at or below an exposed position is committed, and no row can commit there later.
--
-- log_lines.log_id and spans.span_pk ARE such positions (unique: a transaction id is never
-- reused, the ordinal counts up within it). metric_chunks keeps its IDENTITY chunk_id for the
-- metric reads and gets its stream position as event_pos. The ordinal is a transaction-local
-- setting, so it restarts at 0 in every transaction; one transaction holds at most 2^24 rows
-- (an ingest request holds far fewer: its body is at most 32 MiB).
CREATE FUNCTION rundial_event_pos() RETURNS BIGINT LANGUAGE sql VOLATILE PARALLEL UNSAFE AS $$
    SELECT (pg_current_xact_id()::text::bigint << 24)
        | set_config('rundial.event_ordinal',
                     (COALESCE(NULLIF(current_setting('rundial.event_ordinal', true), ''), '-1')
                      ::bigint + 1)::text, true)::bigint
$$;

CREATE TABLE log_lines (
    log_id BIGINT PRIMARY KEY DEFAULT rundial_event_pos(),
    project_id TEXT COLLATE "C" NOT NULL,
    run_id TEXT COLLATE "C" NOT NULL,
    ts_ms BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    level SMALLINT NOT NULL,
    message TEXT NOT NULL,
    truncated BOOLEAN NOT NULL,
    msg_hash BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    UNIQUE (project_id, run_id, ts_ms, seq, msg_hash)
);
CREATE INDEX log_lines_order ON log_lines (project_id, run_id, ts_ms, seq, log_id);
CREATE INDEX log_lines_by_run ON log_lines (project_id, run_id, log_id);

CREATE TABLE spans (
    span_pk BIGINT PRIMARY KEY DEFAULT rundial_event_pos(),
    project_id TEXT COLLATE "C" NOT NULL,
    run_id TEXT COLLATE "C" NOT NULL,
    trace_id TEXT COLLATE "C" NOT NULL,
    span_id TEXT COLLATE "C" NOT NULL,
    parent_span_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_ns BIGINT NOT NULL,
    end_ns BIGINT,
    status TEXT NOT NULL,
    attrs_json TEXT NOT NULL,
    events_json TEXT NOT NULL,
    model TEXT,
    gen_ai_system TEXT,
    tokens_in TEXT,
    tokens_out TEXT,
    cost_usd DOUBLE PRECISION,
    received_ms BIGINT NOT NULL,
    UNIQUE (project_id, run_id, trace_id, span_id)
);
CREATE INDEX spans_by_start ON spans (project_id, run_id, start_ns, span_pk);
CREATE INDEX spans_by_run ON spans (project_id, run_id, span_pk);

-- Metric chunks' stream positions (the table is 0003's; its writer leaves this column to its
-- default). Tails walk event_pos near the head; replays walk one series by event_pos.
ALTER TABLE metric_chunks ADD COLUMN event_pos BIGINT NOT NULL DEFAULT rundial_event_pos();
CREATE UNIQUE INDEX metric_chunks_by_event_pos ON metric_chunks (event_pos);
CREATE INDEX metric_chunks_series_events ON metric_chunks (series_id, event_pos);
