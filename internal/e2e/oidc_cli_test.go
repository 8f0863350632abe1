package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// The standard-flow flags of `app register` and `app update`: without
// them a registration keeps today's meaning (the dialect only); a public
// client gets no secret; bad values are one line and exit 2.
func TestCLIStandardFlowFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "oauthdesk.db")
	run := cliRun{dir: dir}
	mustSucceed(t, oauthdesk(t, cliRun{dir: dir, stdin: cliPassword + "\n"}, "user", "add", "ada", "--role", "member", "--password-stdin", "--db", db))
	appOf := func(id string) domain.App {
		t.Helper()
		st, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		a, err := st.ClientByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	// Today's script: the dialect only.
	var legacy registerJSON
	if err := json.Unmarshal([]byte(mustSucceed(t, oauthdesk(t, run, append(registerArgs(db), "--json")...)).stdout), &legacy); err != nil {
		t.Fatal(err)
	}
	if a := appOf(legacy.ClientID); !slices.Equal(a.EffectiveGrantTypes(), []string{domain.GrantDialect}) || a.EffectiveClientType() != domain.ClientConfidential || a.EffectiveIDTokenAlg() != domain.AlgRS256 {
		t.Errorf("register without the new flags: %v %s %s, want the dialect only, confidential, RS256", a.GrantTypes, a.ClientType, a.IDTokenAlg)
	}
	// Enable the standard flow on it.
	mustSucceed(t, oauthdesk(t, run, "app", "update", legacy.ClientID, "--db", db,
		"--grant-types", "urn:ietf:params:oauth:grant-type:jwt-bearer authorization_code refresh_token",
		"--redirect-uri", "https://contoso.example/wallboard/oauth-callback", "--redirect-uri", "http://127.0.0.1/cb",
		"--post-logout-redirect-uri", "https://contoso.example/bye", "--id-token-alg", "ES256"))
	a := appOf(legacy.ClientID)
	if !a.AllowsGrant(domain.GrantAuthorizationCode) || !a.AllowsGrant(domain.GrantDialect) || a.CallbackURL != "https://contoso.example/wallboard/oauth-callback" ||
		!slices.Equal(a.RedirectURIs, []string{"http://127.0.0.1/cb"}) || a.IDTokenAlg != "ES256" || !a.PostLogoutMatches("https://contoso.example/bye") {
		t.Errorf("after app update: %+v", a.Registration)
	}

	// A public client: no secret in the output.
	r := mustSucceed(t, oauthdesk(t, run, "app", "register", "--db", db, "--name", "CLI", "--company", "Contoso", "--app-url", "https://contoso.example",
		"--redirect-uri", "http://127.0.0.1/callback", "--scopes", "vso.work", "--owner", "ada", "--client-type", "public", "--json"))
	var pub map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &pub); err != nil || pub["client_id"] == nil || pub["client_secret"] != nil {
		t.Fatalf("public register --json: %s", r.stdout)
	}
	if p := appOf(pub["client_id"].(string)); !p.Public() || len(p.Secrets) != 0 || !p.AllowsGrant(domain.GrantAuthorizationCode) || p.AllowsGrant(domain.GrantDialect) {
		t.Errorf("public client: %+v, %d secrets", p.Registration, len(p.Secrets))
	}

	// Bad values: one line, exit 2, nothing stored.
	wantUsageError(t, oauthdesk(t, run, append(registerArgs(db), "--grant-types", "password")...), "grant type")
	wantUsageError(t, oauthdesk(t, run, append(registerArgs(db), "--id-token-alg", "HS256")...), "RS256")
	wantUsageError(t, oauthdesk(t, run, append(registerArgs(db), "--client-type", "public", "--grant-types", "urn:ietf:params:oauth:grant-type:jwt-bearer")...), "public")
}

