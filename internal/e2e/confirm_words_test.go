package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// TestConfirmationsAndWords: the third-party access switch asks first and
// says what it does; revoking from a user's page returns to it; a form
// error lists the fields as links; the consent page shows no catalog
// notes.
func TestConfirmationsAndWords(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)

	// "Turn off" is a link to a confirmation, not a form that acts at once.
	settings := rootA.get("/admin/settings").Body
	if !strings.Contains(settings, `href="/admin/settings/third-party-oauth?value=off" role="button" class="secondary" data-testid="policy-toggle"`) {
		t.Error("Turn off is not a link to a confirmation")
	}
	confirm := rootA.get("/admin/settings/third-party-oauth?value=off")
	if confirm.Status != http.StatusOK || !strings.Contains(confirm.Body, "Turn off third-party application access?") ||
		!strings.Contains(confirm.Body, "401 TF400813") || !strings.Contains(confirm.Body, "nothing is revoked or deleted") {
		t.Errorf("confirmation: %d %s", confirm.Status, lcText(confirm.Body))
	}
	if on, _ := ts.App.Admin.ThirdPartyOAuth(context.Background()); !on {
		t.Fatal("opening the confirmation turned access off")
	}
	r := rootA.postForm("/admin/settings/third-party-oauth?value=off", url.Values{"_csrf": {rootA.csrf("/admin/settings")}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("confirmed turn off: %d", r.Status)
	}
	if on, _ := ts.App.Admin.ThirdPartyOAuth(context.Background()); on {
		t.Error("after confirming, access is still on")
	}

	// Revoking from the user's page returns to the user's page.
	app := registerThroughDashboard(t, rootA, "vso.work")
	saPair(t, ts, bobA, app, "vso.work", "bob")
	page := rootA.get("/admin/users/" + bob.ID).Body
	_, rest, ok := strings.Cut(page, `href="/admin/authorizations/`)
	if !ok {
		t.Fatal("no revoke link on the user page")
	}
	link := "/admin/authorizations/" + rest[:strings.Index(rest, `"`)]
	link = strings.ReplaceAll(link, "&amp;", "&")
	if !strings.HasSuffix(link, "?from=user") {
		t.Errorf("revoke link %q does not say it comes from the user page", link)
	}
	c := rootA.get(link)
	if !strings.Contains(c.Body, `href="/admin/users/`+bob.ID+`"`) {
		t.Error("the confirmation's cancel does not go back to the user page")
	}
	path, _, _ := strings.Cut(link, "?")
	r = rootA.postForm(link, url.Values{"_csrf": {rootA.csrf(path)}})
	if r.Status != http.StatusSeeOther || r.Location() != "/admin/users/"+bob.ID {
		t.Errorf("after revoking from the user page: %d → %q, want the user page", r.Status, r.Location())
	}

	// A registration with errors: a summary linking to each field.
	form := url.Values{"_csrf": {rootA.csrf("/admin/apps/new")}, "name": {""}, "company": {"C"}, "app_url": {"not a url"},
		"callback_url": {"https://c.example/cb"}, "scopes": {"vso.work"}}
	r = rootA.postForm("/admin/apps", form)
	if !strings.Contains(r.Body, `data-testid="error-summary"`) || !strings.Contains(r.Body, `href="#field-name"`) ||
		!strings.Contains(r.Body, `href="#field-app_url"`) || !strings.Contains(r.Body, `id="field-name"`) {
		t.Errorf("form errors: %d, no summary linking to the fields: %.600s", r.Status, lcText(r.Body))
	}

	// The consent page shows no catalog notes.
	full := registerThroughDashboard(t, rootA, "user_impersonation")
	consent := bobA.get(authorizeURL(full.ClientID, "user_impersonation", "s", callbackURL))
	if consent.Status != http.StatusOK || !strings.Contains(consent.Body, "Full access to the REST APIs as the user.") || strings.Contains(consent.Body, "docs warn") {
		t.Errorf("consent page %d shows the catalog's notes or not the description: %.400s", consent.Status, lcText(consent.Body))
	}
}
