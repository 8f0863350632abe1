package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/limit"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// slowRule is a store handle whose reads of what the ownership rules
// count ("last active admin", "last owner") pause before they return, in
// a write transaction, so that two replicas racing the rule both read
// before either commits unless the read holds a lock.
type slowRule struct {
	*DB
	pause time.Duration
}

func (s slowRule) CountActiveAdmins(ctx context.Context) (int64, error) {
	n, err := s.DB.CountActiveAdmins(ctx)
	time.Sleep(s.pause)
	return n, err
}

func (s slowRule) AppOwners(ctx context.Context, clientID string) ([]domain.AppOwner, error) {
	o, err := s.DB.AppOwners(ctx, clientID)
	if s.inWriteTx(ctx) {
		time.Sleep(s.pause)
	}
	return o, err
}

func (s slowRule) SoleOwnedApps(ctx context.Context, userID string, limit int) ([]domain.App, error) {
	a, err := s.DB.SoleOwnedApps(ctx, userID, limit)
	if s.inWriteTx(ctx) {
		time.Sleep(s.pause)
	}
	return a, err
}

// ruleServices returns the admin use cases over two handles of db (two
// replicas), each pausing in the rule's read.
func ruleServices(t *testing.T, db *DB) [2]*admin.Service {
	cat := scope.Default()
	now := func() time.Time { return time.Now().UTC() }
	return [2]*admin.Service{
		admin.NewService(slowRule{db, 300 * time.Millisecond}, cat, now, 0),
		admin.NewService(slowRule{second(t, db), 300 * time.Millisecond}, cat, now, 0),
	}
}

