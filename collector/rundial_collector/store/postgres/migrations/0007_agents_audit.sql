-- agents, agent_keys, users, audit_events (store/postgres/accounts.py). The same tables as
-- SQLite's (store/sqlite/accounts.py). The audit log is append-only: a trigger refuses UPDATE
-- and DELETE, so no code path (the API has none) can edit or remove an entry.
CREATE TABLE agents (
    agent_id TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(workspace_id),
    name TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
CREATE UNIQUE INDEX agents_active_name ON agents (workspace_id, name) WHERE revoked_ms IS NULL;
CREATE TABLE agent_keys (
    key_id TEXT COLLATE "C" PRIMARY KEY REFERENCES api_keys(key_id),
    agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents(agent_id)
);
CREATE INDEX agent_keys_by_agent ON agent_keys (agent_id, key_id);
CREATE TABLE users (
    user_id TEXT COLLATE "C" PRIMARY KEY,
    email TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    key_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES api_keys(key_id),
    created_ms BIGINT NOT NULL
);
CREATE TABLE audit_events (
    seq BIGSERIAL PRIMARY KEY,
    created_ms BIGINT NOT NULL,
    workspace_id TEXT COLLATE "C",
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    agent_id TEXT COLLATE "C",
    project_id TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_by_workspace ON audit_events (workspace_id, seq);
CREATE FUNCTION rundial_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION rundial_audit_append_only();
