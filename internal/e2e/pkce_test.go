package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func pkceURL(app registeredApp, state, challenge, method string) string {
	u := authorizeURL(app.ClientID, "vso.work", state, callbackURL)
	if challenge != "" {
		u += "&code_challenge=" + url.QueryEscape(challenge)
	}
	if method != "" {
		u += "&code_challenge_method=" + method
	}
	return u
}

func withVerifier(body, verifier string) string {
	return body + "&code_verifier=" + url.QueryEscape(verifier)
}

// wantErrorRedirect checks that the authorization request at path sends
// the user agent back to the callback with ?error=name, the state and iss.
func wantErrorRedirect(t *testing.T, a *agent, ts *testServer, path, name string) {
	t.Helper()
	r := a.get(path)
	if r.Status != http.StatusFound {
		t.Fatalf("GET %s: status %d, want 302 to the callback; body %.200s", path, r.Status, r.Body)
	}
	u, _ := url.Parse(r.Location())
	if got := u.Scheme + "://" + u.Host + u.Path; got != callbackURL || u.Query().Get("error") != name || u.Query().Get("iss") != ts.URL {
		t.Errorf("redirect %s: want %s?error=%s&…&iss=%s", r.Location(), callbackURL, name, ts.URL)
	}
}

// rootAliceApp adds the administrator root and the member alice to ts,
// signs both in, and registers an app with scopes through root's
// dashboard: the start of most hardening tests.
func rootAliceApp(t *testing.T, ts *testServer, scopes ...string) (admin, alice *agent, app registeredApp) {
	t.Helper()
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	ts.addUser(t, "alice", domain.RoleMember, "alice-password-1")
	admin = ts.newAgent(t)
	admin.signIn("root", "root-password-1")
	app = registerThroughDashboard(t, admin, scopes...)
	alice = ts.newAgent(t)
	alice.signIn("alice", "alice-password-1")
	return admin, alice, app
}

// PKCE S256 (RFC 7636) beside the Azure DevOps contract: a code issued
// with a challenge needs its verifier; plain is refused; unchanged clients
// keep working; the authorization response carries iss (RFC 9207).
func TestPKCEAndIssuer(t *testing.T) {
	ts := newTestServer(t)
	_, alice, app := rootAliceApp(t, ts, "vso.work")

	verifier := strings.Repeat("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", 1)
	cb := decide(t, alice, pkceURL(app, "p1", s256(verifier), "S256"), "accept")
	code := cb.Query().Get("code")
	if code == "" || cb.Query().Get("state") != "p1" || cb.Query().Get("iss") != ts.URL {
		t.Fatalf("callback %s: want code, state=p1 and iss=%s", cb, ts.URL)
	}
	body := codeBody(app.Secret, code, callbackURL)
	wantTokenError(t, postToken(t, ts.URL, formType, body), http.StatusBadRequest, "invalid_grant",
		"The code_verifier does not match the code_challenge of the authorization request")
	wantTokenError(t, postToken(t, ts.URL, formType, withVerifier(body, strings.Repeat("x", 43))), http.StatusBadRequest, "invalid_grant",
		"The code_verifier does not match the code_challenge of the authorization request")
	// The failed attempts did not spend the code: the client's own exchange works.
	wantTokens(t, postToken(t, ts.URL, formType, withVerifier(body, verifier)))

	// plain, a missing method, a malformed challenge: back to the callback with invalid_request.
	wantErrorRedirect(t, alice, ts, pkceURL(app, "p2", verifier, "plain"), "invalid_request")
	wantErrorRedirect(t, alice, ts, pkceURL(app, "p3", s256(verifier), ""), "invalid_request")
	wantErrorRedirect(t, alice, ts, pkceURL(app, "p4", "short", "S256"), "invalid_request")

	// An unchanged client: no challenge, no verifier; a verifier for such a code is refused.
	cb = decide(t, alice, authorizeURL(app.ClientID, "vso.work", "plain-client", callbackURL), "accept")
	if cb.Query().Get("iss") != ts.URL {
		t.Errorf("callback of a client without PKCE lacks iss: %s", cb)
	}
	plainBody := codeBody(app.Secret, cb.Query().Get("code"), callbackURL)
	wantTokenError(t, postToken(t, ts.URL, formType, withVerifier(plainBody, verifier)), http.StatusBadRequest, "invalid_grant",
		"A code_verifier was sent but the authorization request had no code_challenge")
	cb = decide(t, alice, authorizeURL(app.ClientID, "vso.work", "plain-client-2", callbackURL), "accept")
	wantTokens(t, postToken(t, ts.URL, formType, codeBody(app.Secret, cb.Query().Get("code"), callbackURL)))
	// The denial carries iss too.
	if d := decide(t, alice, authorizeURL(app.ClientID, "vso.work", "deny", callbackURL), "deny"); d.Query().Get("iss") != ts.URL || d.Query().Get("error") != "AccessDenied" {
		t.Errorf("denial redirect %s: want error=AccessDenied and iss", d)
	}
}

