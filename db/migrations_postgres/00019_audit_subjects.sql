-- +goose Up
-- Every audit event names the app (client id) and the user it concerns,
-- whatever its target (see the SQLite twin). The columns are an index
-- derived from the hashed target and details (and the authorization they
-- name); the hash chain is unchanged, so `audit verify` still passes.
ALTER TABLE audit_events ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN user_id TEXT NOT NULL DEFAULT '';

UPDATE audit_events SET app_id = target_id WHERE target_type IN ('app', 'secret');
UPDATE audit_events SET user_id = target_id WHERE target_type = 'user';
UPDATE audit_events e SET app_id = z.client_id, user_id = z.user_id
  FROM authorizations z WHERE e.target_type = 'authorization' AND z.id = e.target_id;
UPDATE audit_events SET user_id = details::jsonb->>'user_id'
  WHERE user_id = '' AND jsonb_typeof(details::jsonb->'user_id') = 'string';
UPDATE audit_events SET app_id = details::jsonb->>'client_id'
  WHERE app_id = '' AND jsonb_typeof(details::jsonb->'client_id') = 'string';

CREATE INDEX audit_events_by_app ON audit_events (app_id, seq) WHERE app_id <> '';
CREATE INDEX audit_events_by_user ON audit_events (user_id, seq) WHERE user_id <> '';

-- +goose Down
DROP INDEX audit_events_by_user;
DROP INDEX audit_events_by_app;
ALTER TABLE audit_events DROP COLUMN user_id;
ALTER TABLE audit_events DROP COLUMN app_id;
