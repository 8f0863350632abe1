-- +goose Up
-- Refresh grace replays (RFC 9700 §4.14.2): a rotated refresh token
-- presented again inside the grace window mints a fork, another successor
-- of the same parent. parent_id links a successor to the token it was
-- rotated from; forks counts the forks a token has minted (capped);
-- forked marks a successor that has siblings; next_used_id is the one
-- sibling allowed to be rotated — once set, every other sibling is reuse.
ALTER TABLE refresh_tokens ADD COLUMN parent_id TEXT;
ALTER TABLE refresh_tokens ADD COLUMN forked BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE refresh_tokens ADD COLUMN forks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refresh_tokens ADD COLUMN next_used_id TEXT;

-- Failed sign-ins per (username, client address), shared by every replica
-- (used on PostgreSQL; a single SQLite process keeps them in memory).
-- key_hash is the SHA-256 of the limiter key; rows expire with their
-- window and are swept.
CREATE TABLE signin_failures (
    key_hash  BYTEA PRIMARY KEY,
    first_at  TIMESTAMPTZ NOT NULL,
    last_at   TIMESTAMPTZ NOT NULL,
    until_at  TIMESTAMPTZ NOT NULL,
    count     INTEGER NOT NULL
);
CREATE INDEX signin_failures_by_last ON signin_failures (last_at);

-- +goose Down
DROP TABLE signin_failures;
ALTER TABLE refresh_tokens DROP COLUMN next_used_id;
ALTER TABLE refresh_tokens DROP COLUMN forks;
ALTER TABLE refresh_tokens DROP COLUMN forked;
ALTER TABLE refresh_tokens DROP COLUMN parent_id;
