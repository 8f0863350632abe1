package e2e

// Every state change goes through a confirmation that states its effect:
// the page that offers it links to (or GET-submits to) the confirmation,
// opening or cancelling the confirmation changes nothing, and only its
// own form does the change.

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/pat"
)

var caCancelRE = regexp.MustCompile(`<a href="([^"]+)" role="button" class="secondary" data-testid="cancel"`)

// caOffers checks that page offers the change at path through its
// confirmation (a link or a GET form) and has no form that posts to it
// directly.
func caOffers(t *testing.T, a *agent, page, path string) {
	t.Helper()
	body := a.get(page).Body
	if !strings.Contains(body, `href="`+path+`"`) && !strings.Contains(body, `<form method="get" action="`+path+`"`) {
		t.Errorf("%s does not lead to the confirmation %s", page, path)
	}
	if strings.Contains(body, `<form method="post" action="`+path+`"`) {
		t.Errorf("%s posts to %s without a confirmation", page, path)
	}
}

// caCancel opens the confirmation at path and follows its Cancel link,
// which must lead to a page.
func caCancel(t *testing.T, a *agent, path string) {
	t.Helper()
	m := caCancelRE.FindStringSubmatch(a.get(path).Body)
	if m == nil {
		t.Fatalf("the confirmation %s has no Cancel link", path)
	}
	if r := a.get(html.UnescapeString(m[1])); r.Status != http.StatusOK {
		t.Errorf("Cancel of %s leads to %s: %d", path, m[1], r.Status)
	}
}

