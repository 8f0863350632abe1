package store

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"

	schema "github.com/oauthdesk/oauthdesk/db"
)

// TestMigrationSetsMatch fails when the SQLite and PostgreSQL migration
// sets do not hold the same version numbers (each SQLite migration needs
// its PostgreSQL twin, and the other way round).
func TestMigrationSetsMatch(t *testing.T) {
	names := func(f fs.FS, dir string) []string {
		files, err := fs.Glob(f, dir+"/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range files {
			base := f[len(dir)+1:]
			if len(base) < 5 {
				t.Fatalf("migration %s has no version number", f)
			}
			out = append(out, base[:5])
		}
		slices.Sort(out)
		return out
	}
	lite, pg := names(schema.Migrations, "migrations"), names(schema.PostgresMigrations, "migrations_postgres")
	if !slices.Equal(lite, pg) {
		t.Errorf("migration versions differ:\n  db/migrations:          %v\n  db/migrations_postgres: %v\nadd the missing twin", lite, pg)
	}
}

// testMigrateRefusesNewerSchema: a binary must not start on a database
// that a newer oauthdesk migrated.
func testMigrateRefusesNewerSchema(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	if err := db.w.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`).Error; err != nil {
		t.Fatal(err)
	}
	_, err := db.Migrate(t.Context())
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("Migrate on a newer schema: %v, want Invalid", err)
	}
	if msg := apperr.ErrorMessage(err); !strings.Contains(msg, "newer oauthdesk") || !strings.Contains(msg, "99999") {
		t.Errorf("message %q does not name the newer version", msg)
	}
}

// testRefreshTokenKeys: a refresh token must name an authorization, app
// and user that exist; on PostgreSQL one key on the three columns
// (migration 00030) also refuses an app or user other than the
// authorization's, which SQLite's three separate keys let through. Only
// the consistent token is stored.
func testRefreshTokenKeys(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	u, v := mkUser(t, ctx, db, "ursula"), mkUser(t, ctx, db, "victor")
	a := mkApp(t, ctx, db, u, "Keys", "Co")
	b := mkApp(t, ctx, db, v, "Other", "Co")
	z := mkAuthz(t, ctx, db, u, a)
	good := mkRefresh(t, ctx, db, z, "fam")
	bad := func(name string, edit func(*domain.RefreshToken)) {
		t.Helper()
		rt := good
		rt.ID = "rt-" + name
		rt.Hash = []byte("hash-" + name)
		edit(&rt)
		if err := db.CreateRefreshToken(ctx, rt); err == nil {
			t.Errorf("%s: stored", name)
		}
	}
	bad("no such authorization", func(rt *domain.RefreshToken) { rt.AuthorizationID = "nope" })
	bad("no such app", func(rt *domain.RefreshToken) { rt.ClientID = "nope" })
	bad("no such user", func(rt *domain.RefreshToken) { rt.UserID = "nope" })
	want := int64(1)
	if db.fl.name == "postgres" {
		bad("another user", func(rt *domain.RefreshToken) { rt.UserID = v.ID })
		bad("another app", func(rt *domain.RefreshToken) { rt.ClientID = b.ClientID })
	}
	if n := count(t, db, "refresh_tokens"); n != want {
		t.Errorf("%d refresh tokens stored, want %d (the consistent one)", n, want)
	}
}

// testAuditActorIsUserSubject: an event that concerns no other user
// names its acting user as its user subject (so a user's activity holds
// what they did), one about another user keeps that user; migration 00029
// fills the same into events stored before it.
func testAuditActorIsUserSubject(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	actor := audit.WithActor(ctx, audit.Actor{Name: "priya", ID: "u-priya"})
	now := time.Now()
	reg, err := db.AppendAudit(actor, audit.New(actor, now, audit.ActionAppRegister, audit.TargetApp, "client-1", nil))
	if err != nil {
		t.Fatal(err)
	}
	role, err := db.AppendAudit(actor, audit.New(actor, now, audit.ActionUserRole, audit.TargetUser, "u-bob", nil))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := db.AppendAudit(ctx, audit.New(audit.WithActor(ctx, audit.Actor{Name: audit.ActorCLI}), now, audit.ActionAppDelete, audit.TargetApp, "client-1", nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{reg.Seq: "u-priya", role.Seq: "u-bob", cli.Seq: ""}
	check := func(when string) {
		t.Helper()
		for seq, user := range want {
			ev, _, err := db.AuditEvents(ctx, audit.Filter{BeforeSeq: seq + 1, Limit: 1})
			if err != nil || len(ev) != 1 || ev[0].UserID != user {
				t.Errorf("%s: event %d: %+v %v, want user %q", when, seq, ev, err, user)
			}
		}
		page, _, err := db.AuditEvents(ctx, audit.Filter{UserID: "u-priya"})
		if err != nil || len(page) != 1 || page[0].Action != audit.ActionAppRegister {
			t.Errorf("%s: priya's activity: %+v %v, want her app.register", when, page, err)
		}
	}
	check("appended")

	// Events stored before migration 00029: no user subject; the
	// migration, run again, fills it in.
	if err := db.w.Exec(`UPDATE audit_events SET user_id = '' WHERE seq = ?`, reg.Seq).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.w.Exec(`DELETE FROM goose_db_version WHERE version_id = 29`).Error; err != nil {
		t.Fatal(err)
	}
	if n, err := db.Migrate(ctx); err != nil || n != 1 {
		t.Fatalf("migrate again: %d %v, want 00029 applied", n, err)
	}
	check("migrated")
	v := audit.NewVerifier()
	if err := db.WalkAudit(ctx, time.Time{}, v.Add); err != nil {
		t.Fatal(err)
	}
	if n, brk := v.Result(); brk != nil || n != 3 {
		t.Errorf("audit verify: %d events, break %+v", n, brk)
	}
}

// testChangeWatcherSeesOtherProcess: a commit by another handle (another
// replica) is reported within the documented bound (the watcher looks
// every PollInterval), a commit by this handle at once, and an idle
// database settles to "unchanged" between polls.
func testChangeWatcherSeesOtherProcess(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	other := second(t, db)
	w, err := db.NewChangeWatcher(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if ok, err := w.Changed(ctx); err != nil || !ok {
		t.Fatalf("first call: %v %v, want true", ok, err)
	}
	_, z := mkCode(t, ctx, db)
	if _, err := w.Changed(ctx); err != nil { // the fixtures may or may not count
		t.Fatal(err)
	}
	if ok, err := db.RevokeAuthorization(ctx, z.ID, "test", now0); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, err := w.Changed(ctx); err != nil || !ok {
		t.Fatalf("after a local revocation: %v %v, want true at once", ok, err)
	}
	mkUser(t, ctx, other, "remote")
	// The watcher looks every PollInterval; the deadline is the documented
	// cross-process bound (README: ≤ 1 s), so a busy machine's scheduling
	// delay does not fail the test.
	const bound = time.Second
	deadline := time.Now().Add(bound)
	for {
		ok, err := w.Changed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a commit by another handle was not reported within %v", bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// After the change, a quick second look says "unchanged" (polling is
	// bounded, not a query per request).
	if ok, err := w.Changed(ctx); err != nil || ok {
		t.Errorf("right after a reported change: %v %v, want false", ok, err)
	}
}

// testAuditChainConcurrentWriters appends from two handles (two replicas)
// and many goroutines at once: the chain must be gapless and verify.
func testAuditChainConcurrentWriters(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	handles := []*DB{db, second(t, db)}
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := handles[w%2]
			for i := range each {
				// Nanoseconds: the stored time keeps microseconds on both
				// dialects, and the hash must match what is stored.
				e := audit.Event{At: now0.Add(time.Duration(i)*time.Second + 123456789), Actor: "system", Action: "test.append",
					TargetType: "test", TargetID: fmt.Sprintf("%d-%d", w, i), Details: map[string]any{"i": i}}
				if _, err := h.AppendAudit(ctx, e); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	v := audit.NewVerifier()
	if err := db.WalkAudit(ctx, time.Time{}, func(e audit.Event) bool { return v.Add(e) }); err != nil {
		t.Fatal(err)
	}
	n, br := v.Result()
	if br != nil || n != workers*each {
		t.Errorf("chain after concurrent appends: %d events, break %+v; want %d, none", n, br, workers*each)
	}
}

// testSigningKeyCreatedOnce: replicas starting together agree on one key.
func testSigningKeyCreatedOnce(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	handles := []*DB{db, second(t, db)}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := handles[i%2]
			err := h.WriteTx(ctx, func(ctx context.Context) error {
				keys, err := h.SigningKeys(ctx)
				if err != nil || len(keys) > 0 {
					return err
				}
				time.Sleep(20 * time.Millisecond) // widen the window
				return h.CreateSigningKey(ctx, domain.SigningKey{ID: fmt.Sprintf("k%d", i), Alg: "EdDSA", PrivateKey: []byte{1}, CreatedAt: now0})
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := count(t, db, "signing_keys"); n != 1 {
		t.Errorf("%d signing keys after a concurrent start, want 1", n)
	}
}

// testJobLockOneHolder: of replicas racing for a lease exactly one wins;
// it expires and can be taken over.
func testJobLockOneHolder(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	handles := []*DB{db, second(t, db)}
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := handles[i%2].AcquireLock(ctx, "report", fmt.Sprintf("holder-%d", i), now0, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d holders got the lease, want 1", wins.Load())
	}
	if ok, err := db.AcquireLock(ctx, "report", "late", now0.Add(30*time.Second), time.Minute); err != nil || ok {
		t.Errorf("lease taken while held: %v %v", ok, err)
	}
	if ok, err := db.AcquireLock(ctx, "report", "late", now0.Add(2*time.Minute), time.Minute); err != nil || !ok {
		t.Errorf("expired lease not taken over: %v %v", ok, err)
	}
	if err := db.ReleaseLock(ctx, "report", "late"); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.AcquireLock(ctx, "report", "next", now0.Add(2*time.Minute), time.Minute); err != nil || !ok {
		t.Errorf("released lease not taken: %v %v", ok, err)
	}
}

// testScopeUsageAccumulates: flushes from several replicas add up, and the
// last use only moves forward — authorizations, scopes and client secrets.
func testScopeUsageAccumulates(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	other := second(t, db)
	c, z := mkCode(t, ctx, db)
	k := domain.ScopeUseKey{AuthorizationID: z.ID, Scope: "vso.work", SatisfiedBy: "vso.work"}
	late, early := now0.Add(time.Hour), now0.Add(time.Minute)
	if err := db.FlushUsage(ctx, domain.UsageBatch{LastUsed: map[string]time.Time{z.ID: late},
		Scopes:  map[domain.ScopeUseKey]domain.ScopeUse{k: {Count: 3, Last: late}},
		Secrets: map[string]domain.ScopeUse{c.SecretID: {Count: 7, Last: late}, "no-such-secret": {Count: 1, Last: late}}}); err != nil {
		t.Fatal(err)
	}
	if err := other.FlushUsage(ctx, domain.UsageBatch{LastUsed: map[string]time.Time{z.ID: early},
		Scopes:  map[domain.ScopeUseKey]domain.ScopeUse{k: {Count: 2, Last: early}},
		Secrets: map[string]domain.ScopeUse{c.SecretID: {Count: 5, Last: early}}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.ScopeUsage(ctx, z.ClientID, time.Time{})
	if err != nil || len(got) != 1 || got[0].Count != 5 || !got[0].LastUsedAt.Equal(late) {
		t.Errorf("usage after two flushes: %+v %v; want count 5, last %v", got, err, late)
	}
	a, err := db.AuthorizationByID(ctx, z.ID)
	if err != nil || a.LastUsedAt == nil || !a.LastUsedAt.Equal(late) {
		t.Errorf("authorization last used %v (%v), want %v", a.LastUsedAt, err, late)
	}
	app, err := other.ClientByID(ctx, c.ClientID)
	if err != nil || len(app.Secrets) != 1 {
		t.Fatalf("app after the flushes: %+v %v", app, err)
	}
	if s := app.Secrets[0]; s.UseCount != 12 || s.LastUsedAt == nil || !s.LastUsedAt.Equal(late) {
		t.Errorf("secret uses %d, last used %v; want 12 and %v (both replicas' counts, the later time)", s.UseCount, s.LastUsedAt, late)
	}
}

func testSettingsUpsert(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	if _, ok, err := db.Setting(ctx, "k"); err != nil || ok {
		t.Fatalf("unset setting: %v %v", ok, err)
	}
	for _, v := range []string{"one", "two"} {
		if err := db.SetSetting(ctx, "k", v, now0); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := db.Setting(ctx, "k"); err != nil || !ok || got != v {
			t.Errorf("setting = %q %v %v, want %q", got, ok, err, v)
		}
	}
}

// testRetireSecretOnce: two replicas retiring the same slot at once: one
// retires it, the other finds the slot empty; one invalidation.
func testRetireSecretOnce(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	handles := []*DB{db, second(t, db)}
	u := mkUser(t, ctx, db, "owner")
	a := mkApp(t, ctx, db, u, "Retire", "Co")
	var ok, notFound atomic.Int64
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := handles[i%2].RetireSecret(ctx, a.ClientID, domain.SlotPrimary, now0)
			switch {
			case err == nil:
				ok.Add(1)
			case apperr.Is(err, apperr.NotFound):
				notFound.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || notFound.Load() != 5 {
		t.Errorf("retired %d times, not found %d; want 1 and 5", ok.Load(), notFound.Load())
	}
	if n := count(t, db, "invalidations"); n != 1 {
		t.Errorf("%d invalidations, want 1", n)
	}
}

// testConcurrentConsentOnePair: consents of one user to one app racing on
// two replicas (read the active authorization, then create or update it,
// in one write transaction) end with one active authorization and no
// error.
func testConcurrentConsentOnePair(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	handles := []*DB{db, second(t, db)}
	u := mkUser(t, ctx, db, "consenter")
	a := mkApp(t, ctx, db, u, "Consent", "Co")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := handles[i%2]
			err := h.WriteTx(ctx, func(ctx context.Context) error {
				z, err := h.ActiveAuthorization(ctx, u.ID, a.ClientID)
				switch {
				case err == nil:
					return h.UpdateAuthorizationGrant(ctx, z.ID, []string{"vso.work"}, a.CallbackURL, now0)
				case apperr.Is(err, apperr.NotFound):
					time.Sleep(10 * time.Millisecond) // widen the window
					return h.CreateAuthorization(ctx, newAuthz(u, a))
				default:
					return err
				}
			})
			if err != nil {
				t.Errorf("consent %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	var n int64
	if err := db.w.Raw(`SELECT COUNT(*) FROM authorizations WHERE revoked_at IS NULL`).Scan(&n).Error; err != nil || n != 1 {
		t.Errorf("%d active authorizations (%v), want 1", n, err)
	}
}
