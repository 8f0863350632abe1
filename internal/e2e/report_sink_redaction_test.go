package e2e

// A webhook sink's URL carries credentials (user, password, a token in
// the path): /admin/reports, the report.run audit event, the run records
// and the logs show its scheme, host and a redacted path only.

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// logBuffer is a bytes.Buffer safe for the server's concurrent logging.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestReportWebhookRedacted(t *testing.T) {
	t.Parallel()
	// A port nobody listens on: the delivery fails with net/http's error,
	// which names the URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	ln.Close()
	hook := "http://reportbot:hunter2@" + host + "/hooks/T0K3N-path-secret?sig=query-secret"
	var logs logBuffer
	ts := newTestServerWith(t, func(c *server.Config) {
		c.Log = slog.New(slog.NewTextHandler(&logs, nil))
		c.Reports = server.ReportConfig{Webhook: hook}
	})
	ts.addUser(t, "root", domain.RoleAdmin, lcRootPassword)
	ts.addUser(t, "eve", domain.RoleAuditor, lcPassword)
	admin, auditor := ts.newAgent(t), ts.newAgent(t)
	admin.signIn("root", lcRootPassword)
	auditor.signIn("eve", lcPassword)

	confirm := admin.get("/admin/reports/run") // the confirmation names the sinks too
	wantStatus(t, confirm, http.StatusOK, "the run-now confirmation")
	r := admin.postForm("/admin/reports/run", url.Values{"_csrf": {admin.csrf("/admin/reports")}})
	wantStatus(t, r, http.StatusSeeOther, "run now")
	flash := lcFlash(t, admin, "/admin/reports")

	page := auditor.get("/admin/reports")
	wantStatus(t, page, http.StatusOK, "/admin/reports as an auditor")
	events, _, err := ts.App.Admin.AuditEvents(context.Background(), audit.Filter{Action: audit.ActionReportRun, Limit: 10})
	if err != nil || len(events) == 0 {
		t.Fatalf("report.run events: %d %v", len(events), err)
	}
	auditPage := auditor.get("/admin/audit?action=" + audit.ActionReportRun)
	var details strings.Builder
	for _, ev := range events {
		details.WriteString(ev.DetailsJSON())
	}
	want := "http://" + host + "/…"
	for where, text := range map[string]string{"/admin/reports": page.Body, "the run-now flash": flash, "the run-now confirmation": confirm.Body, "the audit event": details.String(),
		"/admin/audit": auditPage.Body, "the log": logs.String()} {
		for _, secret := range []string{"hunter2", "reportbot", "T0K3N", "hooks/", "query-secret"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q of the webhook URL", where, secret)
			}
		}
		if where != "the run-now flash" && where != "/admin/audit" && !strings.Contains(htmlUnescape(text), want) {
			t.Errorf("%s does not name the sink as %q", where, want)
		}
	}
}
