package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// The standard side, driven by unchanged third-party clients:
// golang.org/x/oauth2 and github.com/coreos/go-oidc/v3 (discovery, code +
// PKCE, ID token verification with nonce and at_hash, userinfo, refresh,
// revocation, introspection, client credentials, device flow), and what a
// client sees afterwards.

const oidcRedirect = "https://rp.example/oidc/callback"

// oidcFixture is a server with root, alice and a confidential app that
// may use every grant type.
type oidcFixture struct {
	ts       *testServer
	alice    *agent
	clientID string
	secret   string
	provider *oidc.Provider
}

func newOIDCFixture(t *testing.T, alg string) *oidcFixture {
	t.Helper()
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	ts.addUser(t, "alice", domain.RoleMember, "alice-password-1")
	res, err := ts.App.Admin.RegisterApp(context.Background(), "root", domain.Registration{
		Name: "Contoso Portal", Company: "Contoso", AppURL: "https://rp.example", CallbackURL: callbackURL,
		RedirectURIs: []string{oidcRedirect}, Scopes: []string{"vso.work", "vso.profile"},
		GrantTypes: domain.AllGrantTypes, IDTokenAlg: alg, PostLogoutRedirectURIs: []string{"https://rp.example/bye"},
	})
	if err != nil {
		t.Fatal(err)
	}
	alice := ts.newAgent(t)
	alice.signIn("alice", "alice-password-1")
	p, err := oidc.NewProvider(context.Background(), ts.URL)
	if err != nil {
		t.Fatalf("discovery rejected by go-oidc: %v", err)
	}
	return &oidcFixture{ts: ts, alice: alice, clientID: res.App.ClientID, secret: res.ClientSecret, provider: p}
}

func (f *oidcFixture) config(scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: f.clientID, ClientSecret: f.secret, Endpoint: f.provider.Endpoint(),
		RedirectURL: oidcRedirect, Scopes: scopes}
}

// login runs the browser part of the code flow as alice: the consent page
// when one is shown (accepted), and returns the redirect's query.
func (f *oidcFixture) login(t *testing.T, authURL string) url.Values {
	t.Helper()
	r := f.alice.get(authURL)
	if r.Status == http.StatusOK {
		form := consentForm(t, r.Body)
		form.Set("decision", "accept")
		r = f.alice.postForm("/oauth2/authorize", form)
	}
	if r.Status != http.StatusFound {
		t.Fatalf("authorization: status %d, body %.400s", r.Status, r.Body)
	}
	u, err := url.Parse(r.Location())
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != oidcRedirect {
		t.Fatalf("redirected to %s, want %s", got, oidcRedirect)
	}
	return u.Query()
}

// post sends a form to a standard endpoint with HTTP Basic client
// authentication.
func (f *oidcFixture) post(t *testing.T, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(f.clientID), url.QueryEscape(f.secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func (f *oidcFixture) introspect(t *testing.T, token string) map[string]any {
	t.Helper()
	st, body := f.post(t, "/oauth2/introspect", url.Values{"token": {token}})
	if st != http.StatusOK {
		t.Fatalf("introspect: status %d %v", st, body)
	}
	return body
}

func (f *oidcFixture) userinfoStatus(t *testing.T, access string) int {
	t.Helper()
	_, err := f.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access}))
	if err == nil {
		return http.StatusOK
	}
	if strings.Contains(err.Error(), "401") {
		return http.StatusUnauthorized
	}
	t.Fatalf("userinfo: %v", err)
	return 0
}

