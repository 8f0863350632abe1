-- +goose Up
-- Token search on PostgreSQL: /admin/tokens?q= matches a substring of the
-- token name or of the owner's username, case-insensitively. Trigram
-- indexes answer name ILIKE '%term%' and username ILIKE '%term%' from the
-- few rows holding the term's trigrams, instead of a walk of every token
-- (ListPATs takes the name matches and the owners' tokens as the two
-- halves of a UNION) and a scan of every user. A term of fewer than three
-- letters or digits has no trigram: the planner walks pats_by_created
-- instead, which stops at the page's end when the term is common.
-- pg_trgm ships with PostgreSQL (Debian: in the postgresql-NN package) and
-- is a trusted extension: a database owner without superuser may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX pats_name_trgm ON pats USING gin (name gin_trgm_ops);
CREATE INDEX users_username_trgm ON users USING gin (username gin_trgm_ops);

-- +goose Down
-- The extension stays: something else in the database may use it.
DROP INDEX users_username_trgm;
DROP INDEX pats_name_trgm;
