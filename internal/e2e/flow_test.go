package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

const callbackURL = "https://fabrikam.example/myapp/oauth-callback"

// registeredApp is an app registered through the dashboard form.
type registeredApp struct {
	ClientID, Secret string
}

var newSecretRE = regexp.MustCompile(`data-testid="new-secret">([^<]+)<`)

// registerThroughDashboard posts the registration form as a signed-in
// admin and reads the client secret from the app page, where it is shown
// once.
func registerThroughDashboard(t *testing.T, admin *agent, scopes ...string) registeredApp {
	t.Helper()
	form := url.Values{
		"_csrf": {admin.csrf("/admin/apps/new")}, "name": {"Fabrikam Boards"}, "company": {"Fabrikam, Inc."},
		"description": {"Shows your work items on a wall display."}, "company_url": {"https://fabrikam.example"},
		"app_url": {"https://fabrikam.example/boards"}, "callback_url": {callbackURL},
		"terms_url": {"https://fabrikam.example/terms"}, "privacy_url": {"https://fabrikam.example/privacy"},
		"scopes": scopes,
	}
	r := admin.postForm("/admin/apps", form)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/admin/apps/") {
		t.Fatalf("register: status %d, location %q, body %.500s", r.Status, r.Location(), r.Body)
	}
	clientID := strings.TrimPrefix(r.Location(), "/admin/apps/")
	page := admin.get(r.Location())
	m := newSecretRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("app page after registration: status %d, no secret shown", page.Status)
	}
	if again := admin.get(r.Location()); newSecretRE.MatchString(again.Body) || strings.Contains(again.Body, m[1]) {
		t.Fatal("the client secret is shown again after a reload")
	}
	return registeredApp{ClientID: clientID, Secret: m[1]}
}

func authorizeURL(clientID, scope, state, redirect string) string {
	// Built as the seed's example link is: space-separated scopes, %20-encoded.
	return "/oauth2/authorize?client_id=" + clientID + "&response_type=Assertion&state=" + url.QueryEscape(state) +
		"&scope=" + strings.ReplaceAll(url.QueryEscape(scope), "+", "%20") + "&redirect_uri=" + redirect
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)"`)

