-- +goose Up
-- Hardening (issue #8).
-- PKCE (RFC 7636): the S256 challenge an authorization code was issued
-- with ('' = none), and apps that require one.
ALTER TABLE authorization_codes ADD COLUMN code_challenge TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN require_pkce INTEGER NOT NULL DEFAULT 0;
-- Sessions are now stored under the SHA-256 of their token; rows keyed by
-- a plain token can never be found again, so they go.
DELETE FROM sessions;
-- /readyz proves the database takes a write by updating this one row.
CREATE TABLE readiness (
    id         INTEGER PRIMARY KEY,
    checked_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE readiness;
ALTER TABLE apps DROP COLUMN require_pkce;
ALTER TABLE authorization_codes DROP COLUMN code_challenge;
