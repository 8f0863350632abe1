package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDirectorySignInBrowser: in Chromium, a person opens an app's
// authorization link, is sent to sign in, clicks the button of an
// upstream OpenID Connect provider (a real oidc-provider), comes back
// signed in with an account made just in time, and approves the app.
func TestDirectorySignInBrowser(t *testing.T) {
	t.Parallel()
	e := newDirEnv(t, nil)
	ts := e.ts
	op := startUpstreamOP(t, ts.URL+"/signin/corp/callback")
	op.control(t, "/test/next?sub=sub-ben")
	r := e.root.postForm("/admin/settings/connectors", url.Values{"_csrf": {e.root.csrf("/admin/settings/connectors")},
		"type": {"oidc"}, "name": {"corp"}, "issuer": {op.Issuer}, "client_id": {"oauthdesk"}, "secret": {"upstream-client-secret"},
		"scopes": {"openid profile email groups"}, "default_role": {"member"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("add connector: %d", r.Status)
	}
	// An app with the browser test's callback.
	form := url.Values{
		"_csrf": {e.root.csrf("/admin/apps/new")}, "name": {"Fabrikam Boards"}, "company": {"Fabrikam, Inc."},
		"description": {"Shows your work items."}, "company_url": {"https://fabrikam.example"},
		"app_url": {"https://fabrikam.example/boards"}, "callback_url": {localCallbackURL},
		"terms_url": {"https://fabrikam.example/terms"}, "privacy_url": {"https://fabrikam.example/privacy"}, "scopes": {"vso.work"},
	}
	reg := e.root.postForm("/admin/apps", form)
	if reg.Status != http.StatusSeeOther {
		t.Fatalf("register: %d", reg.Status)
	}
	clientID := strings.TrimPrefix(reg.Location(), "/admin/apps/")
	m := newSecretRE.FindStringSubmatch(e.root.get(reg.Location()).Body)
	if m == nil {
		t.Fatal("no client secret shown after registration")
	}

	b := newBrowser(t)
	navigate(t, b, ts.URL+authorizeURL(clientID, "vso.work", "B1", localCallbackURL))
	if u := currentURL(t, b); !strings.Contains(u, "/signin") {
		t.Fatalf("signed out, the authorization link shows %s; want the sign-in page", u)
	}
	if got := textOf(t, b, `[data-testid="signin-with-corp"]`); got != "Sign in with corp" {
		t.Fatalf("connector button reads %q", got)
	}
	if status := clickAndWait(t, b, `[data-testid="signin-with-corp"]`); status != 200 {
		t.Fatalf("after the upstream sign-in: status %d", status)
	}
	if u := currentURL(t, b); !strings.HasPrefix(u, ts.URL+"/oauth2/authorize?") {
		t.Fatalf("after the upstream sign-in the browser is at %s, want back on the approval page", u)
	}
	if got := textOf(t, b, `[data-testid="signed-in-as"]`); got != "Ben Upstream (member)" {
		t.Errorf("header shows %q, want %q", got, "Ben Upstream (member)")
	}
	cb := acceptAndCatchCallback(t, b, ts.URL)
	if cb.Query().Get("state") != "B1" || cb.Query().Get("code") == "" {
		t.Fatalf("callback %s: want a code and state B1", cb)
	}
	pair := postToken(t, ts.URL, formType, codeBody(m[1], cb.Query().Get("code"), localCallbackURL))
	if pair.Status != http.StatusOK {
		t.Fatalf("token: %d %v", pair.Status, pair.Raw)
	}
}
