package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The seeding goes through the same HTTP paths a person and a client use:
// the admin signs in, registers apps on the dashboard, approves them on
// the consent page, and exchanges the codes at the token endpoint.

const (
	callbackURL = "https://bench.example/oauth-callback"
	benchScopes = "vso.profile vso.tokenadministration"
	seedWorkers = 8
)

var (
	csrfRE      = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	newSecretRE = regexp.MustCompile(`data-testid="new-secret">([^<]+)<`)
)

// seeder is the admin's signed-in browser session.
type seeder struct {
	base string
	c    *http.Client
	csrf string
	reg  sync.Mutex // the app page reveals the secret of the session's latest registration
}

func newSeeder(ctx context.Context, base, user, password string) (*seeder, error) {
	jar, _ := cookiejar.New(nil)
	s := &seeder{base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: seedWorkers * 2},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	tok, err := s.csrfOf(ctx, "/signin")
	if err != nil {
		return nil, err
	}
	status, _, body, err := s.form(ctx, "/signin", url.Values{"_csrf": {tok}, "username": {user}, "password": {password}})
	if err != nil {
		return nil, err
	}
	if status != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in as %s: status %d: %.300s", user, status, body)
	}
	if s.csrf, err = s.csrfOf(ctx, "/admin/apps/new"); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *seeder) do(ctx context.Context, method, path, contentType string, body io.Reader, header map[string]string) (int, http.Header, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return 0, nil, "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.c.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), err
}

func (s *seeder) form(ctx context.Context, path string, v url.Values) (int, http.Header, string, error) {
	return s.do(ctx, http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()), nil)
}

func (s *seeder) csrfOf(ctx context.Context, path string) (string, error) {
	status, _, body, err := s.do(ctx, http.MethodGet, path, "", nil, nil)
	if err != nil {
		return "", err
	}
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("GET %s: status %d, no CSRF token", path, status)
	}
	return m[1], nil
}

// app is a registered app and its client secret.
type app struct{ clientID, secret string }

// register registers an app on the dashboard and reads its secret from
// the app page, where it is shown once.
func (s *seeder) register(ctx context.Context, name, scopes string) (app, error) {
	return s.registerWith(ctx, name, scopes, nil)
}

// registerWith is register with more form fields (the standard flow's
// grant types, …).
func (s *seeder) registerWith(ctx context.Context, name, scopes string, extra url.Values) (app, error) {
	v := url.Values{"_csrf": {s.csrf}, "name": {name}, "company": {"Bench, Inc."},
		"description": {"Load generator for make bench."}, "company_url": {"https://bench.example"},
		"app_url": {"https://bench.example/app"}, "callback_url": {callbackURL},
		"terms_url": {"https://bench.example/terms"}, "privacy_url": {"https://bench.example/privacy"},
		"scopes": strings.Fields(scopes)}
	for k, vs := range extra {
		v[k] = vs
	}
	s.reg.Lock()
	defer s.reg.Unlock()
	status, h, body, err := s.form(ctx, "/admin/apps", v)
	if err != nil {
		return app{}, err
	}
	loc := h.Get("Location")
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/apps/") {
		return app{}, fmt.Errorf("register %s: status %d: %.300s", name, status, body)
	}
	_, _, page, err := s.do(ctx, http.MethodGet, loc, "", nil, nil)
	if err != nil {
		return app{}, err
	}
	m := newSecretRE.FindStringSubmatch(page)
	if m == nil {
		return app{}, fmt.Errorf("app page of %s shows no secret", name)
	}
	return app{clientID: strings.TrimPrefix(loc, "/admin/apps/"), secret: html.UnescapeString(m[1])}, nil
}

// code approves a on the consent page (POST /oauth2/authorize, decision
// accept) and returns the authorization code from the callback redirect.
func (s *seeder) code(ctx context.Context, a app, scopes string) (string, error) {
	v := url.Values{"_csrf": {s.csrf}, "client_id": {a.clientID}, "response_type": {"Assertion"}, "state": {"bench"},
		"scope": {scopes}, "redirect_uri": {callbackURL}, "decision": {"accept"}}
	status, h, body, err := s.form(ctx, "/oauth2/authorize", v)
	if err != nil {
		return "", err
	}
	u, perr := url.Parse(h.Get("Location"))
	if status != http.StatusFound || perr != nil || u.Query().Get("code") == "" {
		return "", fmt.Errorf("consent: status %d, location %q: %.300s", status, h.Get("Location"), body)
	}
	return u.Query().Get("code"), nil
}

// tokens is a token response.
type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

func codeBody(secret, code string) string {
	return "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=" + url.QueryEscape(secret) +
		"&grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=" + url.QueryEscape(code) + "&redirect_uri=" + callbackURL
}

