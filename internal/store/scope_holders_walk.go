package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
)

// The scope report names every holder of every scope: these walks read a
// row's holders in one query each, streamed in key order, instead of
// pages of keys and then a fetch of each page's apps or users (two round
// trips and a primary-key probe per holder, again for every row that
// lists the same holder).

// WalkScopeApps calls fn with every app that registers one of scopes, by
// client id, with its name and which of scopes it registers (in the order
// of scopes). fn must not use the database: the walk streams one query.
func (db *DB) WalkScopeApps(ctx context.Context, scopes []string, fn func(clientID, name string, held []string) error) error {
	return db.walkHolders(ctx, scopes, `SELECT s.client_id, a.name, s.scope FROM app_scopes s JOIN apps a ON a.client_id = s.client_id
WHERE s.scope IN (%s) ORDER BY s.client_id, s.scope`, "apps", fn)
}

// WalkScopeUsers calls fn with every user holding an active authorization
// that grants one of scopes, by user id, with the username and which of
// scopes they are granted (in the order of scopes). fn must not use the
// database: the walk streams one query.
func (db *DB) WalkScopeUsers(ctx context.Context, scopes []string, fn func(userID, username string, held []string) error) error {
	// Distinct (user, scope) pairs first (an index-only read of
	// authorization_scopes_by_user), then one username each.
	return db.walkHolders(ctx, scopes, `SELECT d.user_id, u.username, d.scope FROM (SELECT DISTINCT x.user_id, x.scope FROM authorization_scopes x
WHERE x.scope IN (%s)) d JOIN users u ON u.id = d.user_id ORDER BY d.user_id, d.scope`, "users", fn)
}

// walkHolders runs q (its %s: one placeholder per scope), whose rows are
// (key, name, scope) ordered by key, and calls fn once per key.
func (db *DB) walkHolders(ctx context.Context, scopes []string, q, what string, fn func(key, name string, held []string) error) error {
	if len(scopes) == 0 {
		return nil
	}
	pos := make(map[string]int, len(scopes))
	args := make([]any, len(scopes))
	for i, sc := range scopes {
		pos[sc], args[i] = i, sc
	}
	q = strings.Replace(q, "%s", strings.TrimSuffix(strings.Repeat("?, ", len(scopes)), ", "), 1)
	rows, err := db.sqlConn(ctx, false).QueryContext(ctx, db.sqlText(q), args...)
	if err != nil {
		return translate(err, what)
	}
	defer rows.Close()
	var (
		key, name string
		held      []string
	)
	emit := func() error {
		if key == "" {
			return nil
		}
		slices.SortFunc(held, func(a, b string) int { return pos[a] - pos[b] })
		return fn(key, name, held)
	}
	for rows.Next() {
		var k, n, sc string
		var nn sql.NullString
		if err := rows.Scan(&k, &nn, &sc); err != nil {
			return translate(err, what)
		}
		n = nn.String
		if k != key {
			if err := emit(); err != nil {
				return err
			}
			key, name, held = k, n, nil
		}
		held = append(held, sc)
	}
	if err := rows.Err(); err != nil {
		return translate(err, what)
	}
	return emit()
}
