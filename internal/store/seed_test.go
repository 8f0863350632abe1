package store

import (
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
)

func seedSpec() SeedSpec {
	return SeedSpec{Users: 500, Apps: 300, Authorizations: 3000, AuditEvents: 2000, PATs: 1000,
		Scopes: []string{"vso.profile", "vso.work", "vso.code", "vso.build", "vso.code_write", "vso.tokens"},
		High:   map[string]bool{"vso.code_write": true, "vso.tokens": true}, PasswordHash: "x",
		Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Rand: 7}
}

// TestSeed checks what the seed leaves: the counts asked for, a valid
// audit chain, scope aggregates equal to a recount, realistic spreads, and
// that it refuses a database holding data unless forced.
func testSeed(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	spec := seedSpec()
	res, err := db.Seed(ctx, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The scope inventory's token aggregate is written to match.
	checkPATScopeSets(t, ctx, db, "seeded", spec.Now, spec.Now.Add(-24*time.Hour), spec.Now.Add(30*24*time.Hour))
	count := func(q string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := db.rd(ctx).Raw(q, args...).Scan(&n).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for q, want := range map[string]int64{
		`SELECT COUNT(*) FROM users`:                                             500,
		`SELECT COUNT(*) FROM apps`:                                              300,
		`SELECT COUNT(*) FROM authorizations`:                                    3000,
		`SELECT COUNT(*) FROM audit_events`:                                      2000,
		`SELECT COUNT(*) FROM pats`:                                              1000,
		`SELECT COUNT(*) FROM users WHERE username = 'admin' AND role = 'admin'`: 1,
		`SELECT COUNT(*) FROM apps a WHERE NOT EXISTS (SELECT 1 FROM app_owners o WHERE o.client_id = a.client_id AND o.user_id = a.owner_id)`: 0,
	} {
		if got := count(q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	if got := count(`SELECT COUNT(*) FROM authorizations WHERE revoked_at IS NOT NULL`); got != int64(res.Revoked) || got < 60 || got > 900 {
		t.Errorf("%d revoked authorizations (result says %d), want a few percent of 3000", got, res.Revoked)
	}
	if n := count(`SELECT COUNT(*) FROM client_secrets WHERE retired_at IS NULL AND expires_at < ?`, spec.Now); n < 20 || n > 100 {
		t.Errorf("%d expired secrets of 300 apps, want about a sixth (secrets spread over six years)", n)
	}
	// The aggregates equal a recount from the base tables.
	var bad []string
	err = db.rd(ctx).Raw(`SELECT st.scope FROM scope_stats st WHERE
  st.apps <> (SELECT COUNT(*) FROM apps a WHERE a.deleted_at IS NULL AND (' ' || a.scopes || ' ') LIKE '% ' || st.scope || ' %')
  OR st.authorizations <> (SELECT COUNT(*) FROM authorizations z WHERE z.revoked_at IS NULL AND (' ' || z.scopes || ' ') LIKE '% ' || st.scope || ' %')
  OR st.uses <> (SELECT COALESCE(SUM(count), 0) FROM scope_usage u WHERE u.satisfied_by = st.scope)`).Scan(&bad).Error
	if err != nil || len(bad) > 0 {
		t.Errorf("scope_stats differ from a recount for %v (err %v)", bad, err)
	}
	if n := count(`SELECT COUNT(*) FROM (SELECT scope, user_id, COUNT(*) AS n FROM authorization_scopes GROUP BY scope, user_id) r
  FULL JOIN user_scopes k ON k.scope = r.scope AND k.user_id = r.user_id WHERE r.n IS NULL OR k.authorizations IS NULL OR r.n <> k.authorizations`); n != 0 {
		t.Errorf("%d user_scopes rows differ from a recount of authorization_scopes", n)
	}
	if n := count(`SELECT COUNT(*) FROM apps a WHERE a.active_authorizations <> (SELECT COUNT(*) FROM authorizations z WHERE z.client_id = a.client_id AND z.revoked_at IS NULL)`); n != 0 {
		t.Errorf("%d apps with a wrong kept active-authorization count", n)
	}
	v := audit.NewVerifier()
	if err := db.WalkAudit(ctx, time.Time{}, v.Add); err != nil {
		t.Fatal(err)
	}
	if n, brk := v.Result(); n != 2000 || brk != nil {
		t.Errorf("audit chain: %d events, break %+v", n, brk)
	}
	// Refuses a database that holds data; --force wipes and reseeds.
	if _, err := db.Seed(ctx, spec, nil); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("seeding a database with data: %v, want Conflict", err)
	}
	spec.Force, spec.Apps, spec.Authorizations, spec.AuditEvents = true, 10, 20, 5
	if _, err := db.Seed(ctx, spec, nil); err != nil {
		t.Fatalf("forced seed: %v", err)
	}
	if got := count(`SELECT COUNT(*) FROM apps`); got != 10 {
		t.Errorf("after a forced seed %d apps, want 10", got)
	}
	indexes := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'authorizations_by_user'`
	if db.fl.name == "postgres" {
		indexes = `SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'authorizations_by_user'`
	}
	if got := count(indexes); got != 1 {
		t.Error("the seed did not rebuild the indexes it dropped")
	}
}
