package federation

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/keyseal"
	"github.com/oauthdesk/oauthdesk/internal/scope"
	"github.com/oauthdesk/oauthdesk/internal/store"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// fakeDir is an LDAP-like upstream: people by name, a password each, and
// a switch that makes it unreachable.
type fakeDir struct {
	people map[string]connector.Identity // by username
	down   bool
}

func (f *fakeDir) Test(context.Context) error { return nil }

func (f *fakeDir) Login(_ context.Context, username, password string) (connector.Identity, error) {
	if f.down {
		return connector.Identity{}, apperr.Errorf(apperr.Unavailable, "down")
	}
	id, ok := f.people[username]
	if !ok || password != "pw" {
		return connector.Identity{}, apperr.Errorf(apperr.Unauthorized, "Wrong username or password.")
	}
	return id, nil
}

func (f *fakeDir) Lookup(_ context.Context, subjects []string) (map[string]connector.Identity, error) {
	if f.down {
		return nil, apperr.Errorf(apperr.Unavailable, "The directory could not be reached.")
	}
	out := map[string]connector.Identity{}
	for _, p := range f.people {
		for _, s := range subjects {
			if p.Subject == s {
				out[s] = p
			}
		}
	}
	return out, nil
}

type env struct {
	fed   *Service
	adm   *admin.Service
	db    *store.DB
	dir   *fakeDir
	clock time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOn(t, filepath.Join(t.TempDir(), "t.db"))
}

func newEnvOn(t *testing.T, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, clock: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	now := func() time.Time { return e.clock }
	e.adm = admin.NewService(db, scope.Default(), now, 0)
	sealer, err := keyseal.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	e.fed = New(db, sealer, e.adm, now, nil)
	e.dir = &fakeDir{people: map[string]connector.Identity{
		"alice": {Subject: "s-alice", Username: "alice", Name: "Alice", Email: "alice@corp.example", Groups: []string{"admins", "staff"}},
		"bob":   {Subject: "s-bob", Username: "bob", Name: "Bob", Groups: []string{"staff"}},
		"carol": {Subject: "s-carol", Username: "carol", Name: "Carol", Groups: []string{"staff"}},
		"dave":  {Subject: "s-dave", Username: "dave", Name: "Dave"},
	}}
	e.fed.conns.build = func(connector.Config, string) (connector.Connector, error) { return e.dir, nil }
	if _, err := db.ConnectorByName(ctx, "corp"); err == nil {
		return e // a second replica on a database that has the connector
	}
	_, err = e.fed.AddConnector(ctx, NewConnector{Name: "corp", Secret: "bind-pw", Config: connector.Config{Type: domain.ConnectorLDAP,
		URL: "ldaps://ldap.example:636", BindDN: "cn=svc", UserBase: "ou=people", DefaultRole: "none",
		RoleMap: map[string]string{"admins": "admin", "staff": "member"}}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) login(t *testing.T, name string) (domain.User, error) {
	t.Helper()
	return e.fed.PasswordLogin(context.Background(), "corp", name, "pw")
}

func TestSecretSealedAtRest(t *testing.T) {
	e := newEnv(t)
	c, err := e.db.ConnectorByName(context.Background(), "corp")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(c.Secret), "bind-pw") || strings.Contains(string(c.Config), "bind-pw") || !keyseal.Sealed(c.Secret) {
		t.Fatalf("the bind password is stored in the clear: %q %q", c.Secret, c.Config)
	}
}

func TestJITAccountsRolesAndCollisions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.login(t, "alice")
	if err != nil || a.Role != domain.RoleAdmin || a.Source != "corp" || a.Subject != "s-alice" || a.Email != "alice@corp.example" {
		t.Fatalf("alice: %+v %v", a, err)
	}
	// The same subject signs into the same user, whatever its name now.
	e.dir.people["alice"] = connector.Identity{Subject: "s-alice", Username: "alice.renamed", Name: "Alice R", Groups: []string{"staff"}}
	a2, err := e.login(t, "alice")
	if err != nil || a2.ID != a.ID || a2.Username != "alice" || a2.DisplayName != "Alice R" || a2.Role != domain.RoleMember || a2.Email != "" {
		t.Fatalf("alice again (demoted, renamed upstream): %+v %v", a2, err)
	}
	// A local bob exists: the directory's bob is bob-2, a new user.
	local, err := e.adm.CreateUser(ctx, admin.NewUser{Username: "bob", Role: domain.RoleAdmin, Password: "local-password"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.login(t, "bob")
	if err != nil || b.ID == local.ID || b.Username != "bob-2" || b.Role != domain.RoleMember {
		t.Fatalf("directory bob: %+v %v", b, err)
	}
	// Another person named like an existing directory user: the subject
	// decides, so a third user.
	e.dir.people["bob-impostor"] = connector.Identity{Subject: "s-other", Username: "bob", Groups: []string{"staff"}}
	o, err := e.login(t, "bob-impostor")
	if err != nil || o.ID == b.ID || o.ID == local.ID || o.Username != "bob-3" {
		t.Fatalf("second bob: %+v %v", o, err)
	}
	// No group, no access; and no account made.
	if _, err := e.login(t, "dave"); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("dave: %v, want Forbidden", err)
	}
	if _, err := e.db.UserByUsername(ctx, "dave"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("dave got an account: %v", err)
	}
	// A disabled user cannot sign in through the directory either.
	if _, err := e.adm.SetDisabled(ctx, b.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.login(t, "bob"); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("disabled bob: %v, want Forbidden", err)
	}
}

func TestSyncDisablesLeaversOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, n := range []string{"alice", "bob", "carol"} {
		if _, err := e.login(t, n); err != nil {
			t.Fatal(err)
		}
	}
	// The directory is down: nobody is disabled, the failure is recorded.
	e.dir.down = true
	res, err := e.fed.Sync(ctx)
	if err != nil || len(res) != 1 || res[0].Err == nil {
		t.Fatalf("sync while down: %+v %v", res, err)
	}
	if p, _ := e.fed.SyncProblems(ctx); len(p) != 1 || !strings.HasPrefix(p[0], "corp: ") {
		t.Fatalf("sync problems: %v", p)
	}
	// The directory answers but finds nobody (a wrong base): nobody is
	// disabled either.
	e.dir.down = false
	saved := e.dir.people
	e.dir.people = map[string]connector.Identity{}
	if res, _ := e.fed.Sync(ctx); res[0].Err == nil || len(res[0].Disabled) != 0 {
		t.Fatalf("sync finding nobody: %+v", res)
	}
	e.dir.people = saved
	// bob leaves, carol loses her group.
	delete(e.dir.people, "bob")
	c := e.dir.people["carol"]
	c.Groups = nil
	e.dir.people["carol"] = c
	res, err = e.fed.Sync(ctx)
	if err != nil || res[0].Err != nil || res[0].Checked != 3 || strings.Join(res[0].Disabled, ",") != "bob,carol" && strings.Join(res[0].Disabled, ",") != "carol,bob" {
		t.Fatalf("sync: %+v %v", res, err)
	}
	if p, _ := e.fed.SyncProblems(ctx); len(p) != 0 {
		t.Fatalf("sync problems after a good sync: %v", p)
	}
	for name, want := range map[string]bool{"alice": false, "bob": true, "carol": true} {
		u, err := e.db.UserByUsername(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if (u.DisabledAt != nil) != want {
			t.Errorf("%s disabled = %v, want %v", name, u.DisabledAt != nil, want)
		}
		if !want && (u.LastSyncAt == nil || !u.LastSyncAt.Equal(e.clock)) {
			t.Errorf("%s last sync = %v, want %v", name, u.LastSyncAt, e.clock)
		}
	}
	evs, _, err := e.db.AuditEvents(ctx, audit.Filter{Action: audit.ActionUserDisable})
	if err != nil || len(evs) != 2 {
		t.Fatalf("disable events: %d %v", len(evs), err)
	}
	for _, ev := range evs {
		if ev.Details["by"] != "directory-sync" || ev.Details["reason"] == nil {
			t.Errorf("disable event details %v: want by directory-sync and a reason", ev.Details)
		}
	}
}

func TestLinkLocalUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	local, err := e.adm.CreateUser(ctx, admin.NewUser{Username: "carol", Role: domain.RoleAuditor, Password: "local-password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fed.LinkUser(ctx, "carol", "corp", "s-carol"); err != nil {
		t.Fatal(err)
	}
	u, err := e.login(t, "carol")
	if err != nil || u.ID != local.ID || u.Role != domain.RoleMember {
		t.Fatalf("carol after the link: %+v %v (want the local account, role from the groups)", u, err)
	}
	if _, err := e.fed.LinkUser(ctx, "carol", "corp", "s-other"); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("linking twice: %v, want Conflict", err)
	}
}

