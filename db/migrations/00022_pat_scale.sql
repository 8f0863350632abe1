-- +goose Up
-- Personal access tokens at 100k (the scope audit and /admin/tokens).
-- The scope inventory counts the live tokens per distinct scope set: this
-- covering index walks the unrevoked ones in scope-set order (no token
-- row read, no sort; revoked_at, always NULL here, makes it covering for
-- SQLite, which otherwise reads the row for the index's own condition).
CREATE INDEX pats_live_scopes ON pats (scopes, expires_at, user_id, revoked_at) WHERE revoked_at IS NULL;
-- "Full access" on /admin/tokens walks only the full-access tokens
-- (scopes is exactly 'app_token' for them), newest first.
CREATE INDEX pats_full_access ON pats (created_at, id) WHERE scopes = 'app_token';

-- +goose Down
DROP INDEX pats_full_access;
DROP INDEX pats_live_scopes;
