package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// ScopePreviews returns, for each set of scopes in sets (a scope and the
// wider scopes that include it, one set per inventory row), the first
// limit apps by client id that register one of the set and the first
// limit users by id holding an active authorization that grants one,
// with which of the set each holds (in the set's order), and whether
// there are more. Four queries whatever the number of sets: each distinct
// scope's first limit+1 keys of each kind (one UNION ALL of index ranges
// per kind), then the apps and the users named. (A key among the first
// limit of a set is among the first limit+1 of each of its scopes that
// holds it, so those lists suffice.)
func (db *DB) ScopePreviews(ctx context.Context, sets [][]string, limit int) ([]domain.ScopePreview, error) {
	limit = max(1, min(limit, 100))
	var distinct []string
	for _, set := range sets {
		for _, sc := range set {
			if !slices.Contains(distinct, sc) {
				distinct = append(distinct, sc)
			}
		}
	}
	out := make([]domain.ScopePreview, len(sets))
	if len(distinct) == 0 {
		return out, nil
	}
	appKeys, err := db.firstKeys(ctx, "apps", `SELECT client_id AS k FROM app_scopes WHERE scope = %s ORDER BY client_id LIMIT ?`, distinct, limit+1)
	if err != nil {
		return nil, err
	}
	userKeys, err := db.firstKeys(ctx, "users", `SELECT DISTINCT user_id AS k FROM authorization_scopes WHERE scope = %s ORDER BY user_id LIMIT ?`, distinct, limit+1)
	if err != nil {
		return nil, err
	}
	pick := func(set []string, lists map[string][]string) (keys []string, held map[string][]string, more bool) {
		held = map[string][]string{}
		for _, sc := range set {
			for _, k := range lists[sc] {
				if _, ok := held[k]; !ok {
					keys = append(keys, k)
				}
				held[k] = append(held[k], sc)
			}
		}
		slices.Sort(keys)
		if len(keys) > limit {
			for _, k := range keys[limit:] {
				delete(held, k)
			}
			keys, more = keys[:limit], true
		}
		return keys, held, more
	}
	type picked struct {
		apps, users         []string
		appHeld, userHeld   map[string][]string
		moreApps, moreUsers bool
	}
	picks := make([]picked, len(sets))
	var allApps, allUsers []string
	for i, set := range sets {
		p := &picks[i]
		p.apps, p.appHeld, p.moreApps = pick(set, appKeys)
		p.users, p.userHeld, p.moreUsers = pick(set, userKeys)
		allApps, allUsers = append(allApps, p.apps...), append(allUsers, p.users...)
	}
	apps := map[string]domain.App{}
	if len(allApps) > 0 {
		var rows []appListRow
		if err := db.rd(ctx).Raw(`SELECT a.*, u.username AS owner_username FROM apps a JOIN users u ON u.id = a.owner_id
WHERE a.client_id IN ?`, uniq(allApps)).Scan(&rows).Error; err != nil {
			return nil, translate(err, "apps")
		}
		for _, r := range rows {
			a := r.domain()
			apps[a.ClientID] = a
		}
	}
	users := map[string]domain.User{}
	if len(allUsers) > 0 {
		var rows []userRow
		if err := db.rd(ctx).Raw(`SELECT * FROM users WHERE id IN ?`, uniq(allUsers)).Scan(&rows).Error; err != nil {
			return nil, translate(err, "users")
		}
		for _, r := range rows {
			u := r.domain()
			users[u.ID] = u
		}
	}
	for i, p := range picks {
		o := &out[i]
		o.AppsHeld, o.MoreApps, o.UsersHeld, o.MoreUsers = p.appHeld, p.moreApps, p.userHeld, p.moreUsers
		for _, k := range p.apps {
			if a, ok := apps[k]; ok {
				o.Apps = append(o.Apps, a)
			}
		}
		for _, k := range p.users {
			if u, ok := users[k]; ok {
				o.Users = append(o.Users, u)
			}
		}
	}
	return out, nil
}

// firstKeys runs branch (%s: where the scope goes; one placeholder:
// limit) once per scope and returns each scope's keys in the branch's
// order: one LATERAL join over the scopes where the flavor plans it once
// (lateralFirsts), otherwise one UNION ALL of a branch per scope.
func (db *DB) firstKeys(ctx context.Context, what, branch string, scopes []string, limit int) (map[string][]string, error) {
	var sql string
	var args []any
	if db.fl.lateralFirsts {
		sql, args = lateralScopes(branch, scopes, limit)
	} else {
		var q strings.Builder
		args = make([]any, 0, 3*len(scopes))
		for i, sc := range scopes {
			if i > 0 {
				q.WriteString(" UNION ALL ")
			}
			fmt.Fprintf(&q, "SELECT k, CAST(? AS TEXT) AS scope FROM (%s) b%d", fmt.Sprintf(branch, "?"), i)
			args = append(args, sc, sc, limit)
		}
		sql = q.String()
	}
	var rows []struct {
		K     string
		Scope string
	}
	if err := db.rd(ctx).Raw(sql, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, what)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.Scope] = append(out[r.Scope], r.K)
	}
	return out, nil
}

// lateralScopes is the form of a per-scope query where the flavor plans
// a LATERAL join once (lateralFirsts, PostgreSQL): branch, one SELECT of a
// key k for one scope (%s: where the scope goes), joined LATERAL to a
// VALUES list of scopes, each row the key k and its scope. It returns the
// statement and its arguments: the scopes in order, then branchArgs (the
// branch's own placeholders, in order). Used by firstKeys (the
// inventory's previews) and scopeKeys (a scope's holder pages).
func lateralScopes(branch string, scopes []string, branchArgs ...any) (string, []any) {
	var q strings.Builder
	args := make([]any, 0, len(scopes)+len(branchArgs))
	q.WriteString("SELECT b.k AS k, s.scope AS scope FROM (VALUES ")
	for i, sc := range scopes {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(CAST(? AS TEXT))")
		args = append(args, sc)
	}
	fmt.Fprintf(&q, ") s(scope) CROSS JOIN LATERAL (%s) b", fmt.Sprintf(branch, "s.scope"))
	return q.String(), append(args, branchArgs...)
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
