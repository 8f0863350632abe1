package views

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// postForms are the forms that POST, by "file component action", each
// with why it may change state without a confirmation page before it:
// it is a confirmation's own form, a form whose submit is the person's
// explicit act of saving what they typed, or changes nothing. Every
// other button that changes state links to its confirmation (GET) —
// e.g. Confirm — and posts from there.
var postForms = map[string]string{
	`layout.templ Confirm { templ.SafeURL(p.Action) }`: "the confirmation's own form",
	`layout.templ SignOut "/signout"`:                  "the sign-out confirmation's own form",
	`connectors.templ ConnectorRemove { templ.SafeURL("/admin/settings/connectors/" + name + "/remove") }`:        "the connector removal's confirmation",
	`apps.templ Reject { templ.SafeURL("/admin/apps/" + p.ClientID + "/reject") }`:                                "the rejection page: the reason typed, what rejecting does said",
	`pending_changes.templ RejectChange { templ.SafeURL("/admin/apps/" + p.Change.ClientID + "/change/reject") }`: "the change's rejection page: the reason typed",
	`import.templ Import "/admin/apps/import/confirm"`:                                                            "the import preview's own form: the preview lists what will be imported",
	`consent.templ Consent { templ.SafeURL(consentAction(p)) }`:                                                   "the consent page: it is the confirmation of an authorization",
	`oidc.templ SignedOut "/oauth2/logout"`:                                                                       "the RP-initiated logout confirmation's own form",
	`oidc.templ FormPost { templ.SafeURL(p.Action) }`:                                                             "the form_post response mode: the authorization response posted to the client",
	`oidc.templ Device "/device"`:                                                                                 "the device code form: checks the code and shows the consent page",
	`layout.templ SignIn "/signin"`:                                                                               "the sign-in form",
	`layout.templ Layout "/signout"`:                                                                              "sign out from the menu: ends only the session, loses nothing, and is undone by signing in",
	`apps.templ appFormBody { templ.SafeURL(formAction(p)) }`:                                                     "the registration form and its edit, saved by their own button",
	`import.templ Import "/admin/apps/import"`:                                                                    "the upload: answers a preview and writes nothing",
	`connectors.templ Connectors "/admin/settings/connectors"`:                                                    "the add-a-connector forms (OIDC and LDAP), fields typed and saved",
	`connectors.templ Connectors { templ.SafeURL("/admin/settings/connectors/" + c.Name + "/test") }`:             "Test: a probe that binds or runs discovery and writes nothing",
	`pats.templ PATs "/profile/tokens"`:                                                                           "the new-token form, fields typed and saved",
	`pats.templ PATEdit { templ.SafeURL(p.Action) }`:                                                              "the token edit form, saved by its own button",
	`scopes.templ AppScopes { templ.SafeURL("/admin/apps/" + p.ClientID + "/scopes") }`:                           "the scope editor, saved by its own button (narrowing to the recommendation confirms)",
	`users.templ UserAdd "/admin/users/new"`:                                                                      "the add-a-user form",
	`users.templ Password "/profile/password"`:                                                                    "the password form: current and new password typed",
}

var (
	templRE    = regexp.MustCompile(`^templ ([A-Za-z0-9_]+)\(`)
	postFormRE = regexp.MustCompile(`<form method="post" action=("[^"]*"|\{[^}]*\})`)
)

// TestPostForms: every form in the views that POSTs is one of postForms,
// with its reason; a new button that changes state at once (delete,
// revoke, rotate, switch…) fails here until it links to a confirmation.
func TestPostForms(t *testing.T) {
	files, err := filepath.Glob("*.templ")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templ files: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		component := ""
		for i, line := range strings.Split(string(b), "\n") {
			if m := templRE.FindStringSubmatch(line); m != nil {
				component = m[1]
			}
			if strings.Contains(line, "hx-post") || strings.Contains(line, "formmethod") {
				t.Errorf("%s:%d posts outside a form (%s): check it against postForms", f, i+1, strings.TrimSpace(line))
			}
			if !strings.Contains(line, `method="post"`) {
				continue
			}
			m := postFormRE.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("%s:%d: a POST form this test cannot read: %s", f, i+1, strings.TrimSpace(line))
				continue
			}
			key := f + " " + component + " " + m[1]
			if postForms[key] == "" {
				t.Errorf("%s:%d: the form %s changes state at once: link to a confirmation page (GET, views.Confirm) instead, or add it to postForms with the reason it needs none", f, i+1, key)
			}
			seen[key] = true
		}
	}
	for key := range postForms {
		if !seen[key] {
			t.Errorf("postForms has %s, which is no longer a form; update the list", key)
		}
	}
}
