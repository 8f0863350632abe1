-- +goose Up
-- Personal access tokens (issue 19); see the SQLite twin.
CREATE TABLE pats (
    id             TEXT PRIMARY KEY,                -- GUID; authorizationId in the Lifecycle API
    user_id        TEXT NOT NULL REFERENCES users (id),
    name           TEXT NOT NULL,
    hash           BYTEA NOT NULL UNIQUE,            -- SHA-256 of the token
    display        TEXT NOT NULL,                   -- "odp_Ab3x…"
    scopes         TEXT NOT NULL,                   -- space-separated; app_token = full access
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoked_by     TEXT NOT NULL DEFAULT '',
    last_used_at   TIMESTAMPTZ,
    last_used_addr TEXT NOT NULL DEFAULT ''
);
CREATE INDEX pats_by_user ON pats (user_id, created_at, id);
-- Covers the newest-first walk of /admin/tokens and its name/owner search
-- (the rows themselves are read only for matches).
CREATE INDEX pats_by_created ON pats (created_at, id, name, user_id);
CREATE INDEX pats_live_by_expiry ON pats (expires_at, id) WHERE revoked_at IS NULL;

CREATE TABLE revocation_rules (
    id             TEXT PRIMARY KEY,
    scopes         TEXT NOT NULL,
    created_before TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    created_by     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE scanner_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    hash         BYTEA NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX scanner_tokens_by_name ON scanner_tokens (lower(name));

CREATE TABLE pat_notices (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    pat_id     TEXT NOT NULL REFERENCES pats (id),
    kind       TEXT NOT NULL CHECK (kind IN ('leaked', 'expiring')),
    created_at TIMESTAMPTZ NOT NULL,
    seen_at    TIMESTAMPTZ,
    mailed_at  TIMESTAMPTZ
);
CREATE INDEX pat_notices_unseen ON pat_notices (user_id) WHERE seen_at IS NULL;
CREATE UNIQUE INDEX pat_notices_once ON pat_notices (pat_id, kind);

CREATE TABLE pat_allowlist (
    user_id  TEXT PRIMARY KEY REFERENCES users (id),
    added_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE pat_allowlist;
DROP TABLE pat_notices;
DROP TABLE scanner_tokens;
DROP TABLE revocation_rules;
DROP TABLE pats;
