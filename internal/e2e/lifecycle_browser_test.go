package e2e

// The Lifecycle issue's browser Done-when, in Chromium: rotate a secret (the
// new value shown once, gone after a reload), revoke an authorization from
// the profile page and from the admin page, and delete an app with the typed
// confirmation. Each test starts from a working token pair minted over real
// HTTP, and proves with the token endpoint and the REST API that what the
// browser did is real.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

const (
	lbRootPassword  = "correct horse battery"
	lbBobPassword   = "bob's long password"
	lbCarolPassword = "carol's long password"
	lbAppName       = "Fabrikam Boards" // the name registerThroughDashboard gives
)

// lbFixture is a server with an admin (root) and a member (bob), an
// app registered through the dashboard, and an HTTP agent of each.
type lbFixture struct {
	ts         *testServer
	adminHTTP  *agent
	bobHTTP    *agent
	app        registeredApp
	appPageURL string
}

func lbNewFixture(t *testing.T) *lbFixture {
	t.Helper()
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, lbRootPassword)
	ts.addUser(t, "bob", domain.RoleMember, lbBobPassword)
	f := &lbFixture{ts: ts, adminHTTP: ts.newAgent(t), bobHTTP: ts.newAgent(t)}
	f.adminHTTP.signIn("root", lbRootPassword)
	f.bobHTTP.signIn("bob", lbBobPassword)
	f.app = registerThroughDashboard(t, f.adminHTTP, "vso.work", "vso.code_write")
	f.appPageURL = ts.URL + "/admin/apps/" + f.app.ClientID
	return f
}

// lbTokenPair has user approve app for scopes and exchanges the code with
// secret; it fails the test unless a working pair comes back.
func lbTokenPair(t *testing.T, ts *testServer, user *agent, app registeredApp, secret, scopes string) tokenResult {
	t.Helper()
	code := approve(t, user, app, scopes, "lifecycle")
	pair := postToken(t, ts.URL, formType, codeBody(secret, code, callbackURL))
	wantTokens(t, pair)
	lbWantAPI(t, ts, pair.str("access_token"), http.StatusOK, "a fresh access token")
	return pair
}

// lbWantAPI calls the profile API with token and checks the status.
func lbWantAPI(t *testing.T, ts *testServer, token string, want int, what string) {
	t.Helper()
	status, h, body := callAPI(t, ts.URL, profilePath, token)
	if status != want {
		t.Errorf("%s: profile API answered %d (WWW-Authenticate %q, body %v), want %d", what, status, h.Get("WWW-Authenticate"), body, want)
	}
}

// lbSignIn signs username in through the sign-in form of the browser
// and waits until the browser is back at returnTo.
func lbSignIn(t *testing.T, ctx context.Context, ts *testServer, username, password, returnTo string) {
	t.Helper()
	navigate(t, ctx, ts.URL+"/signin?return_to="+url.QueryEscape(returnTo))
	fill(t, ctx, `input[name="username"]`, username)
	fill(t, ctx, `input[name="password"]`, password)
	if status := clickAndWait(t, ctx, `[data-testid="signin-submit"]`); status != http.StatusOK {
		t.Fatalf("sign in as %s: status %d, want 200", username, status)
	}
	if u := currentURL(t, ctx); u != ts.URL+returnTo {
		t.Fatalf("after signing in %s is at %s, want %s", username, u, ts.URL+returnTo)
	}
}

// lbNavigateStatus is navigate that returns the HTTP status of the page.
func lbNavigateStatus(t *testing.T, ctx context.Context, u string) int {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(u))
	if err != nil {
		t.Fatalf("navigate to %s: %v", u, why(err))
	}
	if resp == nil {
		return 0
	}
	return int(resp.Status)
}

// lbPageContains reports whether the HTML of the page contains s anywhere,
// hidden or not.
func lbPageContains(t *testing.T, ctx context.Context, s string) bool {
	t.Helper()
	found, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.documentElement.outerHTML.includes("+jsString(s)+")"))
	if err != nil {
		t.Fatalf("search the page for %q: %v", s, why(err))
	}
	return found
}

