package e2e

// Issue #9 over HTTP: members register and manage their own apps under
// /profile/apps, the app-registration policy and its approval queue,
// editing registrations, user management, the true authorization state,
// usage credited to the narrowest scope, and token requests posted to
// /oauth2/authorize.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

const ownNewCallback = "https://fabrikam.example/myapp/new-callback"

// ownRegistration is the registration form with the given name.
func ownRegistration(csrf, name, callback string, scopes ...string) url.Values {
	return url.Values{"_csrf": {csrf}, "name": {name}, "company": {"Fabrikam, Inc."},
		"description": {"Shows your work items."}, "company_url": {"https://fabrikam.example"},
		"app_url": {"https://fabrikam.example/boards"}, "callback_url": {callback},
		"terms_url": {"https://fabrikam.example/terms"}, "privacy_url": {"https://fabrikam.example/privacy"},
		"scopes": scopes}
}

// registerOwn registers an app through /profile/apps/new as the signed-in
// user and reads the secret, shown once on the app's settings page.
func registerOwn(t *testing.T, a *agent, name string, scopes ...string) registeredApp {
	t.Helper()
	r := a.postForm("/profile/apps", ownRegistration(a.csrf("/profile/apps/new"), name, callbackURL, scopes...))
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/profile/apps/") {
		t.Fatalf("register through /profile/apps: %d %q %.300s", r.Status, r.Location(), lcText(r.Body))
	}
	id := strings.TrimPrefix(r.Location(), "/profile/apps/")
	page := a.get(r.Location())
	m := newSecretRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("settings page after registration: %d, no secret shown", page.Status)
	}
	if again := a.get(r.Location()); strings.Contains(again.Body, m[1]) {
		t.Fatal("the secret is shown again after a reload")
	}
	return registeredApp{ClientID: id, Secret: m[1]}
}

// approveAt approves the authorization request of app with callback as
// the redirect URI and returns the code.
func approveAt(t *testing.T, u *agent, clientID, scope, callback string) string {
	t.Helper()
	cb := decide(t, u, authorizeURL(clientID, scope, "own", callback), "accept")
	if cb.Query().Get("code") == "" || !strings.HasPrefix(cb.String(), callback) {
		t.Fatalf("callback %s: want a code at %s", cb, callback)
	}
	return cb.Query().Get("code")
}

var ownCSRFOf = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// post posts form (with the page's CSRF token) to path.
func ownPost(t *testing.T, a *agent, page, path string, form url.Values) response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", a.csrf(page))
	return a.postForm(path, form)
}

func wantStatus(t *testing.T, r response, want int, what string) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d\n%.400s", what, r.Status, want, lcText(r.Body))
	}
}

