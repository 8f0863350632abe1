-- +goose Up
-- App search (issue 12): "search by name, company or client id" matches
-- any word prefix through an index range instead of a substring walk of
-- every app. app_search_terms holds, per app, the lowercased words of its
-- name and company (split at every character that is not a letter or a
-- digit) and "#" with its lowercased client id; the store rewrites an app's terms
-- in the same transaction as its registration, edit or re-import. Deleted
-- apps keep their terms (the admin can list deleted apps). Terms compare
-- bytewise (COLLATE "C") so a prefix is one range of the primary key.
CREATE TABLE app_search_terms (
    term      TEXT COLLATE "C" NOT NULL,
    client_id TEXT NOT NULL REFERENCES apps (client_id),
    PRIMARY KEY (term, client_id)
);
CREATE INDEX app_search_terms_by_app ON app_search_terms (client_id);

INSERT INTO app_search_terms (term, client_id)
SELECT DISTINCT w, client_id FROM apps, regexp_split_to_table(lower(name || ' ' || company), '[^[:alnum:]]+') AS w WHERE w <> ''
UNION
SELECT '#' || lower(client_id), client_id FROM apps;

-- +goose Down
DROP TABLE app_search_terms;
