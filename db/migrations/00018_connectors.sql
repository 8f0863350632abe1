-- +goose Up
-- Sign-in through the organization's directory: upstream OpenID Connect
-- and LDAP connectors (their secret sealed with the key file, like the
-- signing keys), and users linked to a connector identity by its stable
-- subject (OIDC sub, LDAP entryUUID / objectGUID), never by name.
CREATE TABLE connectors (
    name            TEXT PRIMARY KEY,               -- [a-z0-9-], in /signin/NAME
    type            TEXT NOT NULL CHECK (type IN ('oidc', 'ldap')),
    config          TEXT NOT NULL,                  -- JSON, no secret
    secret          BLOB NOT NULL,                  -- keyseal blob, label "connector:NAME"
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    last_sync_at    TIMESTAMP,
    last_sync_error TEXT NOT NULL DEFAULT ''        -- '' after a sync that reached the directory
);

ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local';  -- 'local' or a connector name
ALTER TABLE users ADD COLUMN subject TEXT NOT NULL DEFAULT '';      -- the connector's stable subject
ALTER TABLE users ADD COLUMN last_signin_at TIMESTAMP;
ALTER TABLE users ADD COLUMN last_sync_at TIMESTAMP;
CREATE UNIQUE INDEX users_by_subject ON users (source, subject) WHERE subject <> '';

-- +goose Down
DROP INDEX users_by_subject;
ALTER TABLE users DROP COLUMN last_sync_at;
ALTER TABLE users DROP COLUMN last_signin_at;
ALTER TABLE users DROP COLUMN subject;
ALTER TABLE users DROP COLUMN source;
DROP TABLE connectors;
