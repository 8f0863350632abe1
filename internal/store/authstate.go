package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// The true state of an authorization: active when a live
// refresh token exists — unused, unrevoked, unexpired, minted with a
// client secret that is still active and unexpired — or a fresh grant (an
// unused, unexpired authorization code); needs re-authorization when the
// consent stands but no token works; revoked.
//
// Listings compute it after the page is chosen, for the page's rows only
// (partial indexes refresh_tokens_live and authorization_codes_live,
// migration 00007), so no page costs a probe per authorization of the
// database.

// liveSQL is the condition "authorization z has a working token or a
// fresh grant"; it takes liveArgs(now).
const liveSQL = `(EXISTS (SELECT 1 FROM refresh_tokens r JOIN client_secrets s ON s.id = r.secret_id AND s.retired_at IS NULL AND s.expires_at > ?
    WHERE r.authorization_id = z.id AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > ?)
  OR EXISTS (SELECT 1 FROM authorization_codes c WHERE c.authorization_id = z.id AND c.used_at IS NULL AND c.expires_at > ?))`

func liveArgs(now time.Time) []any { return []any{utc(now), utc(now), utc(now)} }

// fillStates sets State on each authorization (revoked, active or needs
// re-authorization) with one query for their ids.
func (db *DB) fillStates(ctx context.Context, list []domain.Authorization, now time.Time) error {
	var ids []string
	for i := range list {
		if list[i].RevokedAt != nil {
			list[i].State = domain.AuthRevoked
			continue
		}
		list[i].State = domain.AuthNeedsReauthorization
		ids = append(ids, list[i].ID)
	}
	if len(ids) == 0 {
		return nil
	}
	var live []string
	err := db.rd(ctx).Raw(`SELECT z.id FROM authorizations z WHERE z.id IN ? AND `+liveSQL, append([]any{ids}, liveArgs(now)...)...).
		Scan(&live).Error
	if err != nil {
		return translate(err, "authorizations")
	}
	alive := make(map[string]bool, len(live))
	for _, id := range live {
		alive[id] = true
	}
	for i := range list {
		if alive[list[i].ID] {
			list[i].State = domain.AuthActive
		}
	}
	return nil
}

// activeCounts returns, per value of column (z.client_id or z.user_id),
// how many unrevoked authorizations with one of keys are active at now
// (keys with none are absent): one grouped query for a page of apps or
// users. It starts from the live refresh tokens of the keys (index
// refresh_tokens_live_by_client or _by_user, migration 00012) and the
// unexpired codes (authorization_codes_expiry), so its cost is the number
// of working tokens of the page's apps or users, not of every
// authorization they ever held; the UNION counts an authorization with
// several live tokens (or a token and a fresh code) once.
func (db *DB) activeCounts(ctx context.Context, column string, keys []string, now time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	if len(keys) == 0 {
		return out, nil
	}
	col := strings.TrimPrefix(column, "z.")
	if col != "client_id" && col != "user_id" {
		return nil, fmt.Errorf("activeCounts: unknown column %q", column)
	}
	var rows []struct {
		K string
		N int64
	}
	t := utc(now)
	// The secret and authorization checks are scalar subqueries, one
	// primary-key probe per live token: PostgreSQL would otherwise hash
	// whole tables for a join of a page's few tokens.
	err := db.rd(ctx).Raw(`SELECT k, COUNT(*) AS n FROM (
SELECT r.`+col+` AS k, r.authorization_id AS a FROM refresh_tokens r
  WHERE r.`+col+` IN ? AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > ?
  AND (SELECT s.expires_at FROM client_secrets s WHERE s.id = r.secret_id AND s.retired_at IS NULL) > ?
  AND (SELECT z.revoked_at IS NULL FROM authorizations z WHERE z.id = r.authorization_id)
UNION
SELECT c.`+col+`, c.authorization_id FROM authorization_codes c
  WHERE c.`+col+` IN ? AND c.used_at IS NULL AND c.expires_at > ?
  AND (SELECT z.revoked_at IS NULL FROM authorizations z WHERE z.id = c.authorization_id)
) AS live GROUP BY k`, keys, t, t, keys, t).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "authorizations")
	}
	for _, r := range rows {
		out[r.K] = r.N
	}
	return out, nil
}

// wholeCountsOver is the number of secrets beyond which a walk of secret
// expiries takes every app's active count at once (allTrueActiveCounts).
var wholeCountsOver = 20000

// countActiveSecrets counts the active secrets with from < expires_at <=
// until (zero bounds open), stopping at stop: an index range count.
func (db *DB) countActiveSecrets(ctx context.Context, from, until time.Time, stop int) (int64, error) {
	q := `SELECT COUNT(*) FROM (SELECT 1 FROM client_secrets s WHERE s.retired_at IS NULL`
	var args []any
	if !until.IsZero() {
		q += ` AND s.expires_at <= ?`
		args = append(args, utc(until))
	}
	if !from.IsZero() {
		q += ` AND s.expires_at > ?`
		args = append(args, utc(from))
	}
	var n int64
	err := db.rd(ctx).Raw(q+` LIMIT ?) AS c`, append(args, stop)...).Scan(&n).Error
	return n, translate(err, "client secrets")
}

// allTrueActiveCounts is activeCounts for every app at once, by client id:
// the live refresh tokens joined with their secrets and authorizations
// (hash joins on PostgreSQL), for walks that cover most apps.
func (db *DB) allTrueActiveCounts(ctx context.Context, now time.Time) (map[string]int64, error) {
	var rows []struct {
		K string
		N int64
	}
	t := utc(now)
	err := db.rd(ctx).Raw(`SELECT k, COUNT(*) AS n FROM (
SELECT r.client_id AS k, r.authorization_id AS a FROM refresh_tokens r
  JOIN client_secrets s ON s.id = r.secret_id AND s.retired_at IS NULL AND s.expires_at > ?
  JOIN authorizations z ON z.id = r.authorization_id AND z.revoked_at IS NULL
  WHERE r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > ?
UNION
SELECT c.client_id, c.authorization_id FROM authorization_codes c
  JOIN authorizations z ON z.id = c.authorization_id AND z.revoked_at IS NULL
  WHERE c.used_at IS NULL AND c.expires_at > ?
) AS live GROUP BY k`, t, t, t).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "authorizations")
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.K] = r.N
	}
	return out, nil
}

// trueActiveCounts is activeCounts by client id.
func (db *DB) trueActiveCounts(ctx context.Context, clientIDs []string, now time.Time) (map[string]int64, error) {
	return db.activeCounts(ctx, "z.client_id", clientIDs, now)
}
