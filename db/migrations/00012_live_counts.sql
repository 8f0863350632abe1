-- +goose Up
-- The true active counts of a page of apps or users (issue 12) start
-- from the live refresh tokens of those apps or users (unused, unrevoked:
-- the partial index), not from every authorization they hold, so a page
-- costs what its apps' or users' working tokens number, not their
-- whole history of grants.
CREATE INDEX refresh_tokens_live_by_client ON refresh_tokens (client_id, authorization_id, expires_at, secret_id) WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX refresh_tokens_live_by_user ON refresh_tokens (user_id, authorization_id, expires_at, secret_id) WHERE used_at IS NULL AND revoked_at IS NULL;

-- +goose Down
DROP INDEX refresh_tokens_live_by_user;
DROP INDEX refresh_tokens_live_by_client;
