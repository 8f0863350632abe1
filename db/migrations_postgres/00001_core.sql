-- +goose Up
-- Core schema (PostgreSQL twin of migrations/00001_core.sql): users, app
-- registrations, client secrets, authorizations, authorization codes,
-- refresh tokens, signing keys, sessions, settings and the invalidation
-- feed the Bearer check follows. Times are TIMESTAMPTZ, written in UTC.
-- Case-insensitive names (SQLite's COLLATE NOCASE) are lower() indexes.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,                 -- GUID
    username      TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin', 'auditor', 'member')),
    password_hash TEXT NOT NULL,                    -- argon2id PHC string
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    revision      BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_username ON users (lower(username));

CREATE TABLE apps (
    client_id    TEXT PRIMARY KEY,                  -- GUID
    name         TEXT NOT NULL,
    company      TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    company_url  TEXT NOT NULL DEFAULT '',
    app_url      TEXT NOT NULL,
    callback_url TEXT NOT NULL,
    logo_url     TEXT NOT NULL DEFAULT '',
    terms_url    TEXT NOT NULL DEFAULT '',
    privacy_url  TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL,                     -- space-separated catalog scopes
    owner_id     TEXT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    deleted_at   TIMESTAMPTZ
);
CREATE INDEX apps_by_name ON apps (lower(name), client_id);

CREATE TABLE client_secrets (
    id           TEXT PRIMARY KEY,                  -- GUID, recorded in every token
    client_id    TEXT NOT NULL REFERENCES apps (client_id),
    slot         TEXT NOT NULL CHECK (slot IN ('primary', 'alternative')),
    hash         BYTEA NOT NULL,                    -- SHA-256 of the secret
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    use_count    BIGINT NOT NULL DEFAULT 0,
    retired_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX client_secrets_active_slot ON client_secrets (client_id, slot) WHERE retired_at IS NULL;
CREATE INDEX client_secrets_expiry ON client_secrets (expires_at) WHERE retired_at IS NULL;

CREATE TABLE authorizations (
    id           TEXT PRIMARY KEY,                  -- GUID; the access token's aui claim
    user_id      TEXT NOT NULL REFERENCES users (id),
    client_id    TEXT NOT NULL REFERENCES apps (client_id),
    scopes       TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    granted_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    revoked_by   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX authorizations_active ON authorizations (user_id, client_id) WHERE revoked_at IS NULL;
CREATE INDEX authorizations_by_client ON authorizations (client_id, granted_at);

CREATE TABLE authorization_codes (
    id               TEXT PRIMARY KEY,              -- GUID; becomes the token family id
    hash             BYTEA NOT NULL UNIQUE,         -- SHA-256 of the code
    authorization_id TEXT NOT NULL REFERENCES authorizations (id),
    client_id        TEXT NOT NULL REFERENCES apps (client_id),
    user_id          TEXT NOT NULL REFERENCES users (id),
    secret_id        TEXT NOT NULL DEFAULT '',
    scopes           TEXT NOT NULL,
    redirect_uri     TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    used_at          TIMESTAMPTZ
);
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);

CREATE TABLE refresh_tokens (
    id               TEXT PRIMARY KEY,
    hash             BYTEA NOT NULL UNIQUE,         -- SHA-256 of the token
    authorization_id TEXT NOT NULL REFERENCES authorizations (id),
    family_id        TEXT NOT NULL,                 -- id of the code that began the chain
    client_id        TEXT NOT NULL REFERENCES apps (client_id),
    user_id          TEXT NOT NULL REFERENCES users (id),
    secret_id        TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    used_at          TIMESTAMPTZ,
    revoked_at       TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_authorization ON refresh_tokens (authorization_id);

-- Access-token signing keys (Ed25519); the newest is used for signing and
-- all are published at /.well-known/jwks.json.
CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,                   -- JWK kid
    alg         TEXT NOT NULL,
    private_key BYTEA NOT NULL,                     -- PKCS #8 DER
    created_at  TIMESTAMPTZ NOT NULL
);

-- Append-only feed of "tokens carrying this ref are dead" facts, written in
-- the same transaction as the revocation. Every replica's Bearer check
-- follows it by sequence.
CREATE TABLE invalidations (
    seq  BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,                             -- authorization | family | secret | app | user
    ref  TEXT NOT NULL,
    at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX invalidations_at ON invalidations (at);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Server-side dashboard sessions (alexedwards/scs), shared by replicas.
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BYTEA NOT NULL,
    expiry TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

-- +goose Down
DROP TABLE sessions;
DROP TABLE settings;
DROP TABLE invalidations;
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE authorization_codes;
DROP TABLE authorizations;
DROP TABLE client_secrets;
DROP TABLE apps;
DROP TABLE users;
