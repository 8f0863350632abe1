package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
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

// TestPATSearchPlanPostgres: on PostgreSQL the token search finds a rare
// name, an owner and no match through the trigram indexes (migration
// 00024), never by walking every token newest first (pats_by_created) or
// scanning pats or users: EXPLAIN ANALYZE of the listing's own statement
// over 30,000 tokens of 5,000 users, ANALYZEd.
func TestPATSearchPlanPostgres(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set: PostgreSQL only")
	}
	ctx := t.Context()
	db := newPostgresDB(t)
	owner := mkUser(t, ctx, db, "rare.owner")
	for _, q := range []string{
		`INSERT INTO users (id, username, role, password_hash, created_at, updated_at)
		 SELECT 'user-' || g, 'user.' || g, 'member', '$argon2id$dummy', now(), now() FROM generate_series(0, 4999) g`,
		`INSERT INTO pats (id, user_id, name, hash, display, scopes, created_at, expires_at)
		 SELECT 'pat-' || g, u.id, (ARRAY['ci', 'deploy', 'backup', 'laptop', 'release'])[g % 5 + 1] || ' ' || g,
		        decode(md5(g::text), 'hex'), 'odp_xxxx…', 'vso.code', now() - g * interval '1 minute', now() + interval '90 days'
		 FROM generate_series(1, 30000) g
		 JOIN users u ON u.id = 'user-' || (g % 5000)`,
		// Old: the newest-first walk would read every other token first.
		`INSERT INTO pats (id, user_id, name, hash, display, scopes, created_at, expires_at)
		 SELECT 'pat-rare-' || g, ?, 'Needle ' || g, decode(md5('rare' || g), 'hex'), 'odp_xxxx…', 'vso.code',
		        now() - interval '1 year' - g * interval '1 minute', now() + interval '90 days'
		 FROM generate_series(1, 3) g`,
		`VACUUM ANALYZE pats`, `VACUUM ANALYZE users`,
	} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, owner.ID)
		}
		if err := db.w.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, c := range []struct {
		term  string
		found int
		index string // the trigram index the plan must use
	}{
		{"needle 2", 1, "pats_name_trgm"},
		{"RARE.own", 3, "users_username_trgm"},
		{"zzzz-nothing", 0, "pats_name_trgm"},
	} {
		page, q, args := tracePATListing(t, ctx, db, domain.PATFilter{Query: c.term, Limit: 100})
		if len(page.Tokens) != c.found {
			t.Errorf("%q: %d tokens, want %d", c.term, len(page.Tokens), c.found)
		}
		text := explainPlan(t, ctx, db, q, args, "force_custom_plan")
		if !strings.Contains(text, c.index) {
			t.Errorf("%q: the plan does not use %s:\n%s", c.term, c.index, text)
		}
		for _, walk := range []string{"using pats_by_created", "Seq Scan on pats", "Seq Scan on users"} {
			if strings.Contains(text, walk) {
				t.Errorf("%q: the plan walks every token or user (%s):\n%s", c.term, walk, text)
			}
		}
	}
	// The statement is planned for its term even where plans are cached
	// (customPlans): under force_generic_plan, which a statement cache
	// reaches after five runs when the generic plan looks as cheap, the
	// rare name is still read through pats_name_trgm, no token walked.
	// The transaction's own statistics count the scans.
	err := db.ReadTx(ctx, func(ctx context.Context) error {
		if err := db.rd(ctx).Exec(`SET LOCAL plan_cache_mode = force_generic_plan`).Error; err != nil {
			return err
		}
		// The backend's counts not yet reported: before and after.
		counts := func() (trgm, walked int64, err error) {
			err = db.rd(ctx).Raw(`SELECT pg_stat_get_xact_numscans('pats_name_trgm'::regclass), pg_stat_get_xact_tuples_returned('pats_by_created'::regclass)`).
				Row().Scan(&trgm, &walked)
			return trgm, walked, err
		}
		trgm0, walked0, err := counts()
		if err != nil {
			return err
		}
		page, err := db.ListPATs(ctx, domain.PATFilter{Query: "needle 2", Limit: 100})
		if err != nil {
			return err
		}
		trgm, walked, err := counts()
		if err != nil {
			return err
		}
		trgm, walked = trgm-trgm0, walked-walked0
		if len(page.Tokens) != 1 || trgm == 0 || walked > 1000 {
			t.Errorf("under cached generic plans: %d tokens, %d scans of pats_name_trgm, %d entries of pats_by_created read; want 1, >0, <=1000",
				len(page.Tokens), trgm, walked)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tracePATListing runs ListPATs with f and returns its page and the one
// listing statement it sent with that statement's arguments (for
// explainPlan). It fails the test unless exactly one was sent.
func tracePATListing(t *testing.T, ctx context.Context, db *DB, f domain.PATFilter) (domain.PATPage, string, []any) {
	t.Helper()
	var traced []string
	var targs [][]any
	stop := db.TraceQueries(func(q string, args []any) {
		if strings.HasPrefix(q, "SELECT p.*, u.username FROM pats p") {
			traced, targs = append(traced, q), append(targs, args)
		}
	})
	page, err := db.ListPATs(ctx, f)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(traced) != 1 {
		t.Fatalf("%+v: traced %d listing statements, want 1", f, len(traced))
	}
	return page, traced[0], targs[0]
}
