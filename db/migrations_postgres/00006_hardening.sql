-- +goose Up
-- Hardening (issue #8); see the SQLite twin.
ALTER TABLE authorization_codes ADD COLUMN code_challenge TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN require_pkce BOOLEAN NOT NULL DEFAULT FALSE;
DELETE FROM sessions;
CREATE TABLE readiness (
    id         INTEGER PRIMARY KEY,
    checked_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE readiness;
ALTER TABLE apps DROP COLUMN require_pkce;
ALTER TABLE authorization_codes DROP COLUMN code_challenge;
