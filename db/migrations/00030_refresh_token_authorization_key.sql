-- +goose Up
-- Refresh tokens' foreign keys: the PostgreSQL twin checks a token's
-- authorization, app and user with one key on the three columns instead
-- of three (two lookups fewer in every rotation). SQLite keeps its three
-- keys (changing a key there rebuilds the table). Nothing to change here.
SELECT 1;

-- +goose Down
SELECT 1;