// consentForm returns the hidden fields of the approval page.
func consentForm(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], htmlUnescape(m[2]))
	}
	if v.Get("_csrf") == "" || v.Get("client_id") == "" {
		t.Fatalf("approval page has no form: %.500s", body)
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&quot;", `"`).Replace(s)
}

// decide opens the approval page for the request at authPath as the
// signed-in user and answers it; it returns the callback redirect.
func decide(t *testing.T, user *agent, authPath, decision string) *url.URL {
	t.Helper()
	page := user.get(authPath)
	if page.Status != http.StatusOK {
		t.Fatalf("approval page: status %d, location %q, body %.300s", page.Status, page.Location(), page.Body)
	}
	form := consentForm(t, page.Body)
	form.Set("decision", decision)
	r := user.postForm("/oauth2/authorize", form)
	if r.Status != http.StatusFound {
		t.Fatalf("decision %s: status %d, body %.300s", decision, r.Status, r.Body)
	}
	u, err := url.Parse(r.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// approve returns a fresh authorization code for the signed-in user.
func approve(t *testing.T, user *agent, app registeredApp, scope, state string) string {
	t.Helper()
	cb := decide(t, user, authorizeURL(app.ClientID, scope, state, callbackURL), "accept")
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != callbackURL {
		t.Fatalf("redirected to %s, want the callback %s", got, callbackURL)
	}
	if cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
		t.Fatalf("callback query %q: want code and state=%s", cb.RawQuery, state)
	}
	return cb.Query().Get("code")
}

// tokenResult is a token endpoint answer as a client sees it.
type tokenResult struct {
	Status int
	Header http.Header
	Raw    map[string]any
}

func (r tokenResult) str(k string) string { s, _ := r.Raw[k].(string); return s }

// postToken posts a raw body to /oauth2/token, as the seed's C# client does.
func postToken(t *testing.T, base, contentType, body string) tokenResult {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("token response is not JSON: %v", err)
	}
	return tokenResult{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
}

// The seed's two request bodies, formatted exactly as its C# example does:
// secret and code URL-encoded, the callback URL not.
func codeBody(secret, code, redirect string) string {
	return "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=" + url.QueryEscape(secret) +
		"&grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=" + url.QueryEscape(code) + "&redirect_uri=" + redirect
}

func refreshBody(secret, refresh, redirect string) string {
	return "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=" + url.QueryEscape(secret) +
		"&grant_type=refresh_token&assertion=" + url.QueryEscape(refresh) + "&redirect_uri=" + redirect
}

const formType = "application/x-www-form-urlencoded"

func wantTokenError(t *testing.T, r tokenResult, status int, code, desc string) {
	t.Helper()
	if r.Status != status || r.str("error") != code || r.str("Error") != code ||
		r.str("error_description") != desc || r.str("ErrorDescription") != desc {
		t.Fatalf("got %d %v, want %d %s %q (in both spellings)", r.Status, r.Raw, status, code, desc)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("error response Cache-Control = %q, want no-store", r.Header.Get("Cache-Control"))
	}
}

func wantTokens(t *testing.T, r tokenResult) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("token request: %d %v", r.Status, r.Raw)
	}
	if _, ok := r.Raw["expires_in"].(string); !ok || r.str("expires_in") != "3599" {
		t.Errorf("expires_in = %#v, want the JSON string \"3599\"", r.Raw["expires_in"])
	}
	if r.str("token_type") != "jwt-bearer" || r.str("access_token") == "" || r.str("refresh_token") == "" {
		t.Errorf("token response %v", r.Raw)
	}
	if !strings.HasSuffix(r.str("scope"), " vso.authorization_grant") {
		t.Errorf("scope = %q, want the granted scopes plus vso.authorization_grant", r.str("scope"))
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", r.Header.Get("Cache-Control"))
	}
}

// callAPI calls GET path with a Bearer token.
func callAPI(t *testing.T, base, path, token string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, resp.Header, body
}

const profilePath = "/_apis/profile/profiles/me?api-version=7.1"

// TestWebServerFlow runs seed 001's flow end to end. The refresh grace
// window is off, so that presenting a rotated refresh token is reuse at
// once (the window is tested in refresh_grace_test.go).
func TestWebServerFlow(t *testing.T) {
	ts := newTestServerWith(t, graceOff)
	ts.addUser(t, "root", domain.RoleAdmin, "correct horse battery")
	bob := ts.addUser(t, "bob", domain.RoleMember, "bob's long password")

	admin := ts.newAgent(t)
	admin.signIn("root", "correct horse battery")
	app := registerThroughDashboard(t, admin, "vso.work", "vso.code_write")

	t.Run("registered app is listed", func(t *testing.T) {
		r := admin.get("/admin/apps")
		for _, want := range []string{app.ClientID, "Fabrikam Boards", callbackURL, "<code>vso.work</code>", "<code>vso.code_write</code>",
			`data-testid="high-privilege"`, `data-state="ok"`} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("/admin/apps lacks %q", want)
			}
		}
	})

	member := ts.newAgent(t)
	var tokens tokenResult

	t.Run("authorize, sign in, approve, exchange the code", func(t *testing.T) {
		authPath := authorizeURL(app.ClientID, "vso.work vso.code_write", "User1", callbackURL)
		r := member.get(authPath)
		if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/signin?return_to=") {
			t.Fatalf("not signed in: status %d, location %q; want a redirect to /signin", r.Status, r.Location())
		}
		signinPage := r.Location()
		ret, _ := url.Parse(signinPage)
		r = member.postForm("/signin", url.Values{"_csrf": {member.csrf(signinPage)}, "username": {"bob"},
			"password": {"bob's long password"}, "return_to": {ret.Query().Get("return_to")}})
		if r.Status != http.StatusSeeOther || r.Location() != authPath {
			t.Fatalf("after sign-in: status %d, location %q, want back to %q", r.Status, r.Location(), authPath)
		}
		page := member.get(authPath)
		if page.Status != http.StatusOK {
			t.Fatalf("approval page: %d", page.Status)
		}
		if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("approval page CSP = %q, want frame-ancestors 'none'", csp)
		}
		for _, want := range []string{"Fabrikam Boards", "Fabrikam, Inc.", "Shows your work items on a wall display.",
			`href="https://fabrikam.example"`, `href="https://fabrikam.example/boards"`, `href="https://fabrikam.example/terms"`,
			`href="https://fabrikam.example/privacy"`, "Work items (read)", "Code (read and write)",
			`name="decision" value="accept"`, `name="decision" value="deny"`} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("approval page lacks %q", want)
			}
		}
		code := approve(t, member, app, "vso.work vso.code_write", "User1")
		tokens = postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL))
		wantTokens(t, tokens)
		if got := tokens.str("scope"); got != "vso.work vso.code_write vso.authorization_grant" {
			t.Errorf("scope = %q", got)
		}
	})
	if tokens.Status != http.StatusOK {
		t.FailNow()
	}

	t.Run("profile API with the Bearer token", func(t *testing.T) {
		status, _, p := callAPI(t, ts.URL, profilePath, tokens.str("access_token"))
		if status != http.StatusOK {
			t.Fatalf("profile: %d %v", status, p)
		}
		want := map[string]any{"id": bob.ID, "publicAlias": bob.ID, "displayName": "Bob", "emailAddress": "bob@example.com",
			"coreRevision": float64(1), "revision": float64(1)}
		for k, v := range want {
			if p[k] != v {
				t.Errorf("profile[%q] = %#v, want %#v", k, p[k], v)
			}
		}
		if ts, _ := p["timeStamp"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`).MatchString(ts) {
			t.Errorf("timeStamp = %q, want 2026-11-21T10:00:00+00:00 form", ts)
		}
		if _, ok := p["coreAttributes"]; ok {
			t.Error("coreAttributes present without details=true")
		}
		status, _, p = callAPI(t, ts.URL, "/_apis/profile/profiles/me?details=true&coreAttributes=Avatar", tokens.str("access_token"))
		ca, _ := p["coreAttributes"].(map[string]any)
		avatar, _ := ca["Avatar"].(map[string]any)
		inner, _ := avatar["value"].(map[string]any)
		img, err := base64.StdEncoding.DecodeString(inner["value"].(string))
		if status != http.StatusOK || err != nil {
			t.Fatalf("details: %d %v %v", status, p, err)
		}
		if _, err := png.Decode(bytes.NewReader(img)); err != nil {
			t.Errorf("avatar is not a PNG: %v", err)
		}
		if dn, _ := ca["DisplayName"].(map[string]any); dn["value"] != "Bob" {
			t.Errorf("coreAttributes.DisplayName = %v", ca["DisplayName"])
		}
	})

	t.Run("Bearer check rejects what is not a valid access token", func(t *testing.T) {
		for name, tok := range map[string]string{
			"none": "", "garbage": "not-a-token", "refresh token": tokens.str("refresh_token"),
			"tampered": tokens.str("access_token")[:len(tokens.str("access_token"))-4] + "AAAA",
		} {
			status, h, _ := callAPI(t, ts.URL, profilePath, tok)
			if status != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", name, status)
			}
			if name != "none" && !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("%s: WWW-Authenticate = %q", name, h.Get("WWW-Authenticate"))
			}
		}
	})

	var refreshed tokenResult
	t.Run("refresh, then reuse of the old refresh token", func(t *testing.T) {
		refreshed = postToken(t, ts.URL, formType, refreshBody(app.Secret, tokens.str("refresh_token"), callbackURL))
		wantTokens(t, refreshed)
		if refreshed.str("refresh_token") == tokens.str("refresh_token") {
			t.Fatal("refresh did not rotate the refresh token")
		}
		if status, _, _ := callAPI(t, ts.URL, profilePath, refreshed.str("access_token")); status != http.StatusOK {
			t.Fatalf("new access token: %d", status)
		}
		reuse := postToken(t, ts.URL, formType, refreshBody(app.Secret, tokens.str("refresh_token"), callbackURL))
		wantTokenError(t, reuse, http.StatusBadRequest, "invalid_request", "The access token has already been refreshed")
		// RFC 9700 §4.14.2: the reuse revokes the whole authorization, at once.
		if status, _, _ := callAPI(t, ts.URL, profilePath, refreshed.str("access_token")); status != http.StatusUnauthorized {
			t.Errorf("after reuse the authorization's access token answered %d, want 401", status)
		}
		again := postToken(t, ts.URL, formType, refreshBody(app.Secret, refreshed.str("refresh_token"), callbackURL))
		wantTokenError(t, again, http.StatusBadRequest, "invalid_grant", "No authorization grant was found")
	})

	t.Run("deny gives no code", func(t *testing.T) {
		cb := decide(t, member, authorizeURL(app.ClientID, "vso.work", "S-deny", callbackURL), "deny")
		if cb.Query().Get("error") != "AccessDenied" || cb.Query().Get("state") != "S-deny" || cb.Query().Has("code") {
			t.Errorf("deny redirected to %s", cb)
		}
	})

	t.Run("authorization request errors", func(t *testing.T) {
		unknown := "00001111-aaaa-2222-bbbb-3333cccc4444"
		for name, path := range map[string]string{
			"redirect trailing slash": authorizeURL(app.ClientID, "vso.work", "s", callbackURL+"/"),
			"redirect case change":    authorizeURL(app.ClientID, "vso.work", "s", strings.Replace(callbackURL, "fabrikam", "Fabrikam", 1)),
			"redirect http":           authorizeURL(app.ClientID, "vso.work", "s", strings.Replace(callbackURL, "https", "http", 1)),
			"redirect elsewhere":      authorizeURL(app.ClientID, "vso.work", "s", "https://evil.example/cb"),
			"redirect missing":        "/oauth2/authorize?client_id=" + app.ClientID + "&response_type=Assertion&scope=vso.work",
			"unknown client":          authorizeURL(unknown, "vso.work", "s", callbackURL),
			"malformed client":        authorizeURL("not-a-guid", "vso.work", "s", callbackURL),
			"missing client":          "/oauth2/authorize?response_type=Assertion&scope=vso.work&redirect_uri=" + callbackURL,
		} {
			r := member.get(path)
			if r.Status != http.StatusBadRequest || r.Location() != "" || !strings.Contains(r.Body, `data-testid="error-message"`) {
				t.Errorf("%s: status %d, location %q; want an HTML 400 page and no redirect", name, r.Status, r.Location())
			}
		}
		for name, c := range map[string]struct{ path, wantErr string }{
			"scope not registered":  {authorizeURL(app.ClientID, "vso.build", "s1", callbackURL), "InvalidScope"},
			"unknown scope":         {authorizeURL(app.ClientID, "vso.nope", "s1", callbackURL), "InvalidScope"},
			"wrong response_type":   {"/oauth2/authorize?client_id=" + app.ClientID + "&response_type=code&state=s1&scope=vso.work&redirect_uri=" + callbackURL, "ResponseTypeNotSupported"},
			"missing response_type": {"/oauth2/authorize?client_id=" + app.ClientID + "&state=s1&scope=vso.work&redirect_uri=" + callbackURL, "ResponseTypeRequired"},
			"missing scope":         {"/oauth2/authorize?client_id=" + app.ClientID + "&response_type=Assertion&state=s1&redirect_uri=" + callbackURL, "ScopeRequired"},
		} {
			r := member.get(c.path)
			loc, _ := url.Parse(r.Location())
			if r.Status != http.StatusFound || loc == nil || !strings.HasPrefix(r.Location(), callbackURL) ||
				loc.Query().Get("error") != c.wantErr || loc.Query().Get("state") != "s1" {
				t.Errorf("%s: status %d, location %q; want the callback with error=%s&state=s1", name, r.Status, r.Location(), c.wantErr)
			}
		}
		// A scope the registration includes may be requested (vso.code_write includes vso.code).
		if code := approve(t, member, app, "vso.code", "narrow"); code == "" {
			t.Error("no code for an included scope")
		}
	})

	t.Run("token endpoint errors", func(t *testing.T) {
		r := postToken(t, ts.URL, "application/json", `{"grant_type":"refresh_token"}`)
		wantTokenError(t, r, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		code := approve(t, member, app, "vso.work", "errs")
		cases := []struct {
			name, body string
			status     int
			code, desc string
		}{
			{"missing grant_type", "client_assertion=x&assertion=y", 400, "invalid_request", "grant_type must be provided"},
			{"missing secret", strings.Replace(codeBody("", code, callbackURL), "client_assertion=&", "", 1), 401, "invalid_client", "A client secret must be provided"},
			{"wrong secret", codeBody("odcs_wrong", code, callbackURL), 401, "unauthorized_client", "Client failed validation"},
			{"missing redirect_uri", strings.TrimSuffix(codeBody(app.Secret, code, ""), "&redirect_uri="), 400, "invalid_request", "A redirect URI must be provided"},
			{"other redirect_uri", codeBody(app.Secret, code, callbackURL+"/"), 400, "invalid_request", "The given redirect_url was not valid"},
			{"unknown code", codeBody(app.Secret, "odac_unknown", callbackURL), 400, "invalid_grant", "The provided authorization grant failed verification"},
			{"unknown refresh token", refreshBody(app.Secret, "odrt_unknown", callbackURL), 400, "invalid_request", "The given refresh token is invalid"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				wantTokenError(t, postToken(t, ts.URL, formType, c.body), c.status, c.code, c.desc)
			})
		}
		// The failed attempts did not consume the code.
		wantTokens(t, postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL)))
	})

	t.Run("code reuse is rejected and its tokens revoked", func(t *testing.T) {
		code := approve(t, member, app, "vso.work", "reuse")
		first := postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL))
		wantTokens(t, first)
		if status, _, _ := callAPI(t, ts.URL, "/_apis/profile/profiles/me", first.str("access_token")); status != http.StatusOK {
			t.Fatalf("first access token: %d", status)
		}
		if status, _, _ := callAPI(t, ts.URL, "/_apis/profile/profiles/me", code); status != http.StatusUnauthorized {
			t.Errorf("an authorization code used as a Bearer token answered %d, want 401", status)
		}
		second := postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL))
		wantTokenError(t, second, http.StatusBadRequest, "invalid_request", "An access token has already been issued")
		if status, _, _ := callAPI(t, ts.URL, "/_apis/profile/profiles/me", first.str("access_token")); status != http.StatusUnauthorized {
			t.Errorf("access token from a reused code answered %d, want 401", status)
		}
		r := postToken(t, ts.URL, formType, refreshBody(app.Secret, first.str("refresh_token"), callbackURL))
		wantTokenError(t, r, http.StatusBadRequest, "invalid_grant", "No authorization grant was found")
	})

	t.Run("concurrent refreshes of one refresh token have one winner", func(t *testing.T) {
		code := approve(t, member, app, "vso.work", "race")
		pair := postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL))
		wantTokens(t, pair)
		const n = 8
		var wg sync.WaitGroup
		results := make([]tokenResult, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = postToken(t, ts.URL, formType, refreshBody(app.Secret, pair.str("refresh_token"), callbackURL))
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, r := range results {
			switch {
			case r.Status == http.StatusOK:
				wins++
			case r.Status == http.StatusBadRequest:
			default:
				t.Errorf("unexpected answer %d %v", r.Status, r.Raw)
			}
		}
		if wins != 1 {
			t.Errorf("%d of %d concurrent refreshes succeeded, want exactly 1", wins, n)
		}
	})

	t.Run("a valid token lacking the scope gets 403", func(t *testing.T) {
		// vso.project includes nothing, so it does not satisfy vso.profile.
		narrow := registerThroughDashboard(t, admin, "vso.project")
		code := approve(t, member, narrow, "vso.project", "p")
		pair := postToken(t, ts.URL, formType, codeBody(narrow.Secret, code, callbackURL))
		wantTokens(t, pair)
		status, h, _ := callAPI(t, ts.URL, profilePath, pair.str("access_token"))
		if status != http.StatusForbidden || !strings.Contains(h.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Errorf("profile with vso.project: %d %q, want 403 insufficient_scope", status, h.Get("WWW-Authenticate"))
		}
		// vso.work includes vso.hooks_write → vso.hooks → vso.profile: allowed.
		status, _, _ = callAPI(t, ts.URL, profilePath, workToken(t, ts, member, app))
		if status != http.StatusOK {
			t.Errorf("profile with vso.work (includes vso.profile): %d, want 200", status)
		}
	})

	t.Run("members cannot open the dashboard", func(t *testing.T) {
		for _, p := range []string{"/admin/apps", "/admin/apps/new", "/admin/apps/" + app.ClientID} {
			if r := member.get(p); r.Status != http.StatusForbidden {
				t.Errorf("member GET %s: %d, want 403", p, r.Status)
			}
		}
		r := member.postForm("/admin/apps", url.Values{"_csrf": {member.csrf("/")}, "name": {"x"}})
		if r.Status != http.StatusForbidden {
			t.Errorf("member POST /admin/apps: %d, want 403", r.Status)
		}
	})
}

// workToken returns a fresh access token for app with only vso.work.
func workToken(t *testing.T, ts *testServer, member *agent, app registeredApp) string {
	t.Helper()
	code := approve(t, member, app, "vso.work", "w")
	pair := postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL))
	wantTokens(t, pair)
	return pair.str("access_token")
}
