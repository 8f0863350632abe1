package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// dirEnv is a test server with a known key file, so that the CLI (another
// process, as an operator runs it) opens the connectors' sealed secrets.
type dirEnv struct {
	ts      *testServer
	keyFile string
	root    *agent // the local break-glass administrator
}

func newDirEnv(t *testing.T, configure func(*server.Config)) *dirEnv {
	t.Helper()
	key := filepath.Join(t.TempDir(), "oauthdesk.key")
	ts := newTestServerWith(t, func(c *server.Config) {
		c.KeyFile = key
		c.DirectorySyncInterval = -1 // the tests run `oauthdesk directory sync`
		if configure != nil {
			configure(c)
		}
	})
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	root := ts.newAgent(t)
	root.signIn("root", "root-password-1")
	return &dirEnv{ts: ts, keyFile: key, root: root}
}

// cli runs the oauthdesk binary on the test server's database.
func (e *dirEnv) cli(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	return oauthdesk(t, cliRun{stdin: stdin}, append([]string{"--db", e.ts.DBPath, "--key-file", e.keyFile}, args...)...)
}

// ldapSignIn posts the password form with the directory chosen.
func (a *agent) ldapSignIn(connector, username, password string) response {
	a.t.Helper()
	return a.postForm("/signin", url.Values{"_csrf": {a.csrf("/signin")}, "connector": {connector},
		"username": {username}, "password": {password}})
}

