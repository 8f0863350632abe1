-- +goose Up
-- App search (issue 12): "search by name, company or client id" matches
-- any word prefix through an index range instead of a substring walk of
-- every app. app_search_terms holds, per app, the lowercased words of its
-- name and company (split at every character that is not a letter or a
-- digit) and "#" with its lowercased client id; the store rewrites an app's terms
-- in the same transaction as its registration, edit or re-import. Deleted
-- apps keep their terms (the admin can list deleted apps).
CREATE TABLE app_search_terms (
    term      TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES apps (client_id),
    PRIMARY KEY (term, client_id)
);
CREATE INDEX app_search_terms_by_app ON app_search_terms (client_id);

-- Backfill: ASCII punctuation becomes a separator (the store splits at
-- every non-letter, non-digit character; an edit rewrites the terms).
INSERT INTO app_search_terms (term, client_id)
WITH RECURSIVE split (client_id, word, rest) AS (
    SELECT client_id, '', replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        lower(name || ' ' || company), '-', ' '), '.', ' '), ',', ' '), '_', ' '), '/', ' '), '(', ' '), ')', ' '), '&', ' '),
        '''', ' '), ':', ' '), '+', ' '), char(9), ' ') || ' ' FROM apps
    UNION ALL
    SELECT client_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1) FROM split WHERE rest <> ''
)
SELECT DISTINCT word, client_id FROM split WHERE word <> ''
UNION
SELECT '#' || lower(client_id), client_id FROM apps;

-- +goose Down
DROP TABLE app_search_terms;
