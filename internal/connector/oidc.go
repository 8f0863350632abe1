package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// upstreamTimeout bounds every call to an upstream (discovery, token
// exchange, userinfo, LDAP operations).
const upstreamTimeout = 10 * time.Second

// oidcConn is an upstream OpenID Connect provider: authorization code
// flow (OIDC Core §3.1) with PKCE S256 (RFC 7636) and a nonce; the ID
// token is verified by go-oidc (signature against the provider's JWKS,
// iss, aud, exp); claims missing from it are read from the userinfo
// endpoint (OIDC Core §5.3).
type oidcConn struct {
	cfg    Config
	secret string
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

func newOIDC(cfg Config, secret string) *oidcConn {
	return &oidcConn{cfg: cfg, secret: secret, client: &http.Client{Timeout: upstreamTimeout}}
}

// prov runs discovery once (again after a failure). Errors: Unavailable.
func (c *oidcConn) prov(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.client), c.cfg.Issuer)
	if err != nil {
		return nil, unavailable("The sign-in service at %s could not be reached or did not answer discovery (%s). Try again later.", c.cfg.Issuer, oneLine(err))
	}
	c.provider = p
	return p, nil
}

func (c *oidcConn) oauth2(p *oidc.Provider, redirectURI string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.secret, Endpoint: p.Endpoint(),
		RedirectURL: redirectURI, Scopes: c.cfg.Scopes}
}

// Test runs discovery against the issuer.
func (c *oidcConn) Test(ctx context.Context) error {
	c.mu.Lock()
	c.provider = nil
	c.mu.Unlock()
	_, err := c.prov(ctx)
	return err
}

// LoginURL returns the authorization request URL.
func (c *oidcConn) LoginURL(ctx context.Context, redirectURI string, st State) (string, error) {
	p, err := c.prov(ctx)
	if err != nil {
		return "", err
	}
	return c.oauth2(p, redirectURI).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), nil
}

// Callback checks state, exchanges the code (with the PKCE verifier),
// verifies the ID token and its nonce, and maps the claims.
func (c *oidcConn) Callback(ctx context.Context, redirectURI string, st State, q url.Values) (Identity, error) {
	if e := q.Get("error"); e != "" {
		return Identity{}, apperr.Errorf(apperr.Unauthorized, "The sign-in service refused the sign-in: %s %s", oneLine(fmt.Errorf("%s", e)), oneLine(fmt.Errorf("%s", q.Get("error_description"))))
	}
	if st.State == "" || q.Get("state") != st.State {
		return Identity{}, apperr.Errorf(apperr.Unauthorized, "This sign-in link expired or was started in another browser. Start again from the sign-in page.")
	}
	code := q.Get("code")
	if code == "" {
		return Identity{}, apperr.Errorf(apperr.Unauthorized, "The sign-in service sent no authorization code. Start again from the sign-in page.")
	}
	p, err := c.prov(ctx)
	if err != nil {
		return Identity{}, err
	}
	cctx := oidc.ClientContext(ctx, c.client)
	tok, err := c.oauth2(p, redirectURI).Exchange(cctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Identity{}, apperr.Errorf(apperr.Unauthorized, "The sign-in service refused the authorization code (%s). Start again from the sign-in page.", oneLine(fmt.Errorf("%s", re.ErrorCode)))
		}
		return Identity{}, unavailable("The sign-in service at %s could not be reached (%s). Try again later.", c.cfg.Issuer, oneLine(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, apperr.Errorf(apperr.Unauthorized, "The sign-in service returned no ID token.")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID}).Verify(cctx, raw)
	if err != nil {
		return Identity{}, apperr.Errorf(apperr.Unauthorized, "The ID token from the sign-in service is not valid (%s).", oneLine(err))
	}
	if idt.Nonce == "" || idt.Nonce != st.Nonce {
		return Identity{}, apperr.Errorf(apperr.Unauthorized, "The ID token from the sign-in service does not carry this sign-in's nonce.")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, apperr.Errorf(apperr.Unauthorized, "The ID token's claims do not parse.")
	}
	wanted := []string{c.cfg.UsernameClaim, c.cfg.NameClaim, c.cfg.EmailClaim, c.cfg.GroupsClaim}
	missing := false
	for _, k := range wanted {
		if _, ok := claims[k]; !ok {
			missing = true
		}
	}
	if missing && p.UserInfoEndpoint() != "" {
		ui, err := p.UserInfo(cctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return Identity{}, unavailable("The sign-in service's userinfo endpoint failed (%s). Try again later.", oneLine(err))
		}
		extra := map[string]any{}
		// OIDC Core §5.3.2: the userinfo sub must equal the ID token's.
		if err := ui.Claims(&extra); err == nil && ui.Subject == idt.Subject {
			for k, v := range extra {
				if _, ok := claims[k]; !ok {
					claims[k] = v
				}
			}
		}
	}
	return c.identity(idt.Subject, claims), nil
}

// identity maps claims to an Identity; the e-mail only when
// email_verified is true (OIDC Core §5.1).
func (c *oidcConn) identity(sub string, claims map[string]any) Identity {
	str := func(k string) string { s, _ := claims[k].(string); return s }
	id := Identity{Subject: sub, Username: str(c.cfg.UsernameClaim), Name: str(c.cfg.NameClaim)}
	if v, _ := claims["email_verified"].(bool); v {
		id.Email = str(c.cfg.EmailClaim)
	}
	switch g := claims[c.cfg.GroupsClaim].(type) {
	case []any:
		for _, v := range g {
			if s, ok := v.(string); ok {
				id.Groups = append(id.Groups, s)
			}
		}
	case string:
		id.Groups = strings.Fields(g)
	}
	return id
}

// oneLine returns err's text on one line, at most 200 bytes.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
