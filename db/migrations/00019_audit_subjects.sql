-- +goose Up
-- Every audit event names the app (client id) and the user it concerns,
-- whatever its target: an authorization's consent or revocation concerns
-- its app and its user, a secret its app, an owner change its app and the
-- user added. "Everything about this app / user" is then one keyset walk
-- down (app_id, seq) or (user_id, seq). The columns are an index derived
-- from the hashed target and details (and the authorization they name);
-- the hash chain is unchanged, so `audit verify` still passes.
ALTER TABLE audit_events ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN user_id TEXT NOT NULL DEFAULT '';

UPDATE audit_events SET app_id = target_id WHERE target_type IN ('app', 'secret');
UPDATE audit_events SET user_id = target_id WHERE target_type = 'user';
UPDATE audit_events SET
    app_id = COALESCE((SELECT z.client_id FROM authorizations z WHERE z.id = audit_events.target_id), ''),
    user_id = COALESCE((SELECT z.user_id FROM authorizations z WHERE z.id = audit_events.target_id), '')
  WHERE target_type = 'authorization';
UPDATE audit_events SET user_id = COALESCE(json_extract(details, '$.user_id'), '')
  WHERE user_id = '' AND CASE WHEN json_valid(details) THEN json_type(details, '$.user_id') END = 'text';
UPDATE audit_events SET app_id = COALESCE(json_extract(details, '$.client_id'), '')
  WHERE app_id = '' AND CASE WHEN json_valid(details) THEN json_type(details, '$.client_id') END = 'text';

CREATE INDEX audit_events_by_app ON audit_events (app_id, seq) WHERE app_id <> '';
CREATE INDEX audit_events_by_user ON audit_events (user_id, seq) WHERE user_id <> '';

-- +goose Down
DROP INDEX audit_events_by_user;
DROP INDEX audit_events_by_app;
ALTER TABLE audit_events DROP COLUMN user_id;
ALTER TABLE audit_events DROP COLUMN app_id;
