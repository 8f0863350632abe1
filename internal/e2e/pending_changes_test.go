package e2e

// Under the approval policy a member's edit of an approved app's name,
// company, callback URL or scopes waits for an administrator: the live
// registration keeps serving exactly as approved (consent page, where
// codes go, what tokens carry) until the change is approved, and the
// approval queue shows the before/after diff. Runs on SQLite and, with
// OAUTHDESK_E2E_DB=postgres, on PostgreSQL.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
)

const evilCallback = "https://teams-login.example/oauth-callback"

// codeAt runs the consent for clientID, scope and redirect as u and
// returns the code and the page the consent showed.
func codeAt(t *testing.T, u *agent, clientID, scope, redirect string) (string, string) {
	t.Helper()
	page := u.get(authorizeURL(clientID, scope, "pc", redirect))
	cb := decide(t, u, authorizeURL(clientID, scope, "pc", redirect), "accept")
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != redirect || cb.Query().Get("code") == "" {
		t.Fatalf("consent sent the user to %s, want a code at %s", cb, redirect)
	}
	return cb.Query().Get("code"), page.Body
}

// scopeOf exchanges code (sent to redirect) and returns the access token's scp.
func scopeOf(t *testing.T, e *lcEnv, secret, code, redirect string) string {
	t.Helper()
	r := postToken(t, e.ts.URL, formType, codeBody(secret, code, redirect))
	wantTokens(t, r)
	return lcClaims(t, r.str("access_token"))["scp"]
}

