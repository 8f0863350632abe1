package store

import (
	"context"
	"time"
)

// seedTokens inserts n refresh tokens minted with secretID, spread over
// n/10 authorizations of userID for clientID, in one set-based statement
// each (hashes are random, not of real tokens).
func (db *DB) seedTokens(ctx context.Context, clientID, userID, secretID string, n int, at time.Time) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		w := db.wr(ctx)
		authz := max(n/10, 1)
		// One authorization per (user, app) may be active: all but the first
		// seeded one are revoked (which does not change the cost measured).
		if err := w.Exec(`WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM i WHERE x < ?)
INSERT INTO authorizations (id, user_id, client_id, scopes, redirect_uri, granted_at, revoked_at)
SELECT 'bench-a-' || x, ?, ?, 'vso.work', 'https://bench.example/cb', ?, CASE WHEN x = 1 THEN NULL ELSE ? END FROM i`,
			authz, userID, clientID, at.UTC(), at.UTC()).Error; err != nil {
			return err
		}
		return w.Exec(`WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM i WHERE x < ?)
INSERT INTO refresh_tokens (id, hash, authorization_id, family_id, client_id, user_id, secret_id, scopes, created_at, expires_at)
SELECT 'bench-r-' || x, randomblob(32), 'bench-a-' || (1 + x % ?), 'bench-f-' || (x % ?), ?, ?, ?, 'vso.work', ?, ? FROM i`,
			n, authz, authz, clientID, userID, secretID, at.UTC(), at.Add(365*24*time.Hour).UTC()).Error
	})
}
