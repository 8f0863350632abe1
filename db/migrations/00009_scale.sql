-- +goose Up
-- Scale (100,000 apps, 10,000 users, 1,000,000 authorizations, 1,000,000
-- audit events): indexes behind every dashboard query, and the aggregates
-- of the scope inventory.

-- A user's authorizations, newest grant first (user page, profile), keyset
-- on (granted_at, id).
CREATE INDEX authorizations_by_user ON authorizations (user_id, granted_at, id);
-- An app's authorizations, newest grant first, keyset on (granted_at, id);
-- the active ones alone also give the per-app active count from the index.
DROP INDEX authorizations_by_client;
CREATE INDEX authorizations_by_client ON authorizations (client_id, granted_at, id);
CREATE INDEX authorizations_active_by_client ON authorizations (client_id, granted_at, id) WHERE revoked_at IS NULL;

-- The app listing walks apps by name; company and deleted_at in the index
-- let a search or filter skip non-matching rows without reading them.
DROP INDEX apps_by_name;
CREATE INDEX apps_by_name ON apps (name COLLATE NOCASE, client_id, company, deleted_at);
CREATE INDEX apps_by_owner ON apps (owner_id, name COLLATE NOCASE, client_id);

-- Expiry tiles and reports count and walk active secrets by expiry from
-- the index alone.
DROP INDEX client_secrets_expiry;
CREATE INDEX client_secrets_expiry ON client_secrets (expires_at, client_id, slot) WHERE retired_at IS NULL;

-- Scope inventory aggregates, kept by the store in the same transaction as
-- every change that moves them (no per-request scan):
-- app_scopes: one row per registered scope of each app not deleted;
-- authorization_scopes: one row per granted scope of each active
-- authorization; scope_stats: per scope, how many of each, and the uses
-- recorded with it as the satisfying scope.
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
    apps           INTEGER NOT NULL DEFAULT 0,
    authorizations INTEGER NOT NULL DEFAULT 0,
    uses           INTEGER NOT NULL DEFAULT 0,
    last_used_at   TIMESTAMP
);

INSERT INTO app_scopes (scope, client_id)
WITH RECURSIVE split (client_id, scope, rest) AS (
    SELECT client_id, '', scopes || ' ' FROM apps WHERE deleted_at IS NULL
    UNION ALL
    SELECT client_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1) FROM split WHERE rest <> ''
)
SELECT DISTINCT scope, client_id FROM split WHERE scope <> '';

INSERT INTO authorization_scopes (scope, authorization_id, user_id)
WITH RECURSIVE split (id, user_id, scope, rest) AS (
    SELECT id, user_id, '', scopes || ' ' FROM authorizations WHERE revoked_at IS NULL
    UNION ALL
    SELECT id, user_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1) FROM split WHERE rest <> ''
)
SELECT DISTINCT scope, id, user_id FROM split WHERE scope <> '';

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
CREATE INDEX apps_by_name ON apps (name COLLATE NOCASE, client_id);
DROP INDEX client_secrets_expiry;
CREATE INDEX client_secrets_expiry ON client_secrets (expires_at) WHERE retired_at IS NULL;
DROP INDEX authorizations_active_by_client;
DROP INDEX authorizations_by_client;
CREATE INDEX authorizations_by_client ON authorizations (client_id, granted_at);
DROP INDEX authorizations_by_user;
