package store

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// recountPATScopeSets is the scope inventory's token count from scratch:
// the live tokens (unrevoked, unexpired at now, of a user neither disabled
// nor deleted) per stored scope set, read from every token.
func recountPATScopeSets(t testing.TB, ctx context.Context, db *DB, now time.Time) map[string]int {
	t.Helper()
	var rows []struct {
		Scopes string
		N      int
	}
	err := db.rd(ctx).Raw(`SELECT p.scopes AS scopes, COUNT(*) AS n FROM pats p JOIN users u ON u.id = p.user_id
WHERE p.revoked_at IS NULL AND p.expires_at > ? AND u.disabled_at IS NULL AND u.deleted_at IS NULL
GROUP BY p.scopes`, utc(now)).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Scopes] = r.N
	}
	return out
}

// checkPATScopeSets compares PATScopeCombos, and the inventory's token
// counts made from it, with a recount at each of times.
func checkPATScopeSets(t *testing.T, ctx context.Context, db *DB, step string, times ...time.Time) {
	t.Helper()
	cat := scope.Default()
	for _, at := range times {
		got, err := db.PATScopeCombos(ctx, at)
		if err != nil {
			t.Fatalf("%s: PATScopeCombos(%v): %v", step, at, err)
		}
		want := recountPATScopeSets(t, ctx, db, at)
		if !maps.Equal(got, want) {
			t.Errorf("%s, at %v: scope sets from the aggregate %v, recount %v", step, at.Format(time.RFC3339), got, want)
			continue
		}
		g, w := reports.CountPATs(cat, got), reports.CountPATs(cat, want)
		if !maps.Equal(g.Holders, w.Holders) || !maps.Equal(g.Direct, w.Direct) || g.Full != w.Full {
			t.Errorf("%s, at %v: inventory counts %+v, recount %+v", step, at.Format(time.RFC3339), g, w)
		}
	}
}

func mkPAT(t testing.TB, ctx context.Context, db *DB, user domain.User, exp time.Time, scopes ...string) domain.PAT {
	t.Helper()
	p := domain.PAT{ID: uuid.NewString(), UserID: user.ID, Name: "t", Hash: []byte(uuid.NewString()), Display: "odp_x…",
		Scopes: scopes, CreatedAt: exp.Add(-24 * time.Hour), ExpiresAt: exp}
	if err := db.CreatePAT(ctx, p); err != nil {
		t.Fatalf("create token: %v", err)
	}
	return p
}

