package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

var acRowRE = regexp.MustCompile(`(?s)<tr data-testid="audit-row" data-action="([^"]+)">(.*?)</tr>`)

// acRow is what one audit row says: its action and the app, user and
// target names shown as links.
type acRow struct{ Action, App, User, Target string }

func acRows(t *testing.T, a *agent, path string) []acRow {
	t.Helper()
	r := a.get(path)
	if r.Status != http.StatusOK {
		t.Fatalf("%s: status %d", path, r.Status)
	}
	var out []acRow
	for _, m := range acRowRE.FindAllStringSubmatch(r.Body, -1) {
		row := acRow{Action: m[1]}
		row.App, _ = lcTestID(m[2], "audit-app-link")
		row.User, _ = lcTestID(m[2], "audit-user-link")
		row.Target, _ = lcTestID(m[2], "audit-target-link")
		out = append(out, row)
	}
	return out
}

func acCount(rows []acRow, action, app, user string) int {
	n := 0
	for _, r := range rows {
		if r.Action == action && (app == "" || r.App == app) && (user == "" || r.User == user) {
			n++
		}
	}
	return n
}

// TestActivityByAppAndUser: "what happened to this app?" — filtering the
// audit log by the app's client id returns its consents and revocations
// too (their target is an authorization), and the app and user pages have
// an Activity tab showing the same, with names as links; the hash chain
// still verifies.
func TestActivityByAppAndUser(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	_, carolA := saSignedIn(t, ts, "carol", domain.RoleMember, saPassword)

	app := registerThroughDashboard(t, rootA, "vso.work")
	other := registerThroughDashboard(t, rootA, "vso.code")
	const name = "Fabrikam Boards"
	saPair(t, ts, bobA, app, "vso.work", "bob-a")
	saPair(t, ts, carolA, app, "vso.work", "carol-a")
	saPair(t, ts, bobA, other, "vso.code", "bob-other")
	// Revoke bob's authorization of app through the dashboard.
	list, _, err := ts.App.Admin.Authorizations(context.Background(), domain.AuthorizationFilter{ClientID: app.ClientID, UserID: bob.ID, ActiveOnly: true, Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("bob's authorization of the app: %v %v", list, err)
	}
	path := "/admin/authorizations/" + list[0].ID + "/revoke"
	if r := rootA.postForm(path, url.Values{"_csrf": {rootA.csrf(path)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: status %d", r.Status)
	}

	for _, path := range []string{"/admin/audit?app=" + app.ClientID, "/admin/apps/" + app.ClientID + "/activity"} {
		rows := acRows(t, rootA, path)
		if n := acCount(rows, "app.register", name, ""); n != 1 {
			t.Errorf("%s: %d app.register rows for the app, want 1 (%v)", path, n, rows)
		}
		if n := acCount(rows, "consent.grant", name, "bob"); n != 1 {
			t.Errorf("%s: %d consents by bob, want 1 (%v)", path, n, rows)
		}
		if n := acCount(rows, "consent.grant", name, "carol"); n != 1 {
			t.Errorf("%s: %d consents by carol, want 1 (%v)", path, n, rows)
		}
		if n := acCount(rows, "authorization.revoke", name, "bob"); n != 1 {
			t.Errorf("%s: %d revocations of bob's authorization, want 1 (%v)", path, n, rows)
		}
		for _, r := range rows {
			if r.App != name {
				t.Errorf("%s: a row about %q, want only %s", path, r.App, name)
			}
		}
	}
	// The app page links its Activity tab.
	if body := rootA.get("/admin/apps/" + app.ClientID).Body; !strings.Contains(body, `href="/admin/apps/`+app.ClientID+`/activity" aria-selected="false" tabindex="-1" data-testid="tab-activity"`) {
		t.Error("the app page has no Activity link")
	}

	// Bob's activity: his consents to both apps, the revocation, his
	// sign-in; not carol's consent.
	for _, path := range []string{"/admin/audit?user=" + bob.ID, "/admin/users/" + bob.ID + "/activity"} {
		rows := acRows(t, rootA, path)
		if n := acCount(rows, "consent.grant", "", "bob"); n != 2 {
			t.Errorf("%s: %d consents by bob, want 2 (%v)", path, n, rows)
		}
		if n := acCount(rows, "authorization.revoke", name, "bob"); n != 1 {
			t.Errorf("%s: %d revocations, want 1", path, n)
		}
		if n := acCount(rows, "consent.grant", "", "carol"); n != 0 {
			t.Errorf("%s: carol's consent is listed as bob's activity", path)
		}
		if n := acCount(rows, "session.signin", "", "bob"); n < 1 {
			t.Errorf("%s: bob's sign-in is missing (%v)", path, rows)
		}
	}
	if body := rootA.get("/admin/users/" + bob.ID).Body; !strings.Contains(body, `href="/admin/users/`+bob.ID+`/activity" data-testid="activity-link"`) {
		t.Error("the user page has no Activity link")
	}
	// Both filters together: bob's events about the other app only.
	rows := acRows(t, rootA, "/admin/audit?app="+other.ClientID+"&user="+bob.ID)
	if len(rows) != 1 || rows[0].Action != "consent.grant" {
		t.Errorf("bob × other app: %v, want his one consent", rows)
	}
	// The picker offers apps by name with their client id as the value.
	if r := rootA.get("/admin/audit/pick?kind=app&app=Fabrikam"); r.Status != http.StatusOK || !strings.Contains(r.Body, `data-id="`+app.ClientID+`"`) {
		t.Errorf("app picker: %d %s", r.Status, r.Body)
	}
	if r := rootA.get("/admin/audit/pick?kind=user&user=bo"); r.Status != http.StatusOK || !strings.Contains(r.Body, `data-id="`+bob.ID+`"`) {
		t.Errorf("user picker: %d %s", r.Status, r.Body)
	}
	// The owner sees the app's activity too; a member who owns nothing
	// gets 404.
	if r := carolA.get("/profile/apps/" + app.ClientID + "/activity"); r.Status != http.StatusNotFound {
		t.Errorf("a non-owner's activity view: %d, want 404", r.Status)
	}

	n, brk, err := ts.App.Admin.VerifyAudit(context.Background())
	if err != nil || brk != nil || n == 0 {
		t.Errorf("audit verify: %d events, break %+v, err %v", n, brk, err)
	}
}

// TestActivityHoldsWhatTheUserDid: a member's activity (the user page's
// tab and the audit log filtered by the user) lists what the member did
// to an app — registering it, asking for a change — not only what was
// done to the member.
func TestActivityHoldsWhatTheUserDid(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	priya, bob := e.member(t, "priya"), e.member(t, "bob")
	wantStatus(t, ownPost(t, e.admin, "/admin/settings", "/admin/settings/app-registration", url.Values{"policy": {"approval"}}), http.StatusSeeOther, "approval policy")
	const name = "Zephyr Reports"
	app := registerOwn(t, priya.a, name, "vso.work")
	wantStatus(t, ownPost(t, e.admin, "/admin/apps/"+app.ClientID, "/admin/apps/"+app.ClientID+"/approve", nil), http.StatusSeeOther, "approve the app")
	base := "/profile/apps/" + app.ClientID
	wantStatus(t, ownPost(t, priya.a, base+"/edit", base+"/edit", ownRegistration("", name, callbackURL, "vso.work", "vso.code")), http.StatusSeeOther, "the member's change")

	for _, path := range []string{"/admin/users/" + priya.ID + "/activity", "/admin/audit?user=" + priya.ID} {
		rows := acRows(t, e.admin, path)
		for _, action := range []string{audit.ActionAppRegister, audit.ActionAppChangeRequest} {
			if n := acCount(rows, action, name, priya.Username); n != 1 {
				t.Errorf("%s: %d %s rows by %s about %s, want 1 (%v)", path, n, action, priya.Username, name, rows)
			}
		}
		if n := acCount(rows, audit.ActionAppApprove, "", ""); n != 0 {
			t.Errorf("%s: the administrator's approval is listed as %s's activity", path, priya.Username)
		}
	}
	if rows := acRows(t, e.admin, "/admin/audit?user="+bob.ID); acCount(rows, audit.ActionAppRegister, "", "") != 0 {
		t.Errorf("bob's activity lists priya's registration: %v", rows)
	}
	n, brk, err := e.ts.App.Admin.VerifyAudit(context.Background())
	if err != nil || brk != nil || n == 0 {
		t.Errorf("audit verify: %d events, break %+v, err %v", n, brk, err)
	}
}

var acHrefRE = regexp.MustCompile(`href="([^"]+)"`)

// TestOwnerActivityLinksAndPrivacy: on a member's own app Activity tab
// every link in the table opens for the member (the app and what belongs
// to it lead to the owner's app page; users are named, not linked to
// admin pages), and end users' IP addresses are not shown; an
// administrator's view of the same events keeps the admin links and the
// addresses.
func TestOwnerActivityLinksAndPrivacy(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	priya, bob := e.member(t, "priya"), e.member(t, "bob")
	const name = "Zephyr Reports"
	app := registerOwn(t, priya.a, name, "vso.work")
	codeAt(t, bob.a, app.ClientID, lcScope, callbackURL)
	base := "/profile/apps/" + app.ClientID

	page := priya.a.get(base + "/activity")
	if page.Status != http.StatusOK {
		t.Fatalf("owner's activity: %d", page.Status)
	}
	rows := acRowRE.FindAllStringSubmatch(page.Body, -1)
	if len(rows) < 2 {
		t.Fatalf("owner's activity: %d rows, want the registration and bob's consent", len(rows))
	}
	links := map[string]bool{}
	for _, r := range rows {
		for _, m := range acHrefRE.FindAllStringSubmatch(r[2], -1) {
			links[htmlUnescape(m[1])] = true
		}
	}
	if len(links) == 0 {
		t.Error("the owner's activity links nothing (the app should lead to its page)")
	}
	for l := range links {
		if strings.HasPrefix(l, "/admin/") {
			t.Errorf("the owner's activity links to %s, an admin page", l)
		}
		if r := priya.a.get(l); r.Status != http.StatusOK {
			t.Errorf("the owner follows %s: status %d, want 200", l, r.Status)
		}
	}
	if !links[base] {
		t.Errorf("the app is not linked to the owner's app page %s: %v", base, links)
	}
	own := acRows(t, priya.a, base+"/activity")
	if n := acCount(own, "consent.grant", name, ""); n != 1 {
		t.Errorf("bob's consent: %d rows with the app linked, want 1 (%v)", n, own)
	}
	if !strings.Contains(page.Body, `data-testid="audit-user-name">`+bob.Username+`<`) {
		t.Error("bob's consent does not name him")
	}
	for _, leak := range []string{"127.0.0.1", `data-testid="audit-from"`, "<th>From</th>"} {
		if strings.Contains(page.Body, leak) {
			t.Errorf("the owner's activity shows remote addresses (%q)", leak)
		}
	}

	// The administrator: admin links and addresses.
	adm := e.admin.get("/admin/apps/" + app.ClientID + "/activity")
	if !strings.Contains(adm.Body, `href="/admin/users/`+bob.ID+`"`) || !strings.Contains(adm.Body, `data-testid="audit-from"><small>127.0.0.1<`) {
		t.Error("the administrator's activity lost the user links or the remote addresses")
	}
}
