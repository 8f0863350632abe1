package e2e

// A real upstream OpenID Connect provider for the directory tests:
// panva/node-oidc-provider (pinned in testdata/oidc-provider/package.json
// and package-lock.json; `npm ci` fills the git-ignored node_modules on
// first use), run under Node on 127.0.0.1. Without node and npm the tests
// skip, except under CI=true, where they fail.

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	npmOnce sync.Once
	npmErr  error
)

// upstreamOP is a running oidc-provider.
type upstreamOP struct {
	Issuer string
	cmd    *exec.Cmd
	done   chan struct{}
}

// startUpstreamOP starts the provider with its one client's redirect URI
// and stops it when t ends.
func startUpstreamOP(t *testing.T, redirectURI string) *upstreamOP {
	t.Helper()
	node, nerr := exec.LookPath("node")
	_, perr := exec.LookPath("npm")
	if nerr != nil || perr != nil {
		if underCI() {
			t.Fatal("node and npm are needed for the upstream OpenID Connect tests, and CI=true")
		}
		t.Skip("node or npm not found: skipping the upstream OpenID Connect tests (install Node.js 18 or later, or run .ci/ensure-node as root)")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "oidc-provider"))
	if err != nil {
		t.Fatal(err)
	}
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			npmErr = &exec.Error{Name: "npm ci: " + strings.TrimSpace(string(out)), Err: err}
		}
	})
	if npmErr != nil {
		if underCI() {
			t.Fatalf("install oidc-provider: %v", npmErr)
		}
		t.Skipf("cannot install oidc-provider from npm (%v): skipping", npmErr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PORT="+itoa(port), "REDIRECT_URI="+redirectURI)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oidc-provider: %v", err)
	}
	op := &upstreamOP{Issuer: "http://127.0.0.1:" + itoa(port), cmd: cmd, done: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "listening" {
				ready <- true
			}
		}
		_ = cmd.Wait()
		close(op.done)
	}()
	t.Cleanup(op.stop)
	select {
	case <-ready:
	case <-op.done:
		t.Fatal("oidc-provider exited before listening")
	case <-time.After(20 * time.Second):
		t.Fatal("oidc-provider did not start within 20 s")
	}
	return op
}

func itoa(n int) string { return strconv.Itoa(n) }

// stop ends the provider (idempotent).
func (op *upstreamOP) stop() {
	if op.cmd.Process != nil {
		_ = op.cmd.Process.Kill()
	}
	<-op.done
}

// control posts to one of the provider's test switches.
func (op *upstreamOP) control(t *testing.T, path string) {
	t.Helper()
	resp, err := http.Post(op.Issuer+path, "text/plain", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %v %v", path, err, resp)
	}
	resp.Body.Close()
}

// upstreamSignIn starts the sign-in at /signin/NAME as a, follows the
// upstream's redirects (login and consent, as the provider's test
// interactions answer them) and returns the callback URL the upstream
// sends the browser to, not yet requested.
func upstreamSignIn(t *testing.T, a *agent, op *upstreamOP, name string) string {
	t.Helper()
	r := a.get("/signin/" + name)
	loc := r.Location()
	if r.Status != http.StatusFound || !strings.HasPrefix(loc, op.Issuer+"/auth?") {
		t.Fatalf("GET /signin/%s: %d %q, want a redirect to the upstream's authorization endpoint", name, r.Status, loc)
	}
	q, _ := url.Parse(loc)
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if q.Query().Get(p) == "" {
			t.Fatalf("authorization request without %s: %s", p, loc)
		}
	}
	if q.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("authorization request without PKCE S256: %s", loc)
	}
	for range 10 {
		if strings.HasPrefix(loc, a.base+"/signin/"+name+"/callback") {
			return loc
		}
		if strings.HasPrefix(loc, "/") {
			loc = op.Issuer + loc
		}
		r = a.get(loc)
		if r.Status < 300 || r.Status > 399 {
			t.Fatalf("upstream at %s answered %d: %.300s", loc, r.Status, r.Body)
		}
		loc = r.Location()
	}
	t.Fatalf("the upstream never redirected back (last %s)", loc)
	return ""
}

