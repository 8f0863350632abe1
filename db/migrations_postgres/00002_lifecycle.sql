-- +goose Up
-- Tamper-evident audit log: each event carries the SHA-256 of the one before.
-- Appends are serialized by a transaction-level advisory lock, so the
-- sequence stays gapless with writers on several replicas.
CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY,                -- 1, 2, 3, … (no gaps)
    id          TEXT NOT NULL UNIQUE,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,                     -- username, "cli" or "system"
    actor_id    TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}',        -- JSON object
    remote_addr TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_action ON audit_events (action);
CREATE INDEX audit_events_actor ON audit_events (actor);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id);

-- +goose Down
DROP TABLE audit_events;
