package oauth

import (
	"context"
	"strings"
	"sync"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// Introspection is an RFC 7662 §2.2 answer. Inactive answers carry
// nothing but active=false, whatever the reason (revoked, expired,
// unknown, another kind of string).
type Introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"` // "Bearer", "refresh_token", or what a plugged-in kind says
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Nbf       int64  `json:"nbf,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Aud       string `json:"aud,omitempty"`
	Iss       string `json:"iss,omitempty"`
	Jti       string `json:"jti,omitempty"`
}

// TokenIntrospector answers for one more kind of token (personal access
// tokens, when they exist): ok=false when token is not of its kind, so
// the next one is asked. It must answer Active=false for a revoked or
// expired token of its kind.
type TokenIntrospector interface {
	IntrospectToken(ctx context.Context, token string) (in Introspection, ok bool, err error)
}

// introspectors are the plugged-in kinds (see AddIntrospector).
type introspectors struct {
	mu   sync.RWMutex
	list []TokenIntrospector
}

// AddIntrospector plugs in another kind of token for the introspection
// endpoint; it is asked after access and refresh tokens, in the order
// added. Call it while wiring, before serving.
func (s *Service) AddIntrospector(i TokenIntrospector) {
	s.more.mu.Lock()
	defer s.more.mu.Unlock()
	s.more.list = append(s.more.list, i)
}

var inactive = Introspection{Active: false}

// Introspect is the introspection endpoint (RFC 7662): a resource server,
// authenticated as a confidential registered client, asks about a token.
// Access tokens (either dialect's) are checked like a Bearer request (the
// signature, expiry and revocation guard, the organization's policy and
// a narrowed app's ceiling); refresh tokens by their stored state (unused,
// unrevoked, unexpired, authorization active); then the plugged-in kinds.
// Errors: invalid_client (*Error); storage.
func (s *Service) Introspect(ctx context.Context, cc ClientCredentials, token string) (Introspection, error) {
	now := s.now()
	app, _, err := s.AuthenticateClient(ctx, cc, now)
	if err != nil {
		return Introspection{}, err
	}
	if app.Public() {
		return Introspection{}, ErrStdClientFailed
	}
	if token == "" {
		return inactive, nil
	}
	if strings.Count(token, ".") == 2 {
		return s.introspectAccess(ctx, token), nil
	}
	if strings.HasPrefix(token, secret.PrefixRefreshToken) {
		return s.introspectRefresh(ctx, token)
	}
	s.more.mu.RLock()
	list := s.more.list
	s.more.mu.RUnlock()
	for _, i := range list {
		in, ok, err := i.IntrospectToken(ctx, token)
		if err != nil {
			return Introspection{}, err
		}
		if ok {
			return in, nil
		}
	}
	return inactive, nil
}

func (s *Service) introspectAccess(ctx context.Context, token string) Introspection {
	now := s.now()
	vt, err := s.verify(token, now)
	if err != nil || now.Before(vt.notBefore) || !now.Before(vt.expires) {
		return inactive
	}
	c := vt.claims
	v, err := s.guard.Check(ctx, c)
	if err != nil || v.Revoked || v.PolicyOff {
		return inactive
	}
	scopes := vt.scopes
	if v.Ceiling != nil {
		var kept []string
		for _, sc := range scopes {
			if isOIDCScope(sc) || s.scopes.Satisfies(v.Ceiling, sc) {
				kept = append(kept, sc)
			}
		}
		scopes = kept
	}
	sub := c.UserID
	if sub == "" {
		sub = c.ClientID
	}
	in := Introspection{Active: true, Scope: strings.Join(scopes, " "), ClientID: c.ClientID, TokenType: "Bearer",
		Exp: vt.expires.Unix(), Sub: sub, Iss: c.Issuer, Aud: s.cfg.Issuer, Jti: c.ID}
	if c.IssuedAt != nil {
		in.Iat = c.IssuedAt.Unix()
	}
	if c.NotBefore != nil {
		in.Nbf = c.NotBefore.Unix()
	}
	return in
}

func (s *Service) introspectRefresh(ctx context.Context, token string) (Introspection, error) {
	h := secret.Hash(token)
	rt, authz, err := s.refresh.RefreshTokenWithAuthorization(ctx, h)
	if apperr.Is(err, apperr.NotFound) {
		return inactive, nil
	}
	if err != nil {
		return Introspection{}, err
	}
	now := s.now()
	if !secret.Equal(rt.Hash, h) || rt.UsedAt != nil || rt.RevokedAt != nil || !now.Before(rt.ExpiresAt) || !authz.Active() {
		return inactive, nil
	}
	app, err := s.grants.ClientByID(ctx, rt.ClientID)
	if err != nil || app.DeletedAt != nil || (rt.SecretID != "" && !hasSecret(app, rt.SecretID)) {
		return inactive, nil
	}
	return Introspection{Active: true, Scope: strings.Join(grantedScopes(s.scopes, rt.Scopes, authz, app), " "), ClientID: rt.ClientID,
		TokenType: "refresh_token", Exp: rt.ExpiresAt.Unix(), Iat: rt.CreatedAt.Unix(), Sub: rt.UserID, Iss: s.cfg.Issuer}, nil
}
