-- +goose Up
-- Which scopes the app's own grants used (see the SQLite twin).
CREATE TABLE client_grant_scope_usage (
    grant_id      TEXT NOT NULL REFERENCES client_credential_grants (id),
    scope         TEXT NOT NULL,
    satisfied_by  TEXT NOT NULL,
    count         BIGINT NOT NULL DEFAULT 0,
    first_used_at TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (grant_id, scope, satisfied_by)
);

-- +goose Down
DROP TABLE client_grant_scope_usage;
