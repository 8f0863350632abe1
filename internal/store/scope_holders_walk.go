package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
)

// The scope report names every direct holder of every scope: each app
// once per scope it registers and each user once per scope one of their
// active authorizations grants. A holder through a wider scope is named in
// that scope's row (the report's rows say which wider scopes hold theirs,
// scope.Catalog.Holders), not again in every narrower row: at 100,000
// apps that repetition made the report 40 MB and 35 s of PostgreSQL
// reading the same holders once per narrower scope.

// WalkDirectScopeHolders calls fn with every direct holder of each of
// scopes, grouped by scope in the order of scopes (pos is the scope's
// index): first the apps not deleted that register it, by client id (user
// false, id the client id, name the app's name), then the users holding an
// active authorization that grants it, by username then id (user true, id
// the user id, name the username). A scope with no direct holder gets no
// call.
//
// Per kind, the holders' names are read once (apps not deleted; users)
// and the (scope, holder) pairs once (app_scopes; user_scopes, one row per
// scope and user), each a plain read of a table or a covering index: no
// join, no per-row probe, no sort of 600,000 rows by a text key in the
// database. Memory holds each holder's id and name once and a 4-byte
// reference per (scope, holder), never a row per authorization.
func (db *DB) WalkDirectScopeHolders(ctx context.Context, scopes []string, fn func(pos int, user bool, id, name string) error) error {
	if len(scopes) == 0 {
		return nil
	}
	pos := make(map[string]int, len(scopes))
	for i, sc := range scopes {
		pos[sc] = i
	}
	apps, err := db.scopeHolderPairs(ctx, pos, `SELECT client_id, name FROM apps WHERE deleted_at IS NULL`,
		`SELECT scope, client_id FROM app_scopes`, func(h holder) string { return h.id }, "apps")
	if err != nil {
		return err
	}
	users, err := db.scopeHolderPairs(ctx, pos, `SELECT id, username FROM users`,
		`SELECT scope, user_id FROM user_scopes`, func(h holder) string { return h.name }, "users")
	if err != nil {
		return err
	}
	for i := range scopes {
		for _, k := range apps.refs[i] {
			if err := fn(i, false, apps.list[k].id, apps.list[k].name); err != nil {
				return err
			}
		}
		for _, k := range users.refs[i] {
			if err := fn(i, true, users.list[k].id, users.list[k].name); err != nil {
				return err
			}
		}
	}
	return nil
}

type holder struct{ id, name string }

// holderPairs is one kind of holder: each holder once (list, sorted) and,
// per scope position, indexes into list in ascending order.
type holderPairs struct {
	list []holder
	refs [][]int32
}

// scopeHolderPairs reads the holders (names: rows of id, name), sorts
// them by key then id, and files the pairs (rows of scope, id) of the
// scopes in pos under their scope's position in that order. A pair whose
// holder names did not list is kept with an empty name.
func (db *DB) scopeHolderPairs(ctx context.Context, pos map[string]int, names, pairs string, key func(holder) string, what string) (holderPairs, error) {
	out := holderPairs{refs: make([][]int32, len(pos))}
	err := db.scanPairs(ctx, names, what, func(id, name string) {
		out.list = append(out.list, holder{id, name})
	})
	if err != nil {
		return out, err
	}
	index := make(map[string]int32, len(out.list)) // id → position in out.list as read
	for i, h := range out.list {
		index[h.id] = int32(i)
	}
	err = db.scanPairs(ctx, pairs, what, func(sc, id string) {
		p, ok := pos[sc]
		if !ok {
			return
		}
		k, ok := index[id]
		if !ok {
			k = int32(len(out.list))
			index[id] = k
			out.list = append(out.list, holder{id: id})
		}
		out.refs[p] = append(out.refs[p], k)
	})
	if err != nil {
		return out, err
	}
	// Sort the holders once, then renumber the references to the sorted
	// positions: each scope's holders are then in order by a sort of
	// integers.
	order := make([]int32, len(out.list))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ha, hb := out.list[a], out.list[b]
		return cmp.Or(cmp.Compare(key(ha), key(hb)), cmp.Compare(ha.id, hb.id))
	})
	rank := make([]int32, len(order))
	sorted := make([]holder, len(order))
	for r, old := range order {
		rank[old], sorted[r] = int32(r), out.list[old]
	}
	out.list = sorted
	for _, refs := range out.refs {
		for i, k := range refs {
			refs[i] = rank[k]
		}
		slices.Sort(refs)
	}
	return out, nil
}

// scanPairs calls fn with the two text columns of each row of q (a NULL
// is "").
func (db *DB) scanPairs(ctx context.Context, q, what string, fn func(a, b string)) error {
	rows, err := db.sqlConn(ctx, false).QueryContext(ctx, db.sqlText(q))
	if err != nil {
		return translate(err, what)
	}
	defer rows.Close()
	for rows.Next() {
		var a, b sql.NullString
		if err := rows.Scan(&a, &b); err != nil {
			return translate(err, what)
		}
		fn(a.String, b.String)
	}
	return translate(rows.Err(), what)
}
