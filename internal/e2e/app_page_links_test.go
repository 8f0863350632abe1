package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminAppPageLinksAuthorizationUsers: on the admin app page each
// authorization's user is a link to the user's admin page (which opens
// and names them); the owner's page of the same app links no admin page.
func TestAdminAppPageLinksAuthorizationUsers(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	priya, bob := e.member(t, "priya"), e.member(t, "bob")
	app := registerOwn(t, priya.a, "Zephyr Reports", "vso.work")
	codeAt(t, bob.a, app.ClientID, lcScope, callbackURL)

	page := e.admin.get("/admin/apps/" + app.ClientID)
	row := lcRow(page.Body, `data-testid="authorization-row"`)
	want := `href="/admin/users/` + bob.ID + `" data-testid="authorization-user"`
	if !strings.Contains(row, want) {
		t.Fatalf("the authorization's user is not linked to their page: %s", lcText(row))
	}
	if r := e.admin.get("/admin/users/" + bob.ID); r.Status != http.StatusOK || !strings.Contains(r.Body, bob.Username) {
		t.Errorf("the linked user page: %d", r.Status)
	}
	if own := priya.a.get("/profile/apps/" + app.ClientID); strings.Contains(own.Body, `href="/admin/users/`) {
		t.Error("the owner's app page links an admin user page")
	}
}
