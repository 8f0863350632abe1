-- +goose Up
-- Which scopes each authorization actually used (see the SQLite twin).
CREATE TABLE scope_usage (
    authorization_id TEXT NOT NULL REFERENCES authorizations (id),
    scope            TEXT NOT NULL,
    satisfied_by     TEXT NOT NULL,
    count            BIGINT NOT NULL DEFAULT 0,
    first_used_at    TIMESTAMPTZ NOT NULL,
    last_used_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (authorization_id, scope, satisfied_by)
);
CREATE INDEX scope_usage_last_used ON scope_usage (last_used_at);

-- +goose Down
DROP TABLE scope_usage;
