package oauth

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/pat"
)

// Principal is the caller behind a verified access token.
type Principal struct {
	UserID          string
	AuthorizationID string
	// ClientGrantID is the app's own grant (client_credentials) a client
	// credentials token belongs to (its family); "" for other tokens.
	ClientGrantID string
	ClientID      string
	SecretID      string
	Scopes        []string
	// Ceiling, when non-nil, is the app's narrowed registration: a scope
	// counts only if both Scopes and Ceiling satisfy it.
	Ceiling   []string
	ExpiresAt time.Time
	// PATID is set when the caller used a personal access token (no
	// authorization, client or secret then); FullAccess when that token
	// carries app_token and so satisfies every scope.
	PATID      string
	FullAccess bool
	IssuedAt   time.Time // personal access tokens: when it was created
}

// Authenticate checks an Authorization header value ("Bearer <token>",
// RFC 6750 §2.1; or a personal access token as Bearer or as Basic
// base64(":"+token), see authenticatePAT) and returns the caller. It verifies the JWT in memory —
// once per token: a verified token is remembered, keyed by its SHA-256,
// until its exp — and asks the Guard whether the authorization, refresh
// chain, secret, app or user behind it was revoked; no database row is
// read unless the database changed since the previous check.
//
// Errors: *BearerError with empty Code when no Bearer credentials were
// sent; Code "invalid_token" when the token is malformed, forged, expired,
// not an access token (an authorization code or refresh token is never
// accepted) or revoked.
func (s *Service) Authenticate(ctx context.Context, header string) (Principal, error) {
	raw, basic, ok := credential(header)
	if !ok {
		return Principal{}, &BearerError{Description: "Bearer access token required"}
	}
	now := s.now()
	if basic || pat.LooksLike(raw) {
		return s.authenticatePAT(ctx, raw, now)
	}
	vt, err := s.verify(raw, now)
	if err != nil {
		return Principal{}, &BearerError{Code: "invalid_token", Description: "The access token is invalid or expired."}
	}
	c := vt.claims
	v, err := s.guard.Check(ctx, c)
	if err != nil {
		s.log.ErrorContext(ctx, "bearer check: invalidation feed", "err", err)
		return Principal{}, &BearerError{Code: "invalid_token", Description: "The access token could not be verified; try again."}
	}
	if v.Revoked {
		return Principal{}, &BearerError{Code: "invalid_token", Description: "The access token has been revoked."}
	}
	if v.PolicyOff {
		return Principal{}, &PolicyError{UserID: c.UserID}
	}
	if s.usage != nil && c.AuthorizationID != "" { // "": a client credentials token, the app's own
		s.usage.Record(c.AuthorizationID, now)
	} else if c.AuthorizationID == "" && isClientGrantFamily(c.FamilyID) {
		s.usage.RecordClientGrant(c.FamilyID, now)
	}
	grant := ""
	if c.AuthorizationID == "" && isClientGrantFamily(c.FamilyID) {
		grant = c.FamilyID
	}
	return Principal{UserID: c.UserID, AuthorizationID: c.AuthorizationID, ClientGrantID: grant, ClientID: c.ClientID,
		SecretID: c.SecretID, Scopes: vt.scopes, Ceiling: v.Ceiling, ExpiresAt: vt.expires}, nil
}

// verify returns the verified claims of raw, from the token cache or by
// parsing (and then caching) it. The scopes slice is shared: read only.
func (s *Service) verify(raw string, now time.Time) (verifiedToken, error) {
	key := tokenKey(raw)
	if vt, ok := s.tokens.get(key, now); ok {
		return vt, nil
	}
	c, err := s.parse(raw, now)
	if err != nil {
		return verifiedToken{}, err
	}
	vt := verifiedToken{claims: c, scopes: c.Scopes(), expires: c.ExpiresAt.Time}
	if c.NotBefore != nil {
		vt.notBefore = c.NotBefore.Time
	}
	s.tokens.put(key, vt, now)
	return vt, nil
}

// Require checks that p's scopes satisfy required, using the catalog's
// inclusion (a token with vso.code_write satisfies vso.profile), and —
// for an app whose registration was narrowed — that the authorization's
// current grant still does. It records nothing: call RecordUse once the
// request is allowed. Errors: *BearerError "insufficient_scope" (403).
func (s *Service) Require(p Principal, required string) error {
	if p.FullAccess {
		return nil
	}
	if s.scopes.SatisfiedBy(p.Scopes, required) != "" && (p.Ceiling == nil || s.scopes.Satisfies(p.Ceiling, required)) {
		return nil
	}
	return &BearerError{Code: "insufficient_scope", Scope: required,
		Description: "The access token does not grant " + required + " or a scope that includes it."}
}

// RecordUse notes (in memory, flushed in batches) that p made an allowed
// call needing required, and which of its granted scopes satisfied it.
func (s *Service) RecordUse(p Principal, required string) {
	if p.AuthorizationID == "" && p.ClientGrantID == "" {
		return // a personal access token or a dashboard session: no authorization or grant to credit
	}
	granted := p.Scopes
	if p.Ceiling != nil {
		// A narrowed app: credit what the authorization still grants.
		granted = s.scopes.Intersect(p.Scopes, p.Ceiling)
	}
	by := s.scopes.SatisfiedBy(granted, required)
	switch {
	case by == "" || s.usage == nil:
	case p.AuthorizationID != "":
		s.usage.RecordScope(p.AuthorizationID, required, by, s.now())
	default: // a client credentials token: the app's own grant
		s.usage.RecordClientGrantScope(p.ClientGrantID, required, by, s.now())
	}
}
