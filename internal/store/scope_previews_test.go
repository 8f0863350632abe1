package store

import (
	"fmt"
	"testing"
)

// testScopePreviews: the inventory's previews, all rows in a few queries,
// name exactly what a row's own ScopeApps and ScopeUsers pages name first
// (the same apps and users, the same scopes held, "more" when the page
// has a next), for sets that share scopes.
func testScopePreviews(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	scopeSets := [][]string{{"vso.work"}, {"vso.profile", "vso.work"}, {"vso.code", "vso.code_write"}, {"vso.nothing"}, {"vso.profile"}}
	grants := [][]string{{"vso.work"}, {"vso.profile"}, {"vso.code_write"}, {"vso.work", "vso.profile"}, {"vso.code"}}
	for i := range 9 {
		owner := mkUser(t, ctx, db, fmt.Sprintf("owner-%d", i))
		a := newApp(owner, fmt.Sprintf("Preview %d", i), "Co")
		a.Scopes = grants[i%len(grants)]
		if err := db.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		for j := range i % 3 {
			holder := mkUser(t, ctx, db, fmt.Sprintf("holder-%d-%d", i, j))
			z := newAuthz(holder, a)
			z.Scopes = grants[(i+j)%len(grants)]
			if err := db.CreateAuthorization(ctx, z); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, limit := range []int{1, 2, 3, 50} {
		got, err := db.ScopePreviews(ctx, scopeSets, limit)
		if err != nil {
			t.Fatal(err)
		}
		for i, set := range scopeSets {
			apps, aheld, anext, err := db.ScopeApps(ctx, set, "", limit)
			if err != nil {
				t.Fatal(err)
			}
			users, uheld, unext, err := db.ScopeUsers(ctx, set, "", limit)
			if err != nil {
				t.Fatal(err)
			}
			var wantA, gotA, wantU, gotU []string
			for _, a := range apps {
				wantA = append(wantA, fmt.Sprintf("%s%v", a.Name, aheld[a.ClientID]))
			}
			for _, a := range got[i].Apps {
				gotA = append(gotA, fmt.Sprintf("%s%v", a.Name, got[i].AppsHeld[a.ClientID]))
			}
			for _, u := range users {
				wantU = append(wantU, fmt.Sprintf("%s%v", u.Username, uheld[u.ID]))
			}
			for _, u := range got[i].Users {
				gotU = append(gotU, fmt.Sprintf("%s%v", u.Username, got[i].UsersHeld[u.ID]))
			}
			if fmt.Sprint(gotA, got[i].MoreApps) != fmt.Sprint(wantA, anext != "") || fmt.Sprint(gotU, got[i].MoreUsers) != fmt.Sprint(wantU, unext != "") {
				t.Errorf("limit %d, set %v: previews apps %v more %v, users %v more %v; pages apps %v more %v, users %v more %v",
					limit, set, gotA, got[i].MoreApps, gotU, got[i].MoreUsers, wantA, anext != "", wantU, unext != "")
			}
		}
	}
}
