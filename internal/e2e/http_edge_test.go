package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// An authorization request naming a parameter twice, or with a state over
// 2,048 characters, gets the HTML 400 page and no redirect (GET and the
// approval form's POST alike); the long state is not reflected.
func TestAuthorizeRefusesRepeatedParamsAndLongState(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	admin := ts.newAgent(t)
	admin.signIn("root", "root-password-1")
	app := registerThroughDashboard(t, admin, "vso.work")
	good := authorizeURL(app.ClientID, "vso.work", "s1", callbackURL)
	if r := admin.get(good); r.Status != http.StatusOK {
		t.Fatalf("a good request: %d", r.Status)
	}
	for _, tc := range []struct{ name, extra string }{
		{"state twice", "&state=second"},
		{"redirect_uri twice", "&redirect_uri=" + url.QueryEscape("https://evil.example/cb")},
		{"client_id twice", "&client_id=" + app.ClientID},
		{"scope twice", "&scope=vso.work"},
	} {
		r := admin.get(good + tc.extra)
		if r.Status != http.StatusBadRequest || r.Location() != "" || !strings.Contains(r.Body, "more than once") {
			t.Errorf("%s: status %d, location %q; want the HTML 400 page", tc.name, r.Status, r.Location())
		}
	}
	long := strings.Repeat("S", 2049)
	r := admin.get(authorizeURL(app.ClientID, "vso.work", long, callbackURL))
	if r.Status != http.StatusBadRequest || r.Location() != "" || strings.Contains(r.Body, long) {
		t.Errorf("state of 2049 characters: status %d, location %q, reflected %v; want 400, not reflected",
			r.Status, r.Location(), strings.Contains(r.Body, long))
	}
	if r := admin.get(authorizeURL(app.ClientID, "vso.work", strings.Repeat("S", 2048), callbackURL)); r.Status != http.StatusOK {
		t.Errorf("state of 2048 characters: status %d, want 200", r.Status)
	}
	// The approval form's POST, with a repeated field.
	form := consentForm(t, admin.get(good).Body)
	form.Add("state", "other")
	form.Set("decision", "accept")
	if r := admin.postForm("/oauth2/authorize", form); r.Status != http.StatusBadRequest || r.Location() != "" {
		t.Errorf("approval POST with state twice: status %d, location %q; want 400", r.Status, r.Location())
	}
}

// Signing in rotates the CSRF token: a token from before sign-in no
// longer works afterwards.
func TestCSRFTokenRotatedAtSignIn(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "alice", domain.RoleMember, "alice-password-1")
	a := ts.newAgent(t)
	before := a.csrf("/signin")
	r := a.postForm("/signin", url.Values{"_csrf": {before}, "username": {"alice"}, "password": {"alice-password-1"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.Status)
	}
	after := a.csrf("/signout")
	if after == before {
		t.Fatalf("the CSRF token did not change at sign-in")
	}
	if r := a.postForm("/signout", url.Values{"_csrf": {before}}); r.Status != http.StatusForbidden {
		t.Errorf("sign-out with the pre-sign-in token: %d, want 403", r.Status)
	}
	if r := a.postForm("/signout", url.Values{"_csrf": {after}}); r.Status != http.StatusSeeOther {
		t.Errorf("sign-out with the new token: %d, want 303", r.Status)
	}
}

// /assets/ lists no directory; files are still served.
func TestAssetsListNoDirectory(t *testing.T) {
	ts := newTestServer(t)
	a := ts.newAgent(t)
	for _, p := range []string{"/assets/", "/assets/vendor/", "/assets/vendor"} {
		if r := a.get(p); r.Status != http.StatusNotFound || strings.Contains(r.Body, "<a href") {
			t.Errorf("GET %s: status %d (body %.80q), want 404 without a listing", p, r.Status, r.Body)
		}
	}
	if r := a.get("/signin"); !strings.Contains(r.Body, "/assets/") {
		t.Fatal("the sign-in page links no asset")
	} else {
		href := regexpFind(t, r.Body, `href="(/assets/[^"]+\.css)"`)
		if r := a.get(href); r.Status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", href, r.Status)
		}
	}
}

// REST API answers, successes and errors alike, are not cacheable.
func TestAPIResponsesNoStore(t *testing.T) {
	ts := newTestServer(t)
	_, alice, app := rootAliceApp(t, ts, "vso.work")
	tok := workToken(t, ts, alice, app)
	for _, tc := range []struct{ name, token string }{{"ok", tok}, {"no token", ""}, {"bad token", "x.y.z"}} {
		_, h, _ := callAPI(t, ts.URL, profilePath, tc.token)
		if got := h.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", tc.name, got)
		}
	}
}

// /metrics: with --metrics-token only the Bearer token gets in; on a
// non-loopback address without a token it is refused.
func TestMetricsToken(t *testing.T) {
	get := func(ts *testServer, auth string) int {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ts := newTestServerWith(t, func(c *server.Config) { c.MetricsToken = "scrape-me-0123456789" })
	for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "Basic c2NyYXBlLW1l": 401, "Bearer scrape-me-0123456789": 200} {
		if got := get(ts, auth); got != want {
			t.Errorf("/metrics with %q: %d, want %d", auth, got, want)
		}
	}
	open := newTestServerWith(t, func(c *server.Config) { c.MetricsNeedToken = true })
	if got := get(open, ""); got != http.StatusForbidden {
		t.Errorf("/metrics on a non-loopback server without a token: %d, want 403", got)
	}
	if got := get(newTestServer(t), ""); got != http.StatusOK {
		t.Errorf("/metrics on loopback without a token: %d, want 200", got)
	}
	// serve decides from --addr.
	r := oauthdesk(t, cliRun{}, "serve", "--help")
	if !strings.Contains(r.stdout, "--metrics-token") {
		t.Errorf("serve --help lacks --metrics-token")
	}
}

func regexpFind(t *testing.T, body, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no match for %s", re)
	}
	return m[1]
}