// both runs f(0) and f(1) at the same moment and returns their errors.
func both(f func(i int) error) [2]error {
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWonOneConflict checks that exactly one of errs is nil and the other
// a Conflict.
func oneWonOneConflict(t *testing.T, errs [2]error) {
	t.Helper()
	ok, conflicts := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case apperr.Is(err, apperr.Conflict):
			conflicts++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || conflicts != 1 {
		t.Errorf("results %v: want one success and one Conflict", errs)
	}
}

// testLastAdminRace: two admins demote each other on two replicas at the
// same moment; one demotion wins, the other is refused, one active admin
// remains.
func testLastAdminRace(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := audit.WithActor(t.Context(), audit.Actor{Name: "cli"})
	var admins [2]domain.User
	for i, name := range []string{"ada", "grace"} {
		admins[i] = mkUser(t, ctx, db, name)
		admins[i].Role = domain.RoleAdmin
		if err := db.UpdateUser(ctx, admins[i], now0); err != nil {
			t.Fatal(err)
		}
	}
	svc := ruleServices(t, db)
	// Replica i demotes the other admin.
	oneWonOneConflict(t, both(func(i int) error {
		_, err := svc[i].SetRole(ctx, admins[1-i].ID, domain.RoleMember)
		return err
	}))
	if n, err := db.CountActiveAdmins(ctx); err != nil || n != 1 {
		t.Errorf("active admins after the race: %d (%v), want 1", n, err)
	}
	// Disabling and deleting race the same rule.
	for _, name := range []string{"linus", "ken"} {
		u := mkUser(t, ctx, db, name)
		u.Role = domain.RoleAdmin
		if err := db.UpdateUser(ctx, u, now0); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for _, name := range []string{"linus", "ken"} {
		u, err := db.UserByUsername(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	left, err := db.CountActiveAdmins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errs := both(func(i int) error {
		if i == 0 {
			_, err := svc[0].SetDisabled(ctx, ids[0], true)
			return err
		}
		_, err := svc[1].DeleteUser(ctx, ids[1])
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Errorf("disable/delete with %d admins: %v", left, err)
		}
	}
	if n, err := db.CountActiveAdmins(ctx); err != nil || n != left-2 {
		t.Errorf("active admins: %d (%v), want %d", n, err, left-2)
	}
}

// testLastOwnerRace: two co-owners remove each other from one app on two
// replicas at the same moment; one removal wins, the other is refused,
// the app keeps one owner.
func testLastOwnerRace(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := audit.WithActor(t.Context(), audit.Actor{Name: "cli"})
	alice, bob := mkUser(t, ctx, db, "alice"), mkUser(t, ctx, db, "bob")
	app := mkApp(t, ctx, db, alice, "Fabrikam Boards", "Fabrikam")
	if err := db.AddAppOwner(ctx, app.ClientID, bob.ID, now0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	svc := ruleServices(t, db)
	owners := [2]string{alice.ID, bob.ID}
	oneWonOneConflict(t, both(func(i int) error { return svc[i].RemoveOwner(ctx, app.ClientID, owners[1-i]) }))
	got, err := db.AppOwners(ctx, app.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Primary {
		t.Errorf("owners after the race: %+v, want one, the primary", got)
	}
}

// rendezvous forces an interleaving of two transactions on two handles:
// each party that arrives waits there until every party has arrived, or
// until its wait passes. A party blocked on a lock another holds never
// arrives, so the one holding it goes on after the wait and commits;
// without the lock every party arrives at once, each having read before
// any other committed, which is the interleaving that loses a write.
type rendezvous struct {
	mu      sync.Mutex
	left    int
	all     chan struct{}
	wait    time.Duration
	arrived []chan struct{}
}

// newRendezvous returns a rendezvous of n parties that wait at most wait.
func newRendezvous(n int, wait time.Duration) *rendezvous {
	r := &rendezvous{left: n, all: make(chan struct{}), wait: wait}
	for range n {
		r.arrived = append(r.arrived, make(chan struct{}))
	}
	return r
}

// arrive marks party i arrived (its first call only counts; later ones
// return at once) and waits for the others.
func (r *rendezvous) arrive(i int) {
	r.mu.Lock()
	select {
	case <-r.arrived[i]:
		r.mu.Unlock()
		return
	default:
	}
	close(r.arrived[i])
	if r.left--; r.left == 0 {
		close(r.all)
	}
	r.mu.Unlock()
	select {
	case <-r.all:
	case <-time.After(r.wait):
	}
}

// hasArrived returns a channel closed once party i arrived.
func (r *rendezvous) hasArrived(i int) <-chan struct{} { return r.arrived[i] }

// meeting is a store handle (one replica) whose reads named in at arrive
// at the rendezvous as party, when made in a write transaction, after
// the read returns.
type meeting struct {
	*DB
	r     *rendezvous
	party int
	at    map[string]bool
}

func (m meeting) meet(ctx context.Context, read string) {
	if m.at[read] && m.inWriteTx(ctx) {
		m.r.arrive(m.party)
	}
}

func (m meeting) UserByID(ctx context.Context, id string) (domain.User, error) {
	u, err := m.DB.UserByID(ctx, id)
	m.meet(ctx, "UserByID")
	return u, err
}

func (m meeting) UserByUsername(ctx context.Context, name string) (domain.User, error) {
	u, err := m.DB.UserByUsername(ctx, name)
	m.meet(ctx, "UserByUsername")
	return u, err
}

func (m meeting) SoleOwnedApps(ctx context.Context, userID string, limit int) ([]domain.App, error) {
	a, err := m.DB.SoleOwnedApps(ctx, userID, limit)
	m.meet(ctx, "SoleOwnedApps")
	return a, err
}

// activeOwners returns the app's owners and how many of them are active.
func activeOwners(t *testing.T, ctx context.Context, db *DB, clientID string) ([]domain.AppOwner, int) {
	t.Helper()
	owners, err := db.AppOwners(ctx, clientID)
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, o := range owners {
		if !o.Deleted && !o.Disabled {
			active++
		}
	}
	return owners, active
}

// testSoleOwnerOffboardingRace: an app keeps an active owner when its
// owners change on two replicas at once while one of them is offboarded.
//
// First, forced: bob hands the app he co-owns with alice over to her (he
// stops owning it) on one replica, and has read her as active, when an
// administrator disables alice on the other, naming carol to take over
// what she alone owns. Without a lock, the disable reads bob as the
// app's other active owner and hands nothing over, the hand-over then
// commits, and the app is left to disabled alice alone. The offboarding
// locks the owner rows of alice's apps first (LockOwnedApps), so it waits
// for the hand-over, then finds alice alone and hands the app to carol.
//
// Then, both co-owners of an app are disabled on two replicas at the same
// moment, each naming carol: the second must see the first gone and hand
// the app to carol.
func testSoleOwnerOffboardingRace(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := audit.WithActor(t.Context(), audit.Actor{Name: "cli"})
	alice, bob, carol := mkUser(t, ctx, db, "alice"), mkUser(t, ctx, db, "bob"), mkUser(t, ctx, db, "carol")
	app := mkApp(t, ctx, db, alice, "Fabrikam Boards", "Fabrikam")
	if err := db.AddAppOwner(ctx, app.ClientID, bob.ID, now0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	cat := scope.Default()
	now := func() time.Time { return time.Now().UTC() }
	meet := newRendezvous(2, 500*time.Millisecond)
	// Replica 0 disables alice and meets after reading what she alone
	// owns; replica 1 hands the app over and meets after reading alice.
	off0 := meeting{db, meet, 0, map[string]bool{"SoleOwnedApps": true}}
	own1 := meeting{second(t, db), meet, 1, map[string]bool{"UserByUsername": true}}
	svc1 := admin.NewService(own1, cat, now, 0)
	off := admin.NewOffboarding(admin.NewService(off0, cat, now, 0), off0)
	var handErr, offErr error
	var moved []admin.HandOff
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, handErr = svc1.HandOver(ctx, app.ClientID, bob.ID, alice.Username)
	}()
	go func() {
		defer wg.Done()
		select { // the hand-over has read alice as active
		case <-meet.hasArrived(1):
		case <-time.After(5 * time.Second):
		}
		_, moved, offErr = off.DisableUser(ctx, alice.ID, admin.Successors{admin.AllApps: carol.Username})
	}()
	wg.Wait()
	if handErr != nil || offErr != nil {
		t.Fatalf("hand-over: %v; disable: %v", handErr, offErr)
	}
	owners, active := activeOwners(t, ctx, db, app.ClientID)
	if active != 1 || owners[0].UserID != carol.ID || len(moved) != 1 {
		t.Errorf("owners after the hand-over to alice and her disable: %+v (handed over %+v), want carol, primary", owners, moved)
	}

	// Two co-owners disabled at once, each pausing after its read.
	dave, erin := mkUser(t, ctx, db, "dave"), mkUser(t, ctx, db, "erin")
	app2 := mkApp(t, ctx, db, dave, "Contoso Pipelines", "Contoso")
	if err := db.AddAppOwner(ctx, app2.ClientID, erin.ID, now0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	svc := ruleServices(t, db)
	offs := [2]*admin.Offboarding{
		admin.NewOffboarding(svc[0], slowRule{db, 300 * time.Millisecond}),
		admin.NewOffboarding(svc[1], slowRule{second(t, db), 300 * time.Millisecond}),
	}
	leaving := [2]string{dave.ID, erin.ID}
	for i, err := range both(func(i int) error {
		_, _, err := offs[i].DisableUser(ctx, leaving[i], admin.Successors{admin.AllApps: carol.Username})
		return err
	}) {
		if err != nil {
			t.Errorf("disable %d: %v", i, err)
		}
	}
	if owners, active := activeOwners(t, ctx, db, app2.ClientID); active != 1 {
		t.Errorf("owners after both were disabled: %+v, want carol (one active owner)", owners)
	}
}

// testUserChangesRace: an administrator changes a user's role on one
// replica while another disables the user on the other, each paused
// after reading the user until the other read too (or 500 ms passed).
// Both changes survive: the user row is locked before it is read
// (changeUser), so the second waits and keeps what the first committed.
// Without the lock both read the user as it was, and the second's write
// of every column puts the first's change back.
func testUserChangesRace(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := audit.WithActor(t.Context(), audit.Actor{Name: "cli"})
	cat := scope.Default()
	now := func() time.Time { return time.Now().UTC() }
	meet := newRendezvous(2, 500*time.Millisecond)
	var svc [2]*admin.Service
	for i, h := range [2]*DB{db, second(t, db)} {
		svc[i] = admin.NewService(meeting{h, meet, i, map[string]bool{"UserByID": true}}, cat, now, 0)
	}
	mkUser(t, ctx, db, "mallory")
	u, err := db.UserByUsername(ctx, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range both(func(i int) error {
		var err error
		if i == 0 {
			_, err = svc[0].SetRole(ctx, u.ID, domain.RoleAuditor)
		} else {
			_, err = svc[1].SetDisabled(ctx, u.ID, true)
		}
		return err
	}) {
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	got, err := db.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != domain.RoleAuditor || got.DisabledAt == nil || got.Revision != u.Revision+2 {
		t.Errorf("after a role change and a disable at once: role %s, disabled %v, revision %d; want auditor, disabled, %d",
			got.Role, got.DisabledAt, got.Revision, u.Revision+2)
	}
}

// testCoOwnerDeleteRace: the two co-owners of an app are deleted on two
// replicas at the same moment, each naming carol to take over what they
// alone own. The first leaves the app to the other owner; the second,
// serialized after it, finds itself alone and hands the app to carol:
// carol is its only owner, and no deleted user is left among them.
func testCoOwnerDeleteRace(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := audit.WithActor(t.Context(), audit.Actor{Name: "cli"})
	alice, bob, carol := mkUser(t, ctx, db, "alice"), mkUser(t, ctx, db, "bob"), mkUser(t, ctx, db, "carol")
	app := mkApp(t, ctx, db, alice, "Fabrikam Boards", "Fabrikam")
	if err := db.AddAppOwner(ctx, app.ClientID, bob.ID, now0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	svc := ruleServices(t, db)
	off := [2]*admin.Offboarding{
		admin.NewOffboarding(svc[0], slowRule{db, 300 * time.Millisecond}),
		admin.NewOffboarding(svc[1], slowRule{second(t, db), 300 * time.Millisecond}),
	}
	leaving := [2]string{alice.ID, bob.ID}
	for i, err := range both(func(i int) error {
		_, _, err := off[i].DeleteUser(ctx, leaving[i], admin.Successors{admin.AllApps: carol.Username})
		return err
	}) {
		if err != nil {
			t.Errorf("delete %d: %v", i, err)
		}
	}
	owners, err := db.AppOwners(ctx, app.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(owners) != 1 || owners[0].UserID != carol.ID || !owners[0].Primary {
		t.Errorf("owners after both were deleted: %+v, want carol alone, primary", owners)
	}
}

// testForkSiblingsOneRotates: a grace replay marks the first successor a
// sibling; of two siblings rotated at once on two handles exactly one
// claims the parent; after that a replay of the parent is reuse.
func testForkSiblingsOneRotates(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := t.Context()
	_, z := mkCode(t, ctx, db)
	parent := mkRefresh(t, ctx, db, z, "fam")
	if ok, err := db.MarkRefreshTokenUsed(ctx, parent.ID, now0); err != nil || !ok {
		t.Fatalf("rotate the parent: %v %v", ok, err)
	}
	child := func(forked bool) domain.RefreshToken {
		rt := mkRefreshWith(t, ctx, db, z, "fam", parent.ID, forked)
		return rt
	}
	first := child(false)
	if got, err := db.ForkRefreshToken(ctx, parent, 5); err != nil || got != domain.ForkAllowed {
		t.Fatalf("fork: %v %v, want allowed", got, err)
	}
	if ok, err := db.MarkRefreshTokenUsed(ctx, first.ID, now0); err != nil || ok {
		t.Fatalf("the first successor rotated as unforked after the fork: %v %v", ok, err)
	}
	fork := child(true)
	handles := []*DB{db, second(t, db)}
	ids := []string{first.ID, fork.ID}
	var n atomic.Int64
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := handles[i].WriteTx(ctx, func(ctx context.Context) error {
				ok, err := handles[i].ClaimFork(ctx, parent.ID, ids[i])
				if ok {
					if _, err := handles[i].MarkForkUsed(ctx, ids[i], now0); err != nil {
						return err
					}
					n.Add(1)
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n.Load() != 1 {
		t.Errorf("%d siblings rotated, want 1", n.Load())
	}
	if got, err := db.ForkRefreshToken(ctx, parent, 5); err != nil || got != domain.ForkSuccessorUsed {
		t.Errorf("replay after a sibling was rotated: %v %v, want successor used", got, err)
	}
}

func mkRefreshWith(t testing.TB, ctx context.Context, db *DB, z domain.Authorization, family, parentID string, forked bool) domain.RefreshToken {
	t.Helper()
	id := uuid.NewString()
	rt := domain.RefreshToken{ID: id, Hash: []byte("rt-" + id), AuthorizationID: z.ID, FamilyID: family, ClientID: z.ClientID,
		UserID: z.UserID, SecretID: "s", Scopes: z.Scopes, CreatedAt: now0, ExpiresAt: now0.AddDate(1, 0, 0), ParentID: parentID, Forked: forked}
	if err := db.CreateRefreshToken(ctx, rt); err != nil {
		t.Fatalf("create refresh token: %v", err)
	}
	return rt
}

// testSignInFailuresShared: failures recorded through two handles (two
// replicas) count against one budget; concurrent failures each count; a
// success resets the key everywhere; expired rows are pruned.
func testSignInFailuresShared(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := t.Context()
	now := now0
	clock := func() time.Time { return now }
	replicas := []*limit.SharedFailures{limit.NewSharedFailures(db, clock), limit.NewSharedFailures(second(t, db), clock)}
	key := "mallory\x00198.51.100.7"
	var wg sync.WaitGroup
	for i := range 4 { // four at once, on both replicas
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := replicas[i%2].Fail(ctx, key); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, r := range replicas {
		if w, err := r.Wait(ctx, key); err != nil || w != 0 {
			t.Fatalf("replica %d after 4 failures: wait %v %v, want 0", i, w, err)
		}
	}
	if w, err := replicas[1].Fail(ctx, key); err != nil || w != 10*time.Second {
		t.Fatalf("5th failure: wait %v %v, want 10s", w, err)
	}
	for i, r := range replicas {
		if w, err := r.Wait(ctx, key); err != nil || w != 10*time.Second {
			t.Errorf("replica %d after the 5th failure: wait %v %v, want 10s", i, w, err)
		}
	}
	if w, _ := replicas[0].Wait(ctx, "other\x00198.51.100.7"); w != 0 {
		t.Errorf("another key waits %v", w)
	}
	if err := replicas[0].Reset(ctx, key); err != nil {
		t.Fatal(err)
	}
	if w, _ := replicas[1].Wait(ctx, key); w != 0 {
		t.Errorf("after a success on the other replica: wait %v, want 0", w)
	}
	if _, err := replicas[0].Fail(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(20 * time.Minute)
	if _, err := replicas[1].Fail(ctx, "new"); err != nil { // prunes what expired
		t.Fatal(err)
	}
	if n := count(t, db, "signin_failures"); n != 1 {
		t.Errorf("%d rows after the window passed, want 1 (the new key)", n)
	}
}