// exchange trades a code for tokens at the token endpoint.
func (s *seeder) exchange(ctx context.Context, a app, code string) (tokens, error) {
	status, _, body, err := s.do(ctx, http.MethodPost, "/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(codeBody(a.secret, code)), nil)
	if err != nil {
		return tokens{}, err
	}
	var t tokens
	if status != http.StatusOK || json.Unmarshal([]byte(body), &t) != nil || t.Access == "" {
		return tokens{}, fmt.Errorf("code exchange: status %d: %.300s", status, body)
	}
	return t, nil
}

// pair runs the whole flow for a: consent, then code exchange.
func (s *seeder) pair(ctx context.Context, a app, scopes string) (tokens, error) {
	code, err := s.code(ctx, a, scopes)
	if err != nil {
		return tokens{}, err
	}
	return s.exchange(ctx, a, code)
}

// parallel runs fn(i) for i in [0, n) on seedWorkers goroutines and
// returns the first error.
func parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	for range seedWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// claim returns a claim of a JWT (not verified: the harness only reads
// what the server put there).
func claim(jwt, name string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	v, _ := m[name].(string)
	return v
}

// seeded holds what the scenarios share, created on first use.
type seeded struct {
	s     *seeder  // consents and token requests (concurrent)
	reg   *seeder  // registrations, one at a time: the app page reveals the secret of the session's latest one
	main  *app     // the app every hot-path scenario uses
	live  []string // access tokens of distinct refresh chains, live
	dead  []string // access tokens whose authorizations were revoked
	admin string   // an access token of the admin with vso.tokenadministration
}

func (d *seeded) mainApp(ctx context.Context) (app, error) {
	if d.main == nil {
		a, err := d.reg.register(ctx, "Bench Client", benchScopes)
		if err != nil {
			return app{}, err
		}
		d.main = &a
	}
	return *d.main, nil
}

// pairs returns n fresh token pairs of the main app (n chains of the
// admin's one authorization).
func (d *seeded) pairs(ctx context.Context, n int) ([]tokens, error) {
	a, err := d.mainApp(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]tokens, n)
	err = parallel(ctx, n, func(ctx context.Context, i int) error {
		t, err := d.s.pair(ctx, a, benchScopes)
		out[i] = t
		return err
	})
	return out, err
}

// codes returns n fresh authorization codes of the main app.
func (d *seeded) codes(ctx context.Context, n int) ([]string, error) {
	a, err := d.mainApp(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	err = parallel(ctx, n, func(ctx context.Context, i int) error {
		c, err := d.s.code(ctx, a, benchScopes)
		out[i] = c
		return err
	})
	return out, err
}

// liveTokens returns n distinct live access tokens (one per chain).
func (d *seeded) liveTokens(ctx context.Context, n int) ([]string, error) {
	if len(d.live) < n {
		ps, err := d.pairs(ctx, n-len(d.live))
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			d.live = append(d.live, p.Access)
		}
	}
	return d.live[:n], nil
}

// revoke makes n authorizations — one per app, each with a working access
// token — and revokes them all through the Token Administration API, as an
// admin would. It returns their (now revoked) access tokens.
func (d *seeded) revoke(ctx context.Context, n int) ([]string, error) {
	if d.admin == "" {
		ps, err := d.pairs(ctx, 1)
		if err != nil {
			return nil, err
		}
		d.admin = ps[0].Access
	}
	dead := make([]string, n)
	ids := make([]string, n)
	err := parallel(ctx, n, func(ctx context.Context, i int) error {
		a, err := d.reg.register(ctx, fmt.Sprintf("Bench Revoked %04d", i), "vso.profile")
		if err != nil {
			return err
		}
		t, err := d.s.pair(ctx, a, "vso.profile")
		if err != nil {
			return err
		}
		dead[i], ids[i] = t.Access, claim(t.Access, "aui")
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = parallel(ctx, n, func(ctx context.Context, i int) error {
		body := `{"authorizationId":"` + ids[i] + `"}`
		status, _, resp, err := d.s.do(ctx, http.MethodPost, "/_apis/tokenadmin/revocations", "application/json",
			strings.NewReader(body), map[string]string{"Authorization": "Bearer " + d.admin})
		if err != nil {
			return err
		}
		if status != http.StatusOK || !strings.Contains(resp, `"revoked":1`) {
			return fmt.Errorf("revoke %s: status %d: %.300s", ids[i], status, resp)
		}
		return nil
	})
	d.dead = dead
	return dead, err
}

var patTokenRE = regexp.MustCompile(`data-testid="new-token">(odp_[0-9A-Za-z]+)<`)

// pats returns n personal access tokens with vso.profile, created on
// /profile/tokens (one form post each, the token read from the page that
// shows it once).
func (d *seeded) pats(ctx context.Context, n int) ([]string, error) {
	out := make([]string, n)
	err := parallel(ctx, n, func(ctx context.Context, i int) error {
		csrf, err := d.s.csrfOf(ctx, "/profile/tokens")
		if err != nil {
			return err
		}
		status, _, body, err := d.s.form(ctx, "/profile/tokens", url.Values{"_csrf": {csrf}, "name": {fmt.Sprintf("bench %d", i)},
			"expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
		if err != nil {
			return err
		}
		m := patTokenRE.FindStringSubmatch(body)
		if m == nil {
			return fmt.Errorf("POST /profile/tokens: status %d, no token shown", status)
		}
		out[i] = m[1]
		return nil
	})
	return out, err
}
