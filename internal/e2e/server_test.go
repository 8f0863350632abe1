package e2e

// The test server: the real oauthdesk (internal/server, the same wiring as
// `oauthdesk serve`) on a temp SQLite file — or, with OAUTHDESK_E2E_DB=postgres
// (and OAUTHDESK_TEST_POSTGRES set), on a fresh PostgreSQL database of its
// own — listening on 127.0.0.1, and a user agent with a cookie jar that does
// not follow redirects, so a test reads like a person's or a client's session.

import (
	"context"
	"database/sql"
	"fmt"
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
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
	"github.com/oauthdesk/oauthdesk/internal/store"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// testServer is a running oauthdesk.
type testServer struct {
	URL    string
	DBPath string
	App    *server.App
	stop   func() // shuts the server down (once) as SIGTERM would
}

// Stop shuts the server down now, as `oauthdesk serve` does on SIGTERM
// (in-flight requests finish, batched usage is flushed), and closes its
// database; the database stays for a look afterwards.
func (ts *testServer) Stop() { ts.stop() }

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
	dbPath := newTestDatabase(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() && os.Getenv("OAUTHDESK_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := server.Config{DBPath: dbPath, BaseURL: base, Log: log, UsageFlush: 100 * time.Millisecond}
	if configure != nil {
		configure(&cfg)
	}
	if cfg.KeyFile == "" && store.IsPostgresURL(cfg.DBPath) {
		// The default key file of a PostgreSQL URL is in the working
		// directory: keep it out of the source tree.
		cfg.KeyFile = filepath.Join(t.TempDir(), "oauthdesk.key")
	}
	app, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			if err := app.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &testServer{URL: base, DBPath: dbPath, App: app, stop: stop}
}

// onPostgres reports whether the e2e suite runs against PostgreSQL
// (OAUTHDESK_E2E_DB=postgres; `make test` runs the suite a second time so
// when OAUTHDESK_TEST_POSTGRES is set).
func onPostgres() bool { return os.Getenv("OAUTHDESK_E2E_DB") == "postgres" }

// newTestDatabase returns the --db value of a fresh, empty database: a file
// in t.TempDir(), or a PostgreSQL database dropped when t ends.
func newTestDatabase(t *testing.T) string {
	t.Helper()
	if onPostgres() {
		if storetest.PostgresURL() == "" {
			t.Fatal("OAUTHDESK_E2E_DB=postgres needs " + storetest.EnvVar)
		}
		return storetest.NewPostgres(t)
	}
	return filepath.Join(t.TempDir(), "oauthdesk.db")
}

// sqliteOnly skips t on the PostgreSQL run: the test is about SQLite itself
// (files, PRAGMAs).
func sqliteOnly(t *testing.T) {
	t.Helper()
	if onPostgres() {
		t.Skip("about the SQLite file itself")
	}
}

// rawDB is a direct database/sql handle on the test server's database, for
// tests that age or tamper with rows behind the server's back. Exec and
// QueryRow take ? placeholders on both dialects.
type rawDB struct {
	db *sql.DB
	pg bool
}

// openRaw opens a rawDB on the test server's database.
func (ts *testServer) openRaw() (*rawDB, error) {
	if store.IsPostgresURL(ts.DBPath) {
		db, err := sql.Open("pgx", ts.DBPath)
		return &rawDB{db: db, pg: true}, err
	}
	db, err := sql.Open("sqlite3", "file:"+ts.DBPath+"?_busy_timeout=10000")
	return &rawDB{db: db}, err
}

func (r *rawDB) bind(q string) string {
	if !r.pg {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Exec runs a statement. On PostgreSQL it then waits out the bound within
// which the server sees another process's commit (store.PollInterval:
// its caches and the Bearer check poll), as a person editing the
// database behind a replica's back would.
func (r *rawDB) Exec(q string, args ...any) (sql.Result, error) {
	res, err := r.db.Exec(r.bind(q), args...)
	if r.pg && err == nil {
		time.Sleep(store.PollInterval + 100*time.Millisecond)
	}
	return res, err
}

// QueryRow runs a query returning one row.
func (r *rawDB) QueryRow(q string, args ...any) *sql.Row { return r.db.QueryRow(r.bind(q), args...) }

// Close closes the handle.
func (r *rawDB) Close() error { return r.db.Close() }

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
