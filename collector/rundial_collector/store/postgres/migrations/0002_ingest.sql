-- Shared by every ingest: idempotency keys (claimed in the same transaction as the rows they
-- cover, so a retry that reaches another collector is answered "duplicate") and the latest
-- clientDiagnostics snapshot per run.
CREATE TABLE idempotency_keys (
    idem_key TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL,
    accepted INTEGER NOT NULL
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_ms);
CREATE TABLE client_diagnostics (
    project_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    captured_at_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    payload_json TEXT NOT NULL,
    PRIMARY KEY (project_id, run_id)
);