// testPATScopeSets: the scope inventory's tokens per scope set, read from
// the maintained aggregate (pat_scope_sets and its watermark), equal a
// recount from every token after each kind of write — create, revoke,
// scope and expiry changes, expiry with and without a sweep, disable,
// enable, delete — at times before, at and after the watermark.
func testPATScopeSets(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	// The migration's watermark is the real time it ran; tokens expire
	// around it.
	t0 := time.Now().UTC().Truncate(time.Second)
	h := time.Hour
	times := func(extra ...time.Time) []time.Time {
		return append([]time.Time{t0, t0.Add(-2 * h), t0.Add(30 * time.Minute), t0.Add(3 * h), t0.Add(48 * h)}, extra...)
	}
	ann, bob, cid, dan := mkUser(t, ctx, db, "ann"), mkUser(t, ctx, db, "bob"), mkUser(t, ctx, db, "cid"), mkUser(t, ctx, db, "dan")
	var tokens []domain.PAT
	for i, u := range []domain.User{ann, bob, cid, dan} {
		tokens = append(tokens,
			mkPAT(t, ctx, db, u, t0.Add(24*h), "vso.code_write"),
			mkPAT(t, ctx, db, u, t0.Add(h), "vso.code", "vso.profile"),
			mkPAT(t, ctx, db, u, t0.Add(-h), "vso.profile"), // expired already
			mkPAT(t, ctx, db, u, t0.Add(2*h+time.Duration(i)*time.Minute), domain.ScopeFullAccess),
			mkPAT(t, ctx, db, u, t0.Add(100*h), "vso.code_full", "vso.build"))
	}
	checkPATScopeSets(t, ctx, db, "created", times()...)

	if _, err := db.RevokePATs(ctx, []string{tokens[0].ID, tokens[2].ID, tokens[8].ID}, "admin", t0); err != nil {
		t.Fatal(err)
	}
	// Again: already revoked ones stay as they are, counted once.
	if _, err := db.RevokePATs(ctx, []string{tokens[0].ID}, "admin", t0); err != nil {
		t.Fatal(err)
	}
	checkPATScopeSets(t, ctx, db, "revoked", times()...)

	// Narrowed, moved to an earlier expiry, extended from expired to live.
	edit := func(p domain.PAT, exp time.Time, scopes ...string) {
		t.Helper()
		p.ExpiresAt, p.Scopes = exp, scopes
		if err := db.UpdatePAT(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	edit(tokens[5], t0.Add(24*h), "vso.code")
	edit(tokens[6], t0.Add(-time.Minute), "vso.code", "vso.profile")
	edit(tokens[7], t0.Add(10*h), "vso.profile")
	edit(tokens[9], t0.Add(72*h), "vso.code_full")
	checkPATScopeSets(t, ctx, db, "edited", times()...)

	// bob disabled, a token created for him while disabled, cid deleted.
	setState := func(u *domain.User, disabled, deleted bool) {
		t.Helper()
		u.DisabledAt, u.DeletedAt = nil, nil
		if disabled {
			u.DisabledAt = &t0
		}
		if deleted {
			u.DeletedAt = &t0
		}
		if err := db.UpdateUser(ctx, *u, t0); err != nil {
			t.Fatal(err)
		}
	}
	setState(&bob, true, false)
	bobs := mkPAT(t, ctx, db, bob, t0.Add(50*h), "vso.work")
	setState(&cid, false, true)
	// A change that leaves the state alone moves nothing.
	bob.DisplayName = "Bob"
	if err := db.UpdateUser(ctx, bob, t0); err != nil {
		t.Fatal(err)
	}
	checkPATScopeSets(t, ctx, db, "disabled and deleted", times()...)

	// bob's token edited while he is disabled, then bob enabled.
	edit(bobs, t0.Add(60*h), "vso.work", "vso.code")
	checkPATScopeSets(t, ctx, db, "edited while disabled", times()...)
	setState(&bob, false, false)
	checkPATScopeSets(t, ctx, db, "enabled", times()...)

	// The sweep moves the watermark past some expiries; times before it
	// add back what it took out, times after subtract what expired since.
	if err := db.SweepPATScopeSets(ctx, t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	checkPATScopeSets(t, ctx, db, "swept", times(t0.Add(90*time.Minute), t0.Add(100*time.Minute))...)
	// A sweep at an earlier time leaves the watermark where it is.
	if err := db.SweepPATScopeSets(ctx, t0.Add(-h)); err != nil {
		t.Fatal(err)
	}
	checkPATScopeSets(t, ctx, db, "swept backwards", times()...)

	// After the sweep: a token created expiring before the watermark, one
	// extended past it, one revoked, a user disabled and enabled again.
	mkPAT(t, ctx, db, ann, t0.Add(80*time.Minute), "vso.code")
	edit(tokens[6], t0.Add(5*h), "vso.code")
	if _, err := db.RevokePATs(ctx, []string{tokens[15].ID, tokens[16].ID}, "owner", t0.Add(h)); err != nil {
		t.Fatal(err)
	}
	setState(&dan, true, false)
	if err := db.SweepPATScopeSets(ctx, t0.Add(3*h)); err != nil {
		t.Fatal(err)
	}
	setState(&dan, false, false)
	checkPATScopeSets(t, ctx, db, "after the sweeps", times(t0.Add(150*time.Minute), t0.Add(200*time.Minute))...)

	// Nothing counted twice or left behind: with the watermark moved past
	// every expiry, the aggregate holds nothing.
	if err := db.SweepPATScopeSets(ctx, t0.Add(1000*h)); err != nil {
		t.Fatal(err)
	}
	var left int64
	if err := db.rd(ctx).Raw(`SELECT COUNT(*) FROM pat_scope_sets`).Scan(&left).Error; err != nil || left != 0 {
		t.Errorf("pat_scope_sets rows after every token expired: %d (%v), want 0", left, err)
	}
	checkPATScopeSets(t, ctx, db, "all expired", times()...)
}

// forcePATRace runs first on dbs[0] and, once first's transaction has
// run a query that starts with read, second on dbs[1], holding first's
// transaction right after that read until second has returned, or for
// 500 ms when second is blocked on a lock the read took. Without that
// lock, second commits a change the read did not see, and first then
// writes on its stale read.
func forcePATRace(t *testing.T, ctx context.Context, dbs [2]*DB, read string, first, second func(ctx context.Context) error) {
	t.Helper()
	meet := newRendezvous(2, 500*time.Millisecond)
	stop := dbs[0].TraceQueries(func(q string, _ []any) {
		if strings.HasPrefix(q, read) {
			meet.arrive(0)
		}
	})
	defer stop()
	var errs [2]error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs[0] = first(ctx)
	}()
	go func() {
		defer wg.Done()
		select {
		case <-meet.hasArrived(0):
		case <-time.After(5 * time.Second):
			errs[1] = fmt.Errorf("no query starting with %q", read)
			return
		}
		errs[1] = second(ctx)
		meet.arrive(1)
	}()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("forced race, transaction %d: %v", i, err)
		}
	}
}