// TestOwnersMemberManagesOwnApp: a member registers, edits the callback
// URL, rotates, adds a co-owner, hands over and deletes; another member
// gets 404 on every one of those pages.
func TestOwnersMemberManagesOwnApp(t *testing.T) {
	e := lcNewEnv(t)
	alice, bob, carol := e.member(t, "alice"), e.member(t, "bob"), e.member(t, "carol")
	mallory := e.member(t, "mallory")

	if r := alice.a.get("/profile/apps"); r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="my-apps-empty"`) ||
		!strings.Contains(r.Body, `href="/profile/apps/new"`) {
		t.Fatalf("empty /profile/apps: %d, want the empty state with Register an app", r.Status)
	}
	// The same fields and validation as /admin/apps/new.
	bad := alice.a.postForm("/profile/apps", ownRegistration(alice.a.csrf("/profile/apps/new"), "", "http://fabrikam.example/cb", "vso.work"))
	wantStatus(t, bad, http.StatusUnprocessableEntity, "invalid registration")
	for _, f := range []string{"name", "callback_url"} {
		if !strings.Contains(bad.Body, `data-testid="error-`+f+`"`) {
			t.Errorf("invalid registration: no error at %s", f)
		}
	}
	app := registerOwn(t, alice.a, "Alice Boards", "vso.work")
	base := "/profile/apps/" + app.ClientID

	list := alice.a.get("/profile/apps")
	row := lcRow(list.Body, `data-client-id="`+app.ClientID+`"`)
	if row == "" || !strings.Contains(row, "Alice Boards") || !strings.Contains(row, `data-status="active"`) {
		t.Fatalf("/profile/apps row: %q", lcText(row))
	}

	// The expiry banner: a secret 10 days from expiry is critical, and the
	// banner offers the staged rotation under the owner's page.
	raw, err := e.ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ageSecret(t, raw, app.ClientID, time.Now().AddDate(-5, 0, 10))
	banner := lcRow(alice.a.get(base).Body, `data-testid="expiry-banner"`)
	if !strings.Contains(banner, `data-state="critical"`) || !strings.Contains(banner, `href="`+base+`/secrets/alternative"`) {
		t.Errorf("owner's expiry banner: %q", lcText(banner))
	}
	if row := lcRow(alice.a.get("/profile/apps").Body, `data-client-id="`+app.ClientID+`"`); !strings.Contains(row, `data-state="critical"`) {
		t.Errorf("owner's list: no critical expiry badge: %q", lcText(row))
	}

	// A user authorizes it and gets tokens.
	p := e.pair(t, bob.a, app, app.Secret)
	page := alice.a.get(base)
	if !strings.Contains(page.Body, `data-authorization-id="`+p.AuthzID+`"`) || !strings.Contains(lcRow(page.Body, `data-authorization-id="`+p.AuthzID+`"`), `data-state="active"`) {
		t.Errorf("settings page: bob's authorization not listed as active")
	}

	// Edit the callback URL: new authorize requests use it; a code issued
	// for the old one fails at exchange.
	oldCode := approve(t, bob.a, app, lcScope, "before-edit")
	edit := ownRegistration("", "Alice Boards", ownNewCallback, "vso.work")
	r := ownPost(t, alice.a, base, base+"/edit", edit)
	wantStatus(t, r, http.StatusSeeOther, "edit")
	if flash := lcFlash(t, alice.a, base); !strings.Contains(flash, "callback") {
		t.Errorf("flash after the edit: %q", flash)
	}
	wantTokenError(t, e.exchange(t, app.Secret, oldCode), http.StatusBadRequest, "invalid_request", "The given redirect_url was not valid")
	old := bob.a.get(authorizeURL(app.ClientID, lcScope, "s", callbackURL))
	if old.Status != http.StatusBadRequest {
		t.Errorf("authorize with the old callback: %d, want 400", old.Status)
	}
	code := approveAt(t, bob.a, app.ClientID, lcScope, ownNewCallback)
	wantTokens(t, postToken(t, e.ts.URL, formType, codeBody(app.Secret, code, ownNewCallback)))
	// The edit uses exactly the registration's validation.
	r = ownPost(t, alice.a, base, base+"/edit", ownRegistration("", "Alice Boards", "ftp://x", "vso.work"))
	wantStatus(t, r, http.StatusUnprocessableEntity, "invalid edit")
	if got, _ := e.ts.App.Admin.App(context.Background(), app.ClientID); got.App.CallbackURL != ownNewCallback {
		t.Errorf("a refused edit changed the callback to %q", got.App.CallbackURL)
	}

	// Rotate: the same confirmation and impact count as the admin pages.
	lcConfirm(t, alice.a, base+"/secrets/primary/regenerate", "active authorization")
	r = ownPost(t, alice.a, base, base+"/secrets/alternative", nil)
	wantStatus(t, r, http.StatusSeeOther, "add an alternative secret")
	if r.Location() != base {
		t.Errorf("staged rotation went to %q, want %q", r.Location(), base)
	}
	alt := newSecretRE.FindStringSubmatch(alice.a.get(base).Body)
	if alt == nil {
		t.Fatal("the alternative secret was not shown once")
	}
	lcConfirm(t, alice.a, base+"/secrets/primary/retire", "active authorization")
	r = ownPost(t, alice.a, base+"/secrets/primary/retire", base+"/secrets/primary/retire", nil)
	wantStatus(t, r, http.StatusSeeOther, "retire the primary")
	code = approveAt(t, bob.a, app.ClientID, lcScope, ownNewCallback)
	wantTokens(t, postToken(t, e.ts.URL, formType, codeBody(alt[1], code, ownNewCallback)))

	// Co-owner, then hand over.
	// Co-owners join by invitation (see TestCoOwnerInvitations): carol
	// accepts on her own /profile/apps.
	r = ownPost(t, alice.a, base, base+"/owners", url.Values{"username": {carol.Username}})
	wantStatus(t, r, http.StatusSeeOther, "invite a co-owner")
	inv := myInvitationID(t, carol.a, app.ClientID)
	if inv == "" {
		t.Fatal("carol's /profile/apps does not offer the invitation")
	}
	wantStatus(t, ownPost(t, carol.a, "/profile/apps", "/profile/invitations/"+inv+"/accept", nil), http.StatusSeeOther, "accept the invitation")
	if got := carol.a.get(base); got.Status != http.StatusOK {
		t.Fatalf("co-owner's view of the settings page: %d", got.Status)
	}
	// Only a co-owner can be handed the app: bob is invited and accepts
	// first.
	r = ownPost(t, alice.a, base, base+"/hand-over", url.Values{"username": {bob.Username}})
	if f := lcFlash(t, alice.a, base); !strings.Contains(f, "invite "+bob.Username+" first") {
		t.Errorf("handing over to a non-owner: flash %q", f)
	}
	wantStatus(t, ownPost(t, alice.a, base, base+"/owners", url.Values{"username": {bob.Username}}), http.StatusSeeOther, "invite bob")
	wantStatus(t, ownPost(t, bob.a, "/profile/apps", "/profile/invitations/"+myInvitationID(t, bob.a, app.ClientID)+"/accept", nil), http.StatusSeeOther, "bob accepts")
	// The confirmation says who takes it and that alice stops owning it.
	if action, form := cpConfirm(t, alice.a, base+"/hand-over?username="+bob.Username, bob.Username+" becomes its primary owner and you stop owning it"); action != base+"/hand-over" || form.Get("username") != bob.Username {
		t.Errorf("the hand-over confirmation posts %s %v", action, form)
	}
	r = ownPost(t, alice.a, base, base+"/hand-over", url.Values{"username": {bob.Username}})
	wantStatus(t, r, http.StatusSeeOther, "hand over")
	if got := alice.a.get(base); got.Status != http.StatusNotFound {
		t.Errorf("after handing over, alice's view: %d, want 404", got.Status)
	}
	owners, _ := e.ts.App.Admin.AppOwners(context.Background(), app.ClientID)
	if len(owners) != 2 || owners[0].Username != bob.Username || !owners[0].Primary || owners[1].Username != carol.Username {
		t.Errorf("owners after hand-over: %+v, want bob (primary) and carol", owners)
	}
	// An app always keeps an owner who can manage it: with carol
	// disabled, bob may not leave it to her (the confirmation says so
	// first), and both still own it; enabled again, she may take it.
	if _, err := e.ts.App.Admin.SetDisabled(context.Background(), carol.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := bob.a.get(base + "/owners/" + bob.ID + "/remove"); got.Status != http.StatusSeeOther {
		t.Errorf("the confirmation of leaving to a disabled co-owner: %d, want 303 back to the app", got.Status)
	}
	if flash := lcFlash(t, bob.a, base); !strings.Contains(flash, "only active owner") {
		t.Errorf("the confirmation of leaving to a disabled co-owner: flash %q", flash)
	}
	ownPost(t, bob.a, base, base+"/owners/"+bob.ID+"/remove", nil)
	if flash := lcFlash(t, bob.a, base); !strings.Contains(flash, "only active owner") {
		t.Errorf("leaving to a disabled co-owner: flash %q", flash)
	}
	if owners, _ := e.ts.App.Admin.AppOwners(context.Background(), app.ClientID); len(owners) != 2 || owners[0].Username != bob.Username {
		t.Errorf("owners after bob tried to leave to disabled carol: %+v, want bob (primary) and carol", owners)
	}
	if _, err := e.ts.App.Admin.SetDisabled(context.Background(), carol.ID, false); err != nil {
		t.Fatal(err)
	}
	// An app always keeps at least one owner.
	r = ownPost(t, bob.a, base, base+"/owners/"+carol.ID+"/remove", nil)
	wantStatus(t, r, http.StatusSeeOther, "remove carol")
	r = ownPost(t, bob.a, base, base+"/owners/"+bob.ID+"/remove", nil)
	if flash := lcFlash(t, bob.a, base); !strings.Contains(flash, "at least one owner") {
		t.Errorf("removing the last owner: flash %q", flash)
	}

	// Another member gets 404 on every page of the app, and learns nothing.
	pages := []string{base, base + "/edit", base + "/secrets/primary/regenerate", base + "/secrets/primary/retire", base + "/delete",
		base + "/hand-over?username=" + mallory.Username, base + "/owners/" + bob.ID + "/remove", base + "/client-credentials?enabled=off",
		base + "/secrets/alternative", base + "/owners?username=" + mallory.Username, base + "/change/withdraw",
		base + "/invitations/" + uuid.NewString() + "/cancel"}
	for _, path := range pages {
		if got := mallory.a.get(path); got.Status != http.StatusNotFound || strings.Contains(got.Body, "Alice Boards") {
			t.Errorf("mallory GET %s: %d, want 404 without the app's name", path, got.Status)
		}
	}
	csrf := mallory.a.csrf("/profile/apps")
	for _, path := range []string{base + "/edit", base + "/secrets/primary/regenerate", base + "/secrets/alternative", base + "/secrets/primary/retire",
		base + "/owners", base + "/owners/" + bob.ID + "/remove", base + "/hand-over", base + "/delete"} {
		form := ownRegistration(csrf, "Mallory's", callbackURL, "vso.work")
		form.Set("username", mallory.Username)
		form.Set("confirm", "Alice Boards")
		if got := mallory.a.postForm(path, form); got.Status != http.StatusNotFound {
			t.Errorf("mallory POST %s: %d, want 404", path, got.Status)
		}
	}
	if got := mallory.a.get("/profile/apps/" + uuid.NewString()); got.Status != http.StatusNotFound {
		t.Errorf("an unknown app: %d, want 404", got.Status)
	}
	if got := mallory.a.get("/profile/apps/not-a-guid"); got.Status != http.StatusNotFound {
		t.Errorf("a malformed client id: %d, want 404", got.Status)
	}
	if got, _ := e.ts.App.Admin.App(context.Background(), app.ClientID); got.App.Name != "Alice Boards" || len(got.App.Secrets) != 1 {
		t.Errorf("mallory's requests changed the app: %+v", got.App)
	}

	// The owner's secrets are reachable through the REST API with the
	// owner's token (vso.tokens), and nobody else's.
	tools := registerOwn(t, bob.a, "Bob's tools", "vso.tokens")
	bobTok := lcPairOf(t, postToken(t, e.ts.URL, formType, codeBody(tools.Secret, approve(t, bob.a, tools, "vso.tokens", "t"), callbackURL)))
	status, body := lcAPI(t, e.ts, http.MethodPut, "/_apis/delegatedauth/registrationsecret/"+app.ClientID+"?secretType=primary", bobTok.Access, nil)
	if status != http.StatusOK || body["secret"] == "" || body["clientId"] != app.ClientID {
		t.Errorf("owner's token regenerating the secret: %d %v", status, body)
	}
	malTools := registerOwn(t, mallory.a, "Mallory's tools", "vso.tokens")
	malTok := lcPairOf(t, postToken(t, e.ts.URL, formType, codeBody(malTools.Secret, approve(t, mallory.a, malTools, "vso.tokens", "m"), callbackURL)))
	if status, body := lcAPI(t, e.ts, http.MethodPut, "/_apis/delegatedauth/registrationsecret/"+app.ClientID+"?secretType=primary", malTok.Access, nil); status != http.StatusNotFound {
		t.Errorf("another member's token on the secret API: %d %v, want 404", status, body)
	}

	// Delete with the typed name.
	lcConfirm(t, bob.a, base+"/delete", "active authorization")
	r = ownPost(t, bob.a, base+"/delete", base+"/delete", url.Values{"confirm": {"alice boards"}})
	wantStatus(t, r, http.StatusUnprocessableEntity, "delete with a wrong name")
	r = ownPost(t, bob.a, base+"/delete", base+"/delete", url.Values{"confirm": {"Alice Boards"}})
	wantStatus(t, r, http.StatusSeeOther, "delete")
	if r.Location() != "/profile/apps" {
		t.Errorf("after deleting: %q, want /profile/apps", r.Location())
	}
	if got := bob.a.get(base); got.Status != http.StatusNotFound {
		t.Errorf("the deleted app's page: %d, want 404", got.Status)
	}
	if row := lcRow(bob.a.get("/profile/apps").Body, `data-client-id="`+app.ClientID+`"`); row != "" {
		t.Error("the deleted app is still listed")
	}
	lcWantAPI(t, e.ts, p.Access, http.StatusUnauthorized, "bob's token after the deletion")

	// Everything was audited.
	for _, action := range []string{audit.ActionAppRegister, audit.ActionAppUpdate, audit.ActionSecretCreate, audit.ActionSecretRetire,
		audit.ActionAppOwnerInvite, audit.ActionAppOwnerAdd, audit.ActionAppHandOver, audit.ActionAppOwnerRemove, audit.ActionAppDelete} {
		ev, _, err := e.ts.App.Admin.AuditEvents(context.Background(), audit.Filter{Action: action, TargetID: app.ClientID, Limit: 10})
		if err != nil || len(ev) == 0 {
			t.Errorf("no %s event for the app (%v)", action, err)
		}
	}
}

// TestOwnersApprovalQueue: under the approval policy a member's app is
// pending — its authorize URL is an HTML 400 and its secret gets no
// tokens — until an admin approves it from the queue; a rejection's
// reason reaches the owner.
func TestOwnersApprovalQueue(t *testing.T) {
	e := lcNewEnv(t)
	alice, bob := e.member(t, "alice"), e.member(t, "bob")
	r := ownPost(t, e.admin, "/admin/settings", "/admin/settings/app-registration", url.Values{"policy": {"approval"}})
	wantStatus(t, r, http.StatusSeeOther, "set the policy")
	if got := e.admin.get("/admin/settings"); !strings.Contains(got.Body, `data-testid="registration-policy-state">approval<`) {
		t.Error("settings page does not show the approval policy")
	}
	// The CLI sets the same policy.
	if res := e.cli(t, "policy", "set", "app-registration", "everyone"); res.code != 2 || !strings.Contains(res.stderr, "members, approval or admins") {
		t.Errorf("policy set app-registration everyone: %s", res)
	}
	mustSucceed(t, e.cli(t, "policy", "set", "app-registration", "members"))
	if p, _ := e.ts.App.Admin.RegistrationPolicy(context.Background()); p != domain.PolicyMembers {
		t.Errorf("policy after the CLI: %q", p)
	}
	mustSucceed(t, e.cli(t, "policy", "set", "app-registration", "approval"))
	app := registerOwn(t, alice.a, "Pending Boards", "vso.work")
	other := registerOwn(t, alice.a, "Rejected Boards", "vso.work")
	if row := lcRow(alice.a.get("/profile/apps").Body, `data-client-id="`+app.ClientID+`"`); !strings.Contains(row, `data-status="pending"`) {
		t.Errorf("owner's list: %q, want pending", lcText(row))
	}

	// The authorize URL shows the HTML 400 page, never a redirect.
	page := bob.a.get(authorizeURL(app.ClientID, lcScope, "s", callbackURL))
	if page.Status != http.StatusBadRequest || !strings.Contains(page.Body, "This app is waiting for an administrator&#39;s approval") ||
		page.Header.Get("Location") != "" || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("authorize of a pending app: %d %q %.300s", page.Status, page.Header.Get("Location"), lcText(page.Body))
	}
	// Its secret gets no tokens, even with a code (planted behind the
	// server's back: the server never issues one for a pending app).
	code := plantCode(t, e, bob.User, app.ClientID)
	wantTokenError(t, e.exchange(t, app.Secret, code), http.StatusUnauthorized, "invalid_client", "The app is waiting for an administrator's approval")

	// The queue: /admin/apps?state=pending and the overview.
	queue := e.admin.get("/admin/apps?state=pending")
	if lcRow(queue.Body, `data-client-id="`+app.ClientID+`"`) == "" || lcRow(queue.Body, `data-client-id="`+other.ClientID+`"`) == "" {
		t.Fatalf("the queue does not list both pending apps")
	}
	if ov := e.admin.get("/admin"); !strings.Contains(ov.Body, `data-testid="pending-count">2<`) {
		t.Errorf("overview: no pending count of 2")
	}
	// Members cannot review.
	if got := ownPost(t, alice.a, "/profile/apps", "/admin/apps/"+app.ClientID+"/approve", nil); got.Status != http.StatusForbidden {
		t.Errorf("a member approving: %d, want 403", got.Status)
	}
	// The queues offer Approve and Reject; approve from the overview.
	for _, page := range []string{"/admin", "/admin/apps?state=pending"} {
		row := lcRow(e.admin.get(page).Body, `data-testid="queue-row" data-client-id="`+app.ClientID+`"`)
		if !strings.Contains(row, `data-testid="queue-approve"`) || !strings.Contains(row, `data-testid="queue-reject"`) {
			t.Errorf("%s: the queue row has no Approve / Reject: %q", page, lcText(row))
		}
	}
	if !strings.Contains(e.admin.get("/admin/apps/"+app.ClientID).Body, `data-testid="approve"`) {
		t.Error("the admin's app page has no Approve button")
	}
	r = ownPost(t, e.admin, "/admin", "/admin/apps/"+app.ClientID+"/approve", url.Values{"return": {"overview"}})
	wantStatus(t, r, http.StatusSeeOther, "approve")
	if r.Location() != "/admin" || !strings.Contains(lcFlash(t, e.admin, "/admin"), "approved") {
		t.Errorf("approve from the overview went to %q without a flash", r.Location())
	}
	wantTokens(t, e.exchange(t, app.Secret, code))
	e.pair(t, bob.a, app, app.Secret)

	// Reject with a reason the owner sees.
	rej := ownPost(t, e.admin, "/admin/apps/"+other.ClientID+"/reject", "/admin/apps/"+other.ClientID+"/reject", url.Values{"reason": {""}})
	wantStatus(t, rej, http.StatusUnprocessableEntity, "reject without a reason")
	rej = ownPost(t, e.admin, "/admin/apps/"+other.ClientID+"/reject", "/admin/apps/"+other.ClientID+"/reject",
		url.Values{"reason": {"Use the company domain for the callback."}})
	wantStatus(t, rej, http.StatusSeeOther, "reject")
	own := alice.a.get("/profile/apps/" + other.ClientID)
	if !strings.Contains(own.Body, `data-testid="rejected-notice"`) || !strings.Contains(own.Body, "Use the company domain for the callback.") {
		t.Errorf("the owner does not see the rejection's reason")
	}
	if got := bob.a.get(authorizeURL(other.ClientID, lcScope, "s", callbackURL)); got.Status != http.StatusBadRequest {
		t.Errorf("authorize of a rejected app: %d, want 400", got.Status)
	}
	if ov := e.admin.get("/admin"); !strings.Contains(ov.Body, `data-testid="pending-count">0<`) {
		t.Errorf("overview after the review: pending count not 0")
	}
	for _, action := range []string{audit.ActionAppApprove, audit.ActionAppReject} {
		lcWantEvent(t, e.admin, "action="+action, "root")
	}
	ev := lcWantEvent(t, e.admin, "action="+audit.ActionPolicySet+"&target_id="+domain.SettingAppRegistration, "root")
	if !strings.Contains(ev.Details, `"after":"approval"`) || !strings.Contains(ev.Details, `"before":"members"`) {
		t.Errorf("policy audit details %s", ev.Details)
	}

	// Under "admins" members cannot register.
	wantStatus(t, ownPost(t, e.admin, "/admin/settings", "/admin/settings/app-registration", url.Values{"policy": {"admins"}}), http.StatusSeeOther, "admins policy")
	if got := alice.a.get("/profile/apps"); strings.Contains(got.Body, `data-testid="register-app"`) {
		t.Error("members still see Register an app under the admins policy")
	}
	r = alice.a.postForm("/profile/apps", ownRegistration(alice.a.csrf("/profile/apps/new"), "Nope", callbackURL, "vso.work"))
	wantStatus(t, r, http.StatusForbidden, "member registering under the admins policy")
}

// plantCode stores an authorization and a live code for user and app
// directly, as the approval page would.
func plantCode(t *testing.T, e *lcEnv, u domain.User, clientID string) string {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	z := domain.Authorization{ID: uuid.NewString(), UserID: u.ID, ClientID: clientID, Scopes: []string{lcScope}, RedirectURI: callbackURL, GrantedAt: now}
	code := secret.New("code")
	err := e.ts.App.DB.WriteTx(ctx, func(ctx context.Context) error {
		if err := e.ts.App.DB.CreateAuthorization(ctx, z); err != nil {
			return err
		}
		return e.ts.App.DB.CreateCode(ctx, domain.AuthCode{ID: uuid.NewString(), Hash: secret.Hash(code), AuthorizationID: z.ID, ClientID: clientID,
			UserID: u.ID, Scopes: z.Scopes, RedirectURI: callbackURL, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestOwnersAdminEditAudited: an admin edits any app at
// /admin/apps/{client_id}/edit; the audit log has each field's before and
// after; narrowing narrows grants and widening widens none.
func TestOwnersAdminEditAudited(t *testing.T) {
	e := lcNewEnv(t)
	bob := e.member(t, "bob")
	app := registerThroughDashboard(t, e.admin, "vso.work", "vso.code")
	p := saPair(t, e.ts, bob.a, app, "vso.work vso.code", "b")
	form := e.admin.get("/admin/apps/" + app.ClientID + "/edit")
	if form.Status != http.StatusOK || !strings.Contains(form.Body, `value="`+callbackURL+`"`) || !strings.Contains(form.Body, `action="/admin/apps/`+app.ClientID+`/edit"`) {
		t.Fatalf("edit form: %d, want the current values posting to …/edit", form.Status)
	}
	edit := ownRegistration("", "Fabrikam Boards Pro", ownNewCallback, "vso.work", "vso.build")
	r := ownPost(t, e.admin, "/admin/apps/"+app.ClientID+"/edit", "/admin/apps/"+app.ClientID+"/edit", edit)
	wantStatus(t, r, http.StatusSeeOther, "admin edit")
	ev := lcWantEvent(t, e.admin, "action="+audit.ActionAppUpdate+"&target_id="+app.ClientID, "root")
	var details struct {
		Changes map[string]struct {
			Before, After any
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(ev.Details), &details); err != nil {
		t.Fatalf("details %s: %v", ev.Details, err)
	}
	if c := details.Changes["name"]; c.Before != "Fabrikam Boards" || c.After != "Fabrikam Boards Pro" {
		t.Errorf("audited name change %+v", c)
	}
	if c := details.Changes["callback_url"]; c.Before != callbackURL || c.After != ownNewCallback {
		t.Errorf("audited callback change %+v", c)
	}
	if _, ok := details.Changes["scopes"]; !ok {
		t.Errorf("audited changes lack scopes: %s", ev.Details)
	}
	if _, ok := details.Changes["company"]; ok {
		t.Errorf("an unchanged field was audited: %s", ev.Details)
	}
	// Narrowing dropped vso.code from bob's grant; the widening to
	// vso.build gave him nothing.
	list, _, _ := e.ts.App.Admin.Authorizations(context.Background(), domain.AuthorizationFilter{ID: p.AuthzID})
	if len(list) != 1 || strings.Join(list[0].Scopes, " ") != "vso.work" {
		t.Errorf("bob's grant after the edit: %+v, want vso.work only", list)
	}
	// The CLI takes the same flags and validation.
	res := e.cli(t, "app", "update", app.ClientID, "--callback-url", "http://insecure.example/cb")
	if res.code != 2 || !strings.Contains(res.stderr, "https") {
		t.Errorf("app update with an http callback: %s", res)
	}
	res = mustSucceed(t, e.cli(t, "app", "update", app.ClientID, "--name", "Boards From CLI", "--json"))
	var out struct {
		Changes map[string]map[string]any `json:"changes"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || out.Changes["name"]["after"] != "Boards From CLI" {
		t.Errorf("app update --json: %s (%v)", res.stdout, err)
	}
	if got, _ := e.ts.App.Admin.App(context.Background(), app.ClientID); got.App.Name != "Boards From CLI" || got.App.CallbackURL != ownNewCallback {
		t.Errorf("after the CLI update: %q %q", got.App.Name, got.App.CallbackURL)
	}
}

