package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

var uaOneTimeRE = regexp.MustCompile(`data-testid="one-time-value"[^>]*>([^<]+)<`)

// TestAddUserInTheUI: an administrator adds a user on /admin/users/new,
// gets a one-time password once, and the new user signs in with it and
// must choose a new one; a taken username is refused with the form kept;
// the user page lists the apps the user owns.
func TestAddUserInTheUI(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	if !strings.Contains(rootA.get("/admin/users").Body, `href="/admin/users/new"`) {
		t.Error("the users page offers no way to add a user")
	}
	form := url.Values{"_csrf": {rootA.csrf("/admin/users/new")}, "username": {"grace"}, "display_name": {"Grace Hopper"},
		"email": {"grace@example.com"}, "role": {"auditor"}}
	r := rootA.postForm("/admin/users/new", form)
	m := uaOneTimeRE.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		t.Fatalf("add user: %d, no one-time password: %.400s", r.Status, lcText(r.Body))
	}
	pw := strings.TrimSpace(m[1])
	if u, err := ts.App.Admin.UserByUsername(context.Background(), "grace"); err != nil || !u.MustChangePassword || u.Role != domain.RoleAuditor {
		t.Errorf("grace as stored: %+v %v, want an auditor who must change the password", u, err)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Error("the one-time password page may be cached")
	}
	// The new user signs in with it and is sent to choose a password.
	g := ts.newAgent(t)
	s := g.postForm("/signin", url.Values{"_csrf": {g.csrf("/signin")}, "username": {"grace"}, "password": {pw}})
	if s.Status != http.StatusSeeOther {
		t.Fatalf("grace's first sign-in: %d", s.Status)
	}
	if next := g.get("/admin"); next.Status != http.StatusSeeOther || next.Location() != "/profile/password" {
		t.Errorf("grace's first page: %d → %q, want the password change", next.Status, next.Location())
	}
	// A taken username: 409, the form keeps what was typed.
	form.Set("_csrf", rootA.csrf("/admin/users/new"))
	r = rootA.postForm("/admin/users/new", form)
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, `value="Grace Hopper"`) || !strings.Contains(r.Body, "already taken") {
		t.Errorf("taken username: %d %.300s", r.Status, lcText(r.Body))
	}
	// The user page lists owned apps.
	app := registerThroughDashboard(t, rootA, "vso.work")
	users := rootA.get("/admin/users").Body
	_, rest, _ := strings.Cut(users, `data-username="root"`)
	id := regexp.MustCompile(`href="/admin/users/([^"]+)"`).FindStringSubmatch(rest)
	if id == nil {
		t.Fatal("no link to root's page")
	}
	if page := rootA.get("/admin/users/" + id[1]).Body; !strings.Contains(page, `href="/admin/apps/`+app.ClientID+`" data-testid="owned-app"`) {
		t.Error("root's page does not list the app root owns")
	}
}

// TestDeletedOwnerShown: after frank is deleted, the app he co-owned with
// bob no longer lists him among its owners (deleting a user removes them
// from the apps other active owners keep: TestDeleteCoOwnerLeavesItsApps;
// an app frank owned alone is handed over: TestDeleteSoleOwnerHandsOver),
// and its activity names him "frank (deleted)", not just "frank".
func TestDeletedOwnerShown(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	frank := ts.addUser(t, "frank", domain.RoleMember, saPassword)
	res, err := ts.App.Admin.RegisterApp(context.Background(), "frank", domain.Registration{Name: "Frank's Feed", Company: "Frank Co.",
		AppURL: "https://frank.example", CallbackURL: callbackURL, Scopes: []string{"vso.work"}})
	if err != nil {
		t.Fatal(err)
	}
	ts.addUser(t, "bob", domain.RoleMember, saPassword)
	if _, err := ts.App.Admin.AddOwner(context.Background(), res.App.ClientID, "bob"); err != nil {
		t.Fatal(err)
	}
	path := "/admin/users/" + frank.ID + "/delete"
	if r := rootA.postForm(path, url.Values{"_csrf": {rootA.csrf(path)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("delete frank: %d %.300s", r.Status, lcText(r.Body))
	}
	if page := rootA.get("/admin/apps/" + res.App.ClientID + "?tab=owners").Body; strings.Contains(page, `data-username="frank"`) ||
		!strings.Contains(page, `data-username="bob"`) {
		t.Errorf("the app's owners after frank was deleted: %.600s", lcText(page))
	}
	if act := lcText(rootA.get("/admin/apps/" + res.App.ClientID + "/activity").Body); !strings.Contains(act, "frank (deleted)") {
		t.Errorf("the app's activity does not say frank was deleted: %.600s", act)
	}
}

// TestAdminManagesOwners: an administrator adds and removes an owner of
// any app from the admin app page.
func TestAdminManagesOwners(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob := ts.addUser(t, "bob", domain.RoleMember, saPassword)
	app := registerThroughDashboard(t, rootA, "vso.work")
	page := "/admin/apps/" + app.ClientID
	if !strings.Contains(rootA.get(page).Body, `data-testid="admin-add-owner-form"`) {
		t.Fatal("the admin app page offers no way to manage owners")
	}
	r := rootA.postForm(page+"/owners", url.Values{"_csrf": {rootA.csrf(page)}, "username": {"bob"}})
	if r.Status != http.StatusSeeOther || r.Location() != page {
		t.Fatalf("add owner: %d → %q", r.Status, r.Location())
	}
	if !strings.Contains(rootA.get(page).Body, `data-testid="admin-owner-row" data-username="bob"`) {
		t.Error("bob is not listed as an owner after being added")
	}
	r = rootA.postForm(page+"/owners/"+bob.ID+"/remove", url.Values{"_csrf": {rootA.csrf(page)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("remove owner: %d", r.Status)
	}
	if strings.Contains(rootA.get(page).Body, `data-testid="admin-owner-row" data-username="bob"`) {
		t.Error("bob is still an owner after being removed")
	}
}