func TestOIDCCodeFlowWithGoOIDC(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t, "")
	ctx := context.Background()
	cfg := f.config(oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess, "vso.work")
	verifier := f.provider.Verifier(&oidc.Config{ClientID: f.clientID})

	verifierPKCE := oauth2.GenerateVerifier()
	q := f.login(t, cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifierPKCE), oidc.Nonce("n-0S6_WzA2Mj")))
	if q.Get("state") != "st-1" || q.Get("iss") != f.ts.URL || q.Get("code") == "" {
		t.Fatalf("authorization response %v: want code, state and iss=%s (RFC 9207)", q, f.ts.URL)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifierPKCE))
	if err != nil {
		t.Fatalf("x/oauth2 code exchange: %v", err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Errorf("token response: type %q, refresh %q, expiry %v", tok.TokenType, tok.RefreshToken, tok.Expiry)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc rejected the ID token: %v", err)
	}
	if idt.Nonce != "n-0S6_WzA2Mj" {
		t.Errorf("nonce %q", idt.Nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		Email, Name, PreferredUsername, AZP string
		AuthTime                            int64 `json:"auth_time"`
	}
	var raw map[string]any
	_ = idt.Claims(&raw)
	_ = idt.Claims(&claims)
	if raw["email"] != "alice@example.com" || raw["preferred_username"] != "alice" || raw["azp"] != f.clientID || raw["auth_time"] == nil {
		t.Errorf("ID token claims %v", raw)
	}
	if hdr := jwtHeader(t, tok.AccessToken); hdr["typ"] != "at+jwt" {
		t.Errorf("access token header %v, want typ at+jwt (RFC 9068)", hdr)
	}

	ui, err := f.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != idt.Subject || ui.Email != "alice@example.com" {
		t.Fatalf("userinfo: %+v, %v", ui, err)
	}
	if st, _, _ := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", tok.AccessToken); st != http.StatusOK {
		t.Errorf("/_apis with the standard access token: %d", st)
	}
	if in := f.introspect(t, tok.AccessToken); in["active"] != true || in["client_id"] != f.clientID || in["sub"] != idt.Subject {
		t.Errorf("introspection of the access token: %v", in)
	}
	if in := f.introspect(t, tok.RefreshToken); in["active"] != true || in["token_type"] != "refresh_token" {
		t.Errorf("introspection of the refresh token: %v", in)
	}

	// Refresh (RFC 6749 §6) by x/oauth2; then one narrowed to openid
	// (x/oauth2 sends no scope on refresh, so by hand).
	rtok1, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if _, err := verifier.Verify(ctx, rtok1.Extra("id_token").(string)); err != nil {
		t.Errorf("refreshed ID token: %v", err)
	}
	st, body := f.post(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rtok1.RefreshToken}, "scope": {"openid"}})
	if st != http.StatusOK || body["scope"] != "openid" {
		t.Fatalf("narrowed refresh: %d %v", st, body)
	}
	rtok := &oauth2.Token{AccessToken: body["access_token"].(string), RefreshToken: body["refresh_token"].(string)}
	if st, _, _ := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", rtok.AccessToken); st != http.StatusForbidden {
		t.Errorf("/_apis with a token narrowed to openid: %d, want 403", st)
	}
	if st, body := f.post(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rtok.RefreshToken}, "scope": {"openid vso.code"}}); st != http.StatusBadRequest || body["error"] != "invalid_scope" {
		t.Errorf("widening refresh: %d %v, want invalid_scope", st, body)
	}

	// Revocation (RFC 7009) of the refresh token ends its chain: every
	// access token of it is refused at userinfo, introspection and /_apis.
	if st, body := f.post(t, "/oauth2/revoke", url.Values{"token": {rtok.RefreshToken}, "token_type_hint": {"refresh_token"}}); st != http.StatusOK {
		t.Fatalf("revoke: %d %v", st, body)
	}
	for _, at := range []string{tok.AccessToken, rtok1.AccessToken, rtok.AccessToken} {
		if st := f.userinfoStatus(t, at); st != http.StatusUnauthorized {
			t.Errorf("userinfo after revocation: %d, want 401", st)
		}
		if in := f.introspect(t, at); in["active"] != false || len(in) != 1 {
			t.Errorf("introspection after revocation: %v, want only active=false", in)
		}
	}
	if st, _, _ := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", tok.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("/_apis after revocation: %d, want 401", st)
	}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rtok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("refresh with a revoked token: %v, want invalid_grant", err)
	}

	// The consent is remembered: the next login issues a code at once,
	// and a code presented twice revokes what it gave (RFC 6749 §4.1.2).
	v2 := oauth2.GenerateVerifier()
	q = f.login(t, cfg.AuthCodeURL("st-2", oauth2.S256ChallengeOption(v2), oidc.Nonce("n2")))
	tok2, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v2)); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("code replay: %v, want invalid_grant", err)
	}
	if st := f.userinfoStatus(t, tok2.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("userinfo with a token of a replayed code: %d, want 401", st)
	}
	// PKCE: a wrong verifier gets nothing.
	v3 := oauth2.GenerateVerifier()
	q = f.login(t, cfg.AuthCodeURL("st-3", oauth2.S256ChallengeOption(v3), oidc.Nonce("n3")))
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("wrong code_verifier: %v, want invalid_grant", err)
	}
	// A standard code is no good at the dialect's token request (and is not
	// spent by it): each flow exchanges only its own codes.
	wantTokenError(t, postToken(t, f.ts.URL, formType, codeBody(f.secret, q.Get("code"), callbackURL)), http.StatusBadRequest,
		"invalid_grant", "The provided authorization grant failed verification")
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v3)); err != nil {
		t.Errorf("the code after the refused attempts: %v", err)
	}
	if m := f.ts.newAgent(t).get("/metrics"); !strings.Contains(m.Body, `oauthdesk_tokens_issued_total{flow="oidc",grant_type="authorization_code"} 3`) ||
		!strings.Contains(m.Body, `oauthdesk_tokens_issued_total{flow="oidc",grant_type="refresh_token"} 2`) {
		t.Errorf("metrics: want 3 code and 2 refresh token responses of the standard flow\n%.2000s", m.Body)
	}
}

