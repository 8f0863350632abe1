package e2e

// The test server: the real oauthdesk (internal/server, the same wiring as
// `oauthdesk serve`) on a temp SQLite file, listening on 127.0.0.1, and a
// user agent with a cookie jar that does not follow redirects, so a test
// reads like a person's or a client's session.

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// testServer is a running oauthdesk.
type testServer struct {
	URL    string
	DBPath string
	App    *server.App
}

// newTestServer starts oauthdesk on 127.0.0.1:0 with a fresh SQLite file
// and stops it when the test ends. Logs go to the test log when -v.
func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerWith(t, nil)
}

// newTestServerWith is newTestServer with a hook that adjusts the
// configuration (report schedule and sinks, thresholds, …) before start.
func newTestServerWith(t *testing.T, configure func(*server.Config)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	dbPath := filepath.Join(t.TempDir(), "oauthdesk.db")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() && os.Getenv("OAUTHDESK_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := server.Config{DBPath: dbPath, BaseURL: base, Log: log, UsageFlush: 100 * time.Millisecond}
	if configure != nil {
		configure(&cfg)
	}
	app, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := app.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &testServer{URL: base, DBPath: dbPath, App: app}
}

// addUser creates a user through the admin service (as `oauthdesk user
// add` does).
func (ts *testServer) addUser(t *testing.T, username string, role domain.Role, password string) domain.User {
	t.Helper()
	u, err := ts.App.Admin.CreateUser(context.Background(), admin.NewUser{Username: username, Role: role,
		Password: password, DisplayName: strings.ToUpper(username[:1]) + username[1:], Email: username + "@example.com"})
	if err != nil {
		t.Fatalf("add user %s: %v", username, err)
	}
	return u
}

// agent is a user agent: a cookie jar and no automatic redirects.
type agent struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (ts *testServer) newAgent(t *testing.T) *agent {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &agent{t: t, base: ts.URL, c: &http.Client{
		Jar:           jar,
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is a read response.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// Location returns the redirect target, resolved against the server.
func (r response) Location() string { return r.Header.Get("Location") }

func (a *agent) do(req *http.Request) response {
	a.t.Helper()
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("read %s: %v", req.URL, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

func (a *agent) url(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return a.base + path
}

// get requests path (relative to the server, or absolute).
func (a *agent) get(path string) response {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url(path), nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.do(req)
}

// postForm posts an application/x-www-form-urlencoded body.
func (a *agent) postForm(path string, form url.Values) response {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.do(req)
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the form on the page at path.
func (a *agent) csrf(path string) string {
	a.t.Helper()
	r := a.get(path)
	m := csrfRE.FindStringSubmatch(r.Body)
	if m == nil {
		a.t.Fatalf("no CSRF token on %s (status %d)", path, r.Status)
	}
	return m[1]
}

// signIn signs in through /signin and fails the test unless it worked.
func (a *agent) signIn(username, password string) {
	a.t.Helper()
	r := a.postForm("/signin", url.Values{"_csrf": {a.csrf("/signin")}, "username": {username}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		a.t.Fatalf("sign in as %s: status %d, body %.300s", username, r.Status, r.Body)
	}
}
