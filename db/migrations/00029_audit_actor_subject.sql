-- +goose Up
-- "Everything about this user" includes what the user did: an event that
-- concerns no other user (an app registered, a change asked for, a secret
-- created) names its acting user as its user subject, so the walk down
-- audit_events_by_user (user_id, seq) finds it. New events get this when
-- they are stored (store.auditSubjects); this fills the older ones in one
-- set-based statement. user_id is not hashed: `audit verify` still passes.
UPDATE audit_events SET user_id = actor_id WHERE user_id = '' AND actor_id <> '';

-- +goose Down
-- Nothing to undo: which events named their actor before this migration
-- is not kept, and the column stays.
SELECT 1;
