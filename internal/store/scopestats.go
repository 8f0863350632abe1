package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
// RevokeAuthorization, FlushUsage, MoveScopeUses) updates them in its own transaction, so
// the inventory is exact at every commit and costs O(scopes) per request.

// syncScopes makes the rows of table (app_scopes or
// authorization_scopes) for owner (column col) equal want, and moves the
// stat column of scope_stats by the difference; moved (when not nil) is
// told each scope removed (-1) or added (+1).
func (db *DB) syncScopes(ctx context.Context, table, col, stat, owner string, want []string, extra map[string]string, moved func(scope string, delta int64) error) error {
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
		if moved != nil {
			if err := moved(s, -1); err != nil {
				return err
			}
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
		if moved != nil {
			if err := moved(s, 1); err != nil {
				return err
			}
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
	return db.syncScopes(ctx, "app_scopes", "client_id", "apps", clientID, scopes, nil, nil)
}

// syncAuthorizationScopes keeps authorization_scopes and, with it,
// user_scopes (how many active authorizations of each user grant each
// scope; the row goes at zero).
func (db *DB) syncAuthorizationScopes(ctx context.Context, id string, scopes []string) error {
	var users []string
	if err := db.wr(ctx).Table("authorizations").Where("id = ?", id).Pluck("user_id", &users).Error; err != nil {
		return translate(err, "authorization")
	}
	if len(users) == 0 {
		return nil // no such authorization: nothing to hold (as before)
	}
	user := users[0]
	return db.syncScopes(ctx, "authorization_scopes", "authorization_id", "authorizations", id, scopes, map[string]string{"user_id": user},
		func(scope string, delta int64) error { return db.bumpUserScope(ctx, scope, user, delta) })
}

// bumpUserScope moves user_scopes' count of (scope, user) by delta,
// creating the row at its first authorization and removing it at zero.
func (db *DB) bumpUserScope(ctx context.Context, scope, user string, delta int64) error {
	w := db.wr(ctx)
	if delta > 0 {
		err := w.Exec(`INSERT INTO user_scopes (scope, user_id, authorizations) VALUES (?, ?, ?)
ON CONFLICT (scope, user_id) DO UPDATE SET authorizations = user_scopes.authorizations + excluded.authorizations`, scope, user, delta).Error
		return translate(err, "user scopes")
	}
	if err := w.Exec(`UPDATE user_scopes SET authorizations = authorizations + ? WHERE scope = ? AND user_id = ?`, delta, scope, user).Error; err != nil {
		return translate(err, "user scopes")
	}
	return translate(w.Exec(`DELETE FROM user_scopes WHERE scope = ? AND user_id = ? AND authorizations <= 0`, scope, user).Error, "user scopes")
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
	return db.addAppGrantCounts(ctx, out)
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

// scopeKeys is the keyset walk shared by the holder lists: branch is one
// SELECT of the key k for one scope (%s: where the scope goes; two
// placeholders: after, limit), keyset-ordered on k along an index; it runs
// once per scope of scopes, each reading at most limit+1 index entries:
// one LATERAL join over a VALUES list of the scopes where the flavor plans
// it once (lateralFirsts: PostgreSQL spent more planning forty UNION ALL
// branches than running them), otherwise one UNION ALL of a branch per
// scope. It returns the limit smallest distinct keys after after, which
// scopes of scopes each holds (every one: a key among the first limit of
// the union is among the first limit of each branch that has it), and the
// key to continue after ("" on the last page).
func (db *DB) scopeKeys(ctx context.Context, what, branch string, scopes []string, after string, limit int) ([]string, map[string][]string, string, error) {
	limit = max(1, min(limit, 1000))
	if len(scopes) == 0 {
		return nil, map[string][]string{}, "", nil
	}
	var sql string
	var args []any
	if db.fl.lateralFirsts {
		sql, args = lateralScopes(branch, scopes, after, limit+1)
	} else {
		var q strings.Builder
		args = make([]any, 0, 4*len(scopes))
		for i, sc := range scopes {
			if i > 0 {
				q.WriteString(" UNION ALL ")
			}
			// The branch selects only the key (k), so that DISTINCT and
			// ORDER BY follow the index; the scope is the outer select's
			// parameter.
			fmt.Fprintf(&q, "SELECT k, ? AS scope FROM (%s) b%d", fmt.Sprintf(branch, "?"), i)
			args = append(args, sc, sc, after, limit+1)
		}
		sql = q.String()
	}
	var rows []struct {
		K     string
		Scope string
	}
	if err := db.rd(ctx).Raw(sql, args...).Scan(&rows).Error; err != nil {
		return nil, nil, "", translate(err, what)
	}
	held := map[string][]string{}
	var keys []string
	for _, r := range rows {
		if _, ok := held[r.K]; !ok {
			keys = append(keys, r.K)
		}
		held[r.K] = append(held[r.K], r.Scope)
	}
	slices.Sort(keys)
	next := ""
	if len(keys) > limit {
		for _, k := range keys[limit:] {
			delete(held, k)
		}
		keys = keys[:limit]
		next = keys[limit-1]
	}
	return keys, held, next, nil
}

// ScopeApps returns up to limit apps not deleted that register any of
// scopes (a scope and the scopes that include it: scope.Catalog.Holders),
// by client id after the client id after ("" from the start), each with
// its owner's username and true active authorization count (a live token
// or a fresh grant); which of scopes each registers (by client id); and
// the client id to continue after ("" on the last page). Index: app_scopes primary key, one range per scope.
func (db *DB) ScopeApps(ctx context.Context, scopes []string, after string, limit int) ([]domain.App, map[string][]string, string, error) {
	keys, held, next, err := db.scopeKeys(ctx, "apps",
		`SELECT client_id AS k FROM app_scopes WHERE scope = %s AND client_id > ? ORDER BY client_id LIMIT ?`, scopes, after, limit)
	if err != nil || len(keys) == 0 {
		return nil, held, next, err
	}
	var rows []appListRow
	err = db.rd(ctx).Raw(`SELECT a.*, u.username AS owner_username FROM apps a JOIN users u ON u.id = a.owner_id
WHERE a.client_id IN ? ORDER BY a.client_id`, keys).Scan(&rows).Error
	if err != nil {
		return nil, nil, "", translate(err, "apps")
	}
	out := make([]domain.App, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	// The listed count is the true state (a live token or a fresh grant),
	// as on the apps list: one grouped query for the page's apps.
	counts, err := db.trueActiveCounts(ctx, keys, db.now())
	if err != nil {
		return nil, nil, "", err
	}
	for i := range out {
		out[i].ActiveAuthorizations = counts[out[i].ClientID]
	}
	return out, held, next, nil
}

// ScopeAuthorizations returns up to limit unrevoked authorizations that
// grant any of scopes, by id after the id after ("" from the start), with
// usernames, app names and their true State; which of scopes each grants (by authorization
// id); and the id to continue after ("" on the last page). Index:
// authorization_scopes primary key, one range per scope.
func (db *DB) ScopeAuthorizations(ctx context.Context, scopes []string, after string, limit int) ([]domain.Authorization, map[string][]string, string, error) {
	keys, held, next, err := db.scopeKeys(ctx, "authorizations",
		`SELECT authorization_id AS k FROM authorization_scopes WHERE scope = %s AND authorization_id > ? ORDER BY authorization_id LIMIT ?`, scopes, after, limit)
	if err != nil || len(keys) == 0 {
		return nil, held, next, err
	}
	var rows []authorizationListRow
	err = db.rd(ctx).Raw(`SELECT z.*, u.username, u.display_name AS user_display_name, a.name AS app_name, a.company AS app_company, a.app_url
FROM authorizations z JOIN users u ON u.id = z.user_id JOIN apps a ON a.client_id = z.client_id
WHERE z.id IN ? ORDER BY z.id`, keys).Scan(&rows).Error
	if err != nil {
		return nil, nil, "", translate(err, "authorizations")
	}
	out := make([]domain.Authorization, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	// Each row's true state, one query for the page's ids (as the app
	// page's list).
	return out, held, next, db.fillStates(ctx, out, db.now())
}

// ScopeUsers returns up to limit distinct users holding any of scopes
// through an active authorization, by user id after the id after; which of
// scopes each holds (by user id); and the id to continue after ("" on the
// last page). Index: authorization_scopes_by_user, one range per scope.
func (db *DB) ScopeUsers(ctx context.Context, scopes []string, after string, limit int) ([]domain.User, map[string][]string, string, error) {
	keys, held, next, err := db.scopeKeys(ctx, "users",
		`SELECT DISTINCT user_id AS k FROM authorization_scopes WHERE scope = %s AND user_id > ? ORDER BY user_id LIMIT ?`, scopes, after, limit)
	if err != nil || len(keys) == 0 {
		return nil, held, next, err
	}
	var rows []userRow
	if err := db.rd(ctx).Raw(`SELECT * FROM users WHERE id IN ? ORDER BY id`, keys).Scan(&rows).Error; err != nil {
		return nil, nil, "", translate(err, "users")
	}
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, held, next, nil
}

// MoveScopeUses moves n uses credited to the scope from to the scope to
// ("" drops them), after an authorization was narrowed: the inventory
// credits uses to what the grant still holds. last is the newest of them.
func (db *DB) MoveScopeUses(ctx context.Context, from, to string, n int64, last time.Time) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		if err := db.bumpScopeStat(ctx, from, "uses", -n); err != nil {
			return err
		}
		if to == "" {
			return nil
		}
		return db.addScopeUses(ctx, to, n, last)
	})
}

// dropScopeUses takes the uses of a revoked authorization out of the
// inventory (its usage rows stay, for the app's own audit).
func (db *DB) dropScopeUses(ctx context.Context, authorizationID string) error {
	var rows []struct {
		SatisfiedBy string
		N           int64
	}
	err := db.wr(ctx).Raw(`SELECT satisfied_by, SUM(count) AS n FROM scope_usage WHERE authorization_id = ? GROUP BY satisfied_by`, authorizationID).Scan(&rows).Error
	if err != nil {
		return translate(err, "scope usage")
	}
	for _, r := range rows {
		if err := db.bumpScopeStat(ctx, r.SatisfiedBy, "uses", -r.N); err != nil {
			return err
		}
	}
	return nil
}

// ActiveGrants returns the distinct granted scope lists of the app's
// active authorizations (a busy app has many authorizations and few
// distinct grants), along the partial index authorizations_active_by_client,
// and of its live own grants (client_credentials, by client).
func (db *DB) ActiveGrants(ctx context.Context, clientID string) ([][]string, error) {
	var rows []string
	err := db.rd(ctx).Raw(`SELECT DISTINCT scopes FROM authorizations WHERE client_id = ? AND revoked_at IS NULL
UNION SELECT scopes FROM client_credential_grants WHERE client_id = ? AND revoked_at IS NULL`, clientID, clientID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "authorizations")
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = splitScopes(r)
	}
	return out, nil
}

// ActiveScopeUsage is ScopeUsage for one app, its active authorizations
// only, followed by the uses of its live own grants (client_credentials
// tokens; ClientGrantID set, no authorization or user).
func (db *DB) ActiveScopeUsage(ctx context.Context, clientID string) ([]domain.ScopeUsage, error) {
	var rows []scopeUsageRow
	err := db.rd(ctx).Table("scope_usage s").Joins("JOIN authorizations z ON z.id = s.authorization_id").
		Select("s.authorization_id, z.client_id, z.user_id, s.scope, s.satisfied_by, s.count, s.last_used_at").
		Where("z.client_id = ? AND z.revoked_at IS NULL", clientID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "scope usage")
	}
	out := make([]domain.ScopeUsage, len(rows))
	for i, r := range rows {
		out[i] = domain.ScopeUsage{AuthorizationID: r.AuthorizationID, ClientID: r.ClientID, UserID: r.UserID, Scope: r.Scope,
			SatisfiedBy: r.SatisfiedBy, Count: r.Count, LastUsedAt: utc(r.LastUsedAt)}
	}
	var grants []struct {
		GrantID     string
		Scope       string
		SatisfiedBy string
		Count       int64
		LastUsedAt  time.Time
	}
	err = db.rd(ctx).Raw(`SELECT u.grant_id, u.scope, u.satisfied_by, u.count, u.last_used_at FROM client_grant_scope_usage u
JOIN client_credential_grants g ON g.id = u.grant_id WHERE g.client_id = ? AND g.revoked_at IS NULL`, clientID).Scan(&grants).Error
	if err != nil {
		return nil, translate(err, "client grant scope usage")
	}
	for _, r := range grants {
		out = append(out, domain.ScopeUsage{ClientGrantID: r.GrantID, ClientID: clientID, Scope: r.Scope,
			SatisfiedBy: r.SatisfiedBy, Count: r.Count, LastUsedAt: utc(r.LastUsedAt)})
	}
	return out, nil
}
