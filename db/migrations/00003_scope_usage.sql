-- +goose Up
-- Which scopes each authorization actually used: the scope an API required
-- and the granted scope that satisfied it, counted, with first and last use.
-- Written in batches by the usage recorder, never on the request path.
CREATE TABLE scope_usage (
    authorization_id TEXT NOT NULL REFERENCES authorizations (id),
    scope            TEXT NOT NULL,
    satisfied_by     TEXT NOT NULL,
    count            INTEGER NOT NULL DEFAULT 0,
    first_used_at    TIMESTAMP NOT NULL,
    last_used_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (authorization_id, scope, satisfied_by)
);
CREATE INDEX scope_usage_last_used ON scope_usage (last_used_at);

-- +goose Down
DROP TABLE scope_usage;