func TestPendingChangeHeldUntilApproved(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	alice, bob := e.member(t, "alice"), e.member(t, "bob")
	wantStatus(t, ownPost(t, e.admin, "/admin/settings", "/admin/settings/app-registration", url.Values{"policy": {"approval"}}), http.StatusSeeOther, "approval policy")
	app := registerOwn(t, alice.a, "Fabrikam Boards", "vso.work")
	wantStatus(t, ownPost(t, e.admin, "/admin/apps/"+app.ClientID, "/admin/apps/"+app.ClientID+"/approve", nil), http.StatusSeeOther, "approve the app")
	base := "/profile/apps/" + app.ClientID

	// The member edits the approved app to impersonate another vendor,
	// send codes elsewhere and ask for more; the description is not
	// reviewed and applies at once.
	edit := ownRegistration("", "Microsoft Teams", evilCallback, "vso.work", "vso.code_full")
	edit.Set("company", "Microsoft")
	edit.Set("description", "Now with chat.")
	r := ownPost(t, alice.a, base+"/edit", base+"/edit", edit)
	wantStatus(t, r, http.StatusSeeOther, "the member's edit")
	if f := lcFlash(t, alice.a, base); !strings.Contains(f, "Waiting for an administrator's approval") {
		t.Errorf("flash after the edit: %q", f)
	}

	// The aftermath: the live registration is exactly as approved.
	code, consent := codeAt(t, bob.a, app.ClientID, lcScope, callbackURL)
	if !strings.Contains(consent, "Fabrikam Boards") || strings.Contains(consent, "Microsoft") {
		t.Errorf("the consent page does not show the approved name and company: %.300s", lcText(consent))
	}
	if got := scopeOf(t, e, app.Secret, code, callbackURL); got != "vso.work" {
		t.Errorf("token scope while the change waits: %q, want vso.work", got)
	}
	if page := bob.a.get(authorizeURL(app.ClientID, lcScope, "pc", evilCallback)); page.Status != http.StatusBadRequest || page.Location() != "" {
		t.Errorf("authorize with the proposed callback while it waits: %d %q, want the 400 page", page.Status, page.Location())
	}
	if page := bob.a.get(authorizeURL(app.ClientID, "vso.code_full", "pc", callbackURL)); page.Status == http.StatusOK && strings.Contains(page.Body, `name="decision"`) {
		t.Error("the proposed scope can be consented to while it waits")
	}
	owner := alice.a.get(base)
	if !strings.Contains(owner.Body, "Now with chat.") {
		t.Error("the unreviewed description did not apply at once")
	}
	for _, f := range []string{"name", "company", "callback_url", "scopes"} {
		if !strings.Contains(owner.Body, `data-field="`+f+`"`) {
			t.Errorf("the owner's page does not show the waiting %s", f)
		}
	}
	if strings.Contains(owner.Body, `data-field="description"`) {
		t.Error("the description is shown as waiting")
	}
	// The edit form starts from the proposed values and says what waits.
	if form := alice.a.get(base + "/edit"); !strings.Contains(form.Body, `value="Microsoft Teams"`) || !strings.Contains(form.Body, `data-testid="review-hint"`) {
		t.Error("the edit form does not start from the waiting change, or does not say changes wait for review")
	}

	// The overview counts it; the queue shows the diff; a member cannot
	// approve.
	if ov := e.admin.get("/admin"); !strings.Contains(ov.Body, `data-testid="pending-changes-count">1<`) {
		t.Error("the overview does not count the waiting change")
	}
	queue := e.admin.get("/admin/changes")
	row := lcRow(queue.Body, `data-testid="change-row" data-client-id="`+app.ClientID+`"`)
	if row == "" {
		t.Fatalf("/admin/changes does not list the change: %.400s", lcText(queue.Body))
	}
	for _, want := range []string{"Fabrikam Boards", "Microsoft Teams", callbackURL, evilCallback, "vso.code_full", alice.Username} {
		if !strings.Contains(htmlUnescape(queue.Body), want) {
			t.Errorf("the queue's diff lacks %q", want)
		}
	}
	if got := ownPost(t, alice.a, base, "/admin/apps/"+app.ClientID+"/change/approve", nil); got.Status != http.StatusForbidden {
		t.Errorf("a member approving the change: %d, want 403", got.Status)
	}
	lcWantEvent(t, e.admin, "action="+audit.ActionAppChangeRequest+"&target_id="+app.ClientID, alice.Username)

	// Approved: the new registration serves.
	r = ownPost(t, e.admin, "/admin/changes", "/admin/apps/"+app.ClientID+"/change/approve", url.Values{"return": {"queue"}})
	wantStatus(t, r, http.StatusSeeOther, "approve the change")
	if r.Location() != "/admin/changes" {
		t.Errorf("approve from the queue went to %q", r.Location())
	}
	if q := e.admin.get("/admin/changes"); !strings.Contains(q.Body, `data-testid="changes-empty"`) {
		t.Error("the queue still lists the approved change")
	}
	code, consent = codeAt(t, bob.a, app.ClientID, "vso.work vso.code_full", evilCallback)
	if !strings.Contains(consent, "Microsoft Teams") {
		t.Error("the consent page does not show the approved new name")
	}
	if got := scopeOf(t, e, app.Secret, code, evilCallback); !strings.Contains(got, "vso.code_full") {
		t.Errorf("token scope after approval: %q, want vso.code_full in it", got)
	}
	if page := bob.a.get(authorizeURL(app.ClientID, lcScope, "pc", callbackURL)); page.Status != http.StatusBadRequest {
		t.Errorf("authorize with the old callback after approval: %d, want 400", page.Status)
	}
	lcWantEvent(t, e.admin, "action="+audit.ActionAppChangeApprove+"&target_id="+app.ClientID, "root")
	if strings.Contains(alice.a.get(base).Body, `data-testid="change-notice"`) {
		t.Error("the owner still sees a waiting change after approval")
	}
}

