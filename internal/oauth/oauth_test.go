package oauth

// Unit tests of the protocol core against a real SQLite store in a temp
// directory: the token endpoint's skeleton, the refresh grace window, the
// verified-token cache. The clock is a variable the tests move.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/keyseal"
	"github.com/oauthdesk/oauthdesk/internal/scope"
	"github.com/oauthdesk/oauthdesk/internal/secret"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

const testCallback = "https://fabrikam.example/cb"

// env is a service over a fresh database with one user, one app (secret
// appSecret) and the user's authorization of it.
type env struct {
	t         testing.TB
	db        *store.DB
	svc       *Service
	clock     *testClock
	user      domain.User
	app       domain.App
	appSecret string
	authz     domain.Authorization
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newEnv(t testing.TB, grace time.Duration) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "oauthdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	sealer, err := keyseal.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeys(ctx, db, sealer, clock.now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	watcher, err := db.NewChangeWatcher(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = watcher.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	guard := NewGuard(db, db, watcher, time.Hour, clock.now)
	svc := NewService(Config{Issuer: "http://oauthdesk.test", RefreshGrace: grace}, db, scope.Default(), keys, guard, NewUsage(db, log), clock.now, log)

	now := clock.now()
	e := &env{t: t, db: db, svc: svc, clock: clock}
	e.user = domain.User{ID: uuid.NewString(), Username: "bob", DisplayName: "Bob", Role: domain.RoleMember,
		PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, e.user); err != nil {
		t.Fatal(err)
	}
	e.appSecret = secret.New(secret.PrefixClientSecret)
	e.app = domain.App{ClientID: uuid.NewString(), OwnerID: e.user.ID, CreatedAt: now,
		Registration: domain.Registration{Name: "Fabrikam", Company: "Fabrikam", Description: "d", CompanyURL: "https://fabrikam.example",
			AppURL: "https://fabrikam.example", CallbackURL: testCallback, Scopes: []string{"vso.work"}}}
	e.app.Secrets = []domain.Secret{{ID: uuid.NewString(), ClientID: e.app.ClientID, Slot: domain.SlotPrimary,
		Hash: secret.Hash(e.appSecret), CreatedAt: now, ExpiresAt: now.AddDate(5, 0, 0)}}
	if err := db.CreateApp(ctx, e.app); err != nil {
		t.Fatal(err)
	}
	e.authz = domain.Authorization{ID: uuid.NewString(), UserID: e.user.ID, ClientID: e.app.ClientID,
		Scopes: []string{"vso.work"}, RedirectURI: testCallback, GrantedAt: now}
	if err := db.CreateAuthorization(ctx, e.authz); err != nil {
		t.Fatal(err)
	}
	return e
}

// code issues an authorization code of e's authorization.
func (e *env) code() string {
	e.t.Helper()
	c := secret.New(secret.PrefixCode)
	now := e.clock.now()
	err := e.db.CreateCode(context.Background(), domain.AuthCode{ID: uuid.NewString(), Hash: secret.Hash(c),
		AuthorizationID: e.authz.ID, ClientID: e.app.ClientID, UserID: e.user.ID, SecretID: e.app.Secrets[0].ID,
		Scopes: []string{"vso.work"}, RedirectURI: testCallback, CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute)})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func codeReq(secretValue, code string) TokenRequest {
	return TokenRequest{GrantType: GrantTypeJWTBearer, ClientAssertionType: ClientAssertionTypeJWTBearer,
		ClientAssertion: secretValue, Assertion: code, RedirectURI: testCallback}
}

func refreshReq(secretValue, refresh string) TokenRequest {
	r := codeReq(secretValue, refresh)
	r.GrantType = GrantTypeRefreshToken
	return r
}

func (e *env) token(r TokenRequest) (TokenResponse, error) {
	return e.svc.Token(context.Background(), r)
}

func (e *env) mustToken(r TokenRequest) TokenResponse {
	e.t.Helper()
	resp, err := e.token(r)
	if err != nil {
		e.t.Fatalf("token request: %v", err)
	}
	if resp.AccessToken == "" || !strings.HasPrefix(resp.RefreshToken, secret.PrefixRefreshToken) || resp.ExpiresIn != "3599" {
		e.t.Fatalf("token response %+v", resp)
	}
	return resp
}

