-- +goose Up
-- App owners (issue #9): an app has one or more owners; apps.owner_id stays
-- the primary owner and is always one of them. A member's app may wait for
-- an administrator's approval (status pending) or be rejected with a note.
ALTER TABLE apps ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending', 'rejected'));
ALTER TABLE apps ADD COLUMN review_note TEXT NOT NULL DEFAULT '';
CREATE INDEX apps_by_status ON apps (status, name COLLATE NOCASE, client_id);

CREATE TABLE app_owners (
    client_id TEXT NOT NULL REFERENCES apps (client_id),
    user_id   TEXT NOT NULL REFERENCES users (id),
    added_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, user_id)
);
CREATE INDEX app_owners_by_user ON app_owners (user_id, client_id);
INSERT INTO app_owners (client_id, user_id, added_at) SELECT client_id, owner_id, created_at FROM apps;

-- User management: disabled and deleted users keep their record (the audit
-- log names them); a reset password must be changed at the next sign-in.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP;
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

-- The true authorization state (active / needs re-authorization) looks for
-- a live refresh token or code of an authorization, and the overview walks
-- them: partial indexes over the live ones only (used and revoked tokens
-- pile up with every rotation).
CREATE INDEX refresh_tokens_live ON refresh_tokens (authorization_id, secret_id) WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX authorization_codes_live ON authorization_codes (authorization_id) WHERE used_at IS NULL;

-- +goose Down
DROP INDEX authorization_codes_live;
DROP INDEX refresh_tokens_live;
ALTER TABLE users DROP COLUMN must_change_password;
ALTER TABLE users DROP COLUMN deleted_at;
ALTER TABLE users DROP COLUMN disabled_at;
DROP TABLE app_owners;
DROP INDEX apps_by_status;
ALTER TABLE apps DROP COLUMN review_note;
ALTER TABLE apps DROP COLUMN status;