// testPATScopeSetsRace: token writes, user disables and enables and sweeps
// from two processes at once leave the aggregate equal to a recount
// (PostgreSQL runs them concurrently; the share locks on the watermark and
// the owner order what would otherwise count a token twice or never).
//
// First many writes of every kind from two processes at once. Then two
// forced interleavings (forcePATRace), each failing on PostgreSQL without
// its share lock: a token created (expiring after the watermark) while a
// sweep moves the watermark past its expiry, the sweep run right after
// the creation read the watermark (without the watermark's share lock the
// sweep misses the uncommitted token, which stays counted below the
// watermark); a token's expiry extended while its owner is disabled, the
// disable run right after the extension read the owner as active
// (without the owner's share lock the disable misses the token, which
// stays counted for a disabled user).
func testPATScopeSetsRace(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	dbs := [2]*DB{db, second(t, db)}
	t0 := time.Now().UTC().Truncate(time.Second)

	var users []domain.User
	for i := range 4 {
		users = append(users, mkUser(t, ctx, db, fmt.Sprintf("racer%d", i)))
	}
	sets := [][]string{{"vso.code"}, {"vso.code", "vso.profile"}, {"vso.profile"}, {domain.ScopeFullAccess}}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := dbs[w%2]
			var mine []string
			for i := range 40 {
				u := users[(w+i)%len(users)]
				var err error
				switch i % 5 {
				case 0, 1:
					p := domain.PAT{ID: uuid.NewString(), UserID: u.ID, Name: "r", Hash: []byte(uuid.NewString()), Display: "odp_r…",
						Scopes: sets[(w+i)%len(sets)], CreatedAt: t0, ExpiresAt: t0.Add(time.Duration(i-10) * time.Minute)}
					err = d.CreatePAT(ctx, p)
					mine = append(mine, p.ID)
				case 2:
					if len(mine) > 0 {
						err = d.WriteTx(ctx, func(ctx context.Context) error {
							_, err := d.RevokePATs(ctx, mine[len(mine)-1:], "owner", t0)
							return err
						})
					}
				case 3:
					err = d.WriteTx(ctx, func(ctx context.Context) error {
						cur, err := d.UserByID(ctx, u.ID)
						if err != nil {
							return err
						}
						if cur.DisabledAt == nil {
							cur.DisabledAt = &t0
						} else {
							cur.DisabledAt = nil
						}
						return d.UpdateUser(ctx, cur, t0)
					})
				case 4:
					err = d.SweepPATScopeSets(ctx, t0.Add(time.Duration(i)*time.Minute))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkPATScopeSets(t, ctx, db, "after the race", t0, t0.Add(-time.Hour), t0.Add(10*time.Minute), t0.Add(time.Hour))

	early, late := mkUser(t, ctx, db, "early"), mkUser(t, ctx, db, "late")
	forcePATRace(t, ctx, dbs, "SELECT expires_after FROM pat_scope_watermark", func(ctx context.Context) error {
		return db.CreatePAT(ctx, domain.PAT{ID: uuid.NewString(), UserID: early.ID, Name: "swept", Hash: []byte(uuid.NewString()),
			Display: "odp_s…", Scopes: []string{"vso.code"}, CreatedAt: t0, ExpiresAt: t0.Add(150 * time.Minute)})
	}, func(ctx context.Context) error { return dbs[1].SweepPATScopeSets(ctx, t0.Add(3*time.Hour)) })
	checkPATScopeSets(t, ctx, db, "a creation raced by a sweep", t0, t0.Add(2*time.Hour), t0.Add(165*time.Minute), t0.Add(4*time.Hour))

	p := mkPAT(t, ctx, db, late, t0.Add(time.Hour), "vso.profile") // before the watermark: not counted
	p.ExpiresAt = t0.Add(5 * time.Hour)
	forcePATRace(t, ctx, dbs, "SELECT disabled_at, deleted_at FROM users", func(ctx context.Context) error { return db.UpdatePAT(ctx, p) }, func(ctx context.Context) error {
		return dbs[1].WriteTx(ctx, func(ctx context.Context) error {
			if err := dbs[1].LockUser(ctx, late.ID); err != nil {
				return err
			}
			u, err := dbs[1].UserByID(ctx, late.ID)
			if err != nil {
				return err
			}
			u.DisabledAt = &t0
			return dbs[1].UpdateUser(ctx, u, t0)
		})
	})
	checkPATScopeSets(t, ctx, db, "an extension raced by a disable", t0, t0.Add(4*time.Hour), t0.Add(6*time.Hour))
}