// lbAuthorizationRow returns the selector of the authorization row of
// username on the app page (the row holds "(username)"), preferring an
// active row.
func lbAuthorizationRow(t *testing.T, ctx context.Context, username string) string {
	t.Helper()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const rows = [...document.querySelectorAll('[data-testid="authorization-row"]')]
			.filter(r => r.innerText.includes("(" + `+jsString(username)+` + ")"));
		const active = rows.find(r => r.querySelector('[data-testid="revoke-authorization"]'));
		const row = active || rows[0];
		return row ? row.dataset.authorizationId : "";
	})()`))
	if err != nil {
		t.Fatalf("find the authorization row of %s: %v", username, why(err))
	}
	if id == "" {
		t.Fatalf("no authorization row of %s on the app page", username)
	}
	return `[data-testid="authorization-row"][data-authorization-id="` + id + `"]`
}

// lbWantContains checks that text holds every one of wants.
func lbWantContains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s %q lacks %q", what, text, w)
		}
	}
}

// TestBrowserRotateSecret regenerates the primary secret from the app page:
// a confirmation first, then the new value shown once; the old secret and
// its tokens stop working, the new one works. Then it adds an alternative
// secret, the first step of a staged rotation.
func TestBrowserRotateSecret(t *testing.T) {
	f := lbNewFixture(t)
	ts, app := f.ts, f.app
	old := lbTokenPair(t, ts, f.bobHTTP, app, app.Secret, "vso.work")

	admin := newBrowser(t)
	lbSignIn(t, admin, ts, "root", lbRootPassword, "/admin/apps/"+app.ClientID)
	showTab(t, admin, "secrets")
	waitVisible(t, admin, `[data-testid="secret-row"][data-slot="primary"]`)
	if n := countOf(t, admin, `[data-testid="secret-row"]`); n != 1 {
		t.Errorf("%d secret rows before the rotation, want 1 (primary)", n)
	}
	if n := countOf(t, admin, `[data-testid="new-secret"]`); n != 0 {
		t.Errorf("the app page shows a secret before any rotation (%d)", n)
	}

	// The confirmation says what will happen before it happens.
	if status := clickAndWait(t, admin, `[data-testid="regenerate-primary"]`); status != http.StatusOK {
		t.Fatalf("regenerate confirmation: status %d", status)
	}
	if u := currentURL(t, admin); u != f.appPageURL+"/secrets/primary/regenerate" {
		t.Errorf("confirmation at %s", u)
	}
	confirm := textOf(t, admin, `[data-testid="confirm"]`)
	lbWantContains(t, "regenerate confirmation", confirm,
		"Regenerate the primary secret of "+lbAppName+"?",
		"A new secret is shown once.",
		"stops working now",
		"every access and refresh token minted with it stops working on its next request",
		"add an alternative secret instead")
	if got := textOf(t, admin, `[data-testid="impact"]`); !strings.Contains(got, "1 active authorization last refreshed with this secret") {
		t.Errorf("impact %q, want it to count bob's authorization, which last refreshed with the primary secret", got)
	}
	if got := textOf(t, admin, `[data-testid="confirm-submit"]`); got != "Regenerate secret" {
		t.Errorf("confirm button reads %q", got)
	}
	screenshot(t, admin, "lifecycle-regenerate-confirm.png")
	// Nothing happened yet: the old pair still works.
	lbWantAPI(t, ts, old.str("access_token"), http.StatusOK, "the old access token while the confirmation is shown")

	// Confirm: back on the app page, with the new value shown once.
	if status := clickAndWait(t, admin, `[data-testid="confirm-submit"]`); status != http.StatusOK {
		t.Fatalf("after regenerating: status %d", status)
	}
	if u := currentURL(t, admin); u != f.appPageURL {
		t.Errorf("after regenerating the admin is at %s, want the app page %s", u, f.appPageURL)
	}
	newSecret := textOf(t, admin, `[data-testid="new-secret"]`)
	if !strings.HasPrefix(newSecret, "odcs_") || len(newSecret) < 40 {
		t.Fatalf("new secret %q, want odcs_ and 43 more characters", newSecret)
	}
	if newSecret == app.Secret {
		t.Fatal("the regenerated secret equals the old one")
	}
	lbWantContains(t, "new secret box", textOf(t, admin, `[data-testid="new-secret-box"]`),
		"New primary client secret", "shown only this once")
	if n := countOf(t, admin, `[data-testid="secret-row"]`); n != 1 {
		t.Errorf("%d secret rows after regenerating, want 1", n)
	}

	// Going elsewhere and Back does not show it again either (the page
	// was no-store, and the server forgot the value when it showed it).
	navigate(t, admin, ts.URL+"/admin/apps")
	waitVisible(t, admin, `[data-testid="apps-table"]`)
	if err := chromedp.Do(admin, chromedp.NavigateBack()); err != nil {
		t.Fatalf("go back to the app page: %v", why(err))
	}
	waitVisible(t, admin, `[data-testid="client-id"]`)
	if u := currentURL(t, admin); u != f.appPageURL {
		t.Errorf("Back went to %s, want the app page", u)
	}
	if countOf(t, admin, `[data-testid="new-secret"]`) != 0 || lbPageContains(t, admin, newSecret) {
		t.Error("Back to the app page shows the new secret again")
	}

	// A reload shows it no more, anywhere in the page.
	navigate(t, admin, f.appPageURL)
	waitVisible(t, admin, `[data-testid="client-id"]`)
	if n := countOf(t, admin, `[data-testid="new-secret"]`) + countOf(t, admin, `[data-testid="new-secret-box"]`); n != 0 {
		t.Errorf("after a reload the new secret is shown again (%d elements)", n)
	}
	if !lbPageContains(t, admin, app.ClientID) {
		t.Fatal("lbPageContains does not find the client id on the app page")
	}
	if lbPageContains(t, admin, newSecret) {
		t.Error("after a reload the page still holds the new secret")
	}

	// It is real: the old access token, refresh token and secret fail at
	// once; the new secret works.
	lbWantAPI(t, ts, old.str("access_token"), http.StatusUnauthorized, "the access token minted with the regenerated secret")
	r := postToken(t, ts.URL, formType, refreshBody(newSecret, old.str("refresh_token"), callbackURL))
	if r.Status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
		t.Errorf("refresh of the old chain with the new secret: %d %v, want 400 invalid_grant", r.Status, r.Raw)
	}
	code := approve(t, f.bobHTTP, app, "vso.work", "after-rotation")
	wantTokenError(t, postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL)),
		http.StatusUnauthorized, "unauthorized_client", "Client failed validation")
	fresh := postToken(t, ts.URL, formType, codeBody(newSecret, code, callbackURL))
	wantTokens(t, fresh)
	lbWantAPI(t, ts, fresh.str("access_token"), http.StatusOK, "an access token minted with the new secret")
	wantTokens(t, postToken(t, ts.URL, formType, refreshBody(newSecret, fresh.str("refresh_token"), callbackURL)))

	// Staged rotation, step one: add an alternative. The confirmation
	// says two secrets will be valid; Cancel leaves the app with one.
	showTab(t, admin, "secrets")
	if status := clickAndWait(t, admin, `[data-testid="add-alternative"]`); status != http.StatusOK {
		t.Fatalf("the alternative secret's confirmation: status %d", status)
	}
	lbWantContains(t, "alternative secret confirmation", textOf(t, admin, `[data-testid="confirm"]`),
		"Add an alternative secret to "+lbAppName+"?", "shown once",
		"The app will have two valid secrets until you retire one", "the primary secret keeps working")
	screenshot(t, admin, "lifecycle-alternative-confirm.png")
	if status := clickAndWait(t, admin, `[data-testid="cancel"]`); status != http.StatusOK {
		t.Fatalf("cancel: status %d", status)
	}
	if u := currentURL(t, admin); u != f.appPageURL+"?tab=secrets" {
		t.Errorf("cancel went to %s, want the app page's secrets %s?tab=secrets", u, f.appPageURL)
	}
	if n := countOf(t, admin, `[data-testid="secret-row"]`); n != 1 {
		t.Errorf("%d secret rows after cancelling the alternative secret, want still 1", n)
	}
	// Both secrets are listed once confirmed; the alternative is shown
	// once, and works too.
	clickAndWait(t, admin, `[data-testid="add-alternative"]`)
	if status := clickAndWait(t, admin, `[data-testid="confirm-submit"]`); status != http.StatusOK {
		t.Fatalf("after adding an alternative secret: status %d", status)
	}
	alt := textOf(t, admin, `[data-testid="new-secret"]`)
	if !strings.HasPrefix(alt, "odcs_") || alt == newSecret || alt == app.Secret {
		t.Fatalf("alternative secret %q, want a new odcs_ value", alt)
	}
	lbWantContains(t, "new secret box", textOf(t, admin, `[data-testid="new-secret-box"]`), "New alternative client secret")
	showTab(t, admin, "secrets")
	for _, slot := range []string{"primary", "alternative"} {
		waitVisible(t, admin, `[data-testid="secret-row"][data-slot="`+slot+`"]`)
	}
	if n := countOf(t, admin, `[data-testid="secret-row"]`); n != 2 {
		t.Errorf("%d secret rows after adding the alternative, want 2", n)
	}
	if n := countOf(t, admin, `[data-testid="add-alternative"]`); n != 0 {
		t.Error("the page still offers to add an alternative secret while the app has one")
	}
	screenshot(t, admin, "lifecycle-app-two-secrets.png")
	code = approve(t, f.bobHTTP, app, "vso.work", "alternative")
	wantTokens(t, postToken(t, ts.URL, formType, codeBody(alt, code, callbackURL)))
	lbWantAPI(t, ts, fresh.str("access_token"), http.StatusOK, "a token of the primary secret after adding the alternative")

	navigate(t, admin, f.appPageURL+"?tab=secrets")
	waitVisible(t, admin, `[data-testid="secret-row"][data-slot="alternative"]`)
	if lbPageContains(t, admin, alt) || countOf(t, admin, `[data-testid="new-secret"]`) != 0 {
		t.Error("after a reload the alternative secret is shown again")
	}
}

// TestBrowserRevokeFromProfile: a member revokes an app on
// /profile/authorizations, after a confirmation, and its token dies.
func TestBrowserRevokeFromProfile(t *testing.T) {
	f := lbNewFixture(t)
	ts, app := f.ts, f.app
	pair := lbTokenPair(t, ts, f.bobHTTP, app, app.Secret, "vso.work vso.code_write")

	bob := newBrowser(t)
	lbSignIn(t, bob, ts, "bob", lbBobPassword, "/profile/authorizations")
	card := `[data-testid="profile-authorization"]`
	waitVisible(t, bob, card)
	if n := countOf(t, bob, card); n != 1 {
		t.Fatalf("%d authorizations on bob's profile page, want 1", n)
	}
	if n := countOf(t, bob, `[data-testid="profile-empty"]`); n != 0 {
		t.Error("the empty state is shown next to an authorization")
	}
	text := textOf(t, bob, card)
	lbWantContains(t, "profile authorization", text, lbAppName, "Fabrikam, Inc.", "Authorized ", "last used ")
	cat := scope.Default()
	for _, id := range []string{"vso.work", "vso.code_write"} {
		sc, ok := cat.Lookup(id)
		if !ok {
			t.Fatalf("scope %s not in the catalog", id)
		}
		lbWantContains(t, "profile authorization", text, sc.Name, id, sc.Description)
	}
	if n := countOf(t, bob, card+` li`); n != 2 {
		t.Errorf("the authorization lists %d scopes, want 2", n)
	}
	screenshot(t, bob, "lifecycle-profile-authorizations.png")

	// Revoke, then Cancel: nothing happens.
	if status := clickAndWait(t, bob, card+` [data-testid="revoke"]`); status != http.StatusOK {
		t.Fatalf("revoke confirmation: status %d", status)
	}
	confirm := textOf(t, bob, `[data-testid="confirm"]`)
	lbWantContains(t, "profile revoke confirmation", confirm, "Revoke "+lbAppName+"?",
		lbAppName+" loses access to your account at once", "ask for your authorization again")
	screenshot(t, bob, "lifecycle-profile-revoke-confirm.png")
	if status := clickAndWait(t, bob, `[data-testid="cancel"]`); status != http.StatusOK {
		t.Fatalf("cancel: status %d", status)
	}
	if u := currentURL(t, bob); u != ts.URL+"/profile/authorizations" {
		t.Errorf("cancel went to %s", u)
	}
	waitVisible(t, bob, card)
	lbWantAPI(t, ts, pair.str("access_token"), http.StatusOK, "the access token after Cancel")

	// Revoke and confirm.
	clickAndWait(t, bob, card+` [data-testid="revoke"]`)
	if status := clickAndWait(t, bob, `[data-testid="confirm-submit"]`); status != http.StatusOK {
		t.Fatalf("after revoking: status %d", status)
	}
	if u := currentURL(t, bob); u != ts.URL+"/profile/authorizations" {
		t.Errorf("after revoking bob is at %s, want /profile/authorizations", u)
	}
	if got := textOf(t, bob, `[data-testid="flash"]`); got != lbAppName+" can no longer access your account." {
		t.Errorf("flash reads %q", got)
	}
	if got := textOf(t, bob, `[data-testid="profile-empty"]`); got != "No app has access to your account." {
		t.Errorf("empty state reads %q", got)
	}
	if n := countOf(t, bob, card); n != 0 {
		t.Errorf("%d authorizations left after revoking the only one", n)
	}
	screenshot(t, bob, "lifecycle-profile-revoked.png")

	// It is real, on the very next request.
	lbWantAPI(t, ts, pair.str("access_token"), http.StatusUnauthorized, "the access token of the revoked authorization")
	wantTokenError(t, postToken(t, ts.URL, formType, refreshBody(app.Secret, pair.str("refresh_token"), callbackURL)),
		http.StatusBadRequest, "invalid_grant", "No authorization grant was found")

	// The flash is shown once.
	navigate(t, bob, ts.URL+"/profile/authorizations")
	waitVisible(t, bob, `[data-testid="profile-empty"]`)
	if n := countOf(t, bob, `[data-testid="flash"]`); n != 0 {
		t.Error("the flash is shown again after a reload")
	}
}

// TestBrowserRevokeFromAdmin: an admin revokes one user's authorization
// from the app page, then every authorization of the app, each after a
// confirmation that counts users and tokens.
func TestBrowserRevokeFromAdmin(t *testing.T) {
	f := lbNewFixture(t)
	ts, app := f.ts, f.app
	ts.addUser(t, "carol", domain.RoleMember, lbCarolPassword)
	carolHTTP := ts.newAgent(t)
	carolHTTP.signIn("carol", lbCarolPassword)
	bobPair := lbTokenPair(t, ts, f.bobHTTP, app, app.Secret, "vso.work")
	carolPair := lbTokenPair(t, ts, carolHTTP, app, app.Secret, "vso.work")

	admin := newBrowser(t)
	lbSignIn(t, admin, ts, "root", lbRootPassword, "/admin/apps/"+app.ClientID)
	showTab(t, admin, "authorizations")
	waitVisible(t, admin, `[data-testid="authorizations"]`)
	if n := countOf(t, admin, `[data-testid="authorization-row"]`); n != 2 {
		t.Fatalf("%d authorization rows, want 2 (bob and carol)", n)
	}

	// One authorization: bob's.
	bobRow := lbAuthorizationRow(t, admin, "bob")
	if status := clickAndWait(t, admin, bobRow+` [data-testid="revoke-authorization"]`); status != http.StatusOK {
		t.Fatalf("revoke confirmation: status %d", status)
	}
	lbWantContains(t, "revoke confirmation", textOf(t, admin, `[data-testid="confirm"]`),
		"Revoke Bob's authorization of "+lbAppName+"?", "loses access to bob's account at once")
	impact := textOf(t, admin, `[data-testid="impact"]`)
	lbWantContains(t, "impact", impact, "1 active authorization of 1 user will be revoked.",
		"1 live refresh token stops working", "gets 401 on its next request")
	screenshot(t, admin, "lifecycle-revoke-one-confirm.png")
	lbWantAPI(t, ts, bobPair.str("access_token"), http.StatusOK, "bob's token while the confirmation is shown")
	if status := clickAndWait(t, admin, `[data-testid="confirm-submit"]`); status != http.StatusOK {
		t.Fatalf("after revoking: status %d", status)
	}
	if u := currentURL(t, admin); u != f.appPageURL {
		t.Errorf("after revoking the admin is at %s, want the app page", u)
	}
	showTab(t, admin, "authorizations")
	if got := textOf(t, admin, `[data-testid="flash"]`); got != "The authorization was revoked." {
		t.Errorf("flash reads %q", got)
	}
	if got := textOf(t, admin, bobRow); !strings.Contains(got, "revoked ") || strings.Contains(got, "active") {
		t.Errorf("bob's row after the revocation reads %q, want it marked revoked", got)
	}
	if n := countOf(t, admin, bobRow+` [data-testid="revoke-authorization"]`); n != 0 {
		t.Error("the revoked row still offers Revoke")
	}
	if got := textOf(t, admin, lbAuthorizationRow(t, admin, "carol")); !strings.Contains(got, "active") {
		t.Errorf("carol's row after revoking bob's reads %q, want active", got)
	}
	lbWantAPI(t, ts, bobPair.str("access_token"), http.StatusUnauthorized, "bob's access token after the admin revoked it")
	wantTokenError(t, postToken(t, ts.URL, formType, refreshBody(app.Secret, bobPair.str("refresh_token"), callbackURL)),
		http.StatusBadRequest, "invalid_grant", "No authorization grant was found")
	lbWantAPI(t, ts, carolPair.str("access_token"), http.StatusOK, "carol's access token after bob's revocation")

	// Every authorization: bob authorizes again, so two users hold one
	// active authorization each (bob's revoked one does not count).
	bobPair = lbTokenPair(t, ts, f.bobHTTP, app, app.Secret, "vso.work")
	navigate(t, admin, f.appPageURL+"?tab=authorizations")
	waitVisible(t, admin, `[data-testid="authorizations"]`)
	if status := clickAndWait(t, admin, `[data-testid="revoke-all"]`); status != http.StatusOK {
		t.Fatalf("revoke-all confirmation: status %d", status)
	}
	lbWantContains(t, "revoke-all confirmation", textOf(t, admin, `[data-testid="confirm"]`),
		"Revoke every authorization of "+lbAppName+"?", "Every user will have to authorize the app again.")
	impact = textOf(t, admin, `[data-testid="impact"]`)
	lbWantContains(t, "impact", impact, "2 active authorizations of 2 users will be revoked.", "2 live refresh tokens stop working")
	screenshot(t, admin, "lifecycle-revoke-all-confirm.png")
	if status := clickAndWait(t, admin, `[data-testid="confirm-submit"]`); status != http.StatusOK {
		t.Fatalf("after revoking all: status %d", status)
	}
	if u := currentURL(t, admin); u != f.appPageURL {
		t.Errorf("after revoking all the admin is at %s, want the app page", u)
	}
	if got := textOf(t, admin, `[data-testid="flash"]`); got != "2 authorizations were revoked." {
		t.Errorf("flash reads %q", got)
	}
	if n := countOf(t, admin, `[data-testid="authorization-row"]`); n != 3 {
		t.Errorf("%d authorization rows, want 3 (bob twice, carol)", n)
	}
	if n := countOf(t, admin, `[data-testid="revoke-authorization"]`) + countOf(t, admin, `[data-testid="revoke-all"]`); n != 0 {
		t.Errorf("%d Revoke buttons left with no active authorization", n)
	}
	rows, err := chromedp.Run(admin, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="authorization-row"]')].map(r => r.innerText)`))
	if err != nil {
		t.Fatalf("read the authorization rows: %v", err)
	}
	for _, row := range rows {
		if !strings.Contains(row, "revoked ") {
			t.Errorf("row %q not marked revoked after Revoke all", row)
		}
	}
	screenshot(t, admin, "lifecycle-app-all-revoked.png")
	for who, pair := range map[string]tokenResult{"bob": bobPair, "carol": carolPair} {
		lbWantAPI(t, ts, pair.str("access_token"), http.StatusUnauthorized, who+"'s access token after Revoke all")
		wantTokenError(t, postToken(t, ts.URL, formType, refreshBody(app.Secret, pair.str("refresh_token"), callbackURL)),
			http.StatusBadRequest, "invalid_grant", "No authorization grant was found")
	}
}

