package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// smtpSink is an in-process SMTP server (emersion/go-smtp) that keeps
// every message it receives.
type smtpSink struct {
	mu   sync.Mutex
	msgs []smtpMsg
}

type smtpMsg struct {
	from string
	to   []string
	data string
}

func (b *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

type smtpSession struct {
	b   *smtpSink
	msg smtpMsg
}

func (s *smtpSession) Reset()        { s.msg = smtpMsg{} }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.msg.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.msg.data = string(b)
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.msg)
	s.b.mu.Unlock()
	return err
}

func (b *smtpSink) messages() []smtpMsg {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]smtpMsg(nil), b.msgs...)
}

func startSMTP(t *testing.T) (*smtpSink, string) {
	t.Helper()
	be := &smtpSink{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return be, "smtp://" + ln.Addr().String()
}

// eventually polls cond every 100 ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestScheduledReports runs the scheduler with @every 1s against a
// directory, a webhook and an SMTP server: each receives the report; a
// failing webhook is recorded as failed (after its retries) and retried
// on the next run; /admin/reports shows the runs and the next time, and
// "run now" works.
func TestScheduledReports(t *testing.T) {
	dir := t.TempDir()
	mails, smtpURL := startSMTP(t)
	var failing atomic.Bool
	failing.Store(true)
	var hooks atomic.Int32
	var hookBodies sync.Map
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hooks.Add(1)
		b, _ := io.ReadAll(r.Body)
		if failing.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		hookBodies.Store(n, b)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)

	ts := newTestServerWith(t, func(c *server.Config) {
		c.Reports = server.ReportConfig{Schedule: "@every 1s", Dir: dir, Webhook: hook.URL, SMTPURL: smtpURL,
			To: []string{"ops@example.com"}, From: "oauthdesk@example.com"}
	})
	ts.addUser(t, "root", domain.RoleAdmin, "correct horse battery")
	ts.addUser(t, "owner", domain.RoleAdmin, "owner's long password") // e-mail owner@example.com
	admin := ts.newAgent(t)
	admin.signIn("root", "correct horse battery")
	owner := ts.newAgent(t)
	owner.signIn("owner", "owner's long password")
	app := registerThroughDashboard(t, owner, "vso.work")
	db, err := ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ageSecret(t, db, app.ClientID, time.Now().UTC().AddDate(-5, 0, 0).Add(10*24*time.Hour)) // critical, 10 days left

	// The directory and the mail receive the report; the webhook fails.
	// The first runs may predate the ageing: wait for one that has the app.
	var stem string
	eventually(t, 15*time.Second, "report files with the critical app", func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, "expiry-*.json"))
		for _, f := range m {
			if b, _ := os.ReadFile(f); strings.Contains(string(b), app.ClientID) {
				stem = strings.TrimSuffix(f, ".json")
				return true
			}
		}
		return false
	})
	for _, ext := range []string{"html", "csv", "json"} {
		b, err := os.ReadFile(stem + "." + ext)
		if err != nil || !strings.Contains(string(b), "Fabrikam Boards") || !strings.Contains(string(b), "critical") {
			t.Errorf("%s report lacks the critical app: %v %.200s", ext, err, b)
		}
	}
	var withApp []smtpMsg
	eventually(t, 10*time.Second, "report mail to ops and to the owner naming the app", func() bool {
		var ops, own bool
		withApp = nil
		for _, m := range mails.messages() {
			if !strings.Contains(m.data, "Fabrikam Boards") {
				continue
			}
			withApp = append(withApp, m)
			ops = ops || (len(m.to) == 1 && m.to[0] == "ops@example.com")
			own = own || (len(m.to) == 1 && m.to[0] == "owner@example.com")
		}
		return ops && own
	})
	for _, m := range withApp[:2] {
		if !strings.Contains(m.data, "text/plain") || !strings.Contains(m.data, "text/html") || !strings.Contains(m.data, "Fabrikam Boards") {
			t.Errorf("mail to %v lacks a plain-text and an HTML part naming the app:\n%.400s", m.to, m.data)
		}
		if m.from != "oauthdesk@example.com" {
			t.Errorf("mail from %q", m.from)
		}
	}
	eventually(t, 10*time.Second, "a failed webhook delivery", func() bool {
		return strings.Contains(admin.get("/admin/reports").Body, `data-outcome="failed"`)
	})
	if n := hooks.Load(); n < 3 {
		t.Errorf("the webhook was tried %d times, want its 3 attempts with backoff", n)
	}
	var attempts int
	if err := db.QueryRow(`SELECT attempts FROM report_runs WHERE sink LIKE 'webhook:%' AND outcome = 'failed' LIMIT 1`).Scan(&attempts); err != nil || attempts != 3 {
		t.Errorf("failed webhook run: attempts %d, %v; want 3", attempts, err)
	}

	// The webhook recovers: the next run delivers to it.
	failing.Store(false)
	eventually(t, 15*time.Second, "a successful webhook delivery", func() bool {
		var n int
		_ = db.QueryRow(`SELECT COUNT(*) FROM report_runs WHERE sink LIKE 'webhook:%' AND outcome = 'ok'`).Scan(&n)
		return n > 0
	})
	var body []byte
	hookBodies.Range(func(_, v any) bool { body = v.([]byte); return false })
	var payload struct {
		Rows []struct {
			ClientID string `json:"client_id"`
			State    string `json:"state"`
		} `json:"rows"`
		WindowDays int `json:"window_days"`
	}
	if err := json.Unmarshal(body, &payload); err != nil || len(payload.Rows) != 1 || payload.Rows[0].ClientID != app.ClientID ||
		payload.Rows[0].State != "critical" || payload.WindowDays != 90 {
		t.Errorf("webhook payload %s: %v", body, err)
	}

	// The page: schedule, next run, runs with failures in red, run now.
	page := admin.get("/admin/reports")
	for _, want := range []string{`data-testid="schedule">@every 1s<`, `data-testid="next-run"`, `data-outcome="ok"`, `data-outcome="failed"`, "run-failed"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("/admin/reports lacks %q", want)
		}
	}
	r := admin.postForm("/admin/reports/run", url.Values{"_csrf": {admin.csrf("/admin/reports")}})
	if r.Status != http.StatusSeeOther || !strings.Contains(admin.get("/admin/reports").Body, "manual") {
		t.Errorf("run now: %d", r.Status)
	}
	// Every run is an audit event.
	if rows := admin.get("/admin/audit?action=report.run"); strings.Count(rows.Body, `data-action="report.run"`) < 2 {
		t.Error("report runs are not in the audit log")
	}
}

// TestReportLease: two replicas on one database never both send a run.
func TestReportLease(t *testing.T) {
	ts := newTestServer(t)
	other, err := server.Open(context.Background(), server.Config{DBPath: ts.DBPath, BaseURL: ts.URL, KeyFile: ts.App.KeyFile,
		Reports: server.ReportConfig{Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	held, err := ts.App.DB.AcquireLock(context.Background(), "expiry-report", "replica-a", time.Now(), time.Minute)
	if err != nil || !held {
		t.Fatalf("replica a takes the lease: %v %v", held, err)
	}
	runs, err := other.Reports.Run(context.Background(), "manual")
	if err != nil || runs != nil {
		t.Errorf("replica b ran while a held the lease: %v %v", runs, err)
	}
	if err := ts.App.DB.ReleaseLock(context.Background(), "expiry-report", "replica-a"); err != nil {
		t.Fatal(err)
	}
	runs, err = other.Reports.Run(context.Background(), "manual")
	if err != nil || len(runs) != 1 || runs[0].Outcome != "ok" {
		t.Errorf("replica b after the lease was released: %v %v", runs, err)
	}
}
