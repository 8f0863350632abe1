package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// testListAppsDenseFilters checks both forms of the listing's membership
// filters: under the count cap the page is driven from the filter (IN),
// over it the page walks the order's index probing each app (EXISTS);
// each must list exactly the matching apps, in order, page after page.
func testListAppsDenseFilters(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	dense, sparse := mkUser(t, ctx, db, "dense"), mkUser(t, ctx, db, "sparse")
	n := domain.AppCountCap + 30
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		for i := range n {
			if err := db.CreateApp(ctx, newApp(dense, fmt.Sprintf("Dense %04d", i), "Acme Tools")); err != nil {
				return err
			}
			if i%200 == 0 {
				if err := db.CreateApp(ctx, newApp(sparse, fmt.Sprintf("Sparse %04d", i), "Acme Tools")); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// pages lists every page's names (first page, then Next) up to max.
	pages := func(f domain.AppFilter, max int) ([]string, int64) {
		t.Helper()
		var names []string
		var total int64
		for range max {
			p, err := db.ListApps(ctx, f)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			total = p.Total
			for _, a := range p.Apps {
				names = append(names, a.Name)
			}
			if p.Next == "" {
				break
			}
			f.After = p.Next
		}
		return names, total
	}
	want := func(prefix string, from, count, step int) []string {
		var out []string
		for i := from; len(out) < count; i += step {
			out = append(out, fmt.Sprintf("%s %04d", prefix, i))
		}
		return out
	}
	for _, c := range []struct {
		name  string
		f     domain.AppFilter
		pages int
		total int64
		names []string
	}{
		{"dense owner (EXISTS walk)", domain.AppFilter{OwnerID: dense.ID, Limit: 50}, 3, domain.AppCountCap + 1, want("Dense", 0, 150, 1)},
		{"sparse owner (IN)", domain.AppFilter{OwnerID: sparse.ID, Limit: 2}, 10, 6, want("Sparse", 0, 6, 200)},
		{"dense word (EXISTS walk)", domain.AppFilter{Query: "den", Limit: 50}, 2, domain.AppCountCap + 1, want("Dense", 0, 100, 1)},
		{"sparse word (IN)", domain.AppFilter{Query: "spa acme", Limit: 4}, 10, 6, want("Sparse", 0, 6, 200)},
		{"dense word, sparse owner", domain.AppFilter{Query: "acme", OwnerID: sparse.ID, Limit: 50}, 2, 6, want("Sparse", 0, 6, 200)},
		{"no match", domain.AppFilter{Query: "dense", OwnerID: sparse.ID}, 2, 0, nil},
	} {
		names, total := pages(c.f, c.pages)
		if total != c.total || fmt.Sprint(names) != fmt.Sprint(c.names) {
			t.Errorf("%s: total %d, names %q; want %d, %q", c.name, total, names, c.total, c.names)
		}
	}
}

// testListAppsExpiryWindow: the secret-expiry windows (the dashboard's
// expiring and critical states) list, by the primary secret's expiry,
// every app with an active secret in the window — its primary or its
// alternative — through every page, whether the matches are over the
// count cap (the order's walk) or few (driven from the window).
func testListAppsExpiryWindow(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	u := mkUser(t, ctx, db, "window")
	app := func(name string, primary time.Time, alt *time.Time) domain.App {
		a := newApp(u, name, "Window Co")
		a.Secrets[0].ExpiresAt = primary
		if alt != nil {
			a.Secrets = append(a.Secrets, domain.Secret{ID: uuid.NewString(), ClientID: a.ClientID, Slot: domain.SlotAlternative,
				Hash: []byte("alt-" + a.ClientID), CreatedAt: now0, ExpiresAt: *alt})
		}
		return a
	}
	from, to := now0.AddDate(0, 0, 1), now0.AddDate(0, 0, 60)
	inside := now0.AddDate(0, 0, 20)
	n := domain.AppCountCap + 30
	var wantDense []string
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		var apps []domain.App
		for i := range 40 {
			apps = append(apps, app(fmt.Sprintf("Early %02d", i), now0.Add(time.Duration(i+1)*time.Minute), nil))
			apps = append(apps, app(fmt.Sprintf("Late %02d", i), now0.AddDate(1, 0, 0).Add(time.Duration(i)*time.Minute), nil))
		}
		// Alt both: primary and alternative in the window, counted once.
		apps = append(apps, app("Alt early", now0.Add(5*time.Hour), &inside), app("Alt late", now0.AddDate(2, 0, 0), &inside),
			app("Alt both", inside.Add(time.Hour), &inside))
		wantDense = append(wantDense, "Alt early")
		for i := range n {
			name := fmt.Sprintf("Win %04d", i)
			apps = append(apps, app(name, from.Add(time.Duration(i+1)*time.Minute), nil))
			wantDense = append(wantDense, name)
		}
		wantDense = append(wantDense, "Alt both", "Alt late")
		for _, a := range apps {
			if err := db.CreateApp(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func(f domain.AppFilter) ([]string, int64) {
		t.Helper()
		var names []string
		var total int64
		for range 100 {
			p, err := db.ListApps(ctx, f)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			total = p.Total
			for _, a := range p.Apps {
				names = append(names, a.Name)
			}
			if p.Next == "" {
				break
			}
			f.After = p.Next
		}
		return names, total
	}
	names, total := list(domain.AppFilter{SecretExpiresAfter: from, SecretExpiresBefore: to, Sort: domain.AppSortExpiry, Limit: 200})
	if total != domain.AppCountCap+1 || fmt.Sprint(names) != fmt.Sprint(wantDense) {
		t.Errorf("dense window: total %d, %d names (first %q, last %q); want %d and %d names from %q to %q",
			total, len(names), names[:min(3, len(names))], names[max(0, len(names)-3):], domain.AppCountCap+1, len(wantDense), wantDense[:3], wantDense[len(wantDense)-3:])
	}
	if db.fl.name == "postgres" {
		expiryWindowPlans(t, db, domain.AppFilter{SecretExpiresAfter: from, SecretExpiresBefore: to, Sort: domain.AppSortExpiry, Limit: 25})
	}
	var wantLate []string
	for i := range 40 {
		wantLate = append(wantLate, fmt.Sprintf("Late %02d", i))
	}
	names, total = list(domain.AppFilter{SecretExpiresAfter: now0.AddDate(0, 11, 0), SecretExpiresBefore: now0.AddDate(1, 1, 0), Sort: domain.AppSortExpiry, Limit: 7})
	if total != 40 || fmt.Sprint(names) != fmt.Sprint(wantLate) {
		t.Errorf("sparse window: total %d, names %q; want 40, %q", total, names, wantLate)
	}
	names, total = list(domain.AppFilter{SecretExpiresAfter: now0.AddDate(0, 0, 19), SecretExpiresBefore: now0.AddDate(0, 0, 21), Sort: domain.AppSortExpiry, Limit: 1})
	if total != 3 || fmt.Sprint(names) != fmt.Sprint([]string{"Alt early", "Alt both", "Alt late"}) {
		t.Errorf("alternatives: total %d, names %q; want the three apps whose alternative expires then (one whose primary does too)", total, names)
	}
	// A window whose only primary is Alt both's, with its alternative
	// outside: one app.
	names, total = list(domain.AppFilter{SecretExpiresAfter: inside.Add(time.Minute), SecretExpiresBefore: now0.AddDate(0, 0, 21), Sort: domain.AppSortExpiry, Limit: 5})
	if total != 1 || fmt.Sprint(names) != fmt.Sprint([]string{"Alt both"}) {
		t.Errorf("primary only: total %d, names %q; want Alt both", total, names)
	}
}

// testLongExpiryWalk: a walk of every secret expiry (the report of all
// secrets), streamed with every app's active count taken at once, yields
// exactly what the batched walk does, true active counts included.
func testLongExpiryWalk(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	db.SetClock(func() time.Time { return now0 })
	u := mkUser(t, ctx, db, "walker")
	for i := range 30 {
		a := newApp(u, fmt.Sprintf("Walk %02d", i), "Walk Co")
		a.Secrets[0].ExpiresAt = now0.AddDate(0, 0, 30-i)
		if err := db.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		for j := range i % 4 { // i%4 authorizations with a live token, the third revoked
			holder := mkUser(t, ctx, db, fmt.Sprintf("holder-%d-%d", i, j))
			z := mkAuthz(t, ctx, db, holder, a)
			rt := domain.RefreshToken{ID: uuid.NewString(), AuthorizationID: z.ID, FamilyID: uuid.NewString(), ClientID: a.ClientID,
				UserID: holder.ID, SecretID: a.Secrets[0].ID, Scopes: z.Scopes, CreatedAt: now0, ExpiresAt: now0.AddDate(1, 0, 0)}
			rt.Hash = []byte("walk-" + rt.ID)
			if err := db.CreateRefreshToken(ctx, rt); err != nil {
				t.Fatal(err)
			}
			if j == 2 {
				if _, err := db.RevokeAuthorization(ctx, z.ID, "test", now0); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	walk := func(over int) []domain.ExpiringSecret {
		t.Helper()
		saved := wholeCountsOver
		wholeCountsOver = over
		defer func() { wholeCountsOver = saved }()
		var out []domain.ExpiringSecret
		if err := db.WalkSecretExpiries(ctx, time.Time{}, 0, func(e domain.ExpiringSecret) error {
			out = append(out, e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	batched, streamed := walk(1_000_000), walk(0)
	if len(batched) != 30 || fmt.Sprint(batched) != fmt.Sprint(streamed) {
		t.Fatalf("streamed walk differs from the batched one:\n%v\n%v", streamed, batched)
	}
	var active, want int64
	for i, e := range streamed {
		active += e.ActiveAuthorizations
		want += int64(min((29-i)%4, 2)) // listed soonest first: app 29 first
	}
	if active != want || want == 0 {
		t.Errorf("total active authorizations %d, want %d", active, want)
	}
}

// expiryWindowPlans checks, on PostgreSQL, the plans of the queries one
// page of a dense expiry window runs (and its next page): the walk by
// primary expiry starts its index range at the window (Index Cond on
// expires_at >= LEAST(…), not a Filter over every primary that expired
// before it), and the count reads client_secrets only (no app row: at
// this size PostgreSQL rightly scans the small table itself).
func expiryWindowPlans(t *testing.T, db *DB, f domain.AppFilter) {
	t.Helper()
	ctx := t.Context()
	if err := db.w.Exec(`ANALYZE client_secrets`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.w.Exec(`ANALYZE apps`).Error; err != nil {
		t.Fatal(err)
	}
	type stmt struct {
		q    string
		args []any
	}
	var mu sync.Mutex
	var seen []stmt
	stop := db.TraceQueries(func(q string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, stmt{q, args})
	})
	p, err := db.ListApps(ctx, f)
	if err == nil && p.Next != "" {
		f.After = p.Next
		_, err = db.ListApps(ctx, f)
	}
	stop()
	if err != nil {
		t.Fatal(err)
	}
	walks, counts := 0, 0
	for _, s := range seen {
		walk, count := strings.Contains(s.q, "LEAST(CAST("), strings.HasPrefix(s.q, "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM client_secrets s")
		if !walk && !count {
			continue
		}
		rows, err := db.sqlConn(ctx, false).QueryContext(ctx, "EXPLAIN "+s.q, s.args...)
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", s.q, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		switch {
		case walk:
			walks++
			if !regexp.MustCompile(`Index Cond: \(.*expires_at >= LEAST\(`).MatchString(text) {
				t.Errorf("the expiry window's walk has no index range start:\n%s\n%s", s.q, text)
			}
		case count:
			counts++
			if strings.Contains(text, " on apps") {
				t.Errorf("the expiry window's count reads apps:\n%s\n%s", s.q, text)
			}
		}
	}
	if walks != 2 || counts != 2 {
		t.Errorf("traced %d walks and %d counts over two pages, want 2 and 2 (is the window dense, the trace hooked?)", walks, counts)
	}
}
