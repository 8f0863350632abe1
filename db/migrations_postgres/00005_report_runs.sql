-- +goose Up
-- One row per report delivery to one sink (scheduled or "run now").
CREATE TABLE report_runs (
    id          TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,                 -- groups the sinks of one run
    trigger     TEXT NOT NULL,                 -- schedule | manual
    sink        TEXT NOT NULL,                 -- dir:/path | webhook:URL | email:a@b,…
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),
    rows        INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX report_runs_started ON report_runs (started_at);

-- Leases that keep two replicas from running the same job at once.
CREATE TABLE job_locks (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE job_locks;
DROP TABLE report_runs;
