-- +goose Up
-- user_scopes: one row per scope and user holding it directly through at
-- least one active authorization, with how many such authorizations. The
-- store keeps it in the same transaction as authorization_scopes (grant,
-- narrowing, revocation), so the scope report reads each user once per
-- scope they hold (405,000 rows at 100,000 apps and 1,000,000
-- authorizations) instead of de-duplicating 1,700,000 granted scopes.
CREATE TABLE user_scopes (
    scope          TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id),
    authorizations INTEGER NOT NULL,
    PRIMARY KEY (scope, user_id)
);

INSERT INTO user_scopes (scope, user_id, authorizations)
SELECT scope, user_id, COUNT(*) FROM authorization_scopes GROUP BY scope, user_id;

-- +goose Down
DROP TABLE user_scopes;
