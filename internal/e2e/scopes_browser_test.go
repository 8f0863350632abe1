package e2e

// The Scope audit issue's browser Done-when, in Chromium: "A browser test in
// Chromium walks the scopes page into an app and narrows its scopes". The
// setup (an app, a member's consent, API calls that use vso.profile only)
// runs over real HTTP; the admin then reads /admin/scopes, follows the app
// link to /admin/apps/{client_id}/scopes, narrows the registration to the
// recommended set through the confirmation, and the token endpoint and the
// REST API prove that what the browser did is real: the existing access
// token keeps working for what is still allowed, and a refresh carries only
// the narrowed scopes. Last, the scope editor widens the registration again,
// which must not widen the member's authorization.

import (
	"context"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

const (
	sbRootPassword = "correct horse battery"
	sbBobPassword  = "bob's long password"
	sbAppName      = "Fabrikam Boards" // the name registerThroughDashboard gives
	// sbCalls is how many profile API calls the member's token makes.
	sbCalls = 3
)

// sbUse is one kind of use on the app scopes page: the scope an API
// required and the granted scope that satisfied it.
type sbUse struct{ Scope, SatisfiedBy string }

// sbUsedRowRE reads one used row from the HTML of the app scopes page.
var sbUsedRowRE = regexp.MustCompile(`data-testid="used-row" data-scope="[^"]*"[^>]*>\s*<td>\s*<code>([^<]+)</code>\s*</td>\s*<td>\s*<code>([^<]+)</code>\s*</td>\s*<td>(\d+)</td>`)

// sbTotal sums the calls of every used row.
func sbTotal(m map[sbUse]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// sbWaitUsed polls the app scopes page with the admin's HTTP agent until
// its used rows (calls per required and satisfying scope) satisfy done,
// and returns them. The server flushes usage counters in batches (every
// 100 ms in the test server), so calls show up a little after they were
// made; wait at most 10 s.
func sbWaitUsed(t *testing.T, admin *agent, clientID, what string, done func(map[sbUse]int) bool) map[sbUse]int {
	t.Helper()
	path := "/admin/apps/" + clientID + "/scopes"
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := admin.get(path)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: status %d, body %.300s", path, r.Status, r.Body)
		}
		m := map[sbUse]int{}
		for _, row := range sbUsedRowRE.FindAllStringSubmatch(r.Body, -1) {
			n, _ := strconv.Atoi(row[3])
			m[sbUse{row[1], row[2]}] += n
		}
		if done(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s %s shows the uses %v: %s is not counted (usage flush)", path, m, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sbSignIn signs username in through the sign-in form and checks that an
// admin lands on the dashboard.
func sbSignIn(t *testing.T, ctx context.Context, ts *testServer, username, password string) {
	t.Helper()
	navigate(t, ctx, ts.URL+"/signin")
	fill(t, ctx, `input[name="username"]`, username)
	fill(t, ctx, `input[name="password"]`, password)
	if status := clickAndWait(t, ctx, `[data-testid="signin-submit"]`); status != http.StatusOK {
		t.Fatalf("sign in as %s: status %d, want 200", username, status)
	}
	if u := currentURL(t, ctx); u != ts.URL+"/admin" {
		t.Fatalf("after signing in %s is at %s, want the overview %s/admin", username, u, ts.URL)
	}
}

// sbChips returns the scope ids shown as chips (scopeList) inside sel, in
// page order.
func sbChips(t *testing.T, ctx context.Context, sel string) []string {
	t.Helper()
	waitVisible(t, ctx, sel)
	ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(`+jsString(sel+` .scope > code`)+`)].map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatalf("read the scope chips in %s: %v", sel, why(err))
	}
	return ids
}

// sbWantChips checks the chips in sel.
func sbWantChips(t *testing.T, ctx context.Context, what, sel string, want ...string) {
	t.Helper()
	if got := sbChips(t, ctx, sel); !slices.Equal(got, want) {
		t.Errorf("%s shows %q, want %q", what, got, want)
	}
}

// sbCells returns the visible text of each cell of the table row sel.
func sbCells(t *testing.T, ctx context.Context, sel string) []string {
	t.Helper()
	waitVisible(t, ctx, sel)
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelector(`+jsString(sel)+`).cells].map(c => c.innerText.trim().replace(/\s+/g, " "))`))
	if err != nil {
		t.Fatalf("read the cells of %s: %v", sel, why(err))
	}
	return cells
}

// sbRecent reports whether s is a time of the last day as the dashboard
// shows it, "2006-01-02 15:04" in UTC (so that a run over midnight passes).
func sbRecent(s string) bool {
	at, err := time.Parse("2006-01-02 15:04 UTC", s) // times are labelled with their zone
	return err == nil && time.Since(at) < 24*time.Hour && time.Until(at) < time.Minute
}

// sbWantContains checks that text holds every one of wants.
func sbWantContains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s %q lacks %q", what, text, w)
		}
	}
}

// sbWantAPI calls the profile API with token and checks the status.
func sbWantAPI(t *testing.T, ts *testServer, token string, want int, what string) {
	t.Helper()
	status, h, body := callAPI(t, ts.URL, profilePath, token)
	if status != want {
		t.Errorf("%s: profile API answered %d (WWW-Authenticate %q, body %v), want %d", what, status, h.Get("WWW-Authenticate"), body, want)
	}
}

// sbTokenAllows reports whether the access token passes the Bearer check
// of the running server for an API that requires scope. No API that
// oauthdesk serves requires vso.work, so this asks the OAuth service
// directly, as the API middleware does (Authenticate, then Require). A
// successful check records a use, as a real call would.
func sbTokenAllows(t *testing.T, ts *testServer, token, scope string) bool {
	t.Helper()
	p, err := ts.App.OAuth.Authenticate(context.Background(), "Bearer "+token)
	if err != nil {
		t.Fatalf("Bearer check of the access token: %v", err)
	}
	return ts.App.OAuth.Require(p, scope) == nil
}

// TestBrowserScopeAuditNarrow walks /admin/scopes into an app and narrows
// its registered scopes to the recommended minimal set.
func TestBrowserScopeAuditNarrow(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, sbRootPassword)
	ts.addUser(t, "bob", domain.RoleMember, sbBobPassword)
	adminHTTP, bobHTTP := ts.newAgent(t), ts.newAgent(t)
	adminHTTP.signIn("root", sbRootPassword)
	bobHTTP.signIn("bob", sbBobPassword)

	// Both scopes include vso.profile: vso.work → vso.hooks_write →
	// vso.hooks → vso.profile, and vso.code_write → vso.code → … The
	// member's token only ever calls the profile API.
	app := registerThroughDashboard(t, adminHTTP, "vso.work", "vso.code_write")
	appScopesURL := ts.URL + "/admin/apps/" + app.ClientID + "/scopes"
	code := approve(t, bobHTTP, app, "vso.work vso.code_write", "scopes")
	pair := postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL))
	wantTokens(t, pair)
	if got := pair.str("scope"); got != "vso.work vso.code_write vso.authorization_grant" {
		t.Fatalf("scope of the first pair %q, want %q", got, "vso.work vso.code_write vso.authorization_grant")
	}
	access := pair.str("access_token")
	for i := range sbCalls {
		sbWantAPI(t, ts, access, http.StatusOK, "call "+strconv.Itoa(i+1)+" with the member's token")
	}
	if t.Failed() {
		t.FailNow()
	}
	// The first granted scope of the token that satisfies vso.profile is
	// vso.work: every call is counted as a use of vso.work.
	used := sbWaitUsed(t, adminHTTP, app.ClientID, "the member's calls", func(m map[sbUse]int) bool { return sbTotal(m) == sbCalls })
	if want := (map[sbUse]int{{"vso.profile", "vso.work"}: sbCalls}); !maps.Equal(used, want) {
		t.Fatalf("uses %v, want %v", used, want)
	}

	// The admin opens the scope inventory from the navigation.
	admin := newBrowser(t)
	sbSignIn(t, admin, ts, "root", sbRootPassword)
	if status := clickAndWait(t, admin, `header nav a[href="/admin/scopes"]`); status != http.StatusOK {
		t.Fatalf("/admin/scopes from the navigation: status %d", status)
	}
	if u := currentURL(t, admin); u != ts.URL+"/admin/scopes" {
		t.Fatalf("the nav link Scopes opened %s", u)
	}
	if got := textOf(t, admin, `header nav a[aria-current]`); got != "Scopes" {
		t.Errorf("the navigation marks %q as the current page, want Scopes", got)
	}
	if got := textOf(t, admin, `h1`); got != "Scopes in use" {
		t.Errorf("inventory heading %q", got)
	}
	workRow := `[data-testid="scope-row"][data-scope="vso.work"]`
	codeRow := `[data-testid="scope-row"][data-scope="vso.code_write"]`
	waitVisible(t, admin, workRow)
	waitVisible(t, admin, codeRow)
	// The scopes in effect are the registered and granted ones and those
	// they include (vso.code through vso.code_write; vso.hooks,
	// vso.hooks_write and vso.profile through both).
	if n := countOf(t, admin, `[data-testid="scope-row"]`); n != 6 {
		t.Errorf("%d scope rows, want 6 (vso.work, vso.code_write and the four they include)", n)
	}
	if got := textOf(t, admin, `[data-testid="scope-row"][data-scope="vso.code"] [data-testid="scope-through"]`); got != "through vso.code_write: 1 app, 1 authorization" {
		t.Errorf("vso.code row says %q, want it held through vso.code_write by 1 app and 1 authorization", got)
	}
	if got := textOf(t, admin, `[data-testid="scope-row"][data-scope="vso.code"] [data-testid="via"]`); got != "(via vso.code_write)" {
		t.Errorf("vso.code's holder is marked %q, want (via vso.code_write)", got)
	}
	// Held only through vso.code_write: the authorizations cell says so
	// next to its direct count, not a bare 0.
	vsoCode := `[data-testid="scope-row"][data-scope="vso.code"] `
	if got := textOf(t, admin, vsoCode+`[data-testid="scope-authorizations"]`) + " direct " + textOf(t, admin, vsoCode+`[data-testid="scope-authorizations-via"]`); got != "0 direct · 1 via vso.code_write" {
		t.Errorf("vso.code authorizations %q, want 0 direct · 1 via vso.code_write", got)
	}
	// vso.work satisfied every call.
	if got := textOf(t, admin, workRow+` [data-testid="scope-uses"]`); got != strconv.Itoa(sbCalls) {
		t.Errorf("vso.work uses %q, want %d", got, sbCalls)
	}
	if got := textOf(t, admin, workRow+` [data-testid="scope-authorizations"]`); got != "1" {
		t.Errorf("vso.work authorizations %q, want 1", got)
	}
	if n := countOf(t, admin, workRow+`[data-unused="false"]`); n != 1 {
		t.Error(`the vso.work row is not data-unused="false"`)
	}
	if n := countOf(t, admin, workRow+` [data-testid="unused"]`); n != 0 {
		t.Error("vso.work, which satisfied the calls, is marked unused")
	}
	if n := countOf(t, admin, workRow+` .badge.high`); n != 0 {
		t.Error("vso.work is flagged high privilege")
	}
	workCells := sbCells(t, admin, workRow)
	// Columns: scope, category, apps, authorizations (direct), personal
	// access tokens, users, uses, last used.
	if len(workCells) != 8 {
		t.Fatalf("the vso.work row has %d cells %q, want 8", len(workCells), workCells)
	}
	if got, want := strings.Join(append(workCells[:4:4], workCells[5:7]...), " | "), "vso.work Work items (read) | Work Items | "+sbAppName+" | 1 direct | bob | "+strconv.Itoa(sbCalls); got != want {
		t.Errorf("vso.work row %q, want %q", got, want)
	}
	if !sbRecent(workCells[7]) {
		t.Errorf("vso.work last used %q, want a time of the last day (UTC, yyyy-mm-dd hh:mm)", workCells[7])
	}
	// vso.code_write: held by the app and the authorization, never used,
	// and flagged high privilege.
	if n := countOf(t, admin, codeRow+`[data-unused="true"]`); n != 1 {
		t.Error(`the vso.code_write row is not data-unused="true"`)
	}
	if got := textOf(t, admin, codeRow+` [data-testid="unused"]`); got != "unused" {
		t.Errorf("vso.code_write unused badge %q", got)
	}
	if got := textOf(t, admin, codeRow+` .badge.high`); got != "high privilege" {
		t.Errorf("vso.code_write high-privilege flag %q", got)
	}
	if got := textOf(t, admin, codeRow+` [data-testid="scope-uses"]`); got != "0" {
		t.Errorf("vso.code_write uses %q, want 0", got)
	}
	codeCells := sbCells(t, admin, codeRow)
	if len(codeCells) != 8 || codeCells[3] != "1 direct" || codeCells[5] != "bob" || codeCells[7] != "never unused" {
		t.Errorf("vso.code_write cells %q, want 1 authorization, user bob, last used \"never unused\"", codeCells)
	}
	// The users link to the user page.
	if n := countOf(t, admin, workRow+` a[href^="/admin/users/"]`); n != 1 {
		t.Errorf("%d user links in the vso.work row, want 1", n)
	}
	screenshot(t, admin, "scopes-inventory-before.png")
	// The high-privilege filter keeps only vso.code_write.
	navigate(t, admin, ts.URL+"/admin/scopes?high=1")
	waitVisible(t, admin, codeRow)
	if n := countOf(t, admin, `[data-testid="scope-row"]`); n != 1 || countOf(t, admin, workRow) != 0 {
		t.Errorf("with high=1: %d rows (vso.work %d), want only vso.code_write", n, countOf(t, admin, workRow))
	}
	navigate(t, admin, ts.URL+"/admin/scopes")

	// Click through to the app.
	appLink := workRow + ` [data-testid="scope-app"]`
	if got := textOf(t, admin, appLink); got != sbAppName {
		t.Errorf("app link reads %q, want %q", got, sbAppName)
	}
	if status := clickAndWait(t, admin, appLink); status != http.StatusOK {
		t.Fatalf("app scopes page: status %d", status)
	}
	if u := currentURL(t, admin); u != appScopesURL {
		t.Fatalf("the app link opened %s, want %s", u, appScopesURL)
	}
	if got := textOf(t, admin, `h1`); got != "Scopes of "+sbAppName {
		t.Errorf("app scopes heading %q", got)
	}
	sbWantChips(t, admin, "registered (before)", `[data-testid="registered"]`, "vso.work", "vso.code_write")
	sbWantChips(t, admin, "granted (before)", `[data-testid="granted"]`, "vso.work", "vso.code_write")
	for _, box := range []string{"registered", "granted"} {
		if n := countOf(t, admin, `[data-testid="`+box+`"] [data-testid="high-privilege"]`); n != 1 {
			t.Errorf("%d high-privilege flags in %s, want 1 (vso.code_write)", n, box)
		}
	}
	usedRow := `[data-testid="used-row"][data-scope="vso.profile"]`
	if n := countOf(t, admin, `[data-testid="used-row"]`); n != 1 {
		t.Errorf("%d used rows, want 1", n)
	}
	if got := sbCells(t, admin, usedRow); len(got) != 4 || got[0] != "vso.profile" || got[1] != "vso.work" ||
		got[2] != strconv.Itoa(sbCalls) || !sbRecent(got[3]) {
		t.Errorf("used row %q, want vso.profile satisfied by vso.work, %d calls, last used just now", got, sbCalls)
	}
	sbWantChips(t, admin, "recommended set", `[data-testid="recommended"]`, "vso.profile")
	if got := textOf(t, admin, `[data-testid="removable"]`); got != "vso.work vso.code_write" {
		t.Errorf("removable %q, want %q", got, "vso.work vso.code_write")
	}
	if n := countOf(t, admin, `[data-testid="already-minimal"]`); n != 0 {
		t.Error("the page says the registration is already minimal")
	}
	if n := countOf(t, admin, `[data-testid="flash"]`); n != 0 {
		t.Errorf("a flash is shown before any change: %q", textOf(t, admin, `[data-testid="flash"]`))
	}
	// The scope editor starts from the registration.
	for _, id := range []string{"vso.work", "vso.code_write"} {
		if n := countOf(t, admin, `[data-testid="scope-editor"] input[name="scopes"][value="`+id+`"]:checked`); n != 1 {
			t.Errorf("the scope editor does not tick %s", id)
		}
	}
	if n := countOf(t, admin, `[data-testid="scope-editor"] input[name="scopes"]:checked`); n != 2 {
		t.Errorf("the scope editor ticks %d scopes, want 2", n)
	}
	screenshot(t, admin, "scopes-app-before.png")

	// Narrow: a confirmation first, which says what will happen.
	if status := clickAndWait(t, admin, `[data-testid="narrow"]`); status != http.StatusOK {
		t.Fatalf("narrow confirmation: status %d", status)
	}
	if u := currentURL(t, admin); u != appScopesURL+"/narrow" {
		t.Errorf("narrow confirmation at %s", u)
	}
	sbWantContains(t, "narrow confirmation", textOf(t, admin, `[data-testid="confirm"]`),
		"Narrow "+sbAppName+" to vso.profile?",
		"The registration drops vso.work vso.code_write.",
		"Existing authorizations are narrowed at once")
	if got := textOf(t, admin, `[data-testid="impact"]`); !strings.Contains(got, "1 active authorization of 1 user will be narrowed.") {
		t.Errorf("impact %q, want it to count bob's 1 active authorization", got)
	}
	if got := textOf(t, admin, `[data-testid="confirm-submit"]`); got != "Narrow scopes" {
		t.Errorf("confirm button reads %q", got)
	}
	if got, err := chromedp.Run(admin, chromedp.Evaluate[string](`document.querySelector('[data-testid="cancel"]').getAttribute("href")`)); err != nil || got != "/admin/apps/"+app.ClientID+"/scopes" {
		t.Errorf("cancel goes to %q (err %v), want the app scopes page", got, err)
	}
	screenshot(t, admin, "scopes-narrow-confirm.png")
	// Nothing changed yet.
	if r := adminHTTP.get("/admin/apps/" + app.ClientID + "/scopes"); !strings.Contains(r.Body, `data-testid="removable">vso.work vso.code_write<`) {
		t.Error("the registration changed while the confirmation was shown")
	}

	// Confirm: back on the app scopes page, narrowed.
	if status := clickAndWait(t, admin, `[data-testid="confirm-submit"]`); status != http.StatusOK {
		t.Fatalf("after narrowing: status %d", status)
	}
	if u := currentURL(t, admin); u != appScopesURL {
		t.Errorf("after narrowing the admin is at %s, want %s", u, appScopesURL)
	}
	const wantFlash = "Registered scopes are now vso.profile. 1 authorization was narrowed; existing tokens lost the removed scopes."
	if got := textOf(t, admin, `[data-testid="flash"]`); got != wantFlash {
		t.Errorf("flash %q, want %q", got, wantFlash)
	}
	sbWantChips(t, admin, "registered (after)", `[data-testid="registered"]`, "vso.profile")
	sbWantChips(t, admin, "granted (after)", `[data-testid="granted"]`, "vso.profile")
	if n := countOf(t, admin, `[data-testid="high-privilege"]`); n != 0 {
		t.Errorf("%d high-privilege flags after narrowing to vso.profile, want 0", n)
	}
	sbWantChips(t, admin, "recommended set (after)", `[data-testid="recommended"]`, "vso.profile")
	if n := countOf(t, admin, `[data-testid="narrow"]`) + countOf(t, admin, `[data-testid="removable"]`); n != 0 {
		t.Error("after narrowing the page still offers to narrow")
	}
	if got := textOf(t, admin, `[data-testid="already-minimal"]`); got != "The registration is already minimal." {
		t.Errorf("already-minimal reads %q", got)
	}
	// The usage history stays: the calls were made.
	if got := sbCells(t, admin, usedRow); len(got) != 4 || got[2] != strconv.Itoa(sbCalls) {
		t.Errorf("used row after narrowing %q, want %d calls", got, sbCalls)
	}
	if n := countOf(t, admin, `[data-testid="scope-editor"] input[name="scopes"]:checked`); n != 1 ||
		countOf(t, admin, `[data-testid="scope-editor"] input[name="scopes"][value="vso.profile"]:checked`) != 1 {
		t.Errorf("after narrowing the scope editor ticks %d scopes, want only vso.profile", n)
	}
	screenshot(t, admin, "scopes-app-after.png")
	// A reload does not show the flash again.
	navigate(t, admin, appScopesURL)
	waitVisible(t, admin, `[data-testid="registered"]`)
	if n := countOf(t, admin, `[data-testid="flash"]`); n != 0 {
		t.Error("the flash is shown again after a reload")
	}

	// Over HTTP: the existing access token keeps what is still allowed,
	// and loses the rest on its next request.
	sbWantAPI(t, ts, access, http.StatusOK, "the existing access token after narrowing (vso.profile is still allowed)")
	if sbTokenAllows(t, ts, access, "vso.work") {
		t.Error("after narrowing the existing access token still passes a vso.work check")
	}
	if sbTokenAllows(t, ts, access, "vso.code") {
		t.Error("after narrowing the existing access token still passes a vso.code check")
	}
	// That call was satisfied by what the authorization still grants,
	// vso.profile. (The failed checks above record nothing.)
	used = sbWaitUsed(t, adminHTTP, app.ClientID, "the existing token's call after narrowing", func(m map[sbUse]int) bool {
		return sbTotal(m) == sbCalls+1
	})
	byProfile, byWork := used[sbUse{"vso.profile", "vso.profile"}], used[sbUse{"vso.profile", "vso.work"}]
	oldTokenCreditsWork := byWork == sbCalls+1 && byProfile == 0
	switch {
	case oldTokenCreditsWork:
		// The satisfying scope must come from what the narrowed grant still
		// allows, not from the token's claims.
		t.Errorf("after narrowing, a call with the old access token is credited to vso.work (used rows %v), not to vso.profile", used)
	case byProfile != 1 || byWork != sbCalls:
		t.Errorf("used rows after the existing token's call %v, want vso.profile satisfied by vso.profile once and by vso.work %d times", used, sbCalls)
	}

	// The inventory after narrowing: vso.work and vso.code_write are gone,
	// vso.profile is held by the app and bob.
	navigate(t, admin, ts.URL+"/admin/scopes")
	profileRow := `[data-testid="scope-row"][data-scope="vso.profile"]`
	waitVisible(t, admin, profileRow)
	if n := countOf(t, admin, `[data-testid="scope-row"]`); n != 1 {
		t.Errorf("%d scope rows after narrowing, want 1 (vso.profile)", n)
	}
	profileCells := sbCells(t, admin, profileRow)
	if len(profileCells) != 8 {
		t.Fatalf("the vso.profile row has %d cells %q, want 8", len(profileCells), profileCells)
	}
	if profileCells[2] != sbAppName || profileCells[3] != "1 direct" || profileCells[5] != "bob" {
		t.Errorf("vso.profile row after narrowing %q, want the app, 1 authorization, bob", profileCells)
	}
	if uses, _ := strconv.Atoi(profileCells[6]); countOf(t, admin, profileRow+`[data-unused="false"]`) != 1 || uses < 1 {
		t.Errorf("vso.profile row after the existing token's call %q, want it used", profileCells)
	}
	screenshot(t, admin, "scopes-inventory-after.png")

	// A refresh carries only what is left.
	refreshed := postToken(t, ts.URL, formType, refreshBody(app.Secret, pair.str("refresh_token"), callbackURL))
	wantTokens(t, refreshed)
	if got := refreshed.str("scope"); got != "vso.profile vso.authorization_grant" {
		t.Errorf("scope after narrowing and a refresh %q, want %q", got, "vso.profile vso.authorization_grant")
	}
	sbWantAPI(t, ts, refreshed.str("access_token"), http.StatusOK, "the refreshed access token")
	if sbTokenAllows(t, ts, refreshed.str("access_token"), "vso.work") {
		t.Error("the refreshed access token passes a vso.work check")
	}
	used = sbWaitUsed(t, adminHTTP, app.ClientID, "the refreshed token's call", func(m map[sbUse]int) bool {
		return sbTotal(m) == sbCalls+2
	})
	if got, want := used[sbUse{"vso.profile", "vso.profile"}], byProfile+1; got != want {
		t.Errorf("used rows after the refreshed token's call %v, want vso.profile satisfied by vso.profile %d times", used, want)
	}
	navigate(t, admin, ts.URL+"/admin/scopes")
	waitVisible(t, admin, profileRow)
	if n := countOf(t, admin, profileRow+`[data-unused="false"]`); n != 1 {
		t.Errorf("after the refreshed token's call the vso.profile row still reads %q, want it used", sbCells(t, admin, profileRow))
	}

	// Widen again with the scope editor: the registration gets vso.work
	// back, the authorization does not.
	navigate(t, admin, appScopesURL)
	// Each category is a <details>, open only when it holds a ticked scope;
	// open the one of vso.work by its summary, as a person does.
	editorBox := `input[name="scopes"][value="vso.work"]`
	box := `[data-testid="scope-editor"] ` + editorBox
	if countOf(t, admin, `[data-testid="scope-editor"] details[open]:has(`+editorBox+`)`) == 0 {
		click(t, admin, `[data-testid="scope-editor"] details:has(`+editorBox+`) > summary`)
	}
	click(t, admin, box)
	if checked, err := chromedp.Run(admin, chromedp.Evaluate[bool](`document.querySelector(`+jsString(box)+`).checked`)); err != nil || !checked {
		t.Fatalf("vso.work is not ticked after a click (err %v)", err)
	}
	if status := clickAndWait(t, admin, `[data-testid="save-scopes"]`); status != http.StatusOK {
		t.Fatalf("after saving the scope editor: status %d", status)
	}
	if u := currentURL(t, admin); u != appScopesURL {
		t.Errorf("after saving the scope editor the admin is at %s", u)
	}
	// The editor lists the categories in catalog order: User Profile
	// comes before Work Items.
	const wantWidenFlash = "Registered scopes are now vso.profile vso.work. Users must consent again to the new scopes."
	if got := textOf(t, admin, `[data-testid="flash"]`); got != wantWidenFlash {
		t.Errorf("flash after widening %q, want %q", got, wantWidenFlash)
	}
	registered := sbChips(t, admin, `[data-testid="registered"]`)
	if slices.Sort(registered); !slices.Equal(registered, []string{"vso.profile", "vso.work"}) {
		t.Errorf("registered after widening %q, want vso.profile and vso.work", registered)
	}
	sbWantChips(t, admin, "granted (after widening)", `[data-testid="granted"]`, "vso.profile")
	screenshot(t, admin, "scopes-app-widened.png")
	again := postToken(t, ts.URL, formType, refreshBody(app.Secret, refreshed.str("refresh_token"), callbackURL))
	wantTokens(t, again)
	if got := again.str("scope"); got != "vso.profile vso.authorization_grant" {
		t.Errorf("scope after widening and a refresh %q, want it unchanged, %q", got, "vso.profile vso.authorization_grant")
	}
	if sbTokenAllows(t, ts, again.str("access_token"), "vso.work") {
		t.Error("after widening, a token refreshed from the narrowed authorization passes a vso.work check")
	}
	// The first access token still carries vso.work and vso.code_write in
	// its claims; only the narrowing ceiling keeps them out.
	sbWantAPI(t, ts, access, http.StatusOK, "the first access token after widening")
	if sbTokenAllows(t, ts, access, "vso.code") {
		t.Error("after widening to vso.profile vso.work, the first access token passes a vso.code check")
	}
	if sbTokenAllows(t, ts, access, "vso.work") {
		// "Widening never widens existing authorizations": tokens minted
		// before the narrowing stay capped by the authorization's grant.
		t.Errorf("after narrowing to vso.profile and widening back to vso.profile vso.work, the access token minted before the narrowing passes a vso.work check again, while its authorization grants only vso.profile")
	}
}
