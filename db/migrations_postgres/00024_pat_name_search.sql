-- +goose Up
-- Token search on PostgreSQL: /admin/tokens?q= matches a substring of the
-- token name (or of the owner's username), case-insensitively. A trigram
-- index answers name ILIKE '%term%' from the few tokens that hold the
-- term's trigrams, instead of a walk of every token (ListPATs takes the
-- name matches and the owners' tokens as the two halves of a UNION).
-- pg_trgm ships with PostgreSQL (Debian: in postgresql-NN itself) and is a
-- trusted extension: a database owner without superuser may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX pats_name_trgm ON pats USING gin (name gin_trgm_ops);

-- +goose Down
-- The extension stays: something else in the database may use it.
DROP INDEX pats_name_trgm;