// TestConcurrentFirstSignIn: one person's first sign-in arrives on two
// replicas at once, many times over; exactly one user is made and every
// sign-in lands on it (SQLite, and PostgreSQL when OAUTHDESK_TEST_POSTGRES
// is set).
func TestConcurrentFirstSignIn(t *testing.T) {
	dsns := map[string]string{"sqlite": filepath.Join(t.TempDir(), "t.db")}
	if storetest.PostgresURL() != "" {
		dsns["postgres"] = storetest.NewPostgres(t)
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			replicas := []*env{newEnvOn(t, dsn), newEnvOn(t, dsn)}
			var wg sync.WaitGroup
			ids := make([]string, 16)
			errs := make([]error, 16)
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					u, err := replicas[i%2].login(t, "bob")
					ids[i], errs[i] = u.ID, err
				}()
			}
			wg.Wait()
			for i := range ids {
				if errs[i] != nil || ids[i] != ids[0] {
					t.Fatalf("sign-in %d: %q %v (first %q)", i, ids[i], errs[i], ids[0])
				}
			}
			users, err := replicas[0].db.UsersBySource(context.Background(), "corp")
			if err != nil || len(users) != 1 || users[0].Username != "bob" {
				t.Fatalf("users of corp: %+v %v", users, err)
			}
		})
	}
}

func TestSealedSignInState(t *testing.T) {
	e := newEnv(t)
	st := connector.State{State: "s", Nonce: "n", Verifier: "v"}
	v := e.fed.SealState("corp", st, "/oauth2/authorize?x=1")
	got, ret, err := e.fed.OpenState("corp", v)
	if err != nil || got != st || ret != "/oauth2/authorize?x=1" {
		t.Fatalf("OpenState: %+v %q %v", got, ret, err)
	}
	if _, _, err := e.fed.OpenState("other", v); !apperr.Is(err, apperr.Unauthorized) {
		t.Errorf("state of corp opened for another connector: %v", err)
	}
	b := []byte(v)
	b[len(b)/2] ^= 1
	if _, _, err := e.fed.OpenState("corp", string(b)); !apperr.Is(err, apperr.Unauthorized) {
		t.Errorf("altered state opened: %v", err)
	}
	e.clock = e.clock.Add(StateTTL + time.Second)
	if _, _, err := e.fed.OpenState("corp", v); !apperr.Is(err, apperr.Unauthorized) {
		t.Errorf("expired state opened: %v", err)
	}
}
