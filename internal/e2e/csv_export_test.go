package e2e

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// formulaCells returns the cells of a CSV document that a spreadsheet
// would evaluate: those starting with = + - @ tab or CR that are not plain
// numbers.
func formulaCells(t *testing.T, doc string) []string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(doc))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, doc)
	}
	var bad []string
	for _, row := range rows {
		for _, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) && strings.Trim(c, "-+0123456789.") != "" {
				bad = append(bad, c)
			}
		}
	}
	return bad
}

// Every CSV export neutralises formula cells with a leading quote; the
// JSON outputs keep the exact text.
func TestCSVExportsNeutraliseFormulas(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "oauthdesk.db")
	run := cliRun{dir: dir}
	mustSucceed(t, oauthdesk(t, cliRun{dir: dir, stdin: cliPassword + "\n"}, "user", "add", "ada", "--role", "member", "--password-stdin", "--db", db))
	name, company := `=HYPERLINK("http://evil.example","open")`, "@SUM(1+1)*cmd|' /C calc'!A0"
	mustSucceed(t, oauthdesk(t, run, registerArgs(db, "--name", name, "--company", company)...))

	for _, args := range [][]string{
		{"report", "expiry", "--format", "csv", "--within", "2000d"},
		{"report", "scopes", "--format", "csv"},
	} {
		out := mustSucceed(t, oauthdesk(t, run, append(args, "--db", db)...)).stdout
		if bad := formulaCells(t, out); len(bad) > 0 {
			t.Errorf("%v: formula cells %q", args, bad)
		}
		if !strings.Contains(out, `'=HYPERLINK(""http://evil.example""`) && !strings.Contains(out, "'@SUM") {
			t.Errorf("%v: the neutralised value is missing\n%s", args, out)
		}
	}
	out := mustSucceed(t, oauthdesk(t, run, "report", "expiry", "--format", "json", "--within", "2000d", "--db", db)).stdout
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) == 0 {
		t.Fatalf("report expiry json: %v\n%s", err, out)
	}
	if rows[0]["app_name"] != name || rows[0]["company"] != company {
		t.Errorf("JSON is not exact: app_name %q company %q", rows[0]["app_name"], rows[0]["company"])
	}
}

// The audit export (dashboard and CLI) neutralises formulas even in
// events stored before addresses were parsed; JSON lines stay exact and
// the chain still verifies.
func TestAuditCSVNeutralisesFormulas(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	legacy := `=HYPERLINK("http://evil.example","x")`
	ev := audit.Event{At: time.Now().UTC(), Actor: "+anonymous", Action: audit.ActionSignInFailed, TargetType: audit.TargetUser,
		Details: map[string]any{"username": "-x"}, RemoteAddr: legacy}
	if _, err := ts.App.DB.AppendAudit(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	admin := ts.newAgent(t)
	admin.signIn("root", "root-password-1")
	r := admin.get("/admin/audit/export?format=csv")
	if r.Status != http.StatusOK {
		t.Fatalf("audit export csv: %d", r.Status)
	}
	if bad := formulaCells(t, r.Body); len(bad) > 0 {
		t.Errorf("audit CSV has formula cells %q", bad)
	}
	if !strings.Contains(r.Body, `'=HYPERLINK(`) || !strings.Contains(r.Body, "'+anonymous") {
		t.Errorf("audit CSV lacks the neutralised cells:\n%s", r.Body)
	}
	found := false
	for _, e := range auditEvents(t, admin, audit.ActionSignInFailed) {
		if e["remote_addr"] == legacy && e["actor"] == "+anonymous" {
			found = true
		}
	}
	if !found {
		t.Errorf("JSON lines do not carry the stored text exactly")
	}
	verifyAudit(t, ts)
}
