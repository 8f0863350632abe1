-- +goose Up
-- The app's own grants (RFC 6749 §4.4): one row per client and scope set
-- the client_credentials grant has issued tokens for. Its tokens carry the
-- row's id as their family, so revoking the row (or switching the grant
-- type off) appends a "family" invalidation and they die on the next
-- request. last_used_at is flushed in batches by the Bearer check.
CREATE TABLE client_credential_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_issued_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    token_count INTEGER NOT NULL DEFAULT 0,
    revoked_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX client_credential_grants_live ON client_credential_grants (client_id, scopes) WHERE revoked_at IS NULL;
CREATE INDEX client_credential_grants_by_client ON client_credential_grants (client_id, created_at);

-- A registration's JSON Web Key Set for private_key_jwt client
-- authentication (RFC 7523 §2.2, OIDC Core §9); empty: none.
ALTER TABLE apps ADD COLUMN jwks TEXT NOT NULL DEFAULT '';

-- The jti of every client assertion (private_key_jwt) accepted, until its
-- exp: a second use within its lifetime is refused (RFC 7523 §3 item 7).
CREATE TABLE client_assertion_jtis (
    client_id TEXT NOT NULL,
    jti_hash TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client_id, jti_hash)
);
CREATE INDEX client_assertion_jtis_expiry ON client_assertion_jtis (expires_at);

-- +goose Down
DROP INDEX client_assertion_jtis_expiry;
DROP TABLE client_assertion_jtis;
ALTER TABLE apps DROP COLUMN jwks;
DROP INDEX client_credential_grants_by_client;
DROP INDEX client_credential_grants_live;
DROP TABLE client_credential_grants;