// TestStateChangesConfirm: adding an alternative secret, an admin adding
// an owner, inviting a co-owner, cancelling, declining and accepting an
// invitation, withdrawing a pending change, dismissing the token
// notices and adding to or removing from the token allowlist each go
// through a confirmation that says what will happen; Cancel leaves
// everything as it was, and the confirmation's form does it.
func TestStateChangesConfirm(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	ctx := context.Background()
	alice, bob, carol, dave := e.member(t, "alice"), e.member(t, "bob"), e.member(t, "carol"), e.member(t, "dave")
	app := registerOwn(t, alice.a, "Fabrikam Boards", "vso.work")
	base, adminBase := "/profile/apps/"+app.ClientID, "/admin/apps/"+app.ClientID
	secrets := func() int {
		t.Helper()
		d, err := e.ts.App.Admin.App(ctx, app.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		return len(d.App.Secrets)
	}
	owns := func(u lcUser) bool {
		t.Helper()
		ok, err := e.ts.App.Admin.IsOwner(ctx, app.ClientID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	// An alternative secret: two valid secrets, shown once.
	caOffers(t, e.admin, adminBase, adminBase+"/secrets/alternative")
	caOffers(t, alice.a, base+"?tab=secrets", base+"/secrets/alternative")
	caCancel(t, alice.a, base+"/secrets/alternative")
	action, form := cpConfirm(t, alice.a, base+"/secrets/alternative",
		"Add an alternative secret to Fabrikam Boards?", "shown once", "The app will have two valid secrets until you retire one")
	if n := secrets(); n != 1 {
		t.Fatalf("%d secrets after opening and cancelling the confirmation, want still 1", n)
	}
	wantStatus(t, alice.a.postForm(action, form), http.StatusSeeOther, "add the alternative secret")
	if n := secrets(); n != 2 {
		t.Fatalf("%d secrets after confirming, want 2", n)
	}
	if r := alice.a.get(base + "/secrets/alternative"); r.Status != http.StatusSeeOther || !strings.Contains(lcFlash(t, alice.a, base+"?tab=secrets"), "already has an alternative secret") {
		t.Errorf("a third secret's confirmation: %d, want sent back with the reason", r.Status)
	}

	// The admin adds an owner directly: who, and what an owner can do.
	caOffers(t, e.admin, adminBase, adminBase+"/owners")
	caCancel(t, e.admin, adminBase+"/owners?username="+bob.Username)
	action, form = cpConfirm(t, e.admin, adminBase+"/owners?username="+bob.Username,
		"Make "+bob.Username+" an owner of Fabrikam Boards?",
		bob.Username+" becomes an owner of Fabrikam Boards and can edit its callback URLs, scopes and settings, regenerate and retire its client secrets",
		"no invitation is sent", "Its current owners ("+alice.Username+") stay owners")
	if owns(bob) {
		t.Fatal("opening the confirmation made bob an owner")
	}
	wantStatus(t, e.admin.postForm(action, form), http.StatusSeeOther, "add bob")
	if !owns(bob) {
		t.Fatal("bob does not own the app after the confirmation")
	}
	for name, want := range map[string]string{bob.Username: "already owns", "nobody-by-this-name": "There is no user"} {
		if r := e.admin.get(adminBase + "/owners?username=" + name); r.Status != http.StatusSeeOther || !strings.Contains(lcFlash(t, e.admin, adminBase), want) {
			t.Errorf("adding %s: %d, want sent back saying %q", name, r.Status, want)
		}
	}

	// Inviting a co-owner: the same words for any name typed.
	caOffers(t, alice.a, base+"?tab=owners", base+"/owners")
	action, form = cpConfirm(t, alice.a, base+"/owners?username="+carol.Username,
		"Invite "+carol.Username+" to co-own Fabrikam Boards?", "They become a co-owner only when they accept it", "expires after 14 days")
	if strings.ReplaceAll(lcText(alice.a.get(base+"/owners?username="+carol.Username).Body), carol.Username, "NAME") !=
		strings.ReplaceAll(lcText(alice.a.get(base+"/owners?username=ghost.user").Body), "ghost.user", "NAME") {
		t.Error("the invitation's confirmation differs between a user and an unknown name")
	}
	if myInvitationID(t, carol.a, app.ClientID) != "" {
		t.Fatal("opening the confirmation invited carol")
	}
	wantStatus(t, alice.a.postForm(action, form), http.StatusSeeOther, "invite carol")
	inv := myInvitationID(t, carol.a, app.ClientID)
	if inv == "" {
		t.Fatal("carol has no invitation after the confirmation")
	}

	// Cancelling it.
	cancel := base + "/invitations/" + inv + "/cancel"
	caOffers(t, alice.a, base+"?tab=owners", cancel)
	caCancel(t, alice.a, cancel)
	action, form = cpConfirm(t, alice.a, cancel, "Cancel the invitation of "+carol.Username+" to co-own Fabrikam Boards?",
		carol.Username+" can no longer accept it", "They are not told")
	if myInvitationID(t, carol.a, app.ClientID) != inv {
		t.Fatal("opening the confirmation cancelled the invitation")
	}
	wantStatus(t, alice.a.postForm(action, form), http.StatusSeeOther, "cancel the invitation")
	if myInvitationID(t, carol.a, app.ClientID) != "" {
		t.Fatal("the invitation is still open after the confirmation")
	}

	// Declining one.
	invite := func(u lcUser) string {
		t.Helper()
		wantStatus(t, ownPost(t, alice.a, base, base+"/owners", url.Values{"username": {u.Username}}), http.StatusSeeOther, "invite "+u.Username)
		return myInvitationID(t, u.a, app.ClientID)
	}
	inv = invite(carol)
	decline := "/profile/invitations/" + inv + "/decline"
	caOffers(t, carol.a, "/profile/apps", decline)
	caCancel(t, carol.a, decline)
	action, form = cpConfirm(t, carol.a, decline, "Decline to co-own Fabrikam Boards?",
		"Declining removes the invitation; "+alice.Username+" is told nothing more")
	if r := dave.a.get(decline); r.Status != http.StatusSeeOther || !strings.Contains(lcFlash(t, dave.a, "/profile/apps"), "does not exist") {
		t.Errorf("another user's view of carol's invitation: %d, want sent back as if it did not exist", r.Status)
	}
	if myInvitationID(t, carol.a, app.ClientID) != inv {
		t.Fatal("opening the confirmation declined the invitation")
	}
	wantStatus(t, carol.a.postForm(action, form), http.StatusSeeOther, "decline")
	if myInvitationID(t, carol.a, app.ClientID) != "" || owns(carol) {
		t.Fatal("after declining, the invitation is still open or carol owns the app")
	}

	// Accepting one.
	inv = invite(carol)
	accept := "/profile/invitations/" + inv + "/accept"
	caOffers(t, carol.a, "/profile/apps", accept)
	caCancel(t, carol.a, accept)
	action, form = cpConfirm(t, carol.a, accept, "Co-own Fabrikam Boards?",
		"You become a co-owner of Fabrikam Boards, as "+alice.Username+" asked", "edit its callback URLs, scopes and settings")
	if owns(carol) {
		t.Fatal("opening the confirmation made carol an owner")
	}
	wantStatus(t, carol.a.postForm(action, form), http.StatusSeeOther, "accept")
	if !owns(carol) {
		t.Fatal("carol does not own the app after accepting")
	}

	// Dismissing the token notices: the tokens stay as they are.
	if _, err := e.ts.App.PATs.Create(ctx, bob.User, pat.Request{Name: "soon", Scopes: []string{"vso.work"}, ExpiresAt: time.Now().AddDate(0, 0, 3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ts.App.PATs.NotifyExpiring(ctx); err != nil {
		t.Fatal(err)
	}
	caOffers(t, bob.a, "/profile/tokens", "/profile/notices/dismiss")
	caCancel(t, bob.a, "/profile/notices/dismiss")
	action, form = cpConfirm(t, bob.a, "/profile/notices/dismiss", "Dismiss the token notices?",
		"Nothing happens to the tokens themselves", "Expiring within 7 days: soon — it still expires on its date")
	if !strings.Contains(bob.a.get("/profile/tokens").Body, `data-testid="token-notice"`) {
		t.Fatal("opening the confirmation dismissed the notices")
	}
	wantStatus(t, bob.a.postForm(action, form), http.StatusSeeOther, "dismiss")
	if strings.Contains(bob.a.get("/profile/tokens").Body, `data-testid="token-notice"`) {
		t.Fatal("the notice still shows after the confirmation")
	}
	if r := bob.a.get("/profile/notices/dismiss"); r.Status != http.StatusSeeOther {
		t.Errorf("the confirmation with no notice left: %d, want sent back", r.Status)
	}

	// The token allowlist: add, then remove while creation is limited.
	allowed := func(u lcUser) bool {
		t.Helper()
		p, err := e.ts.App.PATs.PolicyWithAllowlist(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(p.Allowlist, u.Username)
	}
	caOffers(t, e.admin, "/admin/settings", "/admin/settings/pat-allowlist")
	add := "/admin/settings/pat-allowlist?username=" + dave.Username + "&action=add"
	caCancel(t, e.admin, add)
	action, form = cpConfirm(t, e.admin, add, "Add "+dave.Username+" to the token allowlist?",
		dave.Username+" may create personal access tokens while creation is limited to the allowlist", "Creation is open to everyone now")
	if allowed(dave) {
		t.Fatal("opening the confirmation allowlisted dave")
	}
	wantStatus(t, e.admin.postForm(action, form), http.StatusSeeOther, "allowlist dave")
	if !allowed(dave) {
		t.Fatal("dave is not on the allowlist after the confirmation")
	}
	if err := e.ts.App.PATs.SetCreation(ctx, "allowlist"); err != nil {
		t.Fatal(err)
	}
	remove := "/admin/settings/pat-allowlist?username=" + dave.Username + "&action=remove"
	caCancel(t, e.admin, remove)
	action, form = cpConfirm(t, e.admin, remove, "Remove "+dave.Username+" from the token allowlist?",
		dave.Username+" can no longer create personal access tokens: creation is limited to the allowlist", "already has keep working")
	if !allowed(dave) {
		t.Fatal("opening the confirmation took dave off the allowlist")
	}
	wantStatus(t, e.admin.postForm(action, form), http.StatusSeeOther, "take dave off the allowlist")
	if allowed(dave) {
		t.Fatal("dave is still on the allowlist after the confirmation")
	}
	if r := e.admin.get("/admin/settings/pat-allowlist?username=nobody-by-this-name&action=add"); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("allowlisting an unknown user: %d, want 422", r.Status)
	}

	// Withdrawing a change that waits for review: what it was, and that
	// the app keeps its approved registration.
	if err := e.ts.App.Admin.SetRegistrationPolicy(ctx, domain.PolicyApproval); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, ownPost(t, alice.a, base+"/edit", base+"/edit", ownRegistration("", "Boards Two", callbackURL, "vso.work")), http.StatusSeeOther, "propose a change")
	waiting := func() bool { return strings.Contains(alice.a.get(base).Body, `data-testid="change-notice"`) }
	if !waiting() {
		t.Fatal("the edit does not wait for review")
	}
	caOffers(t, alice.a, base, base+"/change/withdraw")
	caCancel(t, alice.a, base+"/change/withdraw")
	action, form = cpConfirm(t, alice.a, base+"/change/withdraw", "Withdraw the change of Fabrikam Boards?",
		"is dropped before review", "keeps its approved registration", "Application name stays Fabrikam Boards, not Boards Two")
	if !waiting() {
		t.Fatal("opening the confirmation withdrew the change")
	}
	wantStatus(t, alice.a.postForm(action, form), http.StatusSeeOther, "withdraw")
	if waiting() {
		t.Fatal("the change still waits after the confirmation")
	}
}

// confirmExempt are the state-changing browser routes with no page at
// the same path, each with the reason: steps that are themselves the
// answer to a confirmation page, probes that write nothing, and the
// machine endpoints no person clicks. (The forms whose own submit is the
// person's explicit act are listed by views' TestPostForms.)
var confirmExempt = map[string]string{
	"POST /device/decide":                        "the device consent page's answer: that page (POST /device) is the confirmation",
	"POST /admin/apps/import/confirm":            "the import preview's own form: the preview (POST /admin/apps/import) is the confirmation",
	"POST /admin/settings/connectors/:name/test": "a probe: TestConnector binds (LDAP) or runs discovery (OIDC) and writes nothing — no row, no audit event",
	"POST /oauth2/token":                         "a client's token request (RFC 6749 §3.2)",
	"POST /oauth2/revoke":                        "a client's revocation request (RFC 7009)",
	"POST /oauth2/introspect":                    "a resource server's introspection request (RFC 7662)",
	"POST /oauth2/device_authorization":          "a device's authorization request (RFC 8628 §3.1)",
}

// TestEveryStateChangeHasConfirmation: every state-changing route of the
// browser pages has a page at the same path — its confirmation (GET
// shows what will happen and the form posts to it) or the form that
// saves — or is one of confirmExempt with its reason. A new one-click
// change without a confirmation fails here.
func TestEveryStateChangeHasConfirmation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	gets := map[string]bool{}
	var changes []string
	for _, r := range ts.App.Web.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if strings.HasPrefix(path, "/_apis/") {
			continue // the APIs: bearer tokens, no pages
		}
		switch method {
		case http.MethodGet:
			gets[path] = true
		case http.MethodHead, http.MethodOptions, "echo_route_not_found":
		default:
			changes = append(changes, method+" "+path)
		}
	}
	seen := map[string]bool{}
	for _, key := range changes {
		_, path, _ := strings.Cut(key, " ")
		switch {
		case gets[path]:
		case confirmExempt[key] != "":
			seen[key] = true
		default:
			t.Errorf("%s changes state without a confirmation: add GET %s showing what it will do (views.Confirm) and link to it, or list it in confirmExempt with the reason", key, path)
		}
	}
	for key := range confirmExempt {
		if !seen[key] {
			t.Errorf("%s in confirmExempt is no longer a route or now has a page; update the list", key)
		}
	}
	for _, want := range []string{"POST /profile/invitations/:id/accept", "POST /profile/apps/:client_id/change/withdraw",
		"POST /admin/settings/pat-allowlist", "POST /profile/notices/dismiss", "POST /device/decide"} {
		if !slices.Contains(changes, want) {
			t.Errorf("the test server has no route %s: the check does not see every feature", want)
		}
	}
}
