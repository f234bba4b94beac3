-- workspaces, projects, api_keys, runs, run_start_tokens, run_meta, run_edits, ui_sessions
-- (store/postgres/control*.py). The same tables as SQLite's (store/sqlite/control.py, runs.py,
-- run_edits.py, sessions.py): JSON stays TEXT as SQLite keeps it, times are ms BIGINTs.
-- Text that is ordered, compared or searched uses COLLATE "C": byte order and ASCII-only case
-- folding, as SQLite's BINARY collation and LIKE, so listings and pages are identical.
CREATE TABLE workspaces (
    workspace_id TEXT COLLATE "C" PRIMARY KEY,
    slug TEXT COLLATE "C" NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE projects (
    project_id TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (workspace_id),
    slug TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (workspace_id, slug)
);
CREATE INDEX projects_by_slug ON projects (slug);
CREATE TABLE api_keys (
    key_id TEXT COLLATE "C" PRIMARY KEY,
    key_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    workspace_id TEXT COLLATE "C" REFERENCES workspaces (workspace_id),
    project_id TEXT COLLATE "C" REFERENCES projects (project_id),
    scopes TEXT NOT NULL,
    label TEXT,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT,
    revoked_ms BIGINT
);
CREATE INDEX api_keys_by_project ON api_keys (project_id, created_ms);
CREATE TABLE runs (
    run_id TEXT COLLATE "C" PRIMARY KEY,
    project_id TEXT COLLATE "C" NOT NULL REFERENCES projects (project_id),
    kind TEXT NOT NULL,
    name TEXT COLLATE "C",
    run_group TEXT,
    job_type TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    config TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    reason TEXT,
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT,
    updated_ms BIGINT NOT NULL,
    last_heartbeat_ms BIGINT NOT NULL,
    client TEXT
);
CREATE INDEX runs_by_started ON runs (project_id, started_ms, run_id);
CREATE INDEX runs_by_updated ON runs (project_id, updated_ms, run_id);
CREATE INDEX runs_by_id ON runs (project_id, run_id);
CREATE TABLE run_start_tokens (
    run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
    token TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, token)
);
CREATE TABLE run_meta (
    run_id TEXT COLLATE "C" PRIMARY KEY REFERENCES runs (run_id),
    notes TEXT,
    deleted_ms BIGINT
);
CREATE TABLE run_edits (
    edit_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
    edited_ms BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT
);
CREATE INDEX run_edits_by_run ON run_edits (run_id, edit_id);
CREATE TABLE ui_sessions (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    kind TEXT NOT NULL,
    key_id TEXT COLLATE "C" NOT NULL REFERENCES api_keys (key_id),
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX ui_sessions_by_expiry ON ui_sessions (expires_ms);