// The app page shows the endpoints of each flow the app may use and the
// guide from the Azure DevOps flow to OpenID Connect; the form's
// checkboxes change the grant types.
func TestOIDCAppPage(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	admin := ts.newAgent(t)
	admin.signIn("root", "root-password-1")
	app := registerThroughDashboard(t, admin, "vso.work") // a form without the new fields: both flows
	page := admin.get("/admin/apps/" + app.ClientID)
	for _, want := range []string{`data-testid="endpoints-dialect"`, `data-testid="endpoints-oidc"`, `data-testid="migration-guide"`,
		ts.URL + "/.well-known/openid-configuration", "response_type=code", "response_type=Assertion"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("app page of an app with both flows lacks %s", want)
		}
	}
	// Untick the standard flow on the edit form: the dialect only, and the
	// guide says how to turn it back on.
	form := url.Values{"_csrf": {admin.csrf("/admin/apps/" + app.ClientID + "/edit")}, "name": {"Fabrikam Boards"}, "company": {"Fabrikam, Inc."},
		"app_url": {"https://fabrikam.example/boards"}, "callback_url": {callbackURL}, "scopes": {"vso.work"},
		"client_fields": {"1"}, "client_type": {"confidential"}, "grant_types": {domain.GrantDialect}, "id_token_alg": {"RS256"}}
	if r := admin.postForm("/admin/apps/"+app.ClientID+"/edit", form); r.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %.300s", r.Status, r.Body)
	}
	page = admin.get("/admin/apps/" + app.ClientID)
	if strings.Contains(page.Body, `data-testid="endpoints-oidc"`) || !strings.Contains(page.Body, "--grant-types") {
		t.Errorf("app page of a dialect-only app: the standard endpoints shown, or no hint how to enable them")
	}
	// The standard flow is now refused for it: the dialect answers.
	r := admin.get("/oauth2/authorize?client_id=" + app.ClientID + "&response_type=code&scope=openid&redirect_uri=" + callbackURL + "&state=s")
	if u, _ := url.Parse(r.Location()); r.Status != http.StatusFound || u.Query().Get("error") != "ResponseTypeNotSupported" {
		t.Errorf("code request to a dialect-only app: %d %s", r.Status, r.Location())
	}
}

// prompt=login and max_age make a signed-in user sign in again (the
// session's sign-in ends, login_hint fills the form); a fresh sign-in
// satisfies them; prompt=none with a stale sign-in is login_required. An
// authorization request POSTed as a form (OIDC Core §3.1.2.1) is served
// like the GET.
func TestOIDCReauthentication(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now().UTC()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ts := newTestServerWith(t, func(c *server.Config) { c.Now = clock })
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	ts.addUser(t, "alice", domain.RoleMember, "alice-password-1")
	res, err := ts.App.Admin.RegisterApp(context.Background(), "root", domain.Registration{
		Name: "Contoso Portal", Company: "Contoso", AppURL: "https://rp.example", CallbackURL: callbackURL,
		Scopes: []string{"vso.work"}, GrantTypes: []string{domain.GrantAuthorizationCode}})
	if err != nil {
		t.Fatal(err)
	}
	alice := ts.newAgent(t)
	alice.signIn("alice", "alice-password-1")
	q := url.Values{"client_id": {res.App.ClientID}, "response_type": {"code"}, "scope": {"openid vso.work"},
		"redirect_uri": {callbackURL}, "state": {"s"}, "nonce": {"n"}}
	authz := func(extra ...string) response {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return alice.get("/oauth2/authorize?" + v.Encode())
	}
	// A fresh sign-in: prompt=login is satisfied, the consent page shows.
	if r := authz("prompt", "login"); r.Status != http.StatusOK {
		t.Fatalf("prompt=login right after signing in: %d %s", r.Status, r.Location())
	}
	advance(2 * time.Minute)
	if r := authz("prompt", "none", "max_age", "60"); r.Status != http.StatusFound || !strings.Contains(r.Location(), "error=login_required") {
		t.Errorf("prompt=none with a sign-in older than max_age: %d %s", r.Status, r.Location())
	}
	r := authz("prompt", "login", "login_hint", "alice")
	if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/signin?") || !strings.Contains(r.Location(), "login_hint=alice") {
		t.Fatalf("prompt=login two minutes after signing in: %d %s, want the sign-in page", r.Status, r.Location())
	}
	if p := alice.get("/profile/authorizations"); p.Status == http.StatusOK {
		t.Error("still signed in after prompt=login sent the user to sign in")
	}
	// Signing in again returns to the request (without prompt), which now proceeds.
	ret, _ := url.Parse(r.Location())
	returnTo := ret.Query().Get("return_to")
	if strings.Contains(returnTo, "prompt=") {
		t.Errorf("return_to %q still asks for prompt=login (a loop)", returnTo)
	}
	s := alice.postForm("/signin", url.Values{"_csrf": {alice.csrf("/signin")}, "username": {"alice"}, "password": {"alice-password-1"}, "return_to": {returnTo}})
	if s.Status != http.StatusSeeOther || s.Location() != returnTo {
		t.Fatalf("sign in again: %d %s", s.Status, s.Location())
	}
	if p := alice.get(returnTo); p.Status != http.StatusOK || !strings.Contains(p.Body, `data-testid="consent"`) {
		t.Errorf("back at the request after signing in: %d", p.Status)
	}
	// The same request POSTed as a form (no CSRF token: it comes from the client's site).
	form := url.Values{}
	for k, vs := range q {
		form[k] = vs
	}
	if p := alice.postForm("/oauth2/authorize", form); p.Status != http.StatusOK || !strings.Contains(p.Body, `data-testid="consent"`) {
		t.Errorf("POSTed authorization request: %d %.200s", p.Status, p.Body)
	}
}
