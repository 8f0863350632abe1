package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// postFile posts a multipart form with one file field, as a browser does.
func (a *agent) postFile(path, field, filename string, content []byte, fields url.Values) response {
	a.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	fw, _ := w.CreateFormFile(field, filename)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, a.url(path), &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return a.do(req)
}

// TestImportInventory imports four apps whose secrets are 1 year, 4 years
// 10 months, 4 years 11.9 months and 5 years 1 day old and checks their
// states in the CLI report, on /admin/apps and on the overview; re-imports
// are idempotent; bad files are rejected whole with line numbers; the
// dashboard previews before importing; external apps cannot get tokens
// until a secret is issued here.
func TestImportInventory(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "correct horse battery")
	admin := ts.newAgent(t)
	admin.signIn("root", "correct horse battery")
	now := time.Now().UTC()
	rfc := func(t time.Time) string { return t.Format(time.RFC3339) }
	rows := []struct{ id, name, created, state string }{
		{"10000000-0000-4000-8000-000000000001", "One Year", rfc(now.AddDate(-1, 0, 0)), "ok"},
		{"10000000-0000-4000-8000-000000000002", "Ten Months", rfc(now.AddDate(-4, -10, 0)), "expiring"},
		{"10000000-0000-4000-8000-000000000003", "Almost Five", rfc(now.AddDate(-5, 0, 0).Add(3 * 24 * time.Hour)), "critical"},
		{"10000000-0000-4000-8000-000000000004", "Five And A Day", now.AddDate(-5, 0, -1).Format(time.DateOnly), "expired"},
	}
	var csvFile strings.Builder
	csvFile.WriteString("client_id,name,company,callback_url,scopes,secret_created_at,owner\n")
	for _, r := range rows {
		fmt.Fprintf(&csvFile, "%s,%s,Contoso,https://contoso.example/%s,vso.work vso.code,%s,root\n", r.id, r.name, r.id[len(r.id)-1:], r.created)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "inventory.csv")
	if err := os.WriteFile(file, []byte(csvFile.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	dbFlag := "--db=" + ts.DBPath
	r := mustSucceed(t, oauthdesk(t, cliRun{}, "app", "import", "--file", file, dbFlag))
	if !strings.Contains(r.stdout, "4 created") {
		t.Errorf("import: %s", r.stdout)
	}
	if r := mustSucceed(t, oauthdesk(t, cliRun{}, "app", "import", "--file", file, dbFlag)); !strings.Contains(r.stdout, "0 created, 0 updated, 4 unchanged") {
		t.Errorf("re-import is not idempotent: %s", r.stdout)
	}

	// States: CLI report (JSON), /admin/apps badges, overview counts.
	js := mustSucceed(t, oauthdesk(t, cliRun{}, "report", "expiry", "--format", "json", "--within", "3650d", dbFlag))
	var rep []struct {
		ClientID string `json:"client_id"`
		State    string `json:"state"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil || len(rep) != 4 {
		t.Fatalf("report: %v %s", err, js.stdout)
	}
	got := map[string]string{}
	for _, x := range rep {
		got[x.ClientID] = x.State
	}
	// Every other format carries the same four states.
	for _, format := range []string{"table", "csv", "html"} {
		out := mustSucceed(t, oauthdesk(t, cliRun{}, "report", "expiry", "--format", format, "--within", "3650d", dbFlag)).stdout
		for _, row := range rows {
			line := ""
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, row.id) {
					line = l
				}
			}
			if format == "html" {
				re := regexp.MustCompile(`(?s)` + row.id + `.*?<td class="([a-z]+)">`)
				if m := re.FindStringSubmatch(out); m == nil || m[1] != row.state {
					t.Errorf("html report: %s state %v, want %s", row.name, m, row.state)
				}
			} else if !strings.Contains(line, row.state) {
				t.Errorf("%s report: the line of %s %q lacks %s", format, row.name, line, row.state)
			}
		}
	}
	list := admin.get("/admin/apps")
	for _, row := range rows {
		if got[row.id] != row.state {
			t.Errorf("%s: report state %q, want %q", row.name, got[row.id], row.state)
		}
		m := regexp.MustCompile(`(?s)data-client-id="` + row.id + `".*?data-state="([a-z]+)"`).FindStringSubmatch(list.Body)
		if m == nil || m[1] != row.state {
			t.Errorf("%s: /admin/apps badge %v, want %s", row.name, m, row.state)
		}
	}
	if strings.Count(list.Body, `data-testid="external"`) != 4 {
		t.Error("imported apps are not marked external in the listing")
	}
	ov := admin.get("/admin")
	for state, want := range map[string]string{"ok": "1", "expiring": "1", "critical": "1", "expired": "1"} {
		m := regexp.MustCompile(`data-testid="count-` + state + `"[^>]*>\s*<strong>(\d+)</strong>`).FindStringSubmatch(ov.Body)
		if m == nil || m[1] != want {
			t.Errorf("overview %s = %v, want %s", state, m, want)
		}
	}

	// A changed re-import updates in place (JSON this time).
	js2 := `[{"client_id": "` + rows[0].id + `", "name": "One Year Renamed", "company": "Contoso", "callback_url": "https://contoso.example/1",
  "scopes": ["vso.work", "vso.code"], "secret_created_at": "` + rows[0].created + `", "owner": "root"}]`
	jf := filepath.Join(dir, "one.json")
	_ = os.WriteFile(jf, []byte(js2), 0o600)
	if r := mustSucceed(t, oauthdesk(t, cliRun{}, "app", "import", "--file", jf, dbFlag)); !strings.Contains(r.stdout, "1 updated") {
		t.Errorf("JSON re-import with a new name: %s", r.stdout)
	}

	// Bad files: rejected whole, every bad row with its line, exit 2.
	for name, c := range map[string]struct {
		content string
		lines   []string
	}{
		"missing column": {"client_id,name,company,callback_url,scopes\n" + rows[0].id + ",X,C,https://x.example/cb,vso.work\n", []string{":1: missing column secret_created_at"}},
		"bad date": {"client_id,name,company,callback_url,scopes,secret_created_at\n20000000-0000-4000-8000-000000000001,A,C,https://a.example/cb,vso.work,2022-01-01\n" +
			"20000000-0000-4000-8000-000000000002,B,C,https://b.example/cb,vso.work,2022-02-30\n", []string{":3: secret_created_at"}},
		"duplicate client id": {"client_id,name,company,callback_url,scopes,secret_created_at\n20000000-0000-4000-8000-000000000003,A,C,https://a.example/cb,vso.work,2022-01-01\n" +
			"20000000-0000-4000-8000-000000000003,B,C,https://b.example/cb,vso.work,2022-01-01\n", []string{":3: client_id 20000000-0000-4000-8000-000000000003 appears again (first on line 2)"}},
		"unknown scope": {"[\n {\"client_id\": \"20000000-0000-4000-8000-000000000004\", \"name\": \"A\", \"company\": \"C\", \"callback_url\": \"https://a.example/cb\", \"scopes\": \"vso.work\", \"secret_created_at\": \"2022-01-01\"},\n" +
			" {\"client_id\": \"20000000-0000-4000-8000-000000000005\", \"name\": \"B\", \"company\": \"C\", \"callback_url\": \"https://b.example/cb\", \"scopes\": \"vso.nope\", \"secret_created_at\": \"2022-01-01\"}\n]\n",
			[]string{":3: scopes: unknown scope \"vso.nope\""}},
	} {
		f := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".txt")
		_ = os.WriteFile(f, []byte(c.content), 0o600)
		r := oauthdesk(t, cliRun{}, "app", "import", "--file", f, dbFlag)
		if r.code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s", name, r.code, r)
		}
		for _, l := range c.lines {
			if !strings.Contains(r.stderr, f+l) {
				t.Errorf("%s: stderr lacks %q\n%s", name, f+l, r.stderr)
			}
		}
	}
	if r := mustSucceed(t, oauthdesk(t, cliRun{}, "app", "list", "--json", dbFlag)); strings.Count(r.stdout, `"client_id"`) != 4 {
		t.Error("a rejected import file changed the apps")
	}

	// The dashboard: preview, then import.
	dash := "client_id,name,company,callback_url,scopes,secret_created_at\n30000000-0000-4000-8000-000000000001,Dashboard Import,Fabrikam,https://fabrikam.example/cb,vso.work,2024-03-01\n" +
		rows[1].id + ",Ten Months (renamed),Contoso,https://contoso.example/2,vso.work vso.code," + rows[1].created + "\n"
	pv := admin.postFile("/admin/apps/import", "file", "dash.csv", []byte(dash), url.Values{"_csrf": {admin.csrf("/admin/apps/import")}})
	if pv.Status != http.StatusOK || !strings.Contains(pv.Body, `data-action="create"`) || !strings.Contains(pv.Body, `data-action="update"`) {
		t.Fatalf("preview: %d %.500s", pv.Status, pv.Body)
	}
	if strings.Contains(admin.get("/admin/apps").Body, "Dashboard Import") {
		t.Fatal("the preview imported already")
	}
	data := regexp.MustCompile(`name="data" value="([^"]+)"`).FindStringSubmatch(pv.Body)
	cf := admin.postForm("/admin/apps/import/confirm", url.Values{"_csrf": {admin.csrf("/admin/apps/import")}, "filename": {"dash.csv"}, "data": {data[1]}})
	if cf.Status != http.StatusSeeOther || !strings.Contains(admin.get("/admin/apps").Body, "Dashboard Import") {
		t.Errorf("confirm import: %d", cf.Status)
	}
	bad := admin.postFile("/admin/apps/import", "file", "bad.csv", []byte("client_id,name\nx,y\n"), url.Values{"_csrf": {admin.csrf("/admin/apps/import")}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, `data-testid="import-problem" data-line="1"`) {
		t.Errorf("bad upload: %d", bad.Status)
	}

	// External apps cannot get tokens here until a secret is issued here.
	member := ts.newAgent(t)
	ts.addUser(t, "bob", domain.RoleMember, "bob's long password")
	member.signIn("bob", "bob's long password")
	authz := authorizeURL(rows[0].id, "vso.work", "x", "https://contoso.example/1")
	if r := member.get(authz); r.Status != http.StatusBadRequest || r.Location() != "" {
		t.Errorf("authorize an external app: %d, want the 400 page", r.Status)
	}
	rot := mustSucceed(t, oauthdesk(t, cliRun{}, "app", "rotate-secret", rows[0].id, "--json", dbFlag))
	var sec struct {
		Secret string `json:"client_secret"`
	}
	_ = json.Unmarshal([]byte(rot.stdout), &sec)
	app := registeredApp{ClientID: rows[0].id, Secret: sec.Secret}
	cb := decide(t, member, authz, "accept")
	pair := postToken(t, ts.URL, formType, codeBody(app.Secret, cb.Query().Get("code"), "https://contoso.example/1"))
	wantTokens(t, pair)
	if strings.Contains(admin.get("/admin/apps/"+rows[0].id).Body, `data-testid="external-notice"`) {
		t.Error("the app is still external after a secret was issued here")
	}
}
