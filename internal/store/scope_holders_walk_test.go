package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// testDirectScopeHolders: the scope report's walk names, per scope in the
// order asked, exactly the apps not deleted that register it (by client
// id) and the users with an active authorization granting it (by
// username, once however many of their authorizations do), after grants,
// a narrowing, a revocation and a deleted app; user_scopes' counts equal
// a recount of authorization_scopes throughout.
func testDirectScopeHolders(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	owner := mkUser(t, ctx, db, "owner")
	reg := [][]string{{"vso.work", "vso.code"}, {"vso.code"}, {"vso.profile"}, {"vso.work"}}
	var apps []string
	for i, sc := range reg {
		a := newApp(owner, fmt.Sprintf("App %d", i), "Co")
		a.Scopes = sc
		if err := db.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		apps = append(apps, a.ClientID)
	}
	zoe, adam := mkUser(t, ctx, db, "zoe"), mkUser(t, ctx, db, "adam")
	grant := func(u domain.User, app int, scopes ...string) string {
		t.Helper()
		a, err := db.AppByClientID(ctx, apps[app])
		if err != nil {
			t.Fatal(err)
		}
		z := newAuthz(u, a)
		z.Scopes = scopes
		if err := db.CreateAuthorization(ctx, z); err != nil {
			t.Fatal(err)
		}
		return z.ID
	}
	grant(zoe, 0, "vso.work", "vso.code")
	zoeWork := grant(zoe, 3, "vso.work")
	adamBoth := grant(adam, 0, "vso.work", "vso.code")
	adamCode := grant(adam, 1, "vso.code")
	if err := db.SetAuthorizationScopes(ctx, adamBoth, []string{"vso.work"}); err != nil { // narrowed: adam keeps vso.code through adamCode
		t.Fatal(err)
	}
	if _, err := db.RevokeAuthorization(ctx, adamCode, "test", now0); err != nil { // adam no longer holds vso.code
		t.Fatal(err)
	}
	if _, err := db.RevokeAuthorization(ctx, zoeWork, "test", now0); err != nil { // zoe still holds vso.work through her first
		t.Fatal(err)
	}
	if err := db.DeleteApp(ctx, apps[3], now0); err != nil {
		t.Fatal(err)
	}

	scopes := []string{"vso.work", "vso.profile", "vso.nothing", "vso.code"} // not in id order
	got := map[int][]string{}
	var order []int
	err := db.ReadTx(ctx, func(ctx2 context.Context) error {
		return db.WalkDirectScopeHolders(ctx2, scopes, func(pos int, user bool, id, name string) error {
			if len(order) == 0 || order[len(order)-1] != pos {
				order = append(order, pos)
			}
			kind := "app"
			if user {
				kind = "user"
			}
			got[pos] = append(got[pos], kind+":"+name)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	sorted := func(kind string, names ...string) []string {
		out := slices.Clone(names)
		for i := range out {
			out[i] = kind + ":" + out[i]
		}
		return out
	}
	byID := func(idx ...int) []string { // apps by client id
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(apps[a], apps[b]) })
		var out []string
		for _, i := range idx {
			out = append(out, fmt.Sprintf("App %d", i))
		}
		return out
	}
	want := map[int][]string{
		0: append(sorted("app", byID(0)...), sorted("user", "adam", "zoe")...),
		1: sorted("app", byID(2)...),
		3: append(sorted("app", byID(0, 1)...), sorted("user", "zoe")...),
	}
	if fmt.Sprint(order) != "[0 1 3]" || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("walk: scopes in order %v, holders %v; want [0 1 3], %v", order, got, want)
	}
	var bad int64
	err = db.rd(ctx).Raw(`SELECT COUNT(*) FROM (SELECT scope, user_id, COUNT(*) AS n FROM authorization_scopes GROUP BY scope, user_id) r
  FULL JOIN user_scopes k ON k.scope = r.scope AND k.user_id = r.user_id WHERE r.n IS NULL OR k.authorizations IS NULL OR r.n <> k.authorizations`).Scan(&bad).Error
	if err != nil || bad != 0 {
		t.Errorf("user_scopes: %d rows differ from a recount (err %v)", bad, err)
	}
}
