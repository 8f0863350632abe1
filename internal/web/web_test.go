package web

// Unit tests of the web layer on its own: the real Server and routes, with
// small fakes of the interfaces web declares (the admin slices, OAuth) and an
// in-memory session store, driven over HTTP with httptest. Selectors are
// data-testid attributes.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2/memstore"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// fakeAdmin stands in for the administration slices these tests reach:
// sign-in, users, apps and settings. Each implements its slice interface
// whole (checked below), so a method added to a slice fails to compile
// here; the methods no test calls answer errNotFaked, which the error
// handler turns into a 500 the test would see.
type fakeAdmin struct {
	mu      sync.Mutex
	users   map[string]domain.User // by username
	filters []domain.AppFilter     // every ListApps call
	page    domain.AppPage
	listErr error
}

var (
	_ SignIn   = (*fakeAdmin)(nil)
	_ Users    = (*fakeAdmin)(nil)
	_ Apps     = (*fakeAdmin)(nil)
	_ Settings = (*fakeAdmin)(nil)
	_ OAuth    = fakeOAuth{}
)

// errNotFaked is what a fake answers for a call no test here makes.
var errNotFaked = errors.New("not faked: no web test calls this")

// fakeSlices is a Config with fa as every slice these tests reach.
func fakeSlices(cfg Config, fa *fakeAdmin) Config {
	cfg.SignIn, cfg.Users, cfg.Apps, cfg.Settings = fa, fa, fa, fa
	return cfg
}

func (f *fakeAdmin) Authenticate(_ context.Context, username, password string) (domain.User, error) {
	u, ok := f.users[username]
	if !ok || password != "pw-"+username {
		return domain.User{}, apperr.Errorf(apperr.Unauthorized, "Wrong username or password.")
	}
	return u, nil
}

func (f *fakeAdmin) User(_ context.Context, id string) (domain.User, error) {
	for _, u := range f.users {
		if u.ID == id {
			return u, nil
		}
	}
	return domain.User{}, apperr.Errorf(apperr.NotFound, "no user")
}

func (f *fakeAdmin) RecordSignOut(context.Context, domain.User) error { return nil }

func (f *fakeAdmin) Users(context.Context, domain.UserFilter) (domain.UserPage, error) {
	return domain.UserPage{}, errNotFaked
}
func (f *fakeAdmin) UserByUsername(context.Context, string) (domain.User, error) {
	return domain.User{}, errNotFaked
}
func (f *fakeAdmin) CreateUser(context.Context, admin.NewUser) (domain.User, error) {
	return domain.User{}, errNotFaked
}
func (f *fakeAdmin) SetRole(context.Context, string, domain.Role) (domain.User, error) {
	return domain.User{}, errNotFaked
}
func (f *fakeAdmin) SetDisabled(context.Context, string, bool) (domain.User, error) {
	return domain.User{}, errNotFaked
}
func (f *fakeAdmin) ResetPassword(context.Context, string) (string, error)        { return "", errNotFaked }
func (f *fakeAdmin) ChangePassword(context.Context, string, string, string) error { return errNotFaked }
func (f *fakeAdmin) DeleteUser(context.Context, string) (int, error)              { return 0, errNotFaked }

func (f *fakeAdmin) ThirdPartyOAuth(context.Context) (bool, error)  { return true, nil }
func (f *fakeAdmin) SetThirdPartyOAuth(context.Context, bool) error { return errNotFaked }
func (f *fakeAdmin) SecretLifetime(context.Context) (time.Duration, error) {
	return 0, errNotFaked
}
func (f *fakeAdmin) SetSecretLifetimeDays(context.Context, int) error   { return errNotFaked }
func (f *fakeAdmin) RegistrationPolicy(context.Context) (string, error) { return "", errNotFaked }
func (f *fakeAdmin) SetRegistrationPolicy(context.Context, string) error {
	return errNotFaked
}

func (f *fakeAdmin) RegisterApp(context.Context, string, domain.Registration) (admin.RegisteredApp, error) {
	return admin.RegisteredApp{}, errNotFaked
}
func (f *fakeAdmin) RegisterOwnApp(context.Context, domain.User, domain.Registration) (admin.RegisteredApp, error) {
	return admin.RegisteredApp{}, errNotFaked
}
func (f *fakeAdmin) ReviewApp(context.Context, string, bool, string) (domain.App, error) {
	return domain.App{}, errNotFaked
}
func (f *fakeAdmin) UpdateApp(context.Context, string, domain.Registration) (admin.AppEdit, error) {
	return admin.AppEdit{}, errNotFaked
}
func (f *fakeAdmin) App(context.Context, string) (admin.AppDetail, error) {
	return admin.AppDetail{}, errNotFaked
}
func (f *fakeAdmin) AppPage(context.Context, string, string, string, int) (admin.AppDetail, error) {
	return admin.AppDetail{}, errNotFaked
}
func (f *fakeAdmin) OverviewCounts(context.Context) (admin.Overview, error) {
	return admin.Overview{}, errNotFaked
}
func (f *fakeAdmin) DeleteApp(context.Context, string, string) (int, error) { return 0, errNotFaked }

