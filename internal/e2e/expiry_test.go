package e2e

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// ageSecret moves an app's active secrets so they were created `age` ago
// and expire five calendar years after that.
func ageSecret(t *testing.T, db *rawDB, clientID string, created time.Time) {
	t.Helper()
	if _, err := db.Exec(`UPDATE client_secrets SET created_at = ?, expires_at = ? WHERE client_id = ? AND retired_at IS NULL`,
		created.UTC(), created.AddDate(5, 0, 0).UTC(), clientID); err != nil {
		t.Fatal(err)
	}
}

// TestExpiryStates: four apps whose secrets are 1 year, 4 years 10 months,
// 4 years 11.9 months and 5 years 1 day old are ok, expiring, critical and
// expired — in the listing badges and filters, on the app page banner, on
// the overview (counts, next to expire, chart) and in the metrics gauge.
func TestExpiryStates(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "correct horse battery")
	admin := ts.newAgent(t)
	admin.signIn("root", "correct horse battery")
	now := time.Now().UTC()
	ages := []struct {
		name    string
		created time.Time
		state   string
	}{
		{"One Year", now.AddDate(-1, 0, 0), "ok"},
		{"Ten Months", now.AddDate(-4, -10, 0), "expiring"},
		{"Almost Five", now.AddDate(-5, 0, 0).Add(3 * 24 * time.Hour), "critical"},
		{"Five And A Day", now.AddDate(-5, 0, -1), "expired"},
	}
	db, err := ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := map[string]string{}
	for _, a := range ages {
		form := url.Values{"_csrf": {admin.csrf("/admin/apps/new")}, "name": {a.name}, "company": {"Contoso"},
			"app_url": {"https://contoso.example"}, "callback_url": {"https://contoso.example/cb"}, "scopes": {"vso.work"}}
		r := admin.postForm("/admin/apps", form)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("register %s: %d", a.name, r.Status)
		}
		ids[a.state] = strings.TrimPrefix(r.Location(), "/admin/apps/")
		ageSecret(t, db, ids[a.state], a.created)
	}

	list := admin.get("/admin/apps")
	for _, a := range ages {
		row := regexp.MustCompile(`(?s)data-client-id="` + ids[a.state] + `".*?data-state="([a-z]+)"`).FindStringSubmatch(list.Body)
		if row == nil || row[1] != a.state {
			t.Errorf("%s: badge %v, want %s", a.name, row, a.state)
		}
	}
	for _, a := range ages[1:] {
		r := admin.get("/admin/apps?state=" + a.state)
		for _, b := range ages {
			if got, want := strings.Contains(r.Body, `data-client-id="`+ids[b.state]+`"`), a.state == b.state; got != want {
				t.Errorf("filter %s lists %s: %v, want %v", a.state, b.name, got, want)
			}
		}
	}
	if r := admin.get("/admin/apps?state=bogus"); r.Status != http.StatusBadRequest {
		t.Errorf("unknown state filter: %d, want 400", r.Status)
	}

	// The app page warns with the date and days left and offers the
	// one-click start of a staged rotation; an ok app has no banner.
	page := admin.get("/admin/apps/" + ids["critical"])
	if !strings.Contains(page.Body, `data-testid="expiry-banner"`) || !strings.Contains(page.Body, "days left") ||
		!strings.Contains(page.Body, `data-testid="start-rotation"`) {
		t.Error("the critical app's page lacks the expiry banner with days left and the rotation button")
	}
	if strings.Contains(admin.get("/admin/apps/"+ids["ok"]).Body, `data-testid="expiry-banner"`) {
		t.Error("the ok app's page shows an expiry banner")
	}
	expired := admin.get("/admin/apps/" + ids["expired"])
	if !strings.Contains(expired.Body, "expired on") {
		t.Error("the expired app's banner does not say when it expired")
	}
	r := admin.postForm("/admin/apps/"+ids["critical"]+"/secrets/alternative", url.Values{"_csrf": {admin.csrf("/admin/apps/" + ids["critical"])}})
	if r.Status != http.StatusSeeOther || !newSecretRE.MatchString(admin.get(r.Location()).Body) {
		t.Errorf("start rotation from the banner: %d", r.Status)
	}

	// Overview: counts per state (the new alternative secret is ok), the
	// next to expire, soonest first, and the chart's 24 months.
	ov := admin.get("/admin")
	for state, want := range map[string]string{"ok": "2", "expiring": "1", "critical": "1", "expired": "1"} {
		m := regexp.MustCompile(`data-testid="count-` + state + `"[^>]*>\s*<strong>(\d+)</strong>`).FindStringSubmatch(ov.Body)
		if m == nil || m[1] != want {
			t.Errorf("overview count %s = %v, want %s", state, m, want)
		}
	}
	// Next to expire: soonest first from now; the expired secret is in
	// its own group.
	if next := oaSection(ov.Body, "next-expiries"); len(next) < 3 || next[0] != ids["critical"] || next[1] != ids["expiring"] || slices.Contains(next, ids["expired"]) {
		t.Errorf("next to expire %v, want critical, expiring first and not the expired one", next)
	}
	if exp := oaSection(ov.Body, "expired-expiries"); !slices.Equal(exp, []string{ids["expired"]}) {
		t.Errorf("expired group %v, want the expired secret", exp)
	}
	bars := regexp.MustCompile(`data-testid="chart-bar" data-count="(\d+)"`).FindAllStringSubmatch(ov.Body, -1)
	total := 0
	for _, b := range bars {
		n := 0
		for _, ch := range b[1] {
			n = n*10 + int(ch-'0')
		}
		total += n
	}
	// Within 24 months: the expiring and critical secrets (the expired one
	// and the ok ones lie outside the chart's months).
	if len(bars) != 24 || total != 2 || !strings.Contains(ov.Body, "<svg") || !strings.Contains(ov.Body, "<rect") {
		t.Errorf("chart: %d bars totalling %d, want 24 bars totalling 2", len(bars), total)
	}

	// Metrics.
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for state, want := range map[string]string{"ok": "2", "expiring": "1", "critical": "1", "expired": "1"} {
		if line := `oauthdesk_client_secrets{state="` + state + `"} ` + want; !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}

	// The CLI report, every format, sorted by expiry, and --fail-on.
	db2 := "--db=" + ts.DBPath
	js := mustSucceed(t, oauthdesk(t, cliRun{}, "report", "expiry", "--format", "json", "--within", "3650d", db2))
	var rows []struct {
		ClientID, State, ExpiresAt string
		DaysLeft                   int `json:"days_left"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &rows); err != nil {
		t.Fatalf("report json: %v\n%s", err, js.stdout)
	}
	var order []string
	for _, r := range rows {
		order = append(order, r.State)
	}
	if want := []string{"expired", "critical", "expiring", "ok", "ok"}; !slices.Equal(order, want) {
		t.Errorf("report states in order %v, want %v", order, want)
	}
	// --within 90d leaves out the secrets that are fine for years.
	js90 := mustSucceed(t, oauthdesk(t, cliRun{}, "report", "expiry", "--format", "json", db2))
	if n := strings.Count(js90.stdout, `"client_id"`); n != 3 {
		t.Errorf("report --within 90d has %d rows, want 3 (expired, critical, expiring)", n)
	}
	csvOut := mustSucceed(t, oauthdesk(t, cliRun{}, "report", "expiry", "--format", "csv", db2))
	recs, err := csv.NewReader(strings.NewReader(csvOut.stdout)).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][0] != "client_id" || recs[0][8] != "state" {
		t.Errorf("report csv: %v %q", err, recs)
	}
	table := mustSucceed(t, oauthdesk(t, cliRun{}, "report", "expiry", db2))
	if !strings.HasPrefix(table.stdout, "CLIENT ID") || !strings.Contains(table.stdout, "Almost Five") {
		t.Errorf("report table:\n%s", table.stdout)
	}
	out := filepath.Join(t.TempDir(), "report.html")
	mustSucceed(t, oauthdesk(t, cliRun{}, "report", "expiry", "--format", "html", "--out", out, db2))
	html, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(html), "<!doctype html>") || !strings.Contains(string(html), "Five And A Day") || !strings.Contains(string(html), `class="expired"`) {
		t.Errorf("report html: %.300s", html)
	}
	for failOn, code := range map[string]int{"expiring": 1, "critical": 1, "expired": 1} {
		if r := oauthdesk(t, cliRun{}, "report", "expiry", "--fail-on", failOn, db2); r.code != code {
			t.Errorf("--fail-on %s: exit %d, want %d", failOn, r.code, code)
		}
	}
	// Retiring the expired app's secret leaves nothing expired: exit 0.
	if _, err := db.Exec(`UPDATE client_secrets SET retired_at = ? WHERE client_id = ?`, now, ids["expired"]); err != nil {
		t.Fatal(err)
	}
	if r := oauthdesk(t, cliRun{}, "report", "expiry", "--fail-on", "expired", db2); r.code != 0 {
		t.Errorf("--fail-on expired with nothing expired: exit %d\n%s", r.code, r)
	}
	if r := oauthdesk(t, cliRun{}, "report", "expiry", "--within", "soon", db2); r.code != 2 {
		t.Errorf("--within soon: exit %d, want 2", r.code)
	}
}