func TestOIDCOtherGrantsWithGoClients(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t, domain.AlgES256)
	ctx := context.Background()

	t.Run("client credentials", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: f.clientID, ClientSecret: f.secret, TokenURL: f.provider.Endpoint().TokenURL, Scopes: []string{"vso.work"}}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("client credentials: %v", err)
		}
		in := f.introspect(t, tok.AccessToken)
		if in["active"] != true || in["sub"] != f.clientID || in["scope"] != "vso.work" {
			t.Errorf("introspection of a client credentials token: %v", in)
		}
		if st := f.userinfoStatus(t, tok.AccessToken); st != http.StatusUnauthorized {
			t.Errorf("userinfo with an app's own token: %d, want 401", st)
		}
		if st, _, body := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", tok.AccessToken); st >= 500 {
			t.Errorf("/_apis with an app's own token: %d %v", st, body)
		}
		if st, _ := f.post(t, "/oauth2/revoke", url.Values{"token": {tok.AccessToken}}); st != http.StatusOK {
			t.Fatalf("revoke: %d", st)
		}
		if in := f.introspect(t, tok.AccessToken); in["active"] != false {
			t.Errorf("introspection after revocation: %v", in)
		}
		// A query component on the token endpoint's URL (RFC 6749 §3.2) and an
		// unknown body parameter (§3.1, client telemetry) are ignored.
		cq := cc
		cq.TokenURL += "?tenant=contoso"
		cq.EndpointParams = url.Values{"x-client-sku": {"telemetry"}}
		if _, err := cq.Token(ctx); err != nil {
			t.Errorf("token endpoint with a query component and an unknown parameter: %v", err)
		}
		cc.Scopes = []string{"vso.code_write"}
		var re *oauth2.RetrieveError
		if _, err := cc.Token(ctx); !errors.As(err, &re) || re.ErrorCode != "invalid_scope" {
			t.Errorf("unregistered scope: %v, want invalid_scope", err)
		}
		cc.ClientSecret, cc.Scopes = "odcs_wrong", nil
		if _, err := cc.Token(ctx); !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong secret: %v, want invalid_client 401", err)
		}
	})

	t.Run("device flow", func(t *testing.T) {
		cfg := f.config(oidc.ScopeOpenID, "email", "vso.work")
		da, err := cfg.DeviceAuth(ctx)
		if err != nil {
			t.Fatalf("device authorization: %v", err)
		}
		if da.Interval != 5 || da.VerificationURI != f.ts.URL+"/device" || da.Expiry.IsZero() {
			t.Errorf("device authorization response %+v", da)
		}
		// Before the user answers: authorization_pending.
		st, body := f.post(t, "/oauth2/token", url.Values{"grant_type": {domain.GrantDeviceCode}, "device_code": {da.DeviceCode}})
		if st != http.StatusBadRequest || body["error"] != "authorization_pending" {
			t.Errorf("early poll: %d %v", st, body)
		}
		// Alice types the code at /device and approves.
		page := f.alice.get("/device?user_code=" + url.QueryEscape(da.UserCode))
		if page.Status != http.StatusOK || !strings.Contains(page.Body, da.UserCode) {
			t.Fatalf("/device: %d", page.Status)
		}
		r := f.alice.postForm("/device", url.Values{"_csrf": {f.alice.csrf("/device")}, "user_code": {strings.ToLower(da.UserCode)}})
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Contoso Portal") {
			t.Fatalf("device consent page: %d %.300s", r.Status, r.Body)
		}
		form := consentForm(t, r.Body)
		form.Set("decision", "accept")
		r = f.alice.postForm("/device/decide", form)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "is connected") {
			t.Fatalf("device decision: %d %.300s", r.Status, r.Body)
		}
		tok, err := cfg.DeviceAccessToken(ctx, da)
		if err != nil {
			t.Fatalf("device token: %v", err)
		}
		idt, err := f.provider.Verifier(&oidc.Config{ClientID: f.clientID}).Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("ES256 ID token: %v", err)
		}
		if hdr := jwtHeader(t, tok.Extra("id_token").(string)); hdr["alg"] != "ES256" {
			t.Errorf("ID token alg %v, want the registration's ES256", hdr["alg"])
		}
		ui, err := f.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil || ui.Subject != idt.Subject {
			t.Errorf("userinfo: %v %v", ui, err)
		}
		// The device code is spent.
		if st, body := f.post(t, "/oauth2/token", url.Values{"grant_type": {domain.GrantDeviceCode}, "device_code": {da.DeviceCode}}); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("second poll after success: %d %v", st, body)
		}
	})

	t.Run("authorization errors go to the redirect URI", func(t *testing.T) {
		cfg := f.config(oidc.ScopeOpenID)
		// prompt=none without a session.
		stranger := f.ts.newAgent(t)
		r := stranger.get(cfg.AuthCodeURL("s-none", oauth2.SetAuthURLParam("prompt", "none"), oidc.Nonce("x")))
		u, _ := url.Parse(r.Location())
		if r.Status != http.StatusFound || u.Query().Get("error") != "login_required" || u.Query().Get("iss") != f.ts.URL || u.Query().Get("state") != "s-none" {
			t.Errorf("prompt=none signed out: %d %s", r.Status, r.Location())
		}
		// An unsupported response_type, and unknown parameters ignored.
		r = f.alice.get(strings.Replace(cfg.AuthCodeURL("s-rt", oidc.Nonce("x"), oauth2.SetAuthURLParam("x-telemetry", "1")), "response_type=code", "response_type=token", 1))
		if u, _ = url.Parse(r.Location()); u.Query().Get("error") != "unsupported_response_type" {
			t.Errorf("response_type=token: %d %s", r.Status, r.Location())
		}
		// A repeated parameter is refused on the page, never redirected.
		r = f.alice.get(cfg.AuthCodeURL("s-dup", oidc.Nonce("x")) + "&scope=openid")
		if r.Status != http.StatusBadRequest {
			t.Errorf("repeated scope: %d, want the 400 page", r.Status)
		}
		// form_post: the answer is a page that posts to the redirect URI.
		r = f.alice.get(cfg.AuthCodeURL("s-fp", oidc.Nonce("x"), oauth2.SetAuthURLParam("response_mode", "form_post"),
			oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if strings.Contains(r.Body, `data-testid="consent"`) {
			form := consentForm(t, r.Body)
			form.Set("decision", "accept")
			r = f.alice.postForm("/oauth2/authorize", form)
		}
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `action="`+oidcRedirect+`"`) || !strings.Contains(r.Body, `name="code"`) {
			t.Errorf("form_post: %d %.400s", r.Status, r.Body)
		}
	})

	t.Run("end session", func(t *testing.T) {
		end := f.ts.newAgent(t)
		end.signIn("alice", "alice-password-1")
		r := end.get("/oauth2/logout?client_id=" + f.clientID + "&post_logout_redirect_uri=" + url.QueryEscape("https://rp.example/bye") + "&state=z")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "end-session-confirm") {
			t.Fatalf("logout without id_token_hint: %d, want the confirmation page", r.Status)
		}
		form := url.Values{"_csrf": {csrfRE.FindStringSubmatch(r.Body)[1]}, "client_id": {f.clientID},
			"post_logout_redirect_uri": {"https://rp.example/bye"}, "state": {"z"}}
		r = end.postForm("/oauth2/logout", form)
		if r.Status != http.StatusFound || r.Location() != "https://rp.example/bye?state=z" {
			t.Errorf("logout: %d %s", r.Status, r.Location())
		}
		if r := end.get("/profile/authorizations"); r.Status == http.StatusOK {
			t.Error("still signed in after end_session")
		}
		r = f.ts.newAgent(t).get("/oauth2/logout?client_id=" + f.clientID + "&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/"))
		if r.Status != http.StatusBadRequest {
			t.Errorf("unregistered post_logout_redirect_uri: %d, want 400", r.Status)
		}
	})
}

