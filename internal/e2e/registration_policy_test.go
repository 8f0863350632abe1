package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestNewAppFormUnderAdminsPolicy: under the "admins" policy a member's
// GET /profile/apps/new answers 403 with the message its POST would give
// (no form that can only fail); an admin still gets the form.
func TestNewAppFormUnderAdminsPolicy(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	alice := e.member(t, "alice")
	if r := alice.a.get("/profile/apps/new"); r.Status != http.StatusOK || !strings.Contains(r.Body, `action="/profile/apps"`) {
		t.Fatalf("the form under the members policy: %d", r.Status)
	}
	wantStatus(t, ownPost(t, e.admin, "/admin/settings", "/admin/settings/app-registration", url.Values{"policy": {"admins"}}), http.StatusSeeOther, "admins policy")
	r := alice.a.get("/profile/apps/new")
	wantStatus(t, r, http.StatusForbidden, "a member's registration form under the admins policy")
	if !strings.Contains(lcText(r.Body), "Only administrators may register apps here") || strings.Contains(r.Body, `action="/profile/apps"`) {
		t.Errorf("403 page: want the message and no form: %.400s", lcText(r.Body))
	}
	if r := e.admin.get("/profile/apps/new"); r.Status != http.StatusOK || !strings.Contains(r.Body, `action="/profile/apps"`) {
		t.Errorf("an admin's form under the admins policy: %d", r.Status)
	}
}