func (f *fakeAdmin) ListApps(_ context.Context, filter domain.AppFilter) (domain.AppPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters = append(f.filters, filter)
	return f.page, f.listErr
}

func (f *fakeAdmin) lastFilter(t *testing.T) domain.AppFilter {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.filters) == 0 {
		t.Fatal("ListApps was not called")
	}
	return f.filters[len(f.filters)-1]
}

// fakeOAuth is the OAuth of these tests: only the token endpoint is
// reached (TestRequestLogRecoveredPanic), and its Token panics on purpose
// so that the recovered panic's request log line can be checked.
type fakeOAuth struct{}

func (fakeOAuth) CheckAuthorize(context.Context, string, oauth.AuthorizeRequest) (oauth.Consent, error) {
	return oauth.Consent{}, errNotFaked
}
func (fakeOAuth) Decide(context.Context, string, oauth.AuthorizeRequest, bool) (oauth.Decision, error) {
	return oauth.Decision{}, errNotFaked
}
func (fakeOAuth) Token(context.Context, oauth.TokenRequest) (oauth.TokenResponse, error) {
	panic("fakeOAuth.Token: a handler panic for TestRequestLogRecoveredPanic")
}
func (fakeOAuth) Authenticate(context.Context, string) (oauth.Principal, error) {
	return oauth.Principal{}, errNotFaked
}
func (fakeOAuth) Require(oauth.Principal, string) error { return errNotFaked }
func (fakeOAuth) RecordUse(oauth.Principal, string)     {}
func (fakeOAuth) Keys() *oauth.KeySet                   { return nil }

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func newTestWeb(t *testing.T) (*httptest.Server, *fakeAdmin) {
	t.Helper()
	fa := &fakeAdmin{users: map[string]domain.User{
		"ada": {ID: "u-ada", Username: "ada", DisplayName: "Ada", Role: domain.RoleAdmin},
		"bob": {ID: "u-bob", Username: "bob", DisplayName: "Bob", Role: domain.RoleMember},
	}}
	s := New(fakeSlices(Config{BaseURL: "http://127.0.0.1", SessionStore: memstore.New()}, fa), fakeOAuth{}, scope.Default(),
		slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return testNow })
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, fa
}

// client is a browser: a cookie jar, no redirects followed.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, srv *httptest.Server) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values) (int, http.Header, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (c *client) signIn(username string) {
	c.t.Helper()
	_, _, page := c.do(http.MethodGet, "/signin", nil)
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatal("no CSRF token on /signin")
	}
	status, h, body := c.do(http.MethodPost, "/signin", url.Values{"_csrf": {m[1]}, "username": {username}, "password": {"pw-" + username}})
	if status != http.StatusSeeOther {
		c.t.Fatalf("sign in %s: %d %s %.200s", username, status, h.Get("Location"), body)
	}
}

