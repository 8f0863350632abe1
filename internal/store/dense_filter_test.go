package store

import (
	"context"
	"fmt"
	"testing"

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
