package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// TestBrowserMemberOwnApp goes as a member: register an app through
// /profile/apps/new, see its secret once, edit its callback URL, and
// delete it — and checks what a client sees after each step.
func TestBrowserMemberOwnApp(t *testing.T) {
	requireChromium(t)
	ts := newTestServer(t)
	ts.addUser(t, "bob", domain.RoleMember, lbBobPassword)
	ts.addUser(t, "carol", domain.RoleMember, "carol's long password")
	carol := ts.newAgent(t)
	carol.signIn("carol", "carol's long password")

	b := newBrowser(t)
	lbSignIn(t, b, ts, "bob", lbBobPassword, "/profile/apps")
	waitVisible(t, b, `[data-testid="my-apps-empty"]`)
	if status := clickAndWait(t, b, `[data-testid="my-apps-empty"] [data-testid="register-app"]`); status != http.StatusOK {
		t.Fatalf("registration form: %d", status)
	}
	if u := currentURL(t, b); u != ts.URL+"/profile/apps/new" {
		t.Fatalf("Register an app led to %s", u)
	}
	const name = "Bob's Wall Board"
	fill(t, b, `input[name="company"]`, "Bob & Co.")
	fill(t, b, `input[name="name"]`, name)
	fill(t, b, `textarea[name="description"]`, "Shows work items on the wall.")
	fill(t, b, `input[name="app_url"]`, "https://bob.example/board")
	fill(t, b, `input[name="callback_url"]`, callbackURL)
	if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`(() => { document.querySelectorAll('[data-testid="scope-picker"] details').forEach(d => d.open = true); return true })()`)); err != nil {
		t.Fatal(err)
	}
	click(t, b, `input[name="scopes"][value="vso.work"]`)
	screenshot(t, b, "owners-register-form.png")
	if status := clickAndWait(t, b, `[data-testid="register-submit"]`); status != http.StatusOK {
		t.Fatalf("after registering: %d", status)
	}
	settings := currentURL(t, b)
	if !strings.HasPrefix(settings, ts.URL+"/profile/apps/") {
		t.Fatalf("after registering bob is at %s, want his app's settings page", settings)
	}
	clientID := strings.TrimPrefix(settings, ts.URL+"/profile/apps/")
	secret := textOf(t, b, `[data-testid="new-secret"]`)
	if !strings.Contains(textOf(t, b, `[data-testid="new-secret-box"]`), "shown only this once") {
		t.Error("the secret box does not say it is shown once")
	}
	screenshot(t, b, "owners-secret-once.png")
	// Once: a reload no longer shows it.
	navigate(t, b, settings)
	waitVisible(t, b, `[data-testid="app-title"]`)
	if n := countOf(t, b, `[data-testid="new-secret"]`); n != 0 || lbPageContains(t, b, secret) {
		t.Fatal("the secret is shown again after a reload")
	}
	// The secret works: a user authorizes the app and its secret gets tokens.
	app := registeredApp{ClientID: clientID, Secret: secret}
	wantTokens(t, postToken(t, ts.URL, formType, codeBody(secret, approve(t, carol, app, "vso.work", "b1"), callbackURL)))

	// Edit the callback URL on the settings page.
	const newCallback = "https://bob.example/board/oauth/callback"
	// Settings is a tab of the app page: choose it.
	click(t, b, `[data-testid="tab-settings"]`)
	fill(t, b, `[data-testid="edit-section"] input[name="callback_url"]`, newCallback)
	screenshot(t, b, "owners-edit.png")
	if status := clickAndWait(t, b, `[data-testid="edit-section"] [data-testid="register-submit"]`); status != http.StatusOK {
		t.Fatalf("after saving: %d", status)
	}
	if got := textOf(t, b, `[data-testid="flash"]`); !strings.Contains(got, "Saved the new callback URL.") || !strings.Contains(got, "codes issued for the old one no longer work") {
		t.Errorf("flash after the edit: %q", got)
	}
	if got := valueOf(t, b, `[data-testid="edit-section"] input[name="callback_url"]`); got != newCallback {
		t.Errorf("the form shows callback %q after saving", got)
	}
	if a, _ := ts.App.Admin.App(context.Background(), clientID); a.App.CallbackURL != newCallback {
		t.Errorf("stored callback %q, want %q", a.App.CallbackURL, newCallback)
	}
	// Clients see it: the old redirect_uri is refused, the new one works.
	if r := carol.get(authorizeURL(clientID, "vso.work", "b2", callbackURL)); r.Status != http.StatusBadRequest {
		t.Errorf("authorize with the old callback: %d, want 400", r.Status)
	}
	code := approveAt(t, carol, clientID, "vso.work", newCallback)
	pair := postToken(t, ts.URL, formType, codeBody(secret, code, newCallback))
	wantTokens(t, pair)

	// Delete, typing the name.
	if status := clickAndWait(t, b, `[data-testid="delete-app"]`); status != http.StatusOK {
		t.Fatalf("delete confirmation: %d", status)
	}
	lbWantContains(t, "impact", textOf(t, b, `[data-testid="impact"]`), "1 active authorization of 1 user will be revoked.")
	fill(t, b, `[data-testid="confirm-input"]`, name)
	screenshot(t, b, "owners-delete.png")
	if status := clickAndWait(t, b, `[data-testid="confirm-submit"]`); status != http.StatusOK {
		t.Fatalf("after deleting: %d", status)
	}
	if u := currentURL(t, b); u != ts.URL+"/profile/apps" {
		t.Errorf("after deleting bob is at %s, want /profile/apps", u)
	}
	if got := textOf(t, b, `[data-testid="flash"]`); got != name+" was deleted; 1 authorization was revoked." {
		t.Errorf("flash reads %q", got)
	}
	waitVisible(t, b, `[data-testid="my-apps-empty"]`)
	if status := lbNavigateStatus(t, b, settings); status != http.StatusNotFound {
		t.Errorf("the deleted app's settings page: %d, want 404", status)
	}
	lbWantAPI(t, ts, pair.str("access_token"), http.StatusUnauthorized, "carol's token after the deletion")
}