// TestOIDCPublicClient: a public client (no secret) must use PKCE and
// authenticates with its client_id alone.
func TestOIDCPublicClient(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	ts.addUser(t, "alice", domain.RoleMember, "alice-password-1")
	res, err := ts.App.Admin.RegisterApp(context.Background(), "root", domain.Registration{
		Name: "Contoso CLI", Company: "Contoso", AppURL: "https://rp.example", CallbackURL: "http://127.0.0.1/cb",
		Scopes: []string{"vso.work"}, ClientType: domain.ClientPublic,
		GrantTypes: []string{domain.GrantAuthorizationCode, domain.GrantRefreshToken},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ClientSecret != "" || len(res.App.Secrets) != 0 {
		t.Fatal("a public client got a secret")
	}
	p, err := oidc.NewProvider(context.Background(), ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	alice := ts.newAgent(t)
	alice.signIn("alice", "alice-password-1")
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	cfg := &oauth2.Config{ClientID: res.App.ClientID, Endpoint: ep, RedirectURL: "http://127.0.0.1:49152/cb", Scopes: []string{"openid", "offline_access", "vso.work"}}
	// Without PKCE: refused at the (loopback, any port) redirect URI.
	r := alice.get(cfg.AuthCodeURL("s"))
	if u, _ := url.Parse(r.Location()); r.Status != http.StatusFound || u.Query().Get("error") != "invalid_request" || u.Port() != "49152" {
		t.Fatalf("public client without PKCE: %d %s", r.Status, r.Location())
	}
	v := oauth2.GenerateVerifier()
	r = alice.get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	form := consentForm(t, r.Body)
	form.Set("decision", "accept")
	r = alice.postForm("/oauth2/authorize", form)
	u, _ := url.Parse(r.Location())
	tok, err := cfg.Exchange(context.Background(), u.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("public exchange: %v", err)
	}
	if st, _, _ := callAPI(t, ts.URL, "/_apis/profile/profiles/me", tok.AccessToken); st != http.StatusOK {
		t.Errorf("/_apis with a public client's token: %d", st)
	}
	if _, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Errorf("public refresh: %v", err)
	}
	// A browser app on another origin: the preflight and the answer allow
	// it; a request without Origin (any server-side client) gets no CORS header.
	pre, _ := http.NewRequest(http.MethodOptions, ts.URL+"/oauth2/token", nil)
	pre.Header.Set("Origin", "https://spa.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("CORS preflight of the token endpoint: %d %v", resp.StatusCode, resp.Header)
	}
	for origin, want := range map[string]string{"https://spa.example": "*", "": ""} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/oauth2/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != http.StatusOK || got != want {
			t.Errorf("userinfo with Origin %q: %d, Access-Control-Allow-Origin %q, want %q", origin, resp.StatusCode, got, want)
		}
	}
}

func jwtHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	part, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// One app, both flows, one consent: a user who approved it in the Azure
// DevOps flow is not asked again in the standard flow, and revoking the
// authorization on the profile page ends the tokens of both.
func TestOIDCOneConsentAcrossFlows(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t, "")
	ctx := context.Background()
	dialect := registeredApp{ClientID: f.clientID, Secret: f.secret}
	code := approve(t, f.alice, dialect, "vso.work", "d1")
	dtok := postToken(t, f.ts.URL, formType, codeBody(f.secret, code, callbackURL))
	wantTokens(t, dtok)

	cfg := f.config("vso.work")
	v := oauth2.GenerateVerifier()
	r := f.alice.get(cfg.AuthCodeURL("s1", oauth2.S256ChallengeOption(v)))
	if r.Status != http.StatusFound {
		t.Fatalf("standard request for scopes approved in the dialect: status %d, want a redirect without the consent page", r.Status)
	}
	u, _ := url.Parse(r.Location())
	stok, err := cfg.Exchange(ctx, u.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"dialect": dtok.str("access_token"), "standard": stok.AccessToken} {
		if st, _, _ := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", tok); st != http.StatusOK {
			t.Fatalf("%s token before revocation: %d", name, st)
		}
	}
	// Alice revokes the app on her profile page.
	page := f.alice.get("/profile/authorizations")
	m := regexp.MustCompile(`/profile/authorizations/([0-9a-f-]{36})/revoke`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no revoke link on the profile page")
	}
	confirm := "/profile/authorizations/" + m[1] + "/revoke"
	if r := f.alice.postForm(confirm, url.Values{"_csrf": {f.alice.csrf(confirm)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Status)
	}
	for name, tok := range map[string]string{"dialect": dtok.str("access_token"), "standard": stok.AccessToken} {
		if st, _, _ := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", tok); st != http.StatusUnauthorized {
			t.Errorf("%s token after the authorization was revoked: %d, want 401", name, st)
		}
		if in := f.introspect(t, tok); in["active"] != false {
			t.Errorf("%s token introspected after revocation: %v", name, in)
		}
	}
	var re *oauth2.RetrieveError
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: stok.RefreshToken}).Token(); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("standard refresh after revocation: %v, want invalid_grant", err)
	}
}

// An app that registered EdDSA gets Ed25519 ID tokens whose at_hash is
// SHA-512's (as go-oidc computes it), verified with the published key.
func TestOIDCEdDSAIDToken(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t, domain.AlgEdDSA)
	ctx := context.Background()
	cfg := f.config(oidc.ScopeOpenID, "vso.work")
	v := oauth2.GenerateVerifier()
	q := f.login(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oidc.Nonce("n-ed")))
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := f.provider.Verifier(&oidc.Config{ClientID: f.clientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc rejected the EdDSA ID token: %v", err)
	}
	if h := jwtHeader(t, raw); h["alg"] != "EdDSA" || idt.Nonce != "n-ed" {
		t.Errorf("header %v, nonce %q", h, idt.Nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash of an EdDSA ID token: %v", err)
	}
}