// TestOIDCUpstream signs people in through a real OpenID Connect provider
// (oidc-provider): a connector added on the admin page, accounts made on
// first sign-in with the role from the groups claim (read from userinfo:
// the provider keeps scope claims out of the ID token), the e-mail only
// when verified; a JIT user approving an app; a tampered ID token and a
// wrong nonce refused; the upstream down giving a clear page.
func TestOIDCUpstream(t *testing.T) {
	t.Parallel()
	e := newDirEnv(t, nil)
	ts := e.ts
	op := startUpstreamOP(t, ts.URL+"/signin/up/callback")

	add := func(name, issuer string) response {
		return e.root.postForm("/admin/settings/connectors", url.Values{"_csrf": {e.root.csrf("/admin/settings/connectors")},
			"type": {"oidc"}, "name": {name}, "issuer": {issuer}, "client_id": {"oauthdesk"}, "secret": {"upstream-client-secret"},
			"scopes": {"openid profile email groups"}, "role_map": {"oauthdesk-admins=admin"}, "default_role": {"member"}})
	}
	if r := add("up", op.Issuer); r.Status != http.StatusSeeOther {
		t.Fatalf("add connector: %d %.500s", r.Status, htmlText(r.Body, "form-error"))
	}
	mustSucceed(t, e.cli(t, "", "connector", "test", "up")) // a real discovery
	page := e.root.get("/admin/settings/connectors")
	if !strings.Contains(page.Body, `data-testid="connector-up"`) || !strings.Contains(page.Body, ts.URL+"/signin/up/callback") || strings.Contains(page.Body, "upstream-client-secret") {
		t.Fatalf("connectors page: %.2000s", page.Body)
	}
	if ev := auditEvents(t, e.root, "connector.add"); len(ev) != 1 || strings.Contains(ev[0]["details"].(map[string]any)["issuer"].(string), "secret") {
		t.Fatalf("audit of connector.add: %v", ev)
	}

	// ann (oauthdesk-admins, e-mail verified) signs in: made an admin.
	ann := ts.newAgent(t)
	if r := ann.get("/signin"); !strings.Contains(r.Body, `data-testid="signin-with-up"`) {
		t.Fatalf("/signin offers no button for up: %.800s", r.Body)
	}
	cb := upstreamSignIn(t, ann, op, "up")
	if r := ann.get(cb); r.Status != http.StatusSeeOther || r.Location() != "/admin" {
		t.Fatalf("ann's callback: %d %q %.300s", r.Status, r.Location(), htmlText(r.Body, "signin-error"))
	}
	u, err := ts.App.DB.UserByUsername(t.Context(), "ann@example.com")
	if err != nil || u.Source != "up" || u.Subject != "sub-ann" || u.Role != "admin" || u.Email != "ann@example.com" || u.DisplayName != "Ann Upstream" {
		t.Fatalf("ann: %+v %v", u, err)
	}

	// ben (staff, e-mail not verified) is a member without an e-mail, and
	// approves an app.
	op.control(t, "/test/next?sub=sub-ben")
	ben := ts.newAgent(t)
	if r := ben.get(upstreamSignIn(t, ben, op, "up")); r.Status != http.StatusSeeOther || r.Location() != "/" {
		t.Fatalf("ben's callback: %d %q", r.Status, r.Location())
	}
	if b, err := ts.App.DB.UserByUsername(t.Context(), "ben@example.com"); err != nil || b.Role != "member" || b.Email != "" {
		t.Fatalf("ben: %+v %v (want member, no unverified e-mail)", b, err)
	}
	app := registerThroughDashboard(t, e.root, "vso.profile")
	code := approve(t, ben, app, "vso.profile", "s")
	pair := postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL))
	wantTokens(t, pair)
	if st, _, body := callAPI(t, ts.URL, profilePath, pair.str("access_token")); st != http.StatusOK || body["displayName"] != "Ben Upstream" {
		t.Fatalf("ben's profile: %d %v", st, body)
	}

	// A tampered ID token and an ID token for another nonce are refused.
	for _, c := range []struct{ mode, want string }{{"tamper", "ID token from the sign-in service is not valid"}, {"nonce", "nonce"}} {
		op.control(t, "/test/next?sub=sub-ann")
		a := ts.newAgent(t)
		cb := upstreamSignIn(t, a, op, "up")
		op.control(t, "/test/mode?m="+c.mode)
		if c.mode == "nonce" { // the switch acts on the authorization request: start again
			cb = upstreamSignIn(t, a, op, "up")
		}
		r := a.get(cb)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, c.want) {
			t.Errorf("%s: callback %d %q, want 401 saying %q", c.mode, r.Status, htmlText(r.Body, "signin-error"), c.want)
		}
		if got := a.get("/profile/authorizations"); got.Status != http.StatusFound {
			t.Errorf("%s: signed in after a refused callback (%d)", c.mode, got.Status)
		}
	}
	// A callback without the session that started it is refused.
	if r := ts.newAgent(t).get("/signin/up/callback?code=x&state=y"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "expired") {
		t.Errorf("callback without a started sign-in: %d", r.Status)
	}

	// The upstream goes down between the redirect and the callback, and a
	// connector whose upstream never answered: clear pages, not 500s.
	late := ts.newAgent(t)
	cb = upstreamSignIn(t, late, op, "up")
	op.stop()
	if r := late.get(cb); r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Body, "could not be reached") {
		t.Errorf("callback with the upstream down: %d %q, want 503 saying so", r.Status, htmlText(r.Body, "signin-error"))
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	_ = ln.Close()
	if r := add("gone", dead); r.Status != http.StatusSeeOther {
		t.Fatalf("add connector gone: %d", r.Status)
	}
	if r := ts.newAgent(t).get("/signin/gone"); r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Body, "could not be reached") {
		t.Errorf("GET /signin/gone: %d %.300s, want 503 saying the upstream could not be reached", r.Status, r.Body)
	}
	if r := e.cli(t, "", "connector", "test", "gone"); r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "could not be reached") {
		t.Errorf("connector test gone: want exit 1 and one line saying the upstream could not be reached\n%s", r)
	}
}