// TestLDAPDirectory signs people in through a real OpenLDAP (StartTLS
// under the test's CA): accounts made on first sign-in, roles from
// groups (and lost with the group), a name collision, a leaver removed
// upstream and cut off by the sync (session, access token, refresh
// token), a directory down disabling nobody, and a wrong service
// password reported by `connector test`.
func TestLDAPDirectory(t *testing.T) {
	t.Parallel()
	dir := startSlapd(t)
	e := newDirEnv(t, nil)
	ts := e.ts
	base := []string{"--url", dir.URL, "--bind-dn", slapdSvcDN, "--bind-password-stdin",
		"--user-base", "ou=people," + slapdSuffix, "--user-filter", "(uid=%s)",
		"--group-base", "ou=groups," + slapdSuffix, "--group-filter", "(member=%s)",
		"--role-map", "oauthdesk-admins=admin,security-audit=auditor,staff=member", "--default-role", "none"}

	// ldap:// without TLS is refused unless --allow-plain.
	wantUsageError(t, e.cli(t, slapdSvcPW+"\n", append([]string{"connector", "add", "ldap", "corp"}, base...)...), "--allow-plain")
	mustSucceed(t, e.cli(t, slapdSvcPW+"\n", append([]string{"connector", "add", "ldap", "corp", "--start-tls", "--ca-file", dir.CAFile}, base...)...))
	mustSucceed(t, e.cli(t, "", "connector", "test", "corp"))

	// A wrong service password: connector test exits 1 with what failed.
	mustSucceed(t, e.cli(t, "wrong-password\n", append([]string{"connector", "add", "ldap", "badbind", "--start-tls", "--ca-file", dir.CAFile}, base...)...))
	r := e.cli(t, "", "connector", "test", "badbind")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "service bind") || !strings.Contains(r.stderr, "Invalid Credentials") {
		t.Fatalf("connector test with a wrong bind password: want exit 1 and one line naming the service bind\n%s", r)
	}
	// Without the CA the server's certificate is not trusted, unless the
	// system roots hold it (SSL_CERT_FILE).
	mustSucceed(t, e.cli(t, slapdSvcPW+"\n", append([]string{"connector", "add", "ldap", "noca", "--start-tls"}, base...)...))
	if r := e.cli(t, "", "connector", "test", "noca"); r.code != 1 || !strings.Contains(r.stderr, "StartTLS") {
		t.Fatalf("connector test without the CA: want exit 1 naming StartTLS\n%s", r)
	}
	sys := oauthdesk(t, cliRun{env: []string{"SSL_CERT_FILE=" + dir.CAFile}}, "--db", ts.DBPath, "--key-file", e.keyFile, "connector", "test", "noca")
	mustSucceed(t, sys)
	// ldaps:// (TLS from the first byte).
	ldapsArgs := append([]string{"connector", "add", "ldap", "corps", "--ca-file", dir.CAFile}, base...)
	ldapsArgs[slices.Index(ldapsArgs, "--url")+1] = dir.LDAPS
	mustSucceed(t, e.cli(t, slapdSvcPW+"\n", ldapsArgs...))
	mustSucceed(t, e.cli(t, "", "connector", "test", "corps"))
	mustSucceed(t, e.cli(t, "", "connector", "remove", "corps"))
	mustSucceed(t, e.cli(t, "", "connector", "remove", "noca"))
	mustSucceed(t, e.cli(t, "", "connector", "remove", "badbind"))
	list := mustSucceed(t, e.cli(t, "", "connector", "list", "--json")).stdout
	if !strings.Contains(list, `"name": "corp"`) || strings.Contains(list, slapdSvcPW) || strings.Contains(list, "badbind") {
		t.Fatalf("connector list --json: %s", list)
	}
	waitOtherProcess()

	// The sign-in page offers the directory beside the password form.
	if page := ts.newAgent(t).get("/signin"); !strings.Contains(page.Body, `data-testid="signin-source"`) || !strings.Contains(page.Body, `value="corp"`) {
		t.Fatalf("/signin does not offer corp: %.800s", page.Body)
	}

	// alice (oauthdesk-admins) is made an admin on first sign-in.
	alice := ts.newAgent(t)
	if r := alice.ldapSignIn("corp", "alice", "alice-pw"); r.Status != http.StatusSeeOther || r.Location() != "/admin" {
		t.Fatalf("alice's sign-in: %d %q %.300s", r.Status, r.Location(), r.Body)
	}
	if r := alice.get("/admin/users?q=alice"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Alice Admin") || !strings.Contains(r.Body, ">corp<") {
		t.Fatalf("alice's /admin/users: %d %.1500s", r.Status, r.Body)
	}
	// Refused: a wrong password, a filter injection, a person in no group.
	for _, c := range []struct{ user, pw, want string }{
		{"alice", "bob-pw", "Wrong username or password"},
		{"*", "alice-pw", "Wrong username or password"},
		{"alice)(uid=*", "alice-pw", "Wrong username or password"},
		{"dave", "dave-pw", "not in a group allowed"},
	} {
		a := ts.newAgent(t)
		r := a.ldapSignIn("corp", c.user, c.pw)
		if r.Status == http.StatusSeeOther || !strings.Contains(r.Body, c.want) {
			t.Errorf("sign-in as %q: %d, want the page to say %q: %.300s", c.user, r.Status, c.want, htmlText(r.Body, "signin-error"))
		}
		if got := a.get("/profile/authorizations"); got.Status != http.StatusFound {
			t.Errorf("after a refused sign-in as %q the agent is signed in (%d)", c.user, got.Status)
		}
	}

	flushFailed(t, ts)
	if ev := auditEvents(t, e.root, "session.signin_failed"); !strings.Contains(fmt.Sprint(ev), "corp/alice") {
		t.Errorf("the failed directory sign-ins are not audited: %v", ev)
	}

	// A local carol exists: the directory's carol becomes carol-2, and
	// never signs into the local account.
	local := ts.addUser(t, "carol", domain.RoleMember, "local-carol-pw")
	carol := ts.newAgent(t)
	if r := carol.ldapSignIn("corp", "carol", "carol-pw"); r.Status != http.StatusSeeOther {
		t.Fatalf("carol's sign-in: %d %.300s", r.Status, r.Body)
	}
	if r := carol.get("/"); !strings.Contains(r.Body, "Carol Directory") {
		t.Fatalf("carol's home page: %.500s", r.Body)
	}
	dc, err := ts.App.DB.UserByUsername(t.Context(), "carol-2")
	if err != nil || dc.ID == local.ID || dc.Source != "corp" || dc.Subject == "" || dc.PasswordHash != "" {
		t.Fatalf("directory carol: %+v, %v", dc, err)
	}
	// The directory's user has no local password.
	if r := ts.newAgent(t).postSignIn("carol-2", ""); r.Status == http.StatusSeeOther {
		t.Fatal("a directory user signed in with an empty local password")
	}

	// Local passwords only for the break-glass admin: local carol is
	// refused (after her password matched), root still signs in.
	mustSucceed(t, e.cli(t, "", "policy", "set", "local-signin", "admins-only"))
	if r := ts.newAgent(t).postSignIn("carol", "local-carol-pw"); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "only for administrators") {
		t.Errorf("local member sign-in with local-signin admins-only: %d %q", r.Status, htmlText(r.Body, "signin-error"))
	}
	if r := ts.newAgent(t).postSignIn("carol", "wrong-password"); r.Status != http.StatusUnauthorized {
		t.Errorf("wrong local password with admins-only: %d, want the usual 401", r.Status)
	}
	ts.newAgent(t).signIn("root", "root-password-1")
	mustSucceed(t, e.cli(t, "", "policy", "set", "local-signin", "everyone"))
	ts.newAgent(t).signIn("carol", "local-carol-pw")

	// bob signs in, approves an app and gets tokens.
	app := registerThroughDashboard(t, e.root, "vso.profile")
	bob := ts.newAgent(t)
	if r := bob.ldapSignIn("corp", "bob", "bob-pw"); r.Status != http.StatusSeeOther || r.Location() != "/" {
		t.Fatalf("bob's sign-in: %d %q", r.Status, r.Location())
	}
	code := approve(t, bob, app, "vso.profile", "s1")
	pair := postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL))
	wantTokens(t, pair)
	if st, _, body := callAPI(t, ts.URL, profilePath, pair.str("access_token")); st != http.StatusOK || body["displayName"] != "Bob Builder" || body["emailAddress"] != "bob@example.com" {
		t.Fatalf("bob's profile: %d %v", st, body)
	}

	// alice loses oauthdesk-admins upstream: her next sign-in makes her a
	// member, and the admin pages are closed to her.
	dir.admin(t, func(c *ldap.Conn) error {
		m := ldap.NewModifyRequest("cn=oauthdesk-admins,ou=groups,"+slapdSuffix, nil)
		m.Replace("member", []string{"uid=carol,ou=people," + slapdSuffix})
		return c.Modify(m)
	})
	alice2 := ts.newAgent(t)
	if r := alice2.ldapSignIn("corp", "alice", "alice-pw"); r.Status != http.StatusSeeOther || r.Location() != "/" {
		t.Fatalf("alice's second sign-in: %d %q", r.Status, r.Location())
	}
	if r := alice2.get("/admin/apps"); r.Status != http.StatusForbidden {
		t.Fatalf("demoted alice on /admin/apps: %d, want 403", r.Status)
	}
	if r := alice.get("/admin/apps"); r.Status != http.StatusFound {
		t.Fatalf("alice's session from when she was an admin: /admin/apps answered %d, want the session ended (302)", r.Status)
	}

	// bob leaves: removed upstream, cut off by the sync.
	dir.admin(t, func(c *ldap.Conn) error {
		return c.Del(ldap.NewDelRequest("uid=bob,ou=people,"+slapdSuffix, nil))
	})
	out := mustSucceed(t, e.cli(t, "", "directory", "sync"))
	if !strings.Contains(out.stdout, "corp: checked 3, disabled 1 (bob)") {
		t.Fatalf("directory sync: %s", out)
	}
	waitOtherProcess()
	if r := bob.get("/profile/authorizations"); r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/signin") {
		t.Errorf("bob's session after the sync: %d %q, want a redirect to /signin", r.Status, r.Location())
	}
	if st, _, _ := callAPI(t, ts.URL, profilePath, pair.str("access_token")); st != http.StatusUnauthorized {
		t.Errorf("bob's access token after the sync: %d, want 401", st)
	}
	if rr := postToken(t, ts.URL, formType, refreshBody(app.Secret, pair.str("refresh_token"), callbackURL)); rr.Status == http.StatusOK {
		t.Errorf("bob's refresh token after the sync: %d %v, want refused", rr.Status, rr.Raw)
	}
	if r := ts.newAgent(t).ldapSignIn("corp", "bob", "bob-pw"); r.Status == http.StatusSeeOther {
		t.Error("bob signed in again after leaving")
	}
	users := e.root.get("/admin/users?q=bob").Body
	if !strings.Contains(users, "disabled") {
		t.Errorf("/admin/users does not show bob disabled: %.1500s", users)
	}
	if bu, err := ts.App.DB.UserByUsername(t.Context(), "bob"); err != nil {
		t.Fatal(err)
	} else if page := e.root.get("/admin/users/" + bu.ID); !strings.Contains(page.Body, "Signs in with: corp") {
		t.Errorf("bob's user page does not name his connector: %.1500s", page.Body)
	}
	if ev := auditEvents(t, e.root, "user.disable"); len(ev) != 1 || !strings.Contains(fmt.Sprint(ev[0]["details"]), "gone upstream") {
		t.Errorf("audit of the disable: %v", ev)
	}

	// The directory goes down: the sync reports it, disables nobody, and
	// admins see a banner.
	dir.stop()
	down := e.cli(t, "", "directory", "sync")
	if down.code != 1 || strings.Count(down.stderr, "\n") != 1 || !strings.Contains(down.stderr, "corp") || !strings.Contains(down.stderr, "nobody was disabled") {
		t.Fatalf("directory sync with the directory down: want exit 1 and one line\n%s", down)
	}
	waitOtherProcess()
	if r := alice2.get("/profile/authorizations"); r.Status != http.StatusOK {
		t.Errorf("alice after a failed sync: %d, want still signed in", r.Status)
	}
	if r := e.root.get("/admin/apps"); !strings.Contains(r.Body, `data-testid="directory-banner"`) || !strings.Contains(r.Body, "corp:") {
		t.Errorf("no directory banner for admins: %.1000s", r.Body)
	}
	if r := ts.newAgent(t).ldapSignIn("corp", "alice", "alice-pw"); r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Body, "could not be reached") {
		t.Errorf("sign-in with the directory down: %d %.300s, want 503 saying so", r.Status, htmlText(r.Body, "signin-error"))
	}
}
