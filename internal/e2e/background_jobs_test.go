package e2e

// The server's background jobs run under internal/jobs: each is on
// /metrics (oauthdesk_job_*{job="…"}) once it ran, and administrators see
// them on /admin/settings ("Background jobs": name, interval, last run,
// last error).

import (
	"html"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// scrapeMetrics returns the /metrics body.
func scrapeMetrics(t *testing.T, ts *testServer) string {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// metricValue is the value of the sample name{labels} in body (-1: absent).
func metricValue(body, name, labels string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name+"{"+labels+"}") + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

func TestBackgroundJobsOnMetricsAndSettings(t *testing.T) {
	t.Parallel()
	reports := t.TempDir()
	started := time.Now()
	ts := newTestServerWith(t, func(c *server.Config) {
		c.AuditCheckpointInterval = 200 * time.Millisecond
		c.DirectorySyncInterval = 200 * time.Millisecond
		c.Reports = server.ReportConfig{Schedule: "@every 1s", Dir: reports}
	})
	// The jobs that run within a second or two (the others run hourly or
	// every 15 s and are listed, not yet run).
	ran := []string{"usage-flush", "change-watch", "directory-sync", "audit-checkpoint", "pat-expiry-notices", "expiry-report"}
	if !onPostgres() {
		ran = append(ran, "sqlite-checkpoint")
	}
	listed := []string{"failed-signin-audit", "signing-key-reload", "prune"}

	var body string
	eventually(t, 15*time.Second, "every short job on /metrics with a run", func() bool {
		body = scrapeMetrics(t, ts)
		for _, j := range ran {
			if metricValue(body, "oauthdesk_job_runs_total", `job="`+j+`",result="ok"`) < 1 {
				return false
			}
		}
		return true
	})
	for _, j := range ran {
		last := metricValue(body, "oauthdesk_job_last_run_timestamp_seconds", `job="`+j+`"`)
		if at := time.Unix(int64(last), 0); last <= 0 || at.Before(started.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
			t.Errorf("job %s: last run %v, want within this test", j, at)
		}
		if v := metricValue(body, "oauthdesk_job_last_error", `job="`+j+`"`); v != 0 {
			t.Errorf("job %s: oauthdesk_job_last_error = %v, want 0", j, v)
		}
		if v := metricValue(body, "oauthdesk_job_runs_total", `job="`+j+`",result="error"`); v != 0 {
			t.Errorf("job %s: %v failed runs, want 0", j, v)
		}
	}
	for j, want := range map[string]float64{"usage-flush": 0.1, "change-watch": 0.25, "audit-checkpoint": 0.2, "prune": 3600, "expiry-report": 1} {
		if got := metricValue(body, "oauthdesk_job_interval_seconds", `job="`+j+`"`); got != want {
			t.Errorf("job %s: interval %v s, want %v", j, got, want)
		}
	}
	for _, j := range listed {
		if got := metricValue(body, "oauthdesk_job_last_run_timestamp_seconds", `job="`+j+`"`); got != 0 {
			t.Errorf("job %s: last run %v, want 0 (listed, not run yet)", j, got)
		}
	}

	// Administrators see the table; auditors see the settings without it.
	ts.addUser(t, "root", domain.RoleAdmin, lcPassword)
	ts.addUser(t, "audrey", domain.RoleAuditor, lcPassword)
	admin := ts.newAgent(t)
	admin.signIn("root", lcPassword)
	page := admin.get("/admin/settings")
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `data-testid="background-jobs"`) || !strings.Contains(page.Body, "Background jobs") {
		t.Fatalf("/admin/settings as an administrator: %d, no Background jobs section\n%.500s", page.Status, page.Body)
	}
	rowRE := regexp.MustCompile(`(?s)<tr data-testid="job-row" data-job="([^"]+)">(.*?)</tr>`)
	rows := map[string]string{}
	for _, m := range rowRE.FindAllStringSubmatch(page.Body, -1) {
		rows[m[1]] = html.UnescapeString(m[2])
	}
	cell := func(row, testid string) string {
		m := regexp.MustCompile(`(?s)data-testid="` + testid + `"[^>]*>(.*?)</td>`).FindStringSubmatch(row)
		if m == nil {
			return ""
		}
		return strings.TrimSpace(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], ""))
	}
	agoRE := regexp.MustCompile(`^(just now|\d+ s ago)$`)
	for _, j := range ran {
		row, ok := rows[j]
		if !ok {
			t.Errorf("/admin/settings does not list job %s (rows %v)", j, len(rows))
			continue
		}
		if got := cell(row, "job-last-run"); !agoRE.MatchString(got) {
			t.Errorf("job %s: last run %q, want seconds ago", j, got)
		}
		if got := cell(row, "job-last-error"); got != "—" {
			t.Errorf("job %s: last error %q, want —", j, got)
		}
	}
	for _, j := range listed {
		if got := cell(rows[j], "job-last-run"); got != "not yet" {
			t.Errorf("job %s: last run %q, want not yet", j, got)
		}
	}
	if !strings.Contains(rows["prune"], "every 1 h") || !strings.Contains(rows["expiry-report"], "every 1 s") {
		t.Errorf("intervals: prune %q, expiry-report %q", rows["prune"], rows["expiry-report"])
	}

	auditor := ts.newAgent(t)
	auditor.signIn("audrey", lcPassword)
	if p := auditor.get("/admin/settings"); p.Status != http.StatusOK || strings.Contains(p.Body, "background-jobs") {
		t.Errorf("/admin/settings as an auditor: %d, background jobs shown: %v", p.Status, strings.Contains(p.Body, "background-jobs"))
	}
}
