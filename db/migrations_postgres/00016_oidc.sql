-- +goose Up
-- OpenID Connect and OAuth 2.1 beside the Azure DevOps dialect.
-- Registrations: client type, allowed grant types (space-separated; the
-- dialect is urn:ietf:params:oauth:grant-type:jwt-bearer, which every
-- existing app keeps alone), redirect URIs beside callback_url and
-- post-logout redirect URIs (newline-separated), the ID token algorithm.
ALTER TABLE apps ADD COLUMN client_type TEXT NOT NULL DEFAULT 'confidential';
ALTER TABLE apps ADD COLUMN grant_types TEXT NOT NULL DEFAULT 'urn:ietf:params:oauth:grant-type:jwt-bearer';
ALTER TABLE apps ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256';
-- Codes of the standard flow ('oidc'; '' = the dialect) carry the OIDC
-- nonce and when the user signed in (auth_time); refresh tokens keep it.
ALTER TABLE authorization_codes ADD COLUMN flow TEXT NOT NULL DEFAULT '';
ALTER TABLE authorization_codes ADD COLUMN nonce TEXT NOT NULL DEFAULT '';
ALTER TABLE authorization_codes ADD COLUMN auth_time TIMESTAMPTZ;
ALTER TABLE refresh_tokens ADD COLUMN auth_time TIMESTAMPTZ;
-- Device authorization grant (RFC 8628): the device code and user code
-- are stored as SHA-256 hashes only.
CREATE TABLE device_codes (
    id               TEXT PRIMARY KEY,               -- GUID; becomes the token family id
    device_hash      BYTEA NOT NULL UNIQUE,
    user_code_hash   BYTEA NOT NULL UNIQUE,
    client_id        TEXT NOT NULL REFERENCES apps (client_id),
    scopes           TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending', -- pending | approved | denied | used
    user_id          TEXT NOT NULL DEFAULT '',
    authorization_id TEXT NOT NULL DEFAULT '',
    auth_time        TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    polled_at        TIMESTAMPTZ
);
CREATE INDEX device_codes_expiry ON device_codes (expires_at);

-- +goose Down
DROP TABLE device_codes;
ALTER TABLE refresh_tokens DROP COLUMN auth_time;
ALTER TABLE authorization_codes DROP COLUMN auth_time;
ALTER TABLE authorization_codes DROP COLUMN nonce;
ALTER TABLE authorization_codes DROP COLUMN flow;
ALTER TABLE apps DROP COLUMN id_token_alg;
ALTER TABLE apps DROP COLUMN post_logout_redirect_uris;
ALTER TABLE apps DROP COLUMN redirect_uris;
ALTER TABLE apps DROP COLUMN grant_types;
ALTER TABLE apps DROP COLUMN client_type;