// testid returns the text of the first element with data-testid=id.
func testid(body, id string) string {
	m := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

// TestErrorMapping: each kind of error becomes its status and a message a
// person can act on, as an HTML page, as the REST API's JSON, or as the
// token endpoint's RFC 6749 body; a 5xx never shows its cause.
func TestErrorMapping(t *testing.T) {
	s := New(fakeSlices(Config{SessionStore: memstore.New()}, &fakeAdmin{}), fakeOAuth{}, scope.Default(),
		slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return testNow })
	tests := []struct {
		name, path string
		err        error
		status     int
		want       string // in the body
		notWant    string
	}{
		{"invalid", "/admin/apps", apperr.Errorf(apperr.Invalid, "sort must be name."), 400, `data-testid="error-message">sort must be name.<`, ""},
		{"not found", "/admin/apps/x", apperr.Errorf(apperr.NotFound, "No app x."), 404, "No app x.", ""},
		{"conflict", "/admin/apps", apperr.Errorf(apperr.Conflict, "Already there."), 409, "Already there.", ""},
		{"forbidden", "/admin", apperr.Errorf(apperr.Forbidden, "Admins only."), 403, "Admins only.", ""},
		{"unauthorized", "/admin", apperr.Errorf(apperr.Unauthorized, "Sign in."), 401, "Please sign in", ""},
		{"internal", "/admin", errors.New("disk on fire"), 500, "Internal error.", "disk on fire"},
		{"api invalid", "/_apis/profile", apperr.Errorf(apperr.Invalid, "bad id"), 400, `"message":"bad id"`, "<html"},
		{"api internal", "/_apis/profile", errors.New("secret cause"), 500, `"message":"Internal error.`, "secret cause"},
		{"token", "/oauth2/token", apperr.Errorf(apperr.Invalid, "grant_type is missing"), 400, `"error":"invalid_request"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c := s.echo.NewContext(httptest.NewRequest(http.MethodGet, tt.path, nil), rec)
			s.errorHandler(tt.err, c)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			body := rec.Body.String()
			if !strings.Contains(body, tt.want) {
				t.Errorf("body lacks %q: %.300s", tt.want, body)
			}
			if tt.notWant != "" && strings.Contains(body, tt.notWant) {
				t.Errorf("body shows %q", tt.notWant)
			}
			if tt.path == "/oauth2/token" && rec.Header().Get("Cache-Control") != "no-store" {
				t.Error("token error without Cache-Control: no-store")
			}
		})
	}
}

// TestRequestLogStatus: the request log line carries the status the client
// got, also when a handler's error was mapped to it (not Echo's 200).
func TestRequestLogStatus(t *testing.T) {
	var buf bytes.Buffer
	s := New(fakeSlices(Config{SessionStore: memstore.New()}, &fakeAdmin{}), fakeOAuth{}, scope.Default(),
		slog.New(slog.NewTextHandler(&buf, nil)), func() time.Time { return testNow })
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader("grant_type=a&grant_type=b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
	}
	var line string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "msg=request ") {
			line = l
		}
	}
	if !strings.Contains(line, "status=400") {
		t.Errorf("request log line %q, want status=400; log:\n%s", line, buf.String())
	}
	if n := strings.Count(buf.String(), "token request rejected"); n != 1 {
		t.Errorf("error mapped %d times, want once; log:\n%s", n, buf.String())
	}
}

// TestRequestLogRecoveredPanic: a handler's panic answers 500 and still
// gets its request log line, with that status.
func TestRequestLogRecoveredPanic(t *testing.T) {
	var buf bytes.Buffer
	s := New(fakeSlices(Config{SessionStore: memstore.New()}, &fakeAdmin{}), fakeOAuth{}, scope.Default(),
		slog.New(slog.NewTextHandler(&buf, nil)), func() time.Time { return testNow })
	s.echo.Logger.SetOutput(io.Discard) // the recovered stack
	rec := httptest.NewRecorder()
	// A well-formed token request reaches fakeOAuth, whose Token panics.
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader("grant_type=refresh_token&assertion=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500: %s", rec.Code, rec.Body)
	}
	if !strings.Contains(buf.String(), "msg=request ") || !strings.Contains(buf.String(), "status=500") {
		t.Errorf("no request log line with status=500; log:\n%s", buf.String())
	}
}

// TestParseAppsQuery: the sort, direction and filter parameters of
// /admin/apps, their defaults, and the links built from them.
func TestParseAppsQuery(t *testing.T) {
	tests := []struct {
		query    string
		wantErr  bool
		wantSort string
		wantDesc bool
	}{
		{"", false, domain.AppSortName, false},
		{"state=critical", false, domain.AppSortExpiry, false}, // expiry tabs: soonest first
		{"state=expiring&sort=name", false, domain.AppSortName, false},
		{"sort=authorizations", false, domain.AppSortAuthorizations, true}, // most first
		{"sort=authorizations&dir=asc", false, domain.AppSortAuthorizations, false},
		{"sort=age", false, domain.AppSortAge, false}, // oldest first
		{"sort=expiry&dir=desc", false, domain.AppSortExpiry, true},
		{"sort=owner", true, "", false},
		{"dir=sideways", true, "", false},
		{"state=fine", true, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			q, err := parseAppsQuery(v)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if !apperr.Is(err, apperr.Invalid) {
					t.Errorf("err %v is not Invalid", err)
				}
				return
			}
			if key, desc := q.order(); key != tt.wantSort || desc != tt.wantDesc {
				t.Errorf("order %s desc=%v, want %s desc=%v", key, desc, tt.wantSort, tt.wantDesc)
			}
		})
	}

	q, _ := parseAppsQuery(url.Values{"q": {"fab rik"}, "sort": {"expiry"}, "state": {"critical"}})
	for _, tab := range q.tabs() {
		if !strings.Contains(tab.URL, "q=fab+rik") || !strings.Contains(tab.URL, "sort=expiry") {
			t.Errorf("tab %s = %s drops the search or the sort", tab.Key, tab.URL)
		}
		if tab.Current != (tab.Key == "critical") {
			t.Errorf("tab %s current=%v", tab.Key, tab.Current)
		}
	}
	links := q.sortLinks()
	if l := links[domain.AppSortExpiry]; !l.Current || !strings.Contains(l.URL, "dir=desc") || l.Dir != "soonest first" {
		t.Errorf("current column link %+v, want it to flip to descending", l)
	}
	if l := links[domain.AppSortName]; l.Current || strings.Contains(l.URL, "dir=") || !strings.Contains(l.URL, "q=fab+rik") {
		t.Errorf("other column link %+v, want its default direction and the search kept", l)
	}
	if got := countText(1, q); got != "1 app matches “fab rik” · ordered by their primary client secret" {
		t.Errorf("count text %q", got)
	}
}

// TestAppsListHandler: the handler passes the parsed order, filter and
// cursor to Apps.ListApps and shows the total; a bad parameter is a 400
// that never reaches the store.
func TestAppsListHandler(t *testing.T) {
	srv, fa := newTestWeb(t)
	fa.page = domain.AppPage{Total: 42, Next: "CUR", Apps: []domain.App{{ClientID: "c1", Registration: domain.Registration{Name: "Fabrikam", Company: "F"}}}}
	c := newClient(t, srv)
	c.signIn("ada")
	status, _, body := c.do(http.MethodGet, "/admin/apps?state=critical&q=fab&after=XYZ", nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %.300s", status, body)
	}
	f := fa.lastFilter(t)
	if f.Sort != domain.AppSortExpiry || f.Desc || f.Query != "fab" || f.After != "XYZ" || f.SecretExpiresBefore != testNow.Add(domain.DefaultThresholds.Critical) {
		t.Errorf("filter %+v", f)
	}
	if got := testid(body, "result-count"); got != "42 apps match “fab” · ordered by their primary client secret" {
		t.Errorf("result count %q", got)
	}
	if m := regexp.MustCompile(`href="([^"]+)" data-testid="next-page"`).FindStringSubmatch(body); m == nil ||
		!strings.Contains(m[1], "after=CUR") || !strings.Contains(m[1], "q=fab") || !strings.Contains(m[1], "state=critical") {
		t.Errorf("next link %v, want the cursor with the search and the tab", m)
	}
	calls := len(fa.filters)
	if status, _, body := c.do(http.MethodGet, "/admin/apps?sort=bogus", nil); status != http.StatusBadRequest ||
		!strings.Contains(testid(body, "error-message"), "sort must be") {
		t.Errorf("bad sort: %d %q", status, testid(body, "error-message"))
	}
	if len(fa.filters) != calls {
		t.Error("a bad sort reached the store")
	}
	// The store's own refusal (a cursor of another order) maps to 400.
	fa.listErr = apperr.Errorf(apperr.Invalid, "The page link is not valid; go back to the first page.")
	if status, _, _ := c.do(http.MethodGet, "/admin/apps?after=junk", nil); status != http.StatusBadRequest {
		t.Errorf("bad cursor: %d, want 400", status)
	}
}

