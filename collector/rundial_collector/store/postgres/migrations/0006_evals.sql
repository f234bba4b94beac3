-- eval suites, eval runs and result rows (store/postgres/evals.py). Same tables as SQLite's
-- (store/sqlite/evals.py): JSON kept as TEXT, times are ms BIGINTs, ``passed`` is 0/1. Ids,
-- example ids and scorers compare bytewise (COLLATE "C") as SQLite's BINARY does, so a diff
-- orders and pages the same on both stores.
CREATE TABLE eval_suites (
    suite_id TEXT COLLATE "C" PRIMARY KEY,
    project_id TEXT COLLATE "C" NOT NULL REFERENCES projects (project_id),
    name TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    dataset_name TEXT NOT NULL,
    dataset_version TEXT NOT NULL,
    dataset_ref TEXT NOT NULL,
    scorers TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE eval_runs (
    eval_run_id TEXT COLLATE "C" PRIMARY KEY,
    project_id TEXT COLLATE "C" NOT NULL REFERENCES projects (project_id),
    suite_id TEXT COLLATE "C" NOT NULL REFERENCES eval_suites (suite_id),
    run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
    config TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE eval_results (
    project_id TEXT COLLATE "C" NOT NULL,
    eval_run_id TEXT COLLATE "C" NOT NULL,
    example_id TEXT COLLATE "C" NOT NULL,
    scorer TEXT COLLATE "C" NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    passed BIGINT NOT NULL,
    trace_id TEXT,
    evidence TEXT,
    meta TEXT NOT NULL,
    accepted_ms BIGINT NOT NULL,
    PRIMARY KEY (project_id, eval_run_id, example_id, scorer)
);
