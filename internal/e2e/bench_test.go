package e2e

// Benchmarks of the hot paths over real HTTP on 127.0.0.1 (make bench):
// the Bearer check (with and without HTTP), the refresh grant and the code
// exchange. The helpers of server_test.go and flow_test.go take
// *testing.T, so the few this file needs have testing.TB variants here;
// setup (user, app, consent) goes through the same services the handlers
// call, and only what is measured goes over HTTP.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// newBenchServer is newTestServer for a testing.TB, with the production
// usage-flush interval (5 s).
func newBenchServer(tb testing.TB) *testServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	dbPath := filepath.Join(tb.TempDir(), "oauthdesk.db")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := server.Open(context.Background(), server.Config{DBPath: dbPath, BaseURL: base, Log: log, TokenPerMinute: -1})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
		if err := app.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return &testServer{URL: base, DBPath: dbPath, App: app}
}

// benchClient is a client with enough idle connections per host for
// RunParallel, so that every request reuses a kept-alive connection.
func benchClient(tb testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// benchEnv is a running server with a member, a registered app and an
// authorization of the app by the member.
type benchEnv struct {
	ts     *testServer
	client *http.Client
	app    registeredApp
	user   domain.User
}

const benchScopes = "vso.work vso.profile"

func newBenchEnv(tb testing.TB) *benchEnv {
	tb.Helper()
	ts := newBenchServer(tb)
	ctx := context.Background()
	if _, err := ts.App.Admin.CreateUser(ctx, admin.NewUser{Username: "root", Role: domain.RoleAdmin, Password: "correct horse battery"}); err != nil {
		tb.Fatal(err)
	}
	u, err := ts.App.Admin.CreateUser(ctx, admin.NewUser{Username: "bob", Role: domain.RoleMember,
		Password: "bob's long password", DisplayName: "Bob", Email: "bob@example.com"})
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := ts.App.Admin.RegisterApp(ctx, "root", domain.Registration{
		Name: "Fabrikam Boards", Company: "Fabrikam, Inc.", Description: "Shows your work items on a wall display.",
		CompanyURL: "https://fabrikam.example", AppURL: "https://fabrikam.example/boards", CallbackURL: callbackURL,
		Scopes: strings.Fields(benchScopes),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &benchEnv{ts: ts, client: benchClient(tb), app: registeredApp{ClientID: reg.App.ClientID, Secret: reg.ClientSecret}, user: u}
}

// code returns a fresh authorization code: what POST /oauth2/authorize
// with decision=accept does for the signed-in member.
func (e *benchEnv) code(tb testing.TB) string {
	d, err := e.ts.App.OAuth.Decide(context.Background(), e.user.ID, oauth.AuthorizeRequest{
		ClientID: e.app.ClientID, ResponseType: oauth.ResponseTypeAssertion, State: "bench",
		Scope: benchScopes, RedirectURI: callbackURL,
	}, true)
	if err != nil {
		tb.Fatal(err)
	}
	loc, err := url.Parse(d.Location)
	if err != nil || loc.Query().Get("code") == "" {
		tb.Fatalf("decision location %q: %v", d.Location, err)
	}
	return loc.Query().Get("code")
}

type benchTokens struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// token posts a body to /oauth2/token (postToken for a testing.TB).
func (e *benchEnv) token(body string) (benchTokens, error) {
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/oauth2/token", strings.NewReader(body))
	req.Header.Set("Content-Type", formType)
	resp, err := e.client.Do(req)
	if err != nil {
		return benchTokens{}, err
	}
	defer resp.Body.Close()
	var out benchTokens
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, err
	}
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" || out.RefreshToken == "" {
		return out, fmt.Errorf("token endpoint answered %d", resp.StatusCode)
	}
	return out, nil
}

func (e *benchEnv) mustToken(tb testing.TB, body string) benchTokens {
	tb.Helper()
	t, err := e.token(body)
	if err != nil {
		tb.Fatalf("token request: %v (%s: %s)", err, t.Error, t.ErrorDescription)
	}
	return t
}

// profile calls the profile API with a Bearer token (callAPI without the
// JSON decoding) and returns the status.
func (e *benchEnv) profile(token string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+profilePath, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// BenchmarkBearerProfile: GET /_apis/profile/profiles/me with a valid
// access token — JWT verification, the Guard's revocation check, the
// user lookup and the JSON answer, over HTTP with keep-alive.
func BenchmarkBearerProfile(b *testing.B) {
	e := newBenchEnv(b)
	access := e.mustToken(b, codeBody(e.app.Secret, e.code(b), callbackURL)).AccessToken
	if status, err := e.profile(access); err != nil || status != http.StatusOK {
		b.Fatalf("profile: %d %v", status, err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if status, err := e.profile(access); err != nil || status != http.StatusOK {
				b.Fatalf("profile: %d %v", status, err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if status, err := e.profile(access); err != nil || status != http.StatusOK {
					b.Errorf("profile: %d %v", status, err)
					return
				}
			}
		})
	})
}

// BenchmarkBearerCheckOnly: the Bearer check in process, without HTTP:
// what every API request pays before its handler runs.
func BenchmarkBearerCheckOnly(b *testing.B) {
	e := newBenchEnv(b)
	header := "Bearer " + e.mustToken(b, codeBody(e.app.Secret, e.code(b), callbackURL)).AccessToken
	ctx := context.Background()
	check := func() error {
		p, err := e.ts.App.OAuth.Authenticate(ctx, header)
		if err == nil && p.UserID != e.user.ID {
			err = fmt.Errorf("authenticated as %q, want %q", p.UserID, e.user.ID)
		}
		return err
	}
	if err := check(); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := check(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := check(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkTokenRefresh: the refresh_token grant over HTTP, as a chain —
// every iteration presents the refresh token the previous one returned.
func BenchmarkTokenRefresh(b *testing.B) {
	e := newBenchEnv(b)
	refresh := e.mustToken(b, codeBody(e.app.Secret, e.code(b), callbackURL)).RefreshToken
	b.ReportAllocs()
	for b.Loop() {
		refresh = e.mustToken(b, refreshBody(e.app.Secret, refresh, callbackURL)).RefreshToken
	}
}

// BenchmarkTokenCodeExchange: the jwt-bearer grant (authorization code →
// tokens) over HTTP. b.N codes are issued before the timer starts, so only
// the exchanges are measured. (b.Loop does not tell in advance how many
// iterations will run, hence the b.N loop.)
func BenchmarkTokenCodeExchange(b *testing.B) {
	e := newBenchEnv(b)
	codes := make([]string, b.N)
	for i := range codes {
		codes[i] = e.code(b)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.mustToken(b, codeBody(e.app.Secret, codes[i], callbackURL))
	}
	b.StopTimer()
}