func TestPendingChangeWithdrawRejectAndAdminEdit(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	alice, bob := e.member(t, "alice"), e.member(t, "bob")
	wantStatus(t, ownPost(t, e.admin, "/admin/settings", "/admin/settings/app-registration", url.Values{"policy": {"approval"}}), http.StatusSeeOther, "approval policy")
	app := registerOwn(t, alice.a, "Fabrikam Boards", "vso.work")
	wantStatus(t, ownPost(t, e.admin, "/admin/apps/"+app.ClientID, "/admin/apps/"+app.ClientID+"/approve", nil), http.StatusSeeOther, "approve the app")
	base := "/profile/apps/" + app.ClientID
	propose := func(name string) {
		t.Helper()
		wantStatus(t, ownPost(t, alice.a, base+"/edit", base+"/edit", ownRegistration("", name, evilCallback, "vso.work")), http.StatusSeeOther, "edit")
	}

	// Withdrawn by the owner: nothing waits, nothing changed.
	propose("Boards Two")
	wantStatus(t, ownPost(t, alice.a, base, base+"/change/withdraw", nil), http.StatusSeeOther, "withdraw")
	if strings.Contains(alice.a.get(base).Body, `data-testid="change-notice"`) || !strings.Contains(e.admin.get("/admin/changes").Body, "changes-empty") {
		t.Error("the withdrawn change still waits")
	}
	lcWantEvent(t, e.admin, "action="+audit.ActionAppChangeWithdraw+"&target_id="+app.ClientID, alice.Username)

	// Rejected by an administrator, with a reason the owner sees.
	propose("Boards Three")
	rej := ownPost(t, e.admin, "/admin/apps/"+app.ClientID+"/change/reject", "/admin/apps/"+app.ClientID+"/change/reject", url.Values{"reason": {""}})
	wantStatus(t, rej, http.StatusUnprocessableEntity, "reject without a reason")
	rej = ownPost(t, e.admin, "/admin/apps/"+app.ClientID+"/change/reject", "/admin/apps/"+app.ClientID+"/change/reject",
		url.Values{"reason": {"The callback must stay on fabrikam.example."}})
	wantStatus(t, rej, http.StatusSeeOther, "reject")
	own := alice.a.get(base)
	if !strings.Contains(own.Body, `data-status="rejected"`) || !strings.Contains(own.Body, "The callback must stay on fabrikam.example.") {
		t.Error("the owner does not see the rejection and its reason")
	}
	code, consent := codeAt(t, bob.a, app.ClientID, lcScope, callbackURL)
	if strings.Contains(consent, "Boards Three") {
		t.Error("the rejected name is live")
	}
	if got := scopeOf(t, e, app.Secret, code, callbackURL); got != "vso.work" {
		t.Errorf("token scope after the rejection: %q", got)
	}

	// An administrator's edit applies at once, under the same policy.
	adminEdit := ownRegistration("", "Fabrikam Boards Pro", callbackURL, "vso.work")
	wantStatus(t, ownPost(t, e.admin, "/admin/apps/"+app.ClientID+"/edit", "/admin/apps/"+app.ClientID+"/edit", adminEdit), http.StatusSeeOther, "admin edit")
	if _, consent := codeAt(t, bob.a, app.ClientID, lcScope, callbackURL); !strings.Contains(consent, "Fabrikam Boards Pro") {
		t.Error("the administrator's edit did not apply at once")
	}

	// Under the members policy a member's edit applies at once.
	wantStatus(t, ownPost(t, e.admin, "/admin/settings", "/admin/settings/app-registration", url.Values{"policy": {"members"}}), http.StatusSeeOther, "members policy")
	wantStatus(t, ownPost(t, alice.a, base+"/edit", base+"/edit", ownRegistration("", "Boards Four", callbackURL, "vso.work")), http.StatusSeeOther, "edit under members")
	if _, consent := codeAt(t, bob.a, app.ClientID, lcScope, callbackURL); !strings.Contains(consent, "Boards Four") {
		t.Error("under the members policy the edit did not apply at once")
	}
}