// TestOwnersUsers: disable kills a live token on its next request and
// ends the session; password change and reset; the last-admin rule; the
// CLI user commands.
func TestOwnersUsers(t *testing.T) {
	e := lcNewEnv(t)
	bob := e.member(t, "bob")
	app := registerThroughDashboard(t, e.admin, lcScope)
	p := e.pair(t, bob.a, app, app.Secret)

	// Disable: token dead on the next request, refresh refused, session
	// ended, sign-in refused with the usual message.
	userPage := "/admin/users/" + bob.ID
	quiet := e.ts.newAgent(t) // a second session of bob's that makes no request while he is disabled
	quiet.signIn(bob.Username, lcPassword)
	lcConfirm(t, e.admin, userPage+"/disable")
	wantStatus(t, ownPost(t, e.admin, userPage, userPage+"/disable", nil), http.StatusSeeOther, "disable")
	lcWantAPI(t, e.ts, p.Access, http.StatusUnauthorized, "bob's token after disable")
	if r := e.refresh(t, app.Secret, p.Refresh); r.Status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
		t.Errorf("bob's refresh after disable: %d %v", r.Status, r.Raw)
	}
	if r := bob.a.get("/profile/authorizations"); r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/signin") {
		t.Errorf("bob's session after disable: %d %q, want a redirect to sign in", r.Status, r.Location())
	}
	again := e.ts.newAgent(t)
	sr := again.postForm("/signin", url.Values{"_csrf": {again.csrf("/signin")}, "username": {bob.Username}, "password": {lcPassword}})
	if sr.Status != http.StatusUnauthorized || !strings.Contains(sr.Body, "Wrong username or password.") || strings.Contains(strings.ToLower(sr.Body), "disabled") {
		t.Errorf("disabled sign-in: %d %.200s", sr.Status, lcText(sr.Body))
	}
	if !strings.Contains(e.admin.get("/admin/users").Body, `data-status="disabled"`) {
		t.Error("the users list does not mark bob disabled")
	}
	// Enable: he signs in and authorizes again; new tokens work.
	wantStatus(t, ownPost(t, e.admin, userPage, userPage+"/enable", nil), http.StatusSeeOther, "enable")
	if r := quiet.get("/profile/apps"); r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/signin") {
		t.Errorf("a session from before the disable, after the enable: %d %q, want it ended", r.Status, r.Location())
	}
	bob.a = e.ts.newAgent(t)
	bob.a.signIn(bob.Username, lcPassword)
	time.Sleep(1100 * time.Millisecond) // tokens carry whole seconds: the new one must postdate the disable
	e.pair(t, bob.a, app, app.Secret)

	// Password change: needs the current password and 12 characters.
	elsewhere := e.ts.newAgent(t)
	elsewhere.signIn(bob.Username, lcPassword)
	pw := bob.a.postForm("/profile/password", url.Values{"_csrf": {bob.a.csrf("/profile/password")}, "current_password": {"wrong"}, "new_password": {"a new long password"}})
	wantStatus(t, pw, http.StatusUnprocessableEntity, "change with a wrong current password")
	pw = bob.a.postForm("/profile/password", url.Values{"_csrf": {bob.a.csrf("/profile/password")}, "current_password": {lcPassword}, "new_password": {"short one"}})
	wantStatus(t, pw, http.StatusUnprocessableEntity, "change to 9 characters")
	pw = bob.a.postForm("/profile/password", url.Values{"_csrf": {bob.a.csrf("/profile/password")}, "current_password": {lcPassword}, "new_password": {"a new long password"}})
	wantStatus(t, pw, http.StatusSeeOther, "change")
	if r := bob.a.get("/profile/apps"); r.Status != http.StatusOK {
		t.Errorf("the session that changed the password: %d, want it kept", r.Status)
	}
	if r := elsewhere.get("/profile/apps"); r.Status != http.StatusFound {
		t.Errorf("bob's other session after the change: %d, want it ended", r.Status)
	}
	fresh := e.ts.newAgent(t)
	fresh.signIn(bob.Username, "a new long password")

	// Reset: a one-time password shown once, changed at the next sign-in.
	lcConfirm(t, e.admin, userPage+"/reset-password")
	rr := ownPost(t, e.admin, userPage, userPage+"/reset-password", nil)
	wantStatus(t, rr, http.StatusOK, "reset")
	m := regexp.MustCompile(`data-testid="one-time-value">([^<]+)<`).FindStringSubmatch(rr.Body)
	if m == nil || rr.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reset page: no one-time password (or cacheable)")
	}
	if strings.Contains(e.admin.get(userPage).Body, m[1]) {
		t.Error("the one-time password is shown again")
	}
	reset := e.ts.newAgent(t)
	sr = reset.postForm("/signin", url.Values{"_csrf": {reset.csrf("/signin")}, "username": {bob.Username}, "password": {m[1]}})
	if sr.Status != http.StatusSeeOther || sr.Location() != "/profile/password" {
		t.Fatalf("sign-in with the one-time password: %d %q, want /profile/password", sr.Status, sr.Location())
	}
	if r := reset.get("/profile/apps"); r.Status != http.StatusSeeOther || r.Location() != "/profile/password" {
		t.Errorf("before changing it: /profile/apps answered %d %q, want the password page", r.Status, r.Location())
	}
	if r := reset.get("/profile/password"); !strings.Contains(r.Body, `data-testid="must-change"`) {
		t.Error("the password page does not say it must be changed")
	}
	wantStatus(t, reset.postForm("/profile/password", url.Values{"_csrf": {reset.csrf("/profile/password")}, "current_password": {m[1]},
		"new_password": {"bob's newest password"}}), http.StatusSeeOther, "change after reset")
	if r := reset.get("/profile/apps"); r.Status != http.StatusOK {
		t.Errorf("after the change: /profile/apps %d", r.Status)
	}

	// The last-admin rule over HTTP: root is the only admin.
	root := "/admin/users/" + e.root.ID
	for _, c := range []struct {
		path string
		form url.Values
	}{{root + "/role", url.Values{"role": {"member"}}}, {root + "/disable", nil}, {root + "/delete", nil}} {
		r := ownPost(t, e.admin, root, c.path, c.form)
		if r.Status != http.StatusConflict || !strings.Contains(r.Body, "last active administrator") {
			t.Errorf("POST %s as the last admin: %d %.200s, want 409", c.path, r.Status, lcText(r.Body))
		}
	}
	if got, _ := e.ts.App.Admin.User(context.Background(), e.root.ID); got.Role != domain.RoleAdmin || !got.Active() {
		t.Errorf("root after the refusals: %+v", got)
	}
	res := e.cli(t, "user", "set-role", "root", "member")
	if res.code != 2 || !strings.Contains(res.stderr, "last active administrator") {
		t.Errorf("CLI demoting the last admin: %s", res)
	}
	// With a second admin, root can be demoted.
	wantStatus(t, ownPost(t, e.admin, userPage, userPage+"/role", url.Values{"role": {"admin"}}), http.StatusSeeOther, "promote bob")
	mustSucceed(t, e.cli(t, "user", "set-role", "root", "auditor"))

	// Delete: authorizations revoked, record kept.
	carol := e.member(t, "carol")
	cp := e.pair(t, carol.a, app, app.Secret)
	bobAdmin := e.ts.newAgent(t)
	bobAdmin.signIn(bob.Username, "bob's newest password")
	cpage := "/admin/users/" + carol.ID
	lcConfirm(t, bobAdmin, cpage+"/delete", "1 active authorization")
	wantStatus(t, ownPost(t, bobAdmin, cpage, cpage+"/delete", nil), http.StatusSeeOther, "delete carol")
	lcWantAPI(t, e.ts, cp.Access, http.StatusUnauthorized, "carol's token after deletion")
	if got, err := e.ts.App.Admin.User(context.Background(), carol.ID); err != nil || got.DeletedAt == nil {
		t.Errorf("carol's record: %+v %v, want kept, deleted", got, err)
	}
	if list, _, _ := e.ts.App.Admin.Authorizations(context.Background(), domain.AuthorizationFilter{UserID: carol.ID, ActiveOnly: true}); len(list) != 0 {
		t.Errorf("carol keeps %d active authorizations", len(list))
	}

	// CLI: list, passwd, disable, enable.
	var users []struct {
		Username, Role, Status string
	}
	res = mustSucceed(t, e.cli(t, "user", "list", "--json"))
	if err := json.Unmarshal([]byte(res.stdout), &users); err != nil {
		t.Fatalf("user list --json: %v\n%s", err, res.stdout)
	}
	got := map[string]string{}
	for _, u := range users {
		got[u.Username] = u.Role + "/" + u.Status
	}
	if got["root"] != "auditor/active" || got[bob.Username] != "admin/active" || got[carol.Username] != "member/deleted" {
		t.Errorf("user list: %v", got)
	}
	res = oauthdesk(t, cliRun{stdin: "too short\n"}, "user", "passwd", bob.Username, "--password-stdin", "--db", e.ts.DBPath)
	if res.code != 2 {
		t.Errorf("passwd with 9 characters: %s", res)
	}
	mustSucceed(t, oauthdesk(t, cliRun{stdin: "set from the command line\n"}, "user", "passwd", bob.Username, "--password-stdin", "--db", e.ts.DBPath))
	e.ts.newAgent(t).signIn(bob.Username, "set from the command line")
	if res := e.cli(t, "user", "disable", bob.Username); res.code != 2 || !strings.Contains(res.stderr, "last active administrator") {
		t.Errorf("CLI disabling the last admin: %s", res)
	}
	dave := e.member(t, "dave")
	dp := e.pair(t, dave.a, app, app.Secret)
	mustSucceed(t, e.cli(t, "user", "disable", dave.Username))
	// Another process's commit reaches the server within
	// store.PollInterval (README's consistency bounds); the CLI now
	// returns well within it.
	waitOtherProcess()
	lcWantAPI(t, e.ts, dp.Access, http.StatusUnauthorized, "dave's token after `user disable`")
	mustSucceed(t, e.cli(t, "user", "enable", dave.Username))
	e.ts.newAgent(t).signIn(dave.Username, lcPassword)
	if res := e.cli(t, "user", "disable", "nobody"); res.code != 2 || !strings.Contains(res.stderr, "nobody") {
		t.Errorf("disable an unknown user: %s", res)
	}
}