// wantWorks checks that an access token passes the Bearer check.
func (e *env) wantWorks(access, what string) {
	e.t.Helper()
	if _, err := e.svc.Authenticate(context.Background(), "Bearer "+access); err != nil {
		e.t.Errorf("%s: Bearer check: %v", what, err)
	}
}

func (e *env) wantRefused(access, what string) {
	e.t.Helper()
	var be *BearerError
	if _, err := e.svc.Authenticate(context.Background(), "Bearer "+access); !errors.As(err, &be) || be.Code != "invalid_token" {
		e.t.Errorf("%s: Bearer check = %v, want invalid_token", what, err)
	}
}

func (e *env) authzRevoked() bool {
	e.t.Helper()
	a, err := e.db.AuthorizationByID(context.Background(), e.authz.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return a.RevokedAt != nil
}

func (e *env) events(action string) []audit.Event {
	e.t.Helper()
	events, _, err := e.db.AuditEvents(context.Background(), audit.Filter{Action: action, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return events
}

// TestTokenSkeleton: the checks every grant shares, in order, with the
// error each case gets — and that a refused request changes nothing.
func TestTokenSkeleton(t *testing.T) {
	e := newEnv(t, 30*time.Second)
	code := e.code()
	good := codeReq(e.appSecret, code)
	with := func(f func(*TokenRequest)) TokenRequest { r := good; f(&r); return r }
	tests := []struct {
		name string
		req  TokenRequest
		want *Error
	}{
		{"no grant_type", with(func(r *TokenRequest) { r.GrantType = "" }), ErrGrantTypeMissing},
		{"unsupported grant_type", with(func(r *TokenRequest) { r.GrantType = "password" }), ErrGrantTypeUnsupported},
		{"wrong client_assertion_type", with(func(r *TokenRequest) { r.ClientAssertionType = "secret" }), ErrAssertionTypeInvalid},
		{"no client secret", with(func(r *TokenRequest) { r.ClientAssertion = "" }), ErrSecretMissing},
		{"no assertion", with(func(r *TokenRequest) { r.Assertion = "" }), ErrAssertionMissing},
		{"no redirect_uri", with(func(r *TokenRequest) { r.RedirectURI = "" }), ErrRedirectURIMissing},
		{"unknown code", with(func(r *TokenRequest) { r.Assertion = secret.New(secret.PrefixCode) }), ErrGrantInvalid},
		{"unknown refresh token", refreshReq(e.appSecret, secret.New(secret.PrefixRefreshToken)), ErrRefreshUnknown},
		{"wrong client secret", with(func(r *TokenRequest) { r.ClientAssertion = secret.New(secret.PrefixClientSecret) }), ErrClientFailed},
		{"other redirect_uri", with(func(r *TokenRequest) { r.RedirectURI = "https://evil.example/cb" }), ErrRedirectURIMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.token(tt.req)
			var got *Error
			if !errors.As(err, &got) || got != tt.want {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// None of the refused requests used the code.
	first := e.mustToken(good)
	e.wantWorks(first.AccessToken, "first exchange")
	if first.Scope != "vso.work vso.authorization_grant" || first.AuthorizationID != e.authz.ID {
		t.Errorf("response %+v", first)
	}

	t.Run("code replay revokes the tokens issued from the code", func(t *testing.T) {
		_, err := e.token(good)
		if !errors.Is(err, ErrCodeReused) {
			t.Fatalf("replay: %v, want ErrCodeReused", err)
		}
		e.wantRefused(first.AccessToken, "access token of a replayed code")
		if _, err := e.token(refreshReq(e.appSecret, first.RefreshToken)); !errors.Is(err, ErrAuthorizationGone) {
			t.Errorf("refresh token of a replayed code: %v, want ErrAuthorizationGone", err)
		}
		if ev := e.events(audit.ActionTokenFamilyRevoke); len(ev) != 1 {
			t.Errorf("%d family revocations in the audit log, want 1 (the revocation commits although the request failed)", len(ev))
		}
		if e.authzRevoked() {
			t.Error("a code replay revoked the whole authorization; only the code's chain should die")
		}
		// Another chain of the same authorization is not touched.
		other := e.mustToken(codeReq(e.appSecret, e.code()))
		e.wantWorks(other.AccessToken, "another chain")
	})

	t.Run("expired code", func(t *testing.T) {
		c := e.code()
		e.clock.add(15 * time.Minute)
		if _, err := e.token(codeReq(e.appSecret, c)); !errors.Is(err, ErrGrantExpired) {
			t.Errorf("expired code: %v", err)
		}
	})
}

func TestReuseVerdict(t *testing.T) {
	used := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		grace time.Duration
		after time.Duration
		want  verdict
	}{
		{"off", 0, time.Second, verdictReuse},
		{"off, same instant", 0, 0, verdictReuse},
		{"negative grace is off", -time.Second, 0, verdictReuse},
		{"inside", 30 * time.Second, 10 * time.Second, verdictRetry},
		{"at the edge", 30 * time.Second, 30 * time.Second, verdictRetry},
		{"just after", 30 * time.Second, 30*time.Second + time.Nanosecond, verdictReuse},
		{"long after", 30 * time.Second, time.Hour, verdictReuse},
		{"clock went back", 30 * time.Second, -5 * time.Second, verdictRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reuseVerdict(tt.grace, used, used.Add(tt.after)); got != tt.want {
				t.Errorf("reuseVerdict(%v, used+%v) = %v, want %v", tt.grace, tt.after, got, tt.want)
			}
		})
	}
}

// TestRefreshGrace: a replay inside the window yields a new working pair
// on the same chain (a fork) and a retry event; after the window it
// revokes the authorization, and that revocation commits although the
// request fails.
func TestRefreshGrace(t *testing.T) {
	e := newEnv(t, 30*time.Second)
	first := e.mustToken(codeReq(e.appSecret, e.code()))
	second := e.mustToken(refreshReq(e.appSecret, first.RefreshToken))

	e.clock.add(20 * time.Second)
	retry := e.mustToken(refreshReq(e.appSecret, first.RefreshToken))
	if retry.RefreshToken == second.RefreshToken {
		t.Fatal("the retry got the same refresh token")
	}
	e.wantWorks(second.AccessToken, "second")
	e.wantWorks(retry.AccessToken, "retry")
	if ev := e.events(audit.ActionTokenRefreshRetry); len(ev) != 1 || ev[0].TargetID != e.authz.ID {
		t.Errorf("retry events %+v, want one for the authorization", ev)
	}
	if e.authzRevoked() {
		t.Fatal("a replay inside the window revoked the authorization")
	}

	t.Run("wrong secret inside the window changes nothing", func(t *testing.T) {
		if _, err := e.token(refreshReq(secret.New(secret.PrefixClientSecret), first.RefreshToken)); !errors.Is(err, ErrClientFailed) {
			t.Errorf("got %v, want ErrClientFailed", err)
		}
		if e.authzRevoked() {
			t.Error("revoked by an unauthenticated replay")
		}
	})

	e.clock.add(11 * time.Second) // 31 s after the rotation
	_, err := e.token(refreshReq(e.appSecret, first.RefreshToken))
	if !errors.Is(err, ErrRefreshReused) {
		t.Fatalf("replay after the window: %v, want ErrRefreshReused", err)
	}
	if !e.authzRevoked() {
		t.Fatal("the reuse revocation did not commit")
	}
	e.wantRefused(retry.AccessToken, "access token after reuse")
	if ev := e.events(audit.ActionAuthorizationRevoke); len(ev) != 1 || !strings.Contains(string(ev[0].DetailsJSON()), "refresh token reuse") {
		t.Errorf("revocation events %+v", ev)
	}
}

// TestRefreshForks: which refresh tokens still work after a grace replay
// forked the chain (RFC 9700 §4.14.2). The successors of one token are
// siblings: whichever is rotated first continues the chain, and then
// presenting any other sibling, or replaying their parent, is reuse and
// revokes the authorization.
func TestRefreshForks(t *testing.T) {
	type step struct {
		present string // "first", "A" (first successor), "B" (the fork), "next"
		reused  bool   // want ErrRefreshReused and the authorization revoked
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"the fork continues, the first successor is reuse", []step{{"B", false}, {"next", false}, {"A", true}}},
		{"the first successor continues, the fork is reuse", []step{{"A", false}, {"B", true}}},
		{"after a successor was used, replaying the parent is reuse", []step{{"A", false}, {"first", true}}},
		{"the chain goes on from the used sibling", []step{{"B", false}, {"next", false}, {"next", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 30*time.Second)
			first := e.mustToken(codeReq(e.appSecret, e.code()))
			tokens := map[string]string{"first": first.RefreshToken}
			access := first.AccessToken // the newest pair's
			tokens["A"] = e.mustToken(refreshReq(e.appSecret, first.RefreshToken)).RefreshToken
			e.clock.add(time.Second)
			tokens["B"] = e.mustToken(refreshReq(e.appSecret, first.RefreshToken)).RefreshToken
			for i, st := range tt.steps {
				e.clock.add(time.Second)
				res, err := e.token(refreshReq(e.appSecret, tokens[st.present]))
				if st.reused {
					if !errors.Is(err, ErrRefreshReused) || !e.authzRevoked() {
						t.Fatalf("step %d, %s: %v (revoked %v), want ErrRefreshReused and the authorization revoked", i, st.present, err, e.authzRevoked())
					}
					e.wantRefused(access, "the newest access token after reuse")
					continue
				}
				if err != nil {
					t.Fatalf("step %d, %s: %v", i, st.present, err)
				}
				e.wantWorks(res.AccessToken, st.present+"'s successor")
				tokens["next"], access = res.RefreshToken, res.AccessToken
			}
		})
	}

	t.Run("at most MaxRefreshForks forks; the next replay is refused, nothing revoked", func(t *testing.T) {
		e := newEnv(t, 30*time.Second)
		first := e.mustToken(codeReq(e.appSecret, e.code()))
		var siblings []TokenResponse
		for range 1 + MaxRefreshForks {
			siblings = append(siblings, e.mustToken(refreshReq(e.appSecret, first.RefreshToken)))
		}
		if _, err := e.token(refreshReq(e.appSecret, first.RefreshToken)); !errors.Is(err, ErrRefreshReused) {
			t.Fatalf("replay %d: %v, want ErrRefreshReused", MaxRefreshForks+2, err)
		}
		if e.authzRevoked() {
			t.Fatal("the refused replay revoked the authorization")
		}
		last := siblings[len(siblings)-1]
		e.wantWorks(last.AccessToken, "the last fork")
		e.mustToken(refreshReq(e.appSecret, last.RefreshToken))
		if _, err := e.token(refreshReq(e.appSecret, siblings[0].RefreshToken)); !errors.Is(err, ErrRefreshReused) || !e.authzRevoked() {
			t.Fatalf("another sibling after the last fork was used: %v, want reuse", err)
		}
	})
}

// TestRefreshConcurrentSameToken: concurrent refreshes with one token:
// one rotation and up to MaxRefreshForks forks get pairs on one chain,
// the rest are refused without revoking; then only one of the pairs'
// refresh tokens can continue the chain.
func TestRefreshConcurrentSameToken(t *testing.T) {
	e := newEnv(t, 30*time.Second)
	first := e.mustToken(codeReq(e.appSecret, e.code()))
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	resps := make([]TokenResponse, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); resps[i], errs[i] = e.token(refreshReq(e.appSecret, first.RefreshToken)) }()
	}
	wg.Wait()
	seen := map[string]bool{}
	var pairs []TokenResponse
	for i := range n {
		if errs[i] != nil {
			if !errors.Is(errs[i], ErrRefreshReused) {
				t.Fatalf("refresh %d: %v", i, errs[i])
			}
			continue
		}
		if seen[resps[i].RefreshToken] {
			t.Fatal("two refreshes got one refresh token")
		}
		seen[resps[i].RefreshToken] = true
		e.wantWorks(resps[i].AccessToken, "concurrent pair")
		pairs = append(pairs, resps[i])
	}
	if len(pairs) != 1+MaxRefreshForks {
		t.Errorf("%d pairs, want %d (one rotation and the capped forks)", len(pairs), 1+MaxRefreshForks)
	}
	if ev := e.events(audit.ActionTokenRefreshRetry); len(ev) != len(pairs)-1 {
		t.Errorf("%d retry events, want %d", len(ev), len(pairs)-1)
	}
	if e.authzRevoked() {
		t.Fatal("concurrent refreshes revoked the authorization")
	}
	e.mustToken(refreshReq(e.appSecret, pairs[len(pairs)-1].RefreshToken))
	if _, err := e.token(refreshReq(e.appSecret, pairs[0].RefreshToken)); !errors.Is(err, ErrRefreshReused) || !e.authzRevoked() {
		t.Errorf("a second sibling continuing the chain: %v, want reuse", err)
	}
}

// TestGraceOff: with the window off the first replay is reuse.
func TestGraceOff(t *testing.T) {
	e := newEnv(t, 0)
	first := e.mustToken(codeReq(e.appSecret, e.code()))
	e.mustToken(refreshReq(e.appSecret, first.RefreshToken))
	if _, err := e.token(refreshReq(e.appSecret, first.RefreshToken)); !errors.Is(err, ErrRefreshReused) {
		t.Fatalf("replay: %v, want ErrRefreshReused", err)
	}
	if !e.authzRevoked() {
		t.Error("not revoked")
	}
}

func TestTokenCacheBounds(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	c := newTokenCache(64)
	for i := range 10000 {
		c.put(tokenKey(uuid.NewString()+string(rune(i))), verifiedToken{claims: &Claims{}, expires: now.Add(time.Hour)}, now)
	}
	if n := c.len(); n > 64 {
		t.Errorf("cache holds %d entries, bound 64", n)
	}
	if n := c.len(); n < 32 {
		t.Errorf("cache holds only %d entries of 64 after 10000 puts", n)
	}
}

func TestTokenCacheExpiry(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		nbf, exp   time.Duration // relative to now
		at         time.Duration
		wantHit    bool
		wantKeeps  bool
		wantSizeAt int
	}{
		{"valid", 0, time.Hour, time.Minute, true, true, 1},
		{"at exp", 0, time.Hour, time.Hour, false, false, 0},
		{"after exp", 0, time.Hour, 2 * time.Hour, false, false, 0},
		{"before nbf", time.Minute, time.Hour, 0, false, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTokenCache(16)
			key := tokenKey("token-" + tt.name)
			c.put(key, verifiedToken{claims: &Claims{UserID: "u"}, notBefore: now.Add(tt.nbf), expires: now.Add(tt.exp)}, now)
			v, ok := c.get(key, now.Add(tt.at))
			if ok != tt.wantHit || (ok && v.claims.UserID != "u") {
				t.Errorf("get at +%v: hit %v, want %v", tt.at, ok, tt.wantHit)
			}
			if n := c.len(); n != tt.wantSizeAt {
				t.Errorf("after the get the cache holds %d, want %d", n, tt.wantSizeAt)
			}
		})
	}
	// A full shard drops an expired entry before a live one.
	c := newTokenCache(tokenCacheShards) // one entry a shard
	var k1, k2 [32]byte
	k2[0] = k1[0] + tokenCacheShards // same shard
	k2[1] = 1
	c.put(k1, verifiedToken{claims: &Claims{}, expires: now.Add(time.Second)}, now)
	c.put(k2, verifiedToken{claims: &Claims{}, expires: now.Add(time.Hour)}, now.Add(2*time.Second))
	if _, ok := c.get(k2, now.Add(3*time.Second)); !ok {
		t.Error("the new entry is missing")
	}
	if n := c.len(); n != 1 {
		t.Errorf("cache holds %d, want 1", n)
	}
}

// TestBearerUsesCache: a cached token is still subject to revocation.
func TestBearerUsesCache(t *testing.T) {
	e := newEnv(t, 30*time.Second)
	p := e.mustToken(codeReq(e.appSecret, e.code()))
	e.wantWorks(p.AccessToken, "first check")
	e.wantWorks(p.AccessToken, "cached check")
	if n := e.svc.tokens.len(); n != 1 {
		t.Errorf("token cache holds %d, want 1", n)
	}
	if _, err := e.db.RevokeAuthorization(context.Background(), e.authz.ID, "test", e.clock.now()); err != nil {
		t.Fatal(err)
	}
	e.wantRefused(p.AccessToken, "after revocation (cached token)")
	e.clock.add(2 * time.Hour)
	if n := e.svc.tokens.len(); n != 1 {
		t.Fatalf("token cache holds %d", n)
	}
	e.wantRefused(p.AccessToken, "after exp")
	if n := e.svc.tokens.len(); n != 0 {
		t.Errorf("the expired token stayed in the cache")
	}
}
