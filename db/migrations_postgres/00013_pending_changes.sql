-- +goose Up
-- Pending changes of approved apps and co-owner invitations; see the
-- SQLite twin for what they hold.
CREATE TABLE app_pending_changes (
    client_id    TEXT PRIMARY KEY REFERENCES apps (client_id),
    registration TEXT NOT NULL,                     -- JSON: the registration as the owner submitted it
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at TIMESTAMPTZ NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'rejected')),
    review_note  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX app_pending_changes_queue ON app_pending_changes (status, requested_at, client_id);

-- Invitations to co-own an app: listed as typed, whether or not the name
-- is a user's, so the inviter learns nothing about who exists. The
-- invitee (matched on username_key, the lower-cased name) accepts or
-- declines on their own /profile/apps page; unanswered ones expire.
CREATE TABLE app_owner_invitations (
    id           TEXT PRIMARY KEY,                  -- GUID
    client_id    TEXT NOT NULL REFERENCES apps (client_id),
    username     TEXT NOT NULL,                     -- as typed
    username_key TEXT NOT NULL,                     -- lower(username)
    invited_by   TEXT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX app_owner_invitations_once ON app_owner_invitations (client_id, username_key);
CREATE INDEX app_owner_invitations_by_invitee ON app_owner_invitations (username_key, expires_at);

-- +goose Down
DROP INDEX app_owner_invitations_by_invitee;
DROP INDEX app_owner_invitations_once;
DROP TABLE app_owner_invitations;
DROP INDEX app_pending_changes_queue;
DROP TABLE app_pending_changes;
