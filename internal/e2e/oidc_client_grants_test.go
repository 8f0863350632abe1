package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// The app's own grants (client_credentials, RFC 6749 §4.4): recorded,
// shown on the app page (admin and owner), revoked there one by one or all
// at once by switching the grant type off — and then refused on the next
// request at /_apis and at introspection.
func TestOIDCClientCredentialsGrants(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t, "")
	ctx := context.Background()
	root := f.ts.newAgent(t)
	root.signIn("root", "root-password-1")
	page := "/admin/apps/" + f.clientID
	if r := root.get(page); !strings.Contains(r.Body, `data-testid="client-grants-empty"`) || !strings.Contains(r.Body, "Client credentials are <strong>on</strong>") {
		t.Fatalf("app page before any token: want the empty state and the switch on\n%.3000s", r.Body)
	}

	cc := clientcredentials.Config{ClientID: f.clientID, ClientSecret: f.secret, TokenURL: f.provider.Endpoint().TokenURL, Scopes: []string{"vso.work"}}
	tok1, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := cc.Token(ctx) // the same scope set: the same grant, two tokens
	if err != nil {
		t.Fatal(err)
	}
	cc2 := cc
	cc2.Scopes = []string{"vso.profile", "vso.work"}
	tok3, err := cc2.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	apiStatus := func(tok string) int {
		st, _, _ := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", tok)
		return st
	}
	for _, tok := range []string{tok1.AccessToken, tok2.AccessToken, tok3.AccessToken} {
		if st := apiStatus(tok); st == http.StatusUnauthorized || st >= 500 {
			t.Fatalf("/_apis with a live app token: %d", st)
		}
	}
	r := root.get(page)
	if n := strings.Count(r.Body, `data-testid="client-grant-cc-`); n != 2 {
		t.Fatalf("app page lists %d of the app's own grants, want 2 (one per scope set)\n%.4000s", n, r.Body)
	}
	if !strings.Contains(r.Body, "2 live grants") || !strings.Contains(r.Body, "<code class=\"wrap-anywhere\">vso.profile vso.work</code>") {
		t.Errorf("app page: want 2 live grants and the scope set shown")
	}
	// The scope inventory counts them as the apps' own grants.
	if r := root.get("/admin/scopes"); !strings.Contains(r.Body, `data-testid="scope-app-grants">2 own grants`) ||
		!strings.Contains(r.Body, `data-testid="scope-app-grants">1 own grant,`) {
		t.Errorf("scope inventory: want vso.work held by 2 own grants and vso.profile by 1")
	}
	// The owner (root registered it) sees the same section on the owner's page.
	if r := root.get("/profile/apps/" + f.clientID); strings.Count(r.Body, `data-testid="client-grant-cc-`) != 2 {
		t.Errorf("owner's page: want the 2 grants listed")
	}

	// Revoke the vso.work grant: both of its tokens die, the other lives.
	grant := grantIDFor(t, r.Body, "vso.work")
	// Through its confirmation, which says what revoking does.
	action, form := cpConfirm(t, root, page+"/client-grants/"+grant+"/revoke", "Every token the app got with this grant is refused from its next request")
	rr := root.postForm(action, form)
	if rr.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %.300s", rr.Status, rr.Body)
	}
	for _, tok := range []string{tok1.AccessToken, tok2.AccessToken} {
		if st := apiStatus(tok); st != http.StatusUnauthorized {
			t.Errorf("/_apis with a token of the revoked grant: %d, want 401", st)
		}
		if in := f.introspect(t, tok); in["active"] != false {
			t.Errorf("introspection of a token of the revoked grant: %v", in)
		}
	}
	if st := apiStatus(tok3.AccessToken); st == http.StatusUnauthorized {
		t.Errorf("the other grant's token was refused too")
	}
	if r := root.get(page); !strings.Contains(r.Body, "1 live grant.") || !strings.Contains(r.Body, "revoked ") {
		t.Errorf("app page after revoking one grant: want 1 live and a revoked row")
	}
	// The app may ask again (client credentials are still on): a new grant
	// whose token works, never the revoked grant's id reused.
	tok4, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := apiStatus(tok4.AccessToken); st == http.StatusUnauthorized {
		t.Errorf("a new token after revoking the grant: refused")
	}
	if r := root.get(page); !strings.Contains(r.Body, "2 live grants") {
		t.Errorf("app page after a new token: want 2 live grants again")
	}

	// Switching client credentials off revokes the rest and refuses new ones.
	action, form = cpConfirm(t, root, page+"/client-credentials?enabled=off", "refuses the app's client_credentials requests (unauthorized_client)")
	if form.Get("enabled") != "off" {
		t.Fatalf("the switch-off confirmation posts %v", form)
	}
	rr = root.postForm(action, form)
	if rr.Status != http.StatusSeeOther {
		t.Fatalf("switch off: %d %.300s", rr.Status, rr.Body)
	}
	for _, tok := range []string{tok3.AccessToken, tok4.AccessToken} {
		if st := apiStatus(tok); st != http.StatusUnauthorized {
			t.Errorf("/_apis after switching client credentials off: %d, want 401", st)
		}
	}
	if in := f.introspect(t, tok3.AccessToken); in["active"] != false {
		t.Errorf("introspection after switching off: %v", in)
	}
	if _, err := cc.Token(ctx); err == nil || !strings.Contains(err.Error(), "unauthorized_client") {
		t.Errorf("a new client credentials token after switching off: %v, want unauthorized_client", err)
	}
	if r := root.get(page); !strings.Contains(r.Body, "Client credentials are <strong>off</strong>") || strings.Contains(r.Body, `data-testid="client-grant-revoke"`) {
		t.Errorf("app page after switching off: want off and no live grant")
	}
	if r := root.get("/admin/scopes"); strings.Contains(r.Body, `data-testid="scope-app-grants"`) {
		t.Errorf("scope inventory after switching off: revoked grants still counted")
	}
	if r := root.get("/admin/audit"); !strings.Contains(r.Body, "client_grant.revoke") {
		t.Errorf("audit log: want client_grant.revoke")
	}
	// The owner's page cannot widen the app by the switch (the registration
	// form, with its review, does that); the admin's can.
	own := "/profile/apps/" + f.clientID
	root.postForm(own+"/client-credentials", url.Values{"_csrf": {root.csrf(own)}, "enabled": {"on"}})
	if _, err := cc.Token(ctx); err == nil {
		t.Errorf("switched on from the owner's page")
	}
	// On again: a new grant.
	root.postForm(page+"/client-credentials", url.Values{"_csrf": {root.csrf(page)}, "enabled": {"on"}})
	if _, err := cc.Token(ctx); err != nil {
		t.Errorf("after switching on again: %v", err)
	}
}

// grantIDFor finds the id of the grant row whose scopes are scopes.
func grantIDFor(t *testing.T, body, scopes string) string {
	t.Helper()
	for _, part := range strings.Split(body, `data-testid="client-grant-cc-`)[1:] {
		id := "cc-" + part[:strings.Index(part, `"`)]
		row := part[:strings.Index(part, "</tr>")]
		if strings.Contains(row, ">"+scopes+"</code>") {
			return id
		}
	}
	t.Fatalf("no grant row for %q", scopes)
	return ""
}