// An app can require PKCE: the checkbox of the registration form, and
// --require-pkce on `app update` (and `app register`).
func TestRequirePKCE(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	ts.addUser(t, "alice", domain.RoleMember, "alice-password-1")
	admin := ts.newAgent(t)
	admin.signIn("root", "root-password-1")
	form := url.Values{
		"_csrf": {admin.csrf("/admin/apps/new")}, "name": {"Strict Boards"}, "company": {"Fabrikam, Inc."},
		"app_url": {"https://fabrikam.example/boards"}, "callback_url": {callbackURL}, "scopes": {"vso.work"},
		"require_pkce": {"on"},
	}
	r := admin.postForm("/admin/apps", form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("register with require_pkce: %d %.300s", r.Status, r.Body)
	}
	strict := registeredApp{ClientID: strings.TrimPrefix(r.Location(), "/admin/apps/")}
	page := admin.get(r.Location())
	strict.Secret = newSecretRE.FindStringSubmatch(page.Body)[1]
	if edit := admin.get("/admin/apps/" + strict.ClientID + "/edit"); !strings.Contains(edit.Body, `name="require_pkce" value="on" checked`) {
		t.Errorf("the edit form does not show Require PKCE checked")
	}
	alice := ts.newAgent(t)
	alice.signIn("alice", "alice-password-1")
	wantErrorRedirect(t, alice, ts, authorizeURL(strict.ClientID, "vso.work", "s", callbackURL), "invalid_request")
	verifier := strings.Repeat("v", 50)
	cb := decide(t, alice, pkceURL(strict, "s", s256(verifier), "S256"), "accept")
	wantTokens(t, postToken(t, ts.URL, formType, withVerifier(codeBody(strict.Secret, cb.Query().Get("code"), callbackURL), verifier)))

	// The CLI turns it on for another app, and off again.
	loose := registerThroughDashboard(t, admin, "vso.work")
	if r := alice.get(authorizeURL(loose.ClientID, "vso.work", "s", callbackURL)); r.Status != http.StatusOK {
		t.Fatalf("an app without the requirement: %d", r.Status)
	}
	mustSucceed(t, oauthdesk(t, cliRun{}, "app", "update", loose.ClientID, "--require-pkce", "--db", ts.DBPath, "--key-file", ts.App.KeyFile))
	wantErrorRedirect(t, alice, ts, authorizeURL(loose.ClientID, "vso.work", "s", callbackURL), "invalid_request")
	mustSucceed(t, oauthdesk(t, cliRun{}, "app", "update", loose.ClientID, "--require-pkce=false", "--db", ts.DBPath, "--key-file", ts.App.KeyFile))
	if r := alice.get(authorizeURL(loose.ClientID, "vso.work", "s", callbackURL)); r.Status != http.StatusOK {
		t.Errorf("after --require-pkce=false: %d, want the approval page", r.Status)
	}
}