// TestSigninRedirects: signing in goes to return_to or the start page of
// the role; /signin when already signed in does the same; an off-site
// return_to is ignored.
func TestSigninRedirects(t *testing.T) {
	srv, _ := newTestWeb(t)
	for _, tt := range []struct{ user, path, want string }{
		{"ada", "/signin", "/admin"},
		{"bob", "/signin", "/"},
		{"bob", "/signin?return_to=/profile/authorizations", "/profile/authorizations"},
		{"bob", "/signin?return_to=//evil.example/x", "/"},
	} {
		c := newClient(t, srv)
		c.signIn(tt.user)
		status, h, _ := c.do(http.MethodGet, tt.path, nil)
		if status != http.StatusFound || h.Get("Location") != tt.want {
			t.Errorf("%s at %s: %d → %q, want 302 → %q", tt.user, tt.path, status, h.Get("Location"), tt.want)
		}
	}
	c := newClient(t, srv)
	if status, _, body := c.do(http.MethodGet, "/signin", nil); status != http.StatusOK || !strings.Contains(body, `data-testid="signin-submit"`) {
		t.Errorf("signed out: %d, want the form", status)
	}
	_, _, page := c.do(http.MethodGet, "/signin", nil)
	status, _, body := c.do(http.MethodPost, "/signin", url.Values{"_csrf": {csrfRE.FindStringSubmatch(page)[1]}, "username": {"ada"}, "password": {"wrong"}})
	if status != http.StatusUnauthorized || testid(body, "signin-error") != "Wrong username or password." {
		t.Errorf("wrong password: %d %q", status, testid(body, "signin-error"))
	}
}

