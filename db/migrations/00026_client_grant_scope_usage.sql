-- +goose Up
-- Which scopes the app's own grants (client_credentials, RFC 6749 §4.4)
-- actually used: scope_usage's twin keyed by the client_credential_grants
-- row (a client credentials token has no user authorization). One row per
-- grant, scope the API required and granted scope that satisfied it;
-- written in the usage flush's batches, read by the app's scopes page and
-- its least-privilege recommendation.
CREATE TABLE client_grant_scope_usage (
    grant_id      TEXT NOT NULL REFERENCES client_credential_grants (id),
    scope         TEXT NOT NULL,
    satisfied_by  TEXT NOT NULL,
    count         INTEGER NOT NULL DEFAULT 0,
    first_used_at TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (grant_id, scope, satisfied_by)
);

-- +goose Down
DROP TABLE client_grant_scope_usage;
