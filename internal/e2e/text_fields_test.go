package e2e

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// app import applies exactly the registration's rules: javascript: and
// data: URLs, escape sequences, line breaks and direction overrides in a
// name are refused with their line, and nothing is imported.
func TestImportValidatesLikeRegistration(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "oauthdesk.db")
	mustSucceed(t, oauthdesk(t, cliRun{dir: dir, stdin: cliPassword + "\n"}, "user", "add", "root", "--role", "admin", "--password-stdin", "--db", db))
	head := "client_id,name,company,callback_url,scopes,secret_created_at,app_url\n"
	row := func(n int, name, appURL string) string {
		return "40000000-0000-4000-8000-00000000000" + string(rune('0'+n)) + "," + name + ",Contoso,https://contoso.example/cb" + string(rune('0'+n)) + ",vso.work,2024-01-01," + appURL + "\n"
	}
	csvDoc := head +
		row(1, "Fine App", "https://contoso.example") + // line 2: fine
		row(2, "Script Link", "javascript:alert(1)") + // line 3
		row(3, "Data Link", "data:text/html;base64,PHNjcmlwdD4=") + // line 4
		row(4, "Red\x1b[31mAlert", "https://contoso.example") + // line 5
		row(5, "Right\u202eLeft", "https://contoso.example") + // line 6
		row(6, "\"Two\nLines\"", "https://contoso.example") // line 7 (a quoted newline)
	file := filepath.Join(dir, "inventory.csv")
	if err := os.WriteFile(file, []byte(csvDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	r := oauthdesk(t, cliRun{}, "app", "import", "--file", file, "--owner", "root", "--db", db)
	if r.code != 2 {
		t.Fatalf("import of bad rows: exit %d, want 2\n%s", r.code, r)
	}
	for _, want := range []string{":3: app_url:", ":4: app_url:", ":5: name:", ":6: name:", ":7: name:"} {
		if !strings.Contains(r.stderr, file+want) {
			t.Errorf("stderr lacks %q\n%s", file+want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, file+":2:") {
		t.Errorf("the good row was reported\n%s", r.stderr)
	}
	jsonDoc := `[{"client_id": "40000000-0000-4000-8000-000000000009", "name": "Osc\u001b]8;;https://evil.example\u0007link", "company": "C",
  "callback_url": "https://c.example/cb", "scopes": "vso.work", "secret_created_at": "2024-01-01", "app_url": "javascript:void(0)"}]`
	jf := filepath.Join(dir, "inventory.json")
	_ = os.WriteFile(jf, []byte(jsonDoc), 0o600)
	r = oauthdesk(t, cliRun{}, "app", "import", "--file", jf, "--owner", "root", "--db", db)
	if r.code != 2 || !strings.Contains(r.stderr, jf+":1: name:") || !strings.Contains(r.stderr, "app_url: ") {
		t.Errorf("JSON import of an OSC name and a javascript: URL: want exit 2 with both problems\n%s", r)
	}
	if out := mustSucceed(t, oauthdesk(t, cliRun{}, "app", "list", "--json", "--db", db)).stdout; strings.TrimSpace(out) != "[]" {
		t.Errorf("a rejected import stored apps: %s", out)
	}
	// A CSV error on the first data row (found by FuzzParseImport: it used
	// to panic) is a clear problem, not a crash.
	broken := filepath.Join(dir, "broken.csv")
	_ = os.WriteFile(broken, []byte(head+"00000000\"0000\n"), 0o600)
	if r := oauthdesk(t, cliRun{}, "app", "import", "--file", broken, "--owner", "root", "--db", db); r.code != 2 || strings.Contains(r.stderr, "panic") || !strings.Contains(r.stderr, broken+":2: not valid CSV") {
		t.Errorf("import of a file with a bare quote: want exit 2 naming line 2\n%s", r)
	}
	// The good row alone imports.
	good := filepath.Join(dir, "good.csv")
	_ = os.WriteFile(good, []byte(head+row(1, "Fine App", "https://contoso.example")), 0o600)
	mustSucceed(t, oauthdesk(t, cliRun{}, "app", "import", "--file", good, "--owner", "root", "--db", db))
}

// Text fields refuse control characters and direction overrides with a
// field error: registration and edit (dashboard) and user add (CLI).
func TestTextFieldsRefuseControlAndBidi(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	admin := ts.newAgent(t)
	admin.signIn("root", "root-password-1")
	form := func(name string) url.Values {
		return url.Values{"_csrf": {admin.csrf("/admin/apps/new")}, "name": {name}, "company": {"Fabrikam"},
			"app_url": {"https://fabrikam.example"}, "callback_url": {callbackURL}, "scopes": {"vso.work"}}
	}
	for _, bad := range []string{"Evil\u202eppa", "Red\x1b[31m", "Two\nlines", "Iso\u2066late"} {
		r := admin.postForm("/admin/apps", form(bad))
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-name"`) {
			t.Errorf("register with name %q: status %d, want 422 with the name's field error", bad, r.Status)
		}
	}
	app := registerThroughDashboard(t, admin, "vso.work")
	edit := form("Right\u202eLeft")
	edit.Set("_csrf", admin.csrf("/admin/apps/"+app.ClientID+"/edit"))
	if r := admin.postForm("/admin/apps/"+app.ClientID+"/edit", edit); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-name"`) {
		t.Errorf("edit with a direction override: status %d, want 422 with the name's field error", r.Status)
	}
	for _, name := range []string{"Ev\x1b[2Jil", "Right\u202eLeft"} {
		r := oauthdesk(t, cliRun{stdin: cliPassword + "\n"}, "user", "add", "mallory", "--role", "member", "--display-name", name, "--password-stdin", "--db", ts.DBPath, "--key-file", ts.App.KeyFile)
		wantUsageError(t, r, "display name")
	}
}

// Table output on a terminal escapes what was stored before validation
// existed (escape sequences, line breaks, direction overrides).
func TestTablesEscapeStoredControlCharacters(t *testing.T) {
	sqliteOnly(t) // writes the old row through SQLite
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	admin := ts.newAgent(t)
	admin.signIn("root", "root-password-1")
	app := registerThroughDashboard(t, admin, "vso.work")
	raw, err := ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer raw.db.Close()
	if _, err := raw.Exec(`UPDATE apps SET name = ?, company = ? WHERE client_id = ?`, "Red\x1b[31mAlert\nsecond line", "Right\u202eLeft", app.ClientID); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"app", "list"}, {"report", "expiry", "--within", "2000d"}} {
		out := mustSucceed(t, oauthdesk(t, cliRun{}, append(args, "--db", ts.DBPath, "--key-file", ts.App.KeyFile)...)).stdout
		if strings.ContainsAny(out, "\x1b\u202e") || strings.Contains(out, "Alert\nsecond") {
			t.Errorf("%v prints raw control characters:\n%q", args, out)
		}
		if !strings.Contains(out, `Red\x1b[31mAlert\nsecond line`) || !strings.Contains(out, `Right\u202eLeft`) {
			t.Errorf("%v does not show the escaped text:\n%s", args, out)
		}
	}
	// JSON stays exact.
	out := mustSucceed(t, oauthdesk(t, cliRun{}, "app", "list", "--json", "--db", ts.DBPath)).stdout
	if !strings.Contains(out, `Red\u001b[31mAlert\nsecond line`) {
		t.Errorf("app list --json is not exact: %s", out)
	}
}