// TestAuditRow: targets link to their page, details read as key: value
// lines cut to 80 characters, and the full JSON is kept.
func TestAuditRow(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		ev      audit.Event
		wantURL string
		wantKV  map[string]string
	}{
		{audit.Event{TargetType: audit.TargetApp, TargetID: "c1", Details: map[string]any{"scopes": []any{"vso.work", "vso.code"}}},
			"/admin/apps/c1", map[string]string{"scopes": "vso.work vso.code"}},
		{audit.Event{TargetType: audit.TargetUser, TargetID: "u 1"}, "/admin/users/u%201", nil},
		{audit.Event{TargetType: audit.TargetAuthorization, TargetID: "z1", Details: map[string]any{"client_id": "c1", "note": long}},
			"/admin/apps/c1?tab=authorizations#authorization-z1", map[string]string{"client_id": "c1", "note": strings.Repeat("x", 79) + "…"}},
		{audit.Event{TargetType: audit.TargetAuthorization, TargetID: "z2"}, "", nil},
		{audit.Event{TargetType: audit.TargetSecret, TargetID: "s1", Details: map[string]any{"client_id": "c2", "n": 3.0, "ok": true}},
			"/admin/apps/c2", map[string]string{"n": "3", "ok": "true"}},
		{audit.Event{TargetType: audit.TargetPolicy, TargetID: "third_party_oauth"}, "/admin/settings", nil},
	}
	for _, tt := range tests {
		r := auditRow(tt.ev)
		if r.TargetURL != tt.wantURL {
			t.Errorf("%s %s: URL %q, want %q", tt.ev.TargetType, tt.ev.TargetID, r.TargetURL, tt.wantURL)
		}
		got := map[string]string{}
		for _, kv := range r.Pairs {
			got[kv.Key] = kv.Value
		}
		for k, v := range tt.wantKV {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", tt.ev.TargetID, k, got[k], v)
			}
		}
		if len(tt.ev.Details) > 0 && !strings.HasPrefix(r.Details, "{") {
			t.Errorf("%s: full JSON %q", tt.ev.TargetID, r.Details)
		}
	}
}

// TestStampAndAge: times carry their zone; ages count calendar months.
func TestStampAndAge(t *testing.T) {
	if got := stamp(time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600))); got != "2026-03-04 04:06 UTC" {
		t.Errorf("stamp %q", got)
	}
	if got := dayPtr(nil); got != "never" {
		t.Errorf("dayPtr(nil) %q", got)
	}
	for _, tt := range []struct {
		from time.Time
		want string
	}{
		{testNow.AddDate(-4, -2, 0), "4 y 2 mo"},
		{testNow.AddDate(0, -3, 0), "3 mo"},
		{testNow.AddDate(0, 0, -12), "12 d"},
		{testNow.Add(-time.Hour), "today"},
		{testNow.Add(time.Hour), "today"},
	} {
		if got := age(tt.from, testNow); got != tt.want {
			t.Errorf("age(%s) = %q, want %q", tt.from, got, tt.want)
		}
	}
}

// FuzzParseAppsQuery: any query string either parses into an order and
// links that parse back to the same order, or is refused as Invalid.
func FuzzParseAppsQuery(f *testing.F) {
	for _, s := range []string{"", "sort=expiry&dir=desc", "state=critical&q=x%26y", "sort=%00", "dir=asc&dir=desc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseAppsQuery(v)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("%q: %v is not Invalid", raw, err)
			}
			return
		}
		key, desc := q.order()
		u, err := url.Parse(q.url())
		if err != nil {
			t.Fatalf("%q: link %q: %v", raw, q.url(), err)
		}
		again, err := parseAppsQuery(u.Query())
		if err != nil {
			t.Fatalf("%q: own link %q refused: %v", raw, q.url(), err)
		}
		if k, d := again.order(); k != key || d != desc || again.Query != q.Query {
			t.Fatalf("%q: link %q changes the order or search", raw, q.url())
		}
	})
}
