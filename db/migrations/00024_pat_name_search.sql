-- +goose Up
-- Token search: the PostgreSQL twin adds trigram indexes on pats.name and
-- users.username. SQLite has none; its token search walks pats_by_created,
-- which carries name and user_id, newest first and reads no token row.
-- Nothing to change here.
SELECT 1;

-- +goose Down
SELECT 1;
