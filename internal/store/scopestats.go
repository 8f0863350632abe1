package store

import (
	"context"
	"slices"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// The scope inventory reads maintained aggregates, not the authorizations:
// app_scopes and authorization_scopes hold one row per registered scope of
// each app not deleted and per granted scope of each active authorization,
// and scope_stats their counts per scope plus the uses recorded with the
// scope as the satisfying one. Every store method that moves them
// (CreateApp, SetAppScopes, UpdateImportedApp, DeleteApp,
// CreateAuthorization, UpdateAuthorizationGrant, SetAuthorizationScopes,
// RevokeAuthorization, FlushUsage) updates them in its own transaction, so
// the inventory is exact at every commit and costs O(scopes) per request.

// syncScopes makes the rows of table (app_scopes or
// authorization_scopes) for owner (column col) equal want, and moves the
// stat column of scope_stats by the difference.
func (db *DB) syncScopes(ctx context.Context, table, col, stat, owner string, want []string, extra map[string]string) error {
	w := db.wr(ctx)
	var have []string
	if err := w.Table(table).Where(col+" = ?", owner).Pluck("scope", &have).Error; err != nil {
		return translate(err, table)
	}
	want = slices.Compact(slices.Sorted(slices.Values(want)))
	for _, s := range have {
		if slices.Contains(want, s) {
			continue
		}
		if err := w.Exec(`DELETE FROM `+table+` WHERE scope = ? AND `+col+` = ?`, s, owner).Error; err != nil {
			return translate(err, table)
		}
		if err := db.bumpScopeStat(ctx, s, stat, -1); err != nil {
			return err
		}
	}
	for _, s := range want {
		if s == "" || slices.Contains(have, s) {
			continue
		}
		cols, marks, args := "scope, "+col, "?, ?", []any{s, owner}
		for k, v := range extra {
			cols, marks, args = cols+", "+k, marks+", ?", append(args, v)
		}
		if err := w.Exec(`INSERT INTO `+table+` (`+cols+`) VALUES (`+marks+`)`, args...).Error; err != nil {
			return translate(err, table)
		}
		if err := db.bumpScopeStat(ctx, s, stat, 1); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) bumpScopeStat(ctx context.Context, scope, stat string, delta int64) error {
	err := db.wr(ctx).Exec(`INSERT INTO scope_stats (scope, `+stat+`) VALUES (?, ?)
ON CONFLICT (scope) DO UPDATE SET `+stat+` = scope_stats.`+stat+` + excluded.`+stat, scope, delta).Error
	return translate(err, "scope stats")
}

func (db *DB) syncAppScopes(ctx context.Context, clientID string, scopes []string) error {
	return db.syncScopes(ctx, "app_scopes", "client_id", "apps", clientID, scopes, nil)
}

func (db *DB) syncAuthorizationScopes(ctx context.Context, id string, scopes []string) error {
	var extra map[string]string
	if len(scopes) > 0 {
		var users []string
		if err := db.wr(ctx).Table("authorizations").Where("id = ?", id).Pluck("user_id", &users).Error; err != nil || len(users) == 0 {
			return translate(err, "authorization")
		}
		extra = map[string]string{"user_id": users[0]}
	}
	return db.syncScopes(ctx, "authorization_scopes", "authorization_id", "authorizations", id, scopes, extra)
}

// addScopeUses credits n uses at `at` to scope (the granted scope that
// satisfied the calls).
func (db *DB) addScopeUses(ctx context.Context, scope string, n int64, at time.Time) error {
	err := db.wr(ctx).Exec(`INSERT INTO scope_stats (scope, uses, last_used_at) VALUES (?, ?, ?)
ON CONFLICT (scope) DO UPDATE SET uses = scope_stats.uses + excluded.uses,
  last_used_at = CASE WHEN scope_stats.last_used_at IS NULL OR scope_stats.last_used_at < excluded.last_used_at
    THEN excluded.last_used_at ELSE scope_stats.last_used_at END`, scope, n, utc(at)).Error
	return translate(err, "scope stats")
}

type scopeStatRow struct {
	Scope          string
	Apps           int64
	Authorizations int64
	Uses           int64
	LastUsedAt     *time.Time
}

// ScopeStats returns the maintained per-scope counts of every scope held
// by an app not deleted or an active authorization (apps > 0 or
// authorizations > 0), in no particular order: O(scopes), no scan.
func (db *DB) ScopeStats(ctx context.Context) ([]domain.ScopeStat, error) {
	var rows []scopeStatRow
	if err := db.rd(ctx).Table("scope_stats").Where("apps > 0 OR authorizations > 0").Scan(&rows).Error; err != nil {
		return nil, translate(err, "scope stats")
	}
	out := make([]domain.ScopeStat, len(rows))
	for i, r := range rows {
		out[i] = domain.ScopeStat{Scope: r.Scope, Apps: r.Apps, Authorizations: r.Authorizations, Uses: r.Uses, LastUsedAt: utcPtr(r.LastUsedAt)}
	}
	return out, nil
}

// ScopeUserCounts returns, per scope, how many distinct users hold it
// through an active authorization, from the (scope, user_id) index: for
// reports, not pages.
func (db *DB) ScopeUserCounts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Scope string
		Users int64
	}
	err := db.rd(ctx).Raw(`SELECT scope, COUNT(DISTINCT user_id) AS users FROM authorization_scopes GROUP BY scope`).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "scope users")
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Scope] = r.Users
	}
	return out, nil
}
