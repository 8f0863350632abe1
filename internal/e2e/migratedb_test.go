package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/server"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// TestMigrateDBToPostgres seeds a SQLite file through a real server (users,
// an app, an authorization with tokens, audit events), copies it with
// `oauthdesk migrate-db`, and runs the flow against PostgreSQL: the old
// refresh token and secret work, the audit chain verifies, and a target
// that holds data is refused.
func TestMigrateDBToPostgres(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set: migrate-db needs a PostgreSQL target")
	}
	if onPostgres() {
		t.Skip("runs once, in the first pass of make test")
	}
	file := filepath.Join(t.TempDir(), "seed.db")
	var app registeredApp
	var refresh string
	func() {
		// The seeding server stops before the copy (t.Run's cleanups run at its end).
		t.Run("seed", func(t *testing.T) {
			ts := newTestServerWith(t, func(c *server.Config) { c.DBPath = file })
			ts.addUser(t, "root", "admin", "correct horse battery")
			ts.addUser(t, "bob", "member", "bob's long password")
			admin := ts.newAgent(t)
			admin.signIn("root", "correct horse battery")
			app = registerThroughDashboard(t, admin, "vso.work")
			bob := ts.newAgent(t)
			bob.signIn("bob", "bob's long password")
			pair := postToken(t, ts.URL, formType, codeBody(app.Secret, approve(t, bob, app, "vso.work", "seed"), callbackURL))
			wantTokens(t, pair)
			refresh = pair.str("refresh_token")
			if status, _, _ := callAPI(t, ts.URL, profilePath, pair.str("access_token")); status != http.StatusOK {
				t.Fatalf("profile API on the seed server: %d", status)
			}
		})
	}()
	if refresh == "" {
		t.FailNow()
	}
	target := storetest.NewPostgres(t)
	r := mustSucceed(t, oauthdesk(t, cliRun{}, "migrate-db", "--from", file, "--to", target))
	for _, table := range []string{"users", "apps", "client_secrets", "authorizations", "authorization_codes", "refresh_tokens",
		"signing_keys", "sessions", "settings", "scope_usage", "invalidations", "audit_events"} {
		if !strings.Contains(r.stdout, "  "+table+" ") {
			t.Errorf("no progress line for %s:\n%s", table, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "Audit log intact on the target") {
		t.Errorf("migrate-db output:\n%s", r.stdout)
	}
	wantUsageError(t, oauthdesk(t, cliRun{}, "migrate-db", "--from", file, "--to", target), "already holds data")
	wantUsageError(t, oauthdesk(t, cliRun{}, "migrate-db", "--from", filepath.Join(t.TempDir(), "typo.db"), "--to", target), "--from")

	// The signing keys moved sealed: the seed's key file opens them.
	ts := newTestServerWith(t, func(c *server.Config) {
		c.DBPath, c.KeyFile = target, filepath.Join(filepath.Dir(file), "oauthdesk.key")
	})
	// The refresh token and the secret issued on SQLite work on PostgreSQL.
	pair := postToken(t, ts.URL, formType, refreshBody(app.Secret, refresh, callbackURL))
	wantTokens(t, pair)
	if status, _, _ := callAPI(t, ts.URL, profilePath, pair.str("access_token")); status != http.StatusOK {
		t.Errorf("profile API after the move: %d", status)
	}
	// The users moved too, and the whole flow runs again.
	admin := ts.newAgent(t)
	admin.signIn("root", "correct horse battery")
	if page := admin.get("/admin/apps/" + app.ClientID); page.Status != http.StatusOK || !strings.Contains(page.Body, "Fabrikam Boards") {
		t.Errorf("the app page after the move: %d", page.Status)
	}
	bob := ts.newAgent(t)
	bob.signIn("bob", "bob's long password")
	wantTokens(t, postToken(t, ts.URL, formType, codeBody(app.Secret, approve(t, bob, app, "vso.work", "after"), callbackURL)))
	v := mustSucceed(t, oauthdesk(t, cliRun{}, "audit", "verify", "--db", target))
	if !strings.HasPrefix(v.stdout, "Audit log intact") {
		t.Errorf("audit verify on the target:\n%s", v)
	}
}
