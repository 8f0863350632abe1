package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// An inventory import may carry grant_types and redirect_uris (CSV
// space-separated, JSON arrays): stored, shown as a change on re-import,
// validated like a registration; without the columns the dialect only, as
// before.
func TestImportGrantTypesAndRedirectURIs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "oauthdesk.db")
	mustSucceed(t, oauthdesk(t, cliRun{dir: dir, stdin: cliPassword + "\n"}, "user", "add", "ada", "--role", "admin", "--password-stdin", "--db", db))
	write := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
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
	const a1, a2 = "40000000-0000-4000-8000-000000000001", "40000000-0000-4000-8000-000000000002"
	csv := write("in.csv", "client_id,name,company,callback_url,scopes,secret_created_at,owner,grant_types,redirect_uris\n"+
		a1+",Both,Contoso,https://contoso.example/cb,vso.work,2025-01-01,ada,urn:ietf:params:oauth:grant-type:jwt-bearer authorization_code refresh_token,https://contoso.example/oidc http://127.0.0.1/cb\n"+
		a2+",Legacy,Contoso,https://contoso.example/legacy,vso.work,2025-01-01,ada,,\n")
	mustSucceed(t, oauthdesk(t, cliRun{dir: dir}, "app", "import", "--file", csv, "--db", db))
	if a := appOf(a1); !slices.Equal(a.EffectiveGrantTypes(), []string{domain.GrantDialect, domain.GrantAuthorizationCode, domain.GrantRefreshToken}) ||
		!slices.Equal(a.RedirectURIs, []string{"https://contoso.example/oidc", "http://127.0.0.1/cb"}) {
		t.Errorf("imported with the columns: %v %v", a.GrantTypes, a.RedirectURIs)
	}
	if a := appOf(a2); !slices.Equal(a.EffectiveGrantTypes(), []string{domain.GrantDialect}) || len(a.RedirectURIs) != 0 {
		t.Errorf("imported with empty columns: %v %v, want the dialect only", a.GrantTypes, a.RedirectURIs)
	}
	// JSON re-import changing the grant types: an update.
	js := write("in.json", `[{"client_id":"`+a2+`","name":"Legacy","company":"Contoso","callback_url":"https://contoso.example/legacy","scopes":"vso.work",
 "secret_created_at":"2025-01-01","owner":"ada","grant_types":["urn:ietf:params:oauth:grant-type:jwt-bearer","client_credentials"]}]`)
	if r := mustSucceed(t, oauthdesk(t, cliRun{dir: dir}, "app", "import", "--file", js, "--db", db)); !strings.Contains(r.stdout, "1 updated") {
		t.Errorf("re-import with new grant types: %s", r.stdout)
	}
	if a := appOf(a2); !a.AllowsGrant(domain.GrantClientCredentials) {
		t.Errorf("after re-import: %v", a.GrantTypes)
	}
	// Bad values: rejected whole with the line, exit 2, nothing changed.
	for name, c := range map[string]struct{ content, want string }{
		"unknown grant type": {"client_id,name,company,callback_url,scopes,secret_created_at,grant_types\n" + a1 + ",Both,Contoso,https://contoso.example/cb,vso.work,2025-01-01,password\n", ":2: grant_types"},
		"refresh alone":      {"client_id,name,company,callback_url,scopes,secret_created_at,grant_types\n" + a1 + ",Both,Contoso,https://contoso.example/cb,vso.work,2025-01-01,refresh_token\n", ":2: grant_types"},
		"bad redirect URI":   {"client_id,name,company,callback_url,scopes,secret_created_at,redirect_uris\n" + a1 + ",Both,Contoso,https://contoso.example/cb,vso.work,2025-01-01,javascript:alert(1)\n", ":2: redirect_uris"},
	} {
		f := write(strings.ReplaceAll(name, " ", "-")+".csv", c.content)
		r := oauthdesk(t, cliRun{dir: dir}, "app", "import", "--file", f, "--db", db)
		if r.code != 2 || !strings.Contains(r.stderr, f+c.want) {
			t.Errorf("%s: want exit 2 naming %q\n%s", name, c.want, r)
		}
	}
	if a := appOf(a1); len(a.RedirectURIs) != 2 || !a.AllowsGrant(domain.GrantAuthorizationCode) {
		t.Errorf("a rejected file changed the app: %v %v", a.GrantTypes, a.RedirectURIs)
	}
}
