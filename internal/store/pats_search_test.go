package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// testListPATsSearch: the token search (/admin/tokens?q=) matches a
// substring of the token name or of the owner's username, whatever its
// case, with % and _ taken literally, and lists exactly those tokens in
// the page order across pages (the keyset cursor). On PostgreSQL the name
// and owner matches are the two halves of a UNION (a token matching both
// is listed once); on SQLite one walk tests both.
func testListPATsSearch(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	alice, bob, carol := mkUser(t, ctx, db, "alice"), mkUser(t, ctx, db, "bob_ops"), mkUser(t, ctx, db, "carol")
	// Newest first: the k-th token was created k minutes before now0.
	tokens := []struct {
		owner domain.User
		name  string
	}{
		{alice, "CI Deploy"},      // 1
		{carol, "Café build"},     // 2
		{bob, "deploy_key"},       // 3
		{alice, "100% coverage"},  // 4
		{carol, "Backup-old"},     // 5
		{bob, "ops laptop"},       // 6
		{alice, "nightly backup"}, // 7
		{carol, "deployXkey"},     // 8
		{alice, "1000 runs"},      // 9
		{bob, "release"},          // 10
		{alice, "DEPLOY prod"},    // 11
		{carol, "50% canary"},     // 12
		{alice, "devops"},         // 13
	}
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		for k, tk := range tokens {
			created := now0.Add(-time.Duration(k+1) * time.Minute)
			err := db.CreatePAT(ctx, domain.PAT{ID: uuid.NewString(), UserID: tk.owner.ID, Name: tk.name,
				Hash: []byte(fmt.Sprintf("hash-%02d", k)), Display: "odp_test…", Scopes: []string{"vso.code"},
				CreatedAt: created, ExpiresAt: created.AddDate(0, 0, 90)})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// pages lists the names of each page of f, following Next.
	pages := func(f domain.PATFilter) [][]string {
		t.Helper()
		var out [][]string
		for range 10 {
			p, err := db.ListPATs(ctx, f)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			var names []string
			for _, tk := range p.Tokens {
				names = append(names, tk.Name+" ("+tk.Username+")")
			}
			out = append(out, names)
			if p.Next == "" {
				return out
			}
			f.After = p.Next
		}
		t.Fatalf("%+v: more than 10 pages", f)
		return nil
	}
	for _, c := range []struct {
		name string
		f    domain.PATFilter
		want [][]string
	}{
		{"name substring", domain.PATFilter{Query: "deploy", Limit: 2}, [][]string{
			{"CI Deploy (alice)", "deploy_key (bob_ops)"}, {"deployXkey (carol)", "DEPLOY prod (alice)"}}},
		{"mixed-case term", domain.PATFilter{Query: "  dEpLoY ", Limit: 2}, [][]string{
			{"CI Deploy (alice)", "deploy_key (bob_ops)"}, {"deployXkey (carol)", "DEPLOY prod (alice)"}}},
		{"owner substring", domain.PATFilter{Query: "OB_o", Limit: 2}, [][]string{
			{"deploy_key (bob_ops)", "ops laptop (bob_ops)"}, {"release (bob_ops)"}}},
		{"name and owner, each token once", domain.PATFilter{Query: "ops", Limit: 2}, [][]string{
			{"deploy_key (bob_ops)", "ops laptop (bob_ops)"}, {"release (bob_ops)", "devops (alice)"}}},
		{"name and owner, by name", domain.PATFilter{Query: "ops", Sort: "name", Limit: 2}, [][]string{
			{"deploy_key (bob_ops)", "devops (alice)"}, {"ops laptop (bob_ops)", "release (bob_ops)"}}},
		{"name and owner, oldest first", domain.PATFilter{Query: "ops", Asc: true, Limit: 3}, [][]string{
			{"devops (alice)", "release (bob_ops)", "ops laptop (bob_ops)"}, {"deploy_key (bob_ops)"}}},
		{"% is literal", domain.PATFilter{Query: "0%", Limit: 1}, [][]string{
			{"100% coverage (alice)"}, {"50% canary (carol)"}}},
		{"_ is literal", domain.PATFilter{Query: "y_k", Limit: 1}, [][]string{{"deploy_key (bob_ops)"}}},
		{"accented term", domain.PATFilter{Query: "café", Limit: 1}, [][]string{{"Café build (carol)"}}},
		{"short term", domain.PATFilter{Query: "ck", Limit: 2}, [][]string{
			{"Backup-old (carol)", "nightly backup (alice)"}}},
		{"with an owner filter", domain.PATFilter{Query: "deploy", UserID: alice.ID, Limit: 1}, [][]string{
			{"CI Deploy (alice)"}, {"DEPLOY prod (alice)"}}},
		{"no match", domain.PATFilter{Query: "zzzz-nothing", Limit: 2}, [][]string{nil}},
		{"no match, short", domain.PATFilter{Query: "%", UserID: bob.ID, Limit: 2}, [][]string{nil}},
	} {
		got := pages(c.f)
		if !slices.EqualFunc(got, c.want, slices.Equal[[]string]) {
			t.Errorf("%s: pages\n  %q\nwant\n  %q", c.name, got, c.want)
		}
	}
	// The bulk revocation counts through the same listing.
	if n, err := db.CountPATs(ctx, domain.PATFilter{Query: "ops"}, 100); err != nil || n != 4 {
		t.Errorf("CountPATs(ops) = %d, %v; want 4", n, err)
	}
}
