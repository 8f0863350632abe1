-- +goose Up
-- Scale: indexes behind every dashboard query and the aggregates of the
-- scope inventory (see the SQLite twin for what each is for).
CREATE INDEX authorizations_by_user ON authorizations (user_id, granted_at, id);
DROP INDEX authorizations_by_client;
CREATE INDEX authorizations_by_client ON authorizations (client_id, granted_at, id);
CREATE INDEX authorizations_active_by_client ON authorizations (client_id, granted_at, id) WHERE revoked_at IS NULL;

DROP INDEX apps_by_name;
CREATE INDEX apps_by_name ON apps (lower(name), client_id, company, deleted_at);
CREATE INDEX apps_by_owner ON apps (owner_id, lower(name), client_id);

DROP INDEX client_secrets_expiry;
CREATE INDEX client_secrets_expiry ON client_secrets (expires_at, client_id, slot) WHERE retired_at IS NULL;

CREATE TABLE app_scopes (
    scope     TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES apps (client_id),
    PRIMARY KEY (scope, client_id)
);
CREATE INDEX app_scopes_by_app ON app_scopes (client_id);

CREATE TABLE authorization_scopes (
    scope            TEXT NOT NULL,
    authorization_id TEXT NOT NULL REFERENCES authorizations (id),
    user_id          TEXT NOT NULL,                -- the authorization's user (distinct holders per scope)
    PRIMARY KEY (scope, authorization_id)
);
CREATE INDEX authorization_scopes_by_authorization ON authorization_scopes (authorization_id);
CREATE INDEX authorization_scopes_by_user ON authorization_scopes (scope, user_id);

CREATE TABLE scope_stats (
    scope          TEXT PRIMARY KEY,
    apps           BIGINT NOT NULL DEFAULT 0,
    authorizations BIGINT NOT NULL DEFAULT 0,
    uses           BIGINT NOT NULL DEFAULT 0,
    last_used_at   TIMESTAMPTZ
);

INSERT INTO app_scopes (scope, client_id)
SELECT DISTINCT s, a.client_id FROM apps a, unnest(string_to_array(a.scopes, ' ')) AS s
WHERE a.deleted_at IS NULL AND s <> '';

INSERT INTO authorization_scopes (scope, authorization_id, user_id)
SELECT DISTINCT s, z.id, z.user_id FROM authorizations z, unnest(string_to_array(z.scopes, ' ')) AS s
WHERE z.revoked_at IS NULL AND s <> '';

INSERT INTO scope_stats (scope) SELECT scope FROM app_scopes UNION SELECT scope FROM authorization_scopes UNION SELECT satisfied_by FROM scope_usage;
UPDATE scope_stats SET
    apps = (SELECT COUNT(*) FROM app_scopes s WHERE s.scope = scope_stats.scope),
    authorizations = (SELECT COUNT(*) FROM authorization_scopes s WHERE s.scope = scope_stats.scope),
    uses = COALESCE((SELECT SUM(s.count) FROM scope_usage s JOIN authorizations z ON z.id = s.authorization_id AND z.revoked_at IS NULL
        WHERE s.satisfied_by = scope_stats.scope), 0),
    last_used_at = (SELECT MAX(last_used_at) FROM scope_usage s WHERE s.satisfied_by = scope_stats.scope);

-- +goose Down
DROP TABLE scope_stats;
DROP TABLE authorization_scopes;
DROP TABLE app_scopes;
DROP INDEX apps_by_owner;
DROP INDEX apps_by_name;
CREATE INDEX apps_by_name ON apps (lower(name), client_id);
DROP INDEX client_secrets_expiry;
CREATE INDEX client_secrets_expiry ON client_secrets (expires_at) WHERE retired_at IS NULL;
DROP INDEX authorizations_active_by_client;
DROP INDEX authorizations_by_client;
CREATE INDEX authorizations_by_client ON authorizations (client_id, granted_at);
DROP INDEX authorizations_by_user;
