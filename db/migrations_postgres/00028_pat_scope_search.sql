-- +goose Up
-- The scope filter of the token lists (/admin/tokens?scope=, a scope's
-- tokens tab) tests (' ' || scopes || ' ') LIKE '% scope %'. Without
-- statistics on that expression PostgreSQL took a scope for rare: the
-- plan of each run's own arguments scanned and sorted every token
-- (seq scan of 100,000 tokens, 20-170 ms at bench scale) while the
-- statement cache's generic plan, after five runs, walked pats_by_created
-- newest first and stopped at the page (1-15 ms): the first loads on each
-- connection were the slow ones. ANALYZE keeps statistics on an index's
-- expression, so this trigram index gives the planner the true share of
-- the tokens holding a scope (a common one walks pats_by_created to the
-- page's end) and finds the few holding a rare one (a walk would read
-- every token).
CREATE INDEX pats_scopes_trgm ON pats USING gin ((' ' || scopes || ' ') gin_trgm_ops);
ANALYZE pats;

-- +goose Down
DROP INDEX pats_scopes_trgm;