// TestPendingChangeDiffByItem: a change that only adds a high-privilege
// scope (and drops another) shows, in the queue and on the overview, the
// scope added (badged "high privilege", as the new-app queue does) and
// the one removed, not the whole lists twice, and no unchanged field;
// the Approve confirmation states only what changes (no word of a new
// callback URL). The owner's home lists the waiting change among what
// needs them, linked to the app, and /profile/apps says
// "change awaiting approval".
func TestPendingChangeDiffByItem(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	alice := e.member(t, "alice")
	// An app whose secret is about to expire (registered before approval
	// is required): its home link opens the Secrets tab.
	old := registerOwn(t, alice.a, "Fabrikam Old Secret", "vso.work")
	db, err := e.ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ageSecret(t, db, old.ClientID, time.Now().AddDate(-5, 0, 10))
	wantStatus(t, ownPost(t, e.admin, "/admin/settings", "/admin/settings/app-registration", url.Values{"policy": {"approval"}}), http.StatusSeeOther, "approval policy")
	app := registerOwn(t, alice.a, "Fabrikam Boards", "vso.work", "vso.code")
	wantStatus(t, ownPost(t, e.admin, "/admin/apps/"+app.ClientID, "/admin/apps/"+app.ClientID+"/approve", nil), http.StatusSeeOther, "approve the app")
	base := "/profile/apps/" + app.ClientID
	r := ownPost(t, alice.a, base+"/edit", base+"/edit", ownRegistration("", "Fabrikam Boards", callbackURL, "vso.work", "vso.code_full"))
	wantStatus(t, r, http.StatusSeeOther, "the member's edit")

	checkDiff := func(where, body string) {
		t.Helper()
		i := strings.Index(body, `data-testid="change-row" data-client-id="`+app.ClientID+`"`)
		if i < 0 {
			t.Fatalf("%s does not show the change: %.400s", where, lcText(body))
		}
		row := body[i:]
		if j := strings.Index(row, "</table>"); j >= 0 {
			row = row[:j]
		}
		added := lcRow(row, `data-testid="change-added" data-value="vso.code_full"`)
		if added == "" || !strings.Contains(added, "</li>") || !strings.Contains(added[:strings.Index(added, "</li>")], "high privilege") {
			t.Errorf("%s: vso.code_full is not listed as added with a high-privilege badge: %.300s", where, lcText(row))
		}
		if !strings.Contains(row, `data-testid="change-removed" data-value="vso.code"`) {
			t.Errorf("%s: vso.code is not listed as removed", where)
		}
		if strings.Contains(row, `data-value="vso.work"`) {
			t.Errorf("%s: the unchanged vso.work is listed as a change", where)
		}
		if strings.Contains(row, `data-field="callback_url"`) || strings.Contains(row, `data-field="name"`) {
			t.Errorf("%s: an unchanged field is repeated", where)
		}
		if !strings.Contains(row, `data-testid="change-high"`) {
			t.Errorf("%s: the change is not badged as adding a high-privilege scope", where)
		}
	}
	checkDiff("/admin/changes", e.admin.get("/admin/changes").Body)
	ov := e.admin.get("/admin")
	if !strings.Contains(ov.Body, `data-testid="overview-changes"`) {
		t.Error("the overview does not show the waiting change")
	}
	checkDiff("/admin", ov.Body)
	if !strings.Contains(ov.Body, `href="/admin/apps/`+app.ClientID+`/change/approve?return=queue"`) {
		t.Error("the overview offers no Approve for the waiting change")
	}

	confirm := lcText(e.admin.get("/admin/apps/" + app.ClientID + "/change/approve?return=queue").Body)
	for _, want := range []string{"adds vso.code_full (high privilege)", "removes vso.code", "new tokens carry, the new scopes"} {
		if !strings.Contains(confirm, want) {
			t.Errorf("the Approve confirmation lacks %q: %.600s", want, confirm)
		}
	}
	if strings.Contains(confirm, "callback URL") {
		t.Errorf("the Approve confirmation speaks of a callback URL that does not change: %.600s", confirm)
	}

	home := alice.a.get("/").Body
	if row := lcRow(home, `data-testid="home-action" data-client-id="`+app.ClientID+`"`); !strings.Contains(row, "waits for an administrator") ||
		!strings.Contains(row, `href="/profile/apps/`+app.ClientID+`"`) {
		t.Errorf("the home page does not list the waiting change among what needs the owner: %.300s", lcText(row))
	}
	if row := lcRow(home, `data-testid="home-action" data-client-id="`+old.ClientID+`"`); !strings.Contains(row, `href="/profile/apps/`+old.ClientID+`?tab=secrets"`) {
		t.Errorf("the expiring secret's link does not open the Secrets tab: %.300s", row)
	}
	if strings.Contains(home, "#secrets") {
		t.Error("the home page links to #secrets, which opens the Overview tab")
	}
	if row := lcRow(alice.a.get("/profile/apps").Body, `data-testid="app-row" data-client-id="`+app.ClientID+`"`); !strings.Contains(row, `data-testid="change-status" data-status="pending"`) ||
		!strings.Contains(row, "change awaiting approval") {
		t.Errorf("/profile/apps does not say the change awaits approval: %.300s", lcText(row))
	}
}
