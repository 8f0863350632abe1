package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/pat"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// Personal access tokens, over real HTTP against the real
// server: created on the profile page, used as Bearer and Basic on the
// REST APIs, refused on the very next request once revoked, leaked,
// expired, rule-matched or their user is disabled.

var patNewRE = regexp.MustCompile(`data-testid="new-token">([^<]+)<`)

// patCreate creates a token through /profile/tokens and returns it.
func patCreate(t *testing.T, a *agent, form url.Values) (string, response) {
	t.Helper()
	form.Set("_csrf", a.csrf("/profile/tokens"))
	r := a.postForm("/profile/tokens", form)
	m := patNewRE.FindStringSubmatch(r.Body)
	if m == nil {
		return "", r
	}
	return m[1], r
}

// patCall calls path with the Authorization header value auth.
func patCall(t *testing.T, ts *testServer, method, path, auth string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, ts.URL+path, rd)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func basic(user, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))
}

func TestPATProfileAndUse(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)

	tok, r := patCreate(t, bobA, url.Values{"name": {"ci script"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
	if tok == "" || !pat.Valid(tok) {
		t.Fatalf("create: %d, no valid token shown: %s", r.Status, lcText(r.Body))
	}
	if strings.Contains(bobA.get("/profile/tokens").Body, tok) {
		t.Error("the token is shown again after creation")
	}

	t.Run("Bearer and Basic with any user name", func(t *testing.T) {
		for _, auth := range []string{"Bearer " + tok, basic("", tok), basic("whoever", tok)} {
			status, body := patCall(t, ts, http.MethodGet, profilePath, auth, nil)
			if status != http.StatusOK || body["id"] != bob.ID {
				t.Errorf("%s…: %d %v, want 200 for bob", auth[:12], status, body)
			}
		}
	})
	t.Run("a typo is refused without a lookup, an unknown token too", func(t *testing.T) {
		typo := tok[:10] + string(rune(tok[10]^1)) + tok[11:]
		for _, bad := range []string{typo, pat.Generate(), tok + "x"} {
			saCall(t, ts, profilePath, bad, http.StatusUnauthorized, "", "bad token")
		}
	})
	t.Run("same scope rules as OAuth tokens", func(t *testing.T) {
		saCall(t, ts, "/_apis/tokenadmin/authorizations", tok, http.StatusForbidden, "vso.tokenadministration", "PAT without the scope")
	})
	t.Run("the list shows name, scopes, expiry and last use", func(t *testing.T) {
		deadline := time.Now().Add(saUsageWait)
		for {
			page := lcText(bobA.get("/profile/tokens").Body)
			if strings.Contains(page, "ci script") && strings.Contains(page, "vso.profile") && strings.Contains(page, "in 29 days") &&
				strings.Contains(page, "from 127.0.0.1") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("token list: %s", page)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("third-party OAuth off does not touch PATs", func(t *testing.T) {
		r := rootA.postForm("/admin/settings/third-party-oauth", url.Values{"_csrf": {rootA.csrf("/admin/settings")}, "value": {"off"}})
		if r.Status >= 400 {
			t.Fatalf("policy off: %d", r.Status)
		}
		saCall(t, ts, profilePath, tok, http.StatusOK, "", "PAT with OAuth off")
		r = rootA.postForm("/admin/settings/third-party-oauth", url.Values{"_csrf": {rootA.csrf("/admin/settings")}, "value": {"on"}})
		if r.Status >= 400 {
			t.Fatalf("policy on: %d", r.Status)
		}
	})
	t.Run("validate", func(t *testing.T) {
		status, body := patCall(t, ts, http.MethodGet, "/_apis/tokens/pats/validate", "Bearer "+tok, nil)
		if status != http.StatusOK || body["active"] != true || body["username"] != "bob" || body["scope"] != "vso.profile" {
			t.Errorf("validate: %d %v", status, body)
		}
	})
	t.Run("revoked on the profile page: refused on the next request", func(t *testing.T) {
		other, _ := patCreate(t, bobA, url.Values{"name": {"other"}, "expiry": {"60"}, "access": {"full"}})
		saCall(t, ts, profilePath, other, http.StatusOK, "", "full access")
		if st, body := patCall(t, ts, http.MethodGet, "/_apis/tokenadmin/authorizations", "Bearer "+other, nil); st != http.StatusForbidden {
			t.Errorf("full access is not admin: %d %v", st, body)
		}
		id := patIDOf(t, ts, bob.ID, "other")
		path := "/profile/tokens/" + id + "/revoke"
		r := bobA.postForm(path, url.Values{"_csrf": {bobA.csrf(path)}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.Status)
		}
		saCall(t, ts, profilePath, other, http.StatusUnauthorized, "", "revoked PAT")
		saCall(t, ts, profilePath, tok, http.StatusOK, "", "the other PAT")
	})
	t.Run("narrowed scopes bite on the next request", func(t *testing.T) {
		wide, _ := patCreate(t, bobA, url.Values{"name": {"wide"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile", "vso.graph"}})
		saCall(t, ts, profilePath, wide, http.StatusOK, "", "wide")
		id := patIDOf(t, ts, bob.ID, "wide")
		path := "/profile/tokens/" + id + "/edit"
		r := bobA.postForm(path, url.Values{"_csrf": {bobA.csrf(path)}, "name": {"narrow"}, "access": {"custom"}, "scope": {"vso.graph"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("edit: %d %s", r.Status, lcText(r.Body))
		}
		saCall(t, ts, profilePath, wide, http.StatusForbidden, "vso.profile", "narrowed")
		r = bobA.postForm(path, url.Values{"_csrf": {bobA.csrf(path)}, "name": {"narrow"}, "access": {"custom"}, "scope": {"vso.graph", "vso.code"}})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(lcText(r.Body), "only be narrowed") {
			t.Errorf("widening: %d %s", r.Status, lcText(r.Body))
		}
	})
	t.Run("disabling the user stops the token on the next request", func(t *testing.T) {
		if _, err := ts.App.Admin.SetDisabled(context.Background(), bob.ID, true); err != nil {
			t.Fatal(err)
		}
		saCall(t, ts, profilePath, tok, http.StatusUnauthorized, "", "disabled user's PAT")
		if _, err := ts.App.Admin.SetDisabled(context.Background(), bob.ID, false); err != nil {
			t.Fatal(err)
		}
		saCall(t, ts, profilePath, tok, http.StatusOK, "", "enabled again")
	})
}

// patIDOf finds the id of the user's token named name.
func patIDOf(t *testing.T, ts *testServer, userID, name string) string {
	t.Helper()
	page, err := ts.App.PATs.List(context.Background(), domain.PATFilter{UserID: userID, Query: name})
	if err != nil || len(page.Tokens) == 0 {
		t.Fatalf("token %q of %s: %v %v", name, userID, page, err)
	}
	return page.Tokens[0].ID
}

func TestPATLifecycleAPIAndPolicies(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	tools := registerThroughDashboard(t, rootA, "vso.pats_manage", "vso.profile", "vso.tokenadministration")
	bobOAuth := saPair(t, ts, bobA, tools, "vso.pats_manage vso.profile", "bob-pats")
	rootOAuth := saPair(t, ts, rootA, tools, "vso.tokenadministration", "root-admin")
	ctx := context.Background()

	// Create through the Lifecycle API: PatTokenResult with the token once.
	status, body := patCall(t, ts, http.MethodPost, "/_apis/tokens/pats?api-version=7.1-preview.1", "Bearer "+bobOAuth.Access,
		map[string]any{"displayName": "api token", "scope": "vso.profile", "validTo": time.Now().AddDate(0, 0, 20).UTC().Format(time.RFC3339), "allOrgs": false})
	pt, _ := body["patToken"].(map[string]any)
	if status != http.StatusOK || pt == nil || body["patTokenError"] != "none" {
		t.Fatalf("create: %d %v", status, body)
	}
	tok, _ := pt["token"].(string)
	id, _ := pt["authorizationId"].(string)
	saCall(t, ts, profilePath, tok, http.StatusOK, "", "API-made PAT")

	// A PAT may not manage PATs.
	if status, body := patCall(t, ts, http.MethodGet, "/_apis/tokens/pats", "Bearer "+tok, nil); status != http.StatusForbidden {
		t.Errorf("PAT on the Lifecycle API: %d %v, want 403", status, body)
	}
	// List and get.
	status, body = patCall(t, ts, http.MethodGet, "/_apis/tokens/pats?displayFilterOption=all&$top=10", "Bearer "+bobOAuth.Access, nil)
	if list, _ := body["patTokens"].([]any); status != http.StatusOK || len(list) != 1 {
		t.Errorf("list: %d %v", status, body)
	}
	status, body = patCall(t, ts, http.MethodGet, "/_apis/tokens/pats?authorizationId="+id, "Bearer "+bobOAuth.Access, nil)
	if pt, _ := body["patToken"].(map[string]any); status != http.StatusOK || pt["displayName"] != "api token" || pt["token"] != nil {
		t.Errorf("get: %d %v", status, body)
	}

	t.Run("policies name themselves", func(t *testing.T) {
		if err := ts.App.PATs.SetFullScope(ctx, "deny"); err != nil {
			t.Fatal(err)
		}
		status, body := patCall(t, ts, http.MethodPost, "/_apis/tokens/pats", "Bearer "+bobOAuth.Access, map[string]any{"displayName": "full", "scope": "app_token"})
		if status != http.StatusBadRequest || body["patToken"] != nil || body["patTokenError"] != "fullScopePatPolicyViolation" {
			t.Errorf("full scope denied: %d %v", status, body)
		}
		if err := ts.App.PATs.SetMaxLifespan(ctx, 7); err != nil {
			t.Fatal(err)
		}
		status, body = patCall(t, ts, http.MethodPost, "/_apis/tokens/pats", "Bearer "+bobOAuth.Access,
			map[string]any{"displayName": "long", "scope": "vso.profile", "validTo": time.Now().AddDate(0, 0, 8).UTC().Format(time.RFC3339)})
		if status != http.StatusBadRequest || body["patTokenError"] != "patLifespanPolicyViolation" || !strings.Contains(body["message"].(string), "pat-max-lifespan") {
			t.Errorf("lifespan: %d %v", status, body)
		}
		_, r := patCreate(t, bobA, url.Values{"name": {"long"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(lcText(r.Body), "pat-max-lifespan") {
			t.Errorf("profile page under the lifespan policy: %d %s", r.Status, lcText(r.Body))
		}
		// The existing 20-day token now breaks the policy: listed, not revoked.
		list, n, err := ts.App.PATs.Violations(ctx)
		if err != nil || n != 1 || list[0].PAT.ID != id || list[0].Policy != "pat-max-lifespan" {
			t.Errorf("violations: %v %d %v", list, n, err)
		}
		saCall(t, ts, profilePath, tok, http.StatusOK, "", "tightened policy revokes nothing silently")
		_ = ts.App.PATs.SetMaxLifespan(ctx, 0)
		_ = ts.App.PATs.SetFullScope(ctx, "allow")
	})

	t.Run("Token Admin API lists by descriptor and revokes with the array body", func(t *testing.T) {
		status, body := patCall(t, ts, http.MethodGet, "/_apis/tokenadmin/personalaccesstokens/"+domain.SubjectDescriptor(bob.ID), "Bearer "+rootOAuth.Access, nil)
		if list, _ := body["value"].([]any); status != http.StatusOK || len(list) != 1 {
			t.Fatalf("token admin list: %d %v", status, body)
		}
		status, body = patCall(t, ts, http.MethodPost, "/_apis/tokenadmin/revocations", "Bearer "+rootOAuth.Access, []map[string]string{{"authorizationId": id}})
		if status != http.StatusNoContent {
			t.Fatalf("revocations: %d %v", status, body)
		}
		saCall(t, ts, profilePath, tok, http.StatusUnauthorized, "", "PAT revoked by the Token Admin API")
	})

	t.Run("revocation rule: PATs and OAuth tokens issued before, not after", func(t *testing.T) {
		before, _ := patCreate(t, bobA, url.Values{"name": {"before"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
		full, _ := patCreate(t, bobA, url.Values{"name": {"full"}, "expiry": {"30"}, "access": {"full"}})
		unrelated, _ := patCreate(t, bobA, url.Values{"name": {"code"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.graph"}})
		time.Sleep(1100 * time.Millisecond) // iat has second precision
		status, body := patCall(t, ts, http.MethodPost, "/_apis/tokenadmin/revocationrules", "Bearer "+rootOAuth.Access,
			map[string]any{"scopes": "vso.profile", "createdBefore": time.Now().UTC().Format(time.RFC3339)})
		if status != http.StatusNoContent {
			t.Fatalf("rule: %d %v", status, body)
		}
		saCall(t, ts, profilePath, before, http.StatusUnauthorized, "", "PAT issued before the rule")
		saCall(t, ts, profilePath, full, http.StatusUnauthorized, "", "full-access PAT issued before the rule")
		saCall(t, ts, profilePath, bobOAuth.Access, http.StatusUnauthorized, "", "OAuth access token issued before the rule")
		if st, _ := patCall(t, ts, http.MethodGet, "/_apis/tokens/pats", "Bearer "+unrelated, nil); st != http.StatusForbidden {
			t.Errorf("PAT without the rule's scope: %d, want 403 (not 401: alive, just not allowed here)", st)
		}
		// The refresh token issued before the rule is refused too.
		r := postToken(t, ts.URL, formType, refreshBody(tools.Secret, bobOAuth.Refresh, callbackURL))
		if r.Status == http.StatusOK {
			t.Errorf("refresh token issued before the rule: %d %v", r.Status, r.Raw)
		}
		after, _ := patCreate(t, bobA, url.Values{"name": {"after"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
		saCall(t, ts, profilePath, after, http.StatusOK, "", "PAT issued after the rule")
		again := saPair(t, ts, bobA, tools, "vso.pats_manage vso.profile", "bob-again")
		saCall(t, ts, profilePath, again.Access, http.StatusOK, "", "OAuth token issued after the rule")
	})

	t.Run("leaked tokens: revoked, 202 whatever, owner told", func(t *testing.T) {
		leak, _ := patCreate(t, bobA, url.Values{"name": {"leaky"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.code"}})
		_, scanner, err := ts.App.PATs.CreateScanner(ctx, "github")
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := patCall(t, ts, http.MethodPost, "/_apis/tokens/pats/leaked", "Bearer "+leak, map[string]any{"tokens": []string{leak}}); st != http.StatusUnauthorized {
			t.Errorf("leaked endpoint with a PAT: %d, want 401", st)
		}
		status, body := patCall(t, ts, http.MethodPost, "/_apis/tokens/pats/leaked", "Bearer "+scanner,
			map[string]any{"tokens": []string{"not a token", pat.Generate(), leak}})
		if status != http.StatusAccepted || body["received"] != float64(3) {
			t.Fatalf("leaked: %d %v", status, body)
		}
		status, _ = patCall(t, ts, http.MethodGet, "/_apis/tokens/pats/validate", "Bearer "+leak, nil)
		if status != http.StatusUnauthorized {
			t.Errorf("leaked PAT: %d, want 401", status)
		}
		page := lcText(bobA.get("/profile/tokens").Body)
		if !strings.Contains(page, "Found exposed and revoked: leaky") {
			t.Errorf("no leaked banner: %s", page)
		}
		many := make([]string, pat.MaxLeaked+1)
		if st, _ := patCall(t, ts, http.MethodPost, "/_apis/tokens/pats/leaked", "Bearer "+scanner, map[string]any{"tokens": many}); st != http.StatusBadRequest {
			t.Errorf("1001 strings: %d, want 400", st)
		}
	})
}

func TestPATExpiry(t *testing.T) {
	t.Parallel()
	clock := newTestClock(time.Now().UTC())
	ts := newTestServerWith(t, func(c *server.Config) { c.Now = clock.Now })
	_, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	tok, r := patCreate(t, bobA, url.Values{"name": {"short"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
	if tok == "" {
		t.Fatalf("create: %d %s", r.Status, lcText(r.Body))
	}
	saCall(t, ts, profilePath, tok, http.StatusOK, "", "fresh")
	clock.Add(30*24*time.Hour + time.Second)
	saCall(t, ts, profilePath, tok, http.StatusUnauthorized, "", "expired on its very next request")
	bobA = ts.newAgent(t) // the session ended with the month
	bobA.signIn("bob", saPassword)
	if page := lcText(bobA.get("/profile/tokens").Body); !strings.Contains(page, "expired today") {
		t.Errorf("list after expiry: %s", page)
	}
}

// patClock is a settable clock for the server.
type patClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock(t time.Time) *patClock { return &patClock{now: t} }

func (c *patClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *patClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// A resource server introspects a personal access token (RFC 7662)
// through the introspection endpoint: active with its scope and user,
// inactive on the very next call once revoked.
func TestPATIntrospection(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t, "RS256")
	tok, r := patCreate(t, f.alice, url.Values{"name": {"rs"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
	if tok == "" {
		t.Fatalf("create: %d %s", r.Status, lcText(r.Body))
	}
	in := f.introspect(t, tok)
	if in["active"] != true || in["scope"] != "vso.profile" || in["username"] != "alice" || in["token_type"] != "personal_access_token" {
		t.Errorf("introspection of a live PAT: %v", in)
	}
	typo := tok[:len(tok)-1] + string(rune(tok[len(tok)-1]^1))
	if in := f.introspect(t, typo); in["active"] != false || len(in) != 1 {
		t.Errorf("introspection of a typo: %v", in)
	}
	u, _ := f.ts.App.Admin.UserByUsername(context.Background(), "alice")
	id := patIDOf(t, f.ts, u.ID, "rs")
	if _, err := f.ts.App.PATs.Revoke(context.Background(), id, ""); err != nil {
		t.Fatal(err)
	}
	if in := f.introspect(t, tok); in["active"] != false || len(in) != 1 {
		t.Errorf("introspection of a revoked PAT: %v", in)
	}
}

// The Lifecycle API also answers a dashboard session (the service's own
// pages call it): GET as is, changes with the CSRF token in X-CSRF-Token.
func TestPATLifecycleAPISession(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	send := func(method, path, csrf string, body string) response {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		return bobA.do(req)
	}
	create := `{"displayName":"from the page","scope":"vso.profile"}`
	if r := send(http.MethodPost, "/_apis/tokens/pats", "", create); r.Status != http.StatusForbidden {
		t.Errorf("POST without the CSRF token: %d %s", r.Status, r.Body)
	}
	r := send(http.MethodPost, "/_apis/tokens/pats", bobA.csrf("/profile/tokens"), create)
	var res map[string]any
	_ = json.Unmarshal([]byte(r.Body), &res)
	pt, _ := res["patToken"].(map[string]any)
	if r.Status != http.StatusOK || pt == nil || pt["token"] == nil {
		t.Fatalf("POST with the session: %d %s", r.Status, r.Body)
	}
	saCall(t, ts, profilePath, pt["token"].(string), http.StatusOK, "", "the token made through the session")
	r = send(http.MethodGet, "/_apis/tokens/pats", "", "")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "from the page") {
		t.Errorf("GET with the session: %d %s", r.Status, r.Body)
	}
	// No session, no header: the Bearer challenge.
	if st, _ := patCall(t, ts, http.MethodGet, "/_apis/tokens/pats", "", nil); st != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", st)
	}
}