// TestBrowserDeleteApp deletes an app, which takes typing its exact name.
func TestBrowserDeleteApp(t *testing.T) {
	f := lbNewFixture(t)
	ts, app := f.ts, f.app
	pair := lbTokenPair(t, ts, f.bobHTTP, app, app.Secret, "vso.work")
	unused := approve(t, f.bobHTTP, app, "vso.work", "unused") // a code minted before the deletion

	admin := newBrowser(t)
	lbSignIn(t, admin, ts, "root", lbRootPassword, "/admin/apps/"+app.ClientID)
	showTab(t, admin, "settings")
	if status := clickAndWait(t, admin, `[data-testid="delete-app"]`); status != http.StatusOK {
		t.Fatalf("delete confirmation: status %d", status)
	}
	lbWantContains(t, "delete confirmation", textOf(t, admin, `[data-testid="confirm"]`),
		"Delete "+lbAppName+"?", "no new tokens are minted and no minted token is accepted", "cannot be undone",
		"Type "+lbAppName+" to confirm")
	lbWantContains(t, "impact", textOf(t, admin, `[data-testid="impact"]`), "1 active authorization of 1 user will be revoked.")
	if n := countOf(t, admin, `[data-testid="confirm-error"]`); n != 0 {
		t.Error("the confirmation shows an error before anything was typed")
	}
	screenshot(t, admin, "lifecycle-delete-confirm.png")

	// A wrong name (only the case differs): an error, and nothing deleted.
	fill(t, admin, `[data-testid="confirm-input"]`, strings.ToLower(lbAppName))
	if status := clickAndWait(t, admin, `[data-testid="confirm-submit"]`); status != http.StatusUnprocessableEntity {
		t.Errorf("wrong name: status %d, want 422", status)
	}
	if got := textOf(t, admin, `[data-testid="confirm-error"]`); got != "Type the app name exactly to confirm the deletion. Type “"+lbAppName+"” exactly." {
		t.Errorf("error reads %q", got)
	}
	waitVisible(t, admin, `[data-testid="confirm-input"]`)
	screenshot(t, admin, "lifecycle-delete-wrong-name.png")
	if page := f.adminHTTP.get("/admin/apps/" + app.ClientID); page.Status != http.StatusOK || strings.Contains(page.Body, `data-testid="app-deleted"`) ||
		!strings.Contains(page.Body, `data-testid="delete-app"`) {
		t.Errorf("after a wrong name the app page: status %d, deleted or not deletable", page.Status)
	}
	if list := f.adminHTTP.get("/admin/apps"); !strings.Contains(list.Body, `data-client-id="`+app.ClientID+`"`) {
		t.Error("after a wrong name the app is no longer listed")
	}
	lbWantAPI(t, ts, pair.str("access_token"), http.StatusOK, "the access token after a wrong name")

	// The exact name: deleted, back on the list with a flash.
	fill(t, admin, `[data-testid="confirm-input"]`, lbAppName)
	if status := clickAndWait(t, admin, `[data-testid="confirm-submit"]`); status != http.StatusOK {
		t.Fatalf("after deleting: status %d", status)
	}
	if u := currentURL(t, admin); u != ts.URL+"/admin/apps" {
		t.Errorf("after deleting the admin is at %s, want /admin/apps", u)
	}
	// The list's flash has no data-testid (unlike the flash of the other
	// pages); find it by its class and role.
	if got := textOf(t, admin, `p.flash[role="status"]`); got != lbAppName+" was deleted; 1 authorization was revoked." {
		t.Errorf("flash reads %q", got)
	}
	if n := countOf(t, admin, `[data-testid="app-row"][data-client-id="`+app.ClientID+`"]`); n != 0 {
		t.Error("the deleted app is still listed")
	}
	waitVisible(t, admin, `[data-testid="apps-empty"]`)
	screenshot(t, admin, "lifecycle-deleted.png")

	// The record is kept, marked deleted, with no action left.
	navigate(t, admin, f.appPageURL)
	waitVisible(t, admin, `[data-testid="app-deleted"]`)
	for _, sel := range []string{`[data-testid="delete-app"]`, `[data-testid="regenerate-primary"]`, `[data-testid="add-alternative"]`} {
		if n := countOf(t, admin, sel); n != 0 {
			t.Errorf("the deleted app's page still offers %s", sel)
		}
	}

	// It is real: tokens die, no new ones, and authorize is a 400 page.
	lbWantAPI(t, ts, pair.str("access_token"), http.StatusUnauthorized, "the access token of the deleted app")
	if r := postToken(t, ts.URL, formType, refreshBody(app.Secret, pair.str("refresh_token"), callbackURL)); r.Status == http.StatusOK {
		t.Errorf("the deleted app refreshed a token: %v", r.Raw)
	}
	if r := postToken(t, ts.URL, formType, codeBody(app.Secret, unused, callbackURL)); r.Status == http.StatusOK {
		t.Errorf("the deleted app exchanged a code: %v", r.Raw)
	}
	authPath := authorizeURL(app.ClientID, "vso.work", "after-delete", callbackURL)
	if status := lbNavigateStatus(t, admin, ts.URL+authPath); status != http.StatusBadRequest {
		t.Errorf("authorize for the deleted app: status %d, want 400", status)
	}
	if u := currentURL(t, admin); u != ts.URL+authPath {
		t.Errorf("authorize for the deleted app went on to %s, want no redirect", u)
	}
	waitVisible(t, admin, `[data-testid="error-page"]`)
	if got := textOf(t, admin, `[data-testid="error-message"]`); !strings.Contains(got, "It may have been deleted.") {
		t.Errorf("error page reads %q", got)
	}
	if n := countOf(t, admin, `[data-testid="consent"]`); n != 0 {
		t.Error("the deleted app's authorize page shows an approval form")
	}
	screenshot(t, admin, "lifecycle-authorize-deleted.png")
	// A member gets the same page, and a visitor who is not signed in too,
	// not the sign-in form.
	for who, a := range map[string]*agent{"bob": f.bobHTTP, "a visitor": ts.newAgent(t)} {
		if r := a.get(authPath); r.Status != http.StatusBadRequest || r.Location() != "" {
			t.Errorf("authorize for the deleted app as %s: status %d, location %q, want 400", who, r.Status, r.Location())
		}
	}
}

// showTab clicks the app page's tab key (as a person does) and waits
// for its panel.
func showTab(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	click(t, ctx, `#tab-`+key)
	waitVisible(t, ctx, `#panel-`+key)
}
