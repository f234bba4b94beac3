-- artifact versions, files, aliases, uses, media items, blob holders (store/postgres/artifacts.py)
-- Same columns and meaning as the SQLite schema (store/sqlite/artifacts.py): JSON kept as TEXT,
-- every integer BIGINT (requests carry int64). Version numbers are allocated under an advisory
-- transaction lock per (project, name), so collectors finalizing the same artifact get
-- distinct, gap-free numbers; the unique index below is the backstop. Names, aliases, paths
-- and media keys compare bytewise (COLLATE "C"), as SQLite's BINARY does, so listings sort
-- and cursors page the same on both stores.
CREATE TABLE artifact_versions (
    artifact_id TEXT PRIMARY KEY,
    upload_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    artifact_type TEXT,
    state TEXT NOT NULL,
    version BIGINT,
    requested_aliases TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    keep_last BIGINT,
    idempotency_key TEXT,
    created_ms BIGINT NOT NULL,
    finalized_ms BIGINT,
    expires_ms BIGINT NOT NULL,
    deleted_ms BIGINT,
    deduplicated_bytes BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX artifact_versions_number
    ON artifact_versions (project_id, name, version) WHERE version IS NOT NULL;
CREATE UNIQUE INDEX artifact_versions_idempotency
    ON artifact_versions (project_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX artifact_versions_retention
    ON artifact_versions (project_id, name, run_id, state, version);
CREATE INDEX artifact_versions_by_run ON artifact_versions (project_id, run_id);
CREATE INDEX artifact_versions_pending ON artifact_versions (state, expires_ms);

CREATE TABLE artifact_files (
    artifact_id TEXT NOT NULL REFERENCES artifact_versions (artifact_id),
    ordinal BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT,
    PRIMARY KEY (artifact_id, path)
);
CREATE INDEX artifact_files_by_sha ON artifact_files (sha256);
CREATE INDEX artifact_files_by_ordinal ON artifact_files (artifact_id, ordinal);

CREATE TABLE artifact_aliases (
    project_id TEXT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    alias TEXT COLLATE "C" NOT NULL,
    artifact_id TEXT NOT NULL REFERENCES artifact_versions (artifact_id),
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (project_id, name, alias)
);
CREATE INDEX artifact_aliases_by_id ON artifact_aliases (artifact_id);

CREATE TABLE artifact_uses (
    run_id TEXT NOT NULL,
    artifact_id TEXT NOT NULL REFERENCES artifact_versions (artifact_id),
    project_id TEXT NOT NULL,
    ref TEXT NOT NULL,
    first_used_ms BIGINT NOT NULL,
    last_used_ms BIGINT NOT NULL,
    use_count BIGINT NOT NULL,
    PRIMARY KEY (run_id, artifact_id)
);
CREATE INDEX artifact_uses_by_artifact ON artifact_uses (artifact_id);
CREATE INDEX artifact_uses_by_run ON artifact_uses (project_id, run_id);

CREATE TABLE media_items (
    item_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    media_key TEXT COLLATE "C" NOT NULL,
    media_type TEXT NOT NULL,
    step BIGINT NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    artifact_id TEXT NOT NULL,
    artifact_version BIGINT NOT NULL,
    artifact_path TEXT NOT NULL,
    artifact_sha256 TEXT NOT NULL,
    caption TEXT,
    width BIGINT,
    height BIGINT,
    table_rows BIGINT,
    table_columns BIGINT,
    metadata TEXT NOT NULL DEFAULT '{}',
    UNIQUE (run_id, media_key, step, artifact_id, artifact_path)
);
CREATE INDEX media_items_by_run
    ON media_items (project_id, run_id, media_key, step, item_id);

CREATE TABLE blob_holders (
    project_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    PRIMARY KEY (project_id, sha256)
);
CREATE INDEX blob_holders_by_sha ON blob_holders (sha256);
