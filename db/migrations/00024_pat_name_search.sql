-- +goose Up
-- Token search: the PostgreSQL twin adds a trigram index on pats.name.
-- SQLite has none; its token search walks pats_by_created, which carries
-- name and user_id, newest first (no token row read). Nothing to change.
SELECT 1;

-- +goose Down
SELECT 1;
