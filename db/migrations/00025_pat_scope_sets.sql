-- +goose Up
-- The scope inventory's personal access tokens, O(scope sets) instead of
-- O(live tokens): pat_scope_sets counts, per distinct scope set (as
-- stored in pats.scopes), the tokens that are unrevoked, of a user
-- neither disabled nor deleted, and expire after the watermark
-- (pat_scope_watermark.expires_after); pats.counted marks exactly those
-- tokens. The store keeps both in the transaction of every token write
-- (create, edit, revoke) and user disable, enable and delete; an hourly
-- sweep moves the watermark forward and takes out the tokens that expired
-- up to it; a read subtracts the few counted tokens that expired between
-- the watermark and its own time (pats_live_by_expiry).
ALTER TABLE pats ADD COLUMN counted BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE pat_scope_sets (
    scopes TEXT PRIMARY KEY,
    tokens INTEGER NOT NULL
);

CREATE TABLE pat_scope_watermark (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    expires_after TIMESTAMP NOT NULL
);

-- Now, in the form the driver stores times in ("2006-01-02
-- 15:04:05.999+00:00", which compares as text with the stored ones).
INSERT INTO pat_scope_watermark (id, expires_after) VALUES (1, strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00:00');

UPDATE pats SET counted = TRUE
WHERE revoked_at IS NULL
  AND expires_at > (SELECT expires_after FROM pat_scope_watermark WHERE id = 1)
  AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL AND deleted_at IS NULL);

INSERT INTO pat_scope_sets (scopes, tokens)
SELECT scopes, COUNT(*) FROM pats WHERE counted GROUP BY scopes;

-- +goose Down
DROP TABLE pat_scope_watermark;
DROP TABLE pat_scope_sets;
ALTER TABLE pats DROP COLUMN counted;
