-- +goose Up
-- Token lists by scope: the PostgreSQL twin adds a trigram index on the
-- padded scopes, whose statistics let its planner choose between walking
-- pats_by_created and reading the few holders of a rare scope. SQLite
-- walks pats_by_created newest first whatever the scope. Nothing to
-- change here.
SELECT 1;

-- +goose Down
SELECT 1;
