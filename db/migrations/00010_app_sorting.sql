-- +goose Up
-- The app listing sorts by name, secret expiry, secret age and active
-- authorizations, each keyset-paginated on an indexed key with client_id
-- as the unique tiebreaker (issue 13).

-- The count of an app's active (not revoked) authorizations, kept by the
-- store in the same transaction as the grant or revocation that moves it.
ALTER TABLE apps ADD COLUMN active_authorizations INTEGER NOT NULL DEFAULT 0;
UPDATE apps SET active_authorizations =
    (SELECT COUNT(*) FROM authorizations z WHERE z.client_id = apps.client_id AND z.revoked_at IS NULL);
CREATE INDEX apps_by_active_authorizations ON apps (active_authorizations, client_id);

-- The secret orders walk the active primary secrets.
CREATE INDEX client_secrets_primary_expiry ON client_secrets (expires_at, client_id) WHERE retired_at IS NULL AND slot = 'primary';
CREATE INDEX client_secrets_primary_created ON client_secrets (created_at, client_id) WHERE retired_at IS NULL AND slot = 'primary';

-- +goose Down
DROP INDEX client_secrets_primary_created;
DROP INDEX client_secrets_primary_expiry;
DROP INDEX apps_by_active_authorizations;
ALTER TABLE apps DROP COLUMN active_authorizations;
