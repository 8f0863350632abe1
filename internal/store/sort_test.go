package store

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// testListAppsOrders walks every order of the app listing page by page,
// forward and back, on data with ties: each app once, in order, with the
// total on every page. The kept active-authorization count follows grants
// and revocations.
func testListAppsOrders(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	owner := mkUser(t, ctx, db, "owner")
	users := []domain.User{mkUser(t, ctx, db, "u1"), mkUser(t, ctx, db, "u2"), mkUser(t, ctx, db, "u3")}
	const n = 23
	byID := map[string]domain.App{}
	for i := range n {
		a := newApp(owner, fmt.Sprintf("App %02d", i%9), "Co") // names repeat: ties
		day := now0.AddDate(0, 0, -(i%5)*30)                   // created_at repeats: ties
		a.Secrets[0].CreatedAt, a.Secrets[0].ExpiresAt = day, day.AddDate(5, 0, 0)
		if err := db.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		byID[a.ClientID] = a
	}
	// Authorizations: app k gets k%4 of them; one more is revoked.
	count := map[string]int64{}
	k := 0
	for id, a := range byID {
		for j := range k % 4 {
			mkAuthz(t, ctx, db, users[j], a)
			count[id]++
		}
		k++
	}
	var revokedApp string
	for id, c := range count {
		if c > 0 {
			revokedApp = id
			break
		}
	}
	extra := mkAuthz(t, ctx, db, mkUser(t, ctx, db, "u-"+uuid.NewString()[:6]), byID[revokedApp])
	if ok, err := db.RevokeAuthorization(ctx, extra.ID, "test", now0.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	for id, want := range count {
		a, err := db.AppByClientID(ctx, id)
		if err != nil || a.Authorizations != want {
			t.Fatalf("app %s: %d authorizations not revoked (err %v), want %d", id, a.Authorizations, err, want)
		}
	}

	key := map[string]func(a domain.App) string{
		domain.AppSortName:           func(a domain.App) string { return a.Name },
		domain.AppSortExpiry:         func(a domain.App) string { return a.Secrets[0].ExpiresAt.UTC().Format(time.RFC3339) },
		domain.AppSortAge:            func(a domain.App) string { return a.Secrets[0].CreatedAt.UTC().Format(time.RFC3339) },
		domain.AppSortAuthorizations: func(a domain.App) string { return fmt.Sprintf("%06d", a.Authorizations) },
	}
	for sortKey, kf := range key {
		for _, desc := range []bool{false, true} {
			name := fmt.Sprintf("%s desc=%v", sortKey, desc)
			var got []domain.App
			p, err := db.ListApps(ctx, domain.AppFilter{Sort: sortKey, Desc: desc, Limit: 10})
			for pages := 0; ; pages++ {
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if p.Total != n {
					t.Errorf("%s: total %d, want %d", name, p.Total, n)
				}
				got = append(got, p.Apps...)
				if p.Next == "" || pages > 5 {
					break
				}
				p, err = db.ListApps(ctx, domain.AppFilter{Sort: sortKey, Desc: desc, Limit: 10, After: p.Next})
			}
			if len(got) != n {
				t.Fatalf("%s: %d apps over the pages, want %d", name, len(got), n)
			}
			seen := map[string]bool{}
			for i, a := range got {
				if seen[a.ClientID] {
					t.Errorf("%s: %s twice", name, a.ClientID)
				}
				seen[a.ClientID] = true
				if i == 0 {
					continue
				}
				prev, cur := got[i-1], a
				pk, ck := kf(prev), kf(cur)
				wrong := (!desc && (pk > ck || pk == ck && prev.ClientID > cur.ClientID)) ||
					(desc && (pk < ck || pk == ck && prev.ClientID < cur.ClientID))
				if wrong {
					t.Errorf("%s: %s (%s) before %s (%s)", name, prev.ClientID, kf(prev), cur.ClientID, kf(cur))
				}
			}
			// Back from the last page: the same rows, in the same order.
			var back []domain.App
			for pages := 0; p.Prev != "" && pages < 6; pages++ {
				if p, err = db.ListApps(ctx, domain.AppFilter{Sort: sortKey, Desc: desc, Limit: 10, Before: p.Prev}); err != nil {
					t.Fatal(err)
				}
				back = append(slices.Clone(p.Apps), back...)
			}
			for i := range back {
				if back[i].ClientID != got[i].ClientID {
					t.Fatalf("%s: walking back differs at %d", name, i)
				}
			}
			if len(back) != 20 {
				t.Errorf("%s: walked back %d rows, want 20", name, len(back))
			}
		}
	}
	// A cursor of one order is refused by another whose key does not parse.
	p, _ := db.ListApps(ctx, domain.AppFilter{Sort: domain.AppSortName, Limit: 5})
	if _, err := db.ListApps(ctx, domain.AppFilter{Sort: domain.AppSortExpiry, After: p.Next}); err == nil {
		t.Error("a name cursor was accepted by the expiry order")
	}
	if _, err := db.ListApps(ctx, domain.AppFilter{Sort: "owner"}); err == nil {
		t.Error("an unknown order was accepted")
	}
}
