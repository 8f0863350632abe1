package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// The standard (OpenID Connect / OAuth 2.1) rows.
const (
	scStdCode     = "standard code exchange (PKCE, client_secret_post), a fresh code per request"
	scStdCodeOIDC = "standard code exchange with openid (RS256 ID token)"
	scCC          = "client credentials"
	scIntrospect  = "introspection of 1,000 live access tokens"
)

// benchVerifier is the PKCE code_verifier of every bench code (RFC 7636
// §4.1: 43 characters).
const benchVerifier = "bench-code-verifier-0123456789-abcdefghijklmnop"

func benchChallenge() string {
	sum := sha256.Sum256([]byte(benchVerifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func oidcScenarios() []scenario {
	return []scenario{
		{name: scStdCode, prepare: func(ctx context.Context, b *bench, done map[string]row) (load, error) {
			return stdCodeLoad(ctx, b, done, benchScopes)
		}},
		{name: scStdCodeOIDC, prepare: func(ctx context.Context, b *bench, done map[string]row) (load, error) {
			return stdCodeLoad(ctx, b, done, "openid "+benchScopes)
		}},
		{name: scCC, prepare: ccLoad},
		{name: scIntrospect, prepare: introspectLoad},
	}
}

// stdCode approves a standard authorization request (response_type=code
// with PKCE) on the consent page and returns the code.
func (s *seeder) stdCode(ctx context.Context, a app, scopes string) (string, error) {
	v := url.Values{"_csrf": {s.csrf}, "client_id": {a.clientID}, "response_type": {"code"}, "state": {"bench"},
		"scope": {scopes}, "redirect_uri": {callbackURL}, "code_challenge": {benchChallenge()},
		"code_challenge_method": {"S256"}, "nonce": {"bench"}, "decision": {"accept"}}
	status, h, body, err := s.form(ctx, "/oauth2/authorize", v)
	if err != nil {
		return "", err
	}
	u, perr := url.Parse(h.Get("Location"))
	if status != http.StatusFound || perr != nil || u.Query().Get("code") == "" {
		return "", fmt.Errorf("standard consent: status %d, location %q: %.300s", status, h.Get("Location"), body)
	}
	return u.Query().Get("code"), nil
}

// stdCodeLoad: one fresh standard authorization code per request, as many
// as codeLoad issues.
func stdCodeLoad(ctx context.Context, b *bench, done map[string]row, scopes string) (load, error) {
	if err := b.startServer(ctx); err != nil {
		return load{}, err
	}
	a, err := b.seed.mainApp(ctx)
	if err != nil {
		return load{}, err
	}
	n := int(done[scRefresh].RPS*b.o.duration.Seconds()*1.5) + 1000
	n = min(max(n, 2000), 100000)
	codes := make([]string, n)
	err = parallel(ctx, n, func(ctx context.Context, i int) error {
		c, err := b.seed.s.stdCode(ctx, a, scopes)
		codes[i] = c
		return err
	})
	if err != nil {
		return load{}, err
	}
	return b.serverLoad(load{mode: "once", values: codes, expect: http.StatusOK, method: http.MethodPost, path: "/oauth2/token",
		header: formType, prefix: "grant_type=authorization_code&client_id=" + url.QueryEscape(a.clientID) + "&client_secret=" +
			url.QueryEscape(a.secret) + "&redirect_uri=" + url.QueryEscape(callbackURL) + "&code_verifier=" + benchVerifier + "&code="}), nil
}

// ccLoad: the client credentials grant, the same request every time, by
// an app registered for it.
func ccLoad(ctx context.Context, b *bench, _ map[string]row) (load, error) {
	if err := b.startServer(ctx); err != nil {
		return load{}, err
	}
	a, err := b.seed.reg.registerWith(ctx, "Bench Service", benchScopes, url.Values{"client_fields": {"1"},
		"client_type": {"confidential"}, "id_token_alg": {"RS256"}, "grant_types": {"client_credentials"}})
	if err != nil {
		return load{}, err
	}
	// The same body every time; one copy per connection, so every wrk
	// thread has its share of the file.
	return b.serverLoad(load{mode: "cycle", values: slices.Repeat([]string{"vso.profile"}, b.o.connections), expect: http.StatusOK, method: http.MethodPost,
		path: "/oauth2/token", header: formType, prefix: "grant_type=client_credentials&client_id=" + url.QueryEscape(a.clientID) +
			"&client_secret=" + url.QueryEscape(a.secret) + "&scope="}), nil
}

// introspectLoad: a resource server introspecting 1,000 distinct live
// access tokens in turn (RFC 7662).
func introspectLoad(ctx context.Context, b *bench, _ map[string]row) (load, error) {
	if err := b.startServer(ctx); err != nil {
		return load{}, err
	}
	a, err := b.seed.mainApp(ctx)
	if err != nil {
		return load{}, err
	}
	live, err := b.seed.liveTokens(ctx, 1000)
	if err != nil {
		return load{}, err
	}
	return b.serverLoad(load{mode: "cycle", values: live, expect: http.StatusOK, method: http.MethodPost, path: "/oauth2/introspect",
		header: formType, prefix: "client_id=" + url.QueryEscape(a.clientID) + "&client_secret=" + url.QueryEscape(a.secret) + "&token="}), nil
}
