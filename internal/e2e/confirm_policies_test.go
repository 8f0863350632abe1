package e2e

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

var (
	cpFormRE   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)">(.*?)</form>`)
	cpHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// cpConfirm opens the confirmation at path, checks that it is one and
// says each of want, and returns the form it posts (action and fields).
func cpConfirm(t *testing.T, a *agent, path string, want ...string) (string, url.Values) {
	t.Helper()
	r := a.get(path)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="confirm"`) {
		t.Fatalf("GET %s: %d, want a confirmation\n%.400s", path, r.Status, lcText(r.Body))
	}
	text := lcText(r.Body)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the confirmation %s does not say %q: %.600s", path, w, text)
		}
	}
	m := cpFormRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("the confirmation %s has no form", path)
	}
	form := url.Values{}
	for _, h := range cpHiddenRE.FindAllStringSubmatch(m[2], -1) {
		form.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return html.UnescapeString(m[1]), form
}

// TestPolicySwitchesConfirm: the registration policy, the secret
// lifetime, a user's role and an owner's removal each go through a
// confirmation that says what will change; opening it changes nothing,
// and posting its form does what it said.
func TestPolicySwitchesConfirm(t *testing.T) {
	e := lcNewEnv(t)
	ctx := context.Background()
	bob, carol := e.member(t, "bob"), e.member(t, "carol")

	settings := e.admin.get("/admin/settings").Body
	for _, action := range []string{"/admin/settings/app-registration", "/admin/settings/secret-lifetime"} {
		if !strings.Contains(settings, `<form method="get" action="`+action+`"`) {
			t.Errorf("the settings form for %s does not ask for a confirmation first", action)
		}
	}

	// Registration policy: approval.
	action, form := cpConfirm(t, e.admin, "/admin/settings/app-registration?policy=approval",
		"Members' new apps will wait for an administrator's approval", "Now: members")
	if v, _ := e.ts.App.Admin.RegistrationPolicy(ctx); v != domain.PolicyMembers {
		t.Fatalf("opening the confirmation changed the policy to %q", v)
	}
	if action != "/admin/settings/app-registration" || form.Get("policy") != "approval" {
		t.Fatalf("the confirmation posts %s %v", action, form)
	}
	wantStatus(t, e.admin.postForm(action, form), http.StatusSeeOther, "confirm the approval policy")
	if v, _ := e.ts.App.Admin.RegistrationPolicy(ctx); v != domain.PolicyApproval {
		t.Errorf("policy after the confirmation: %q", v)
	}
	pending := registerOwn(t, bob.a, "Bob Waits", "vso.work")
	if d, _ := e.ts.App.Admin.App(ctx, pending.ClientID); d.App.Status != domain.AppPending {
		t.Errorf("bob's new app is %q under approval, want pending", d.App.Status)
	}
	if r := e.admin.get("/admin/settings/app-registration?policy=everyone"); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("an unknown policy: %d, want 422", r.Status)
	}

	// Approving the waiting app: who asked and which scopes, then active.
	action, form = cpConfirm(t, e.admin, "/admin/apps/"+pending.ClientID+"/approve", "Registered by "+bob.Username, "Scopes it asks for: vso.work")
	wantStatus(t, e.admin.postForm(action, form), http.StatusSeeOther, "approve bob's app")
	if d, _ := e.ts.App.Admin.App(ctx, pending.ClientID); d.App.Status != domain.AppActive {
		t.Errorf("bob's app after the approval: %q", d.App.Status)
	}

	// Secret lifetime: 30 days; existing secrets keep their expiry.
	before, _ := e.ts.App.Admin.App(ctx, pending.ClientID)
	action, form = cpConfirm(t, e.admin, "/admin/settings/secret-lifetime?days=30",
		"New secrets will expire after 30 days; existing secrets keep their expiry")
	if life, _ := e.ts.App.Admin.SecretLifetime(ctx); life == 30*24*time.Hour {
		t.Fatal("opening the confirmation changed the lifetime")
	}
	wantStatus(t, e.admin.postForm(action, form), http.StatusSeeOther, "confirm 30 days")
	if life, _ := e.ts.App.Admin.SecretLifetime(ctx); life != 30*24*time.Hour {
		t.Errorf("lifetime after the confirmation: %s", life)
	}
	fresh := registerThroughDashboard(t, e.admin, "vso.work")
	d, _ := e.ts.App.Admin.App(ctx, fresh.ClientID)
	if len(d.App.Secrets) == 0 || d.App.Secrets[0].ExpiresAt.Sub(time.Now()) > 31*24*time.Hour {
		t.Errorf("a new app's secret after the 30-day policy: %+v", d.App.Secrets)
	}
	after, _ := e.ts.App.Admin.App(ctx, pending.ClientID)
	if !after.App.Secrets[0].ExpiresAt.Equal(before.App.Secrets[0].ExpiresAt) {
		t.Error("an existing secret's expiry moved with the policy")
	}
	if r := e.admin.get("/admin/settings/secret-lifetime?days=0"); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("0 days: %d, want 422", r.Status)
	}

	// A role: what an administrator may do, then the role.
	action, form = cpConfirm(t, e.admin, "/admin/users/"+carol.ID+"/role?role=admin", "may change every app, user and setting", "Now member")
	if u, _ := e.ts.App.Admin.User(ctx, carol.ID); u.Role != domain.RoleMember {
		t.Fatal("opening the confirmation changed the role")
	}
	wantStatus(t, e.admin.postForm(action, form), http.StatusSeeOther, "make carol admin")
	if u, _ := e.ts.App.Admin.User(ctx, carol.ID); u.Role != domain.RoleAdmin {
		t.Errorf("carol's role after the confirmation: %s", u.Role)
	}

	// Removing an owner: who stops owning it, then the owners.
	if _, err := e.ts.App.Admin.AddOwner(ctx, pending.ClientID, carol.Username); err != nil {
		t.Fatal(err)
	}
	own := "/profile/apps/" + pending.ClientID
	if !strings.Contains(bob.a.get(own).Body, `href="`+own+`/owners/`+carol.ID+`/remove"`) {
		t.Error("the owner's page does not link to the removal's confirmation")
	}
	action, form = cpConfirm(t, bob.a, own+"/owners/"+carol.ID+"/remove", carol.Username+" no longer sees or manages the app")
	wantStatus(t, bob.a.postForm(action, form), http.StatusSeeOther, "remove carol")
	if ok, _ := e.ts.App.Admin.IsOwner(ctx, pending.ClientID, carol.ID); ok {
		t.Error("carol still owns the app after the removal")
	}
}
