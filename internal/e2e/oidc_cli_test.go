package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// The standard-flow flags of `app register` and `app update`: without
// them a registration keeps today's meaning (the dialect only); a public
// client gets no secret; bad values are one line and exit 2.
func TestCLIStandardFlowFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "oauthdesk.db")
	run := cliRun{dir: dir}
	mustSucceed(t, oauthdesk(t, cliRun{dir: dir, stdin: cliPassword + "\n"}, "user", "add", "ada", "--role", "member", "--password-stdin", "--db", db))
	appOf := func(id string) domain.App {
		t.Helper()
		st, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		a, err := st.ClientByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	// Today's script: the dialect only.
	var legacy registerJSON
	if err := json.Unmarshal([]byte(mustSucceed(t, oauthdesk(t, run, append(registerArgs(db), "--json")...)).stdout), &legacy); err != nil {
		t.Fatal(err)
	}
	if a := appOf(legacy.ClientID); !slices.Equal(a.EffectiveGrantTypes(), []string{domain.GrantDialect}) || a.EffectiveClientType() != domain.ClientConfidential || a.EffectiveIDTokenAlg() != domain.AlgRS256 {
		t.Errorf("register without the new flags: %v %s %s, want the dialect only, confidential, RS256", a.GrantTypes, a.ClientType, a.IDTokenAlg)
	}
	// Enable the standard flow on it.
	mustSucceed(t, oauthdesk(t, run, "app", "update", legacy.ClientID, "--db", db,
		"--grant-types", "urn:ietf:params:oauth:grant-type:jwt-bearer authorization_code refresh_token",
		"--redirect-uri", "https://contoso.example/wallboard/oauth-callback", "--redirect-uri", "http://127.0.0.1/cb",
		"--post-logout-redirect-uri", "https://contoso.example/bye", "--id-token-alg", "ES256"))
	a := appOf(legacy.ClientID)
	if !a.AllowsGrant(domain.GrantAuthorizationCode) || !a.AllowsGrant(domain.GrantDialect) || a.CallbackURL != "https://contoso.example/wallboard/oauth-callback" ||
		!slices.Equal(a.RedirectURIs, []string{"http://127.0.0.1/cb"}) || a.IDTokenAlg != "ES256" || !a.PostLogoutMatches("https://contoso.example/bye") {
		t.Errorf("after app update: %+v", a.Registration)
	}

	// A public client: no secret in the output.
	r := mustSucceed(t, oauthdesk(t, run, "app", "register", "--db", db, "--name", "CLI", "--company", "Contoso", "--app-url", "https://contoso.example",
		"--redirect-uri", "http://127.0.0.1/callback", "--scopes", "vso.work", "--owner", "ada", "--client-type", "public", "--json"))
	var pub map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &pub); err != nil || pub["client_id"] == nil || pub["client_secret"] != nil {
		t.Fatalf("public register --json: %s", r.stdout)
	}
	if p := appOf(pub["client_id"].(string)); !p.Public() || len(p.Secrets) != 0 || !p.AllowsGrant(domain.GrantAuthorizationCode) || p.AllowsGrant(domain.GrantDialect) {
		t.Errorf("public client: %+v, %d secrets", p.Registration, len(p.Secrets))
	}

	// Bad values: one line, exit 2, nothing stored.
	wantUsageError(t, oauthdesk(t, run, append(registerArgs(db), "--grant-types", "password")...), "grant type")
	wantUsageError(t, oauthdesk(t, run, append(registerArgs(db), "--id-token-alg", "HS256")...), "RS256")
	wantUsageError(t, oauthdesk(t, run, append(registerArgs(db), "--client-type", "public", "--grant-types", "urn:ietf:params:oauth:grant-type:jwt-bearer")...), "public")
}

// The app page shows the endpoints of each flow the app may use and the
// guide from the Azure DevOps flow to OpenID Connect; the form's
// checkboxes change the grant types.
func TestOIDCAppPage(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	admin := ts.newAgent(t)
	admin.signIn("root", "root-password-1")
	app := registerThroughDashboard(t, admin, "vso.work") // a form without the new fields: both flows
	page := admin.get("/admin/apps/" + app.ClientID)
	for _, want := range []string{`data-testid="endpoints-dialect"`, `data-testid="endpoints-oidc"`, `data-testid="migration-guide"`,
		ts.URL + "/.well-known/openid-configuration", "response_type=code", "response_type=Assertion"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("app page of an app with both flows lacks %s", want)
		}
	}
	// Untick the standard flow on the edit form: the dialect only, and the
	// guide says how to turn it back on.
	form := url.Values{"_csrf": {admin.csrf("/admin/apps/" + app.ClientID + "/edit")}, "name": {"Fabrikam Boards"}, "company": {"Fabrikam, Inc."},
		"app_url": {"https://fabrikam.example/boards"}, "callback_url": {callbackURL}, "scopes": {"vso.work"},
		"client_fields": {"1"}, "client_type": {"confidential"}, "grant_types": {domain.GrantDialect}, "id_token_alg": {"RS256"}}
	if r := admin.postForm("/admin/apps/"+app.ClientID+"/edit", form); r.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %.300s", r.Status, r.Body)
	}
	page = admin.get("/admin/apps/" + app.ClientID)
	if strings.Contains(page.Body, `data-testid="endpoints-oidc"`) || !strings.Contains(page.Body, "--grant-types") {
		t.Errorf("app page of a dialect-only app: the standard endpoints shown, or no hint how to enable them")
	}
	// The standard flow is now refused for it: the dialect answers.
	r := admin.get("/oauth2/authorize?client_id=" + app.ClientID + "&response_type=code&scope=openid&redirect_uri=" + callbackURL + "&state=s")
	if u, _ := url.Parse(r.Location()); r.Status != http.StatusFound || u.Query().Get("error") != "ResponseTypeNotSupported" {
		t.Errorf("code request to a dialect-only app: %d %s", r.Status, r.Location())
	}
}
