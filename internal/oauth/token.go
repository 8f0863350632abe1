package oauth

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// Wire constants of the token request (seed 001, "Get an access and
// refresh token", "Refresh an expired access token").
const (
	GrantTypeJWTBearer           = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantTypeRefreshToken        = "refresh_token"
	ClientAssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	TokenTypeJWTBearer           = "jwt-bearer"
)

// TokenRequest is the form body of POST /oauth2/token: client_assertion
// is the client secret; assertion is the authorization code (grant_type
// jwt-bearer) or the refresh token (grant_type refresh_token).
type TokenRequest struct {
	GrantType           string
	ClientAssertionType string
	ClientAssertion     string
	Assertion           string
	RedirectURI         string
}

// TokenResponse is the token endpoint's success body (PROTOCOL.md, "Token
// response"): expires_in is a JSON string of seconds; scope is the granted
// scopes followed by the marker vso.authorization_grant.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    string `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`

	// Not serialized: for the audit trail and the caller's logs.
	AuthorizationID string `json:"-"`
	ClientID        string `json:"-"`
}

// Token runs the token endpoint: the code exchange (flow_code.go) or the
// refresh (flow_refresh.go). Steps every grant shares run here first, so a
// grant cannot forget one. Errors: *Error values of errors.go; anything
// else is internal (and answered as ErrServer by the web layer).
func (s *Service) Token(ctx context.Context, req TokenRequest) (TokenResponse, error) {
	switch req.GrantType {
	case "":
		return TokenResponse{}, ErrGrantTypeMissing
	case GrantTypeJWTBearer, GrantTypeRefreshToken:
	default:
		return TokenResponse{}, ErrGrantTypeUnsupported
	}
	switch {
	case req.ClientAssertionType != ClientAssertionTypeJWTBearer:
		return TokenResponse{}, ErrAssertionTypeInvalid
	case req.ClientAssertion == "":
		return TokenResponse{}, ErrSecretMissing
	case req.Assertion == "":
		return TokenResponse{}, ErrAssertionMissing
	case req.RedirectURI == "":
		return TokenResponse{}, ErrRedirectURIMissing
	}
	var (
		resp TokenResponse
		oerr *Error
	)
	now := s.now()
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		var err error
		if req.GrantType == GrantTypeJWTBearer {
			resp, oerr, err = s.exchangeCode(ctx, now, req)
		} else {
			resp, oerr, err = s.refresh(ctx, now, req)
		}
		// An *Error commits what was done before it (a reuse revocation).
		return err
	})
	if err != nil {
		return TokenResponse{}, err
	}
	if oerr != nil {
		return TokenResponse{}, oerr
	}
	return resp, nil
}

// authenticateClient checks the presented secret against every active
// secret of the app in constant time (RFC 6749 §2.3.1). Returns the
// matching secret, or ErrClientUnknown (deleted app), ErrClientNotApproved
// (pending or rejected app), ErrClientFailed (no match) or ErrSecretExpired.
func authenticateClient(app domain.App, presented string, now time.Time) (domain.Secret, *Error) {
	if app.DeletedAt != nil || app.External {
		return domain.Secret{}, ErrClientUnknown
	}
	if app.Status != "" && app.Status != domain.AppActive {
		return domain.Secret{}, ErrClientNotApproved
	}
	h := Hash(presented)
	var match domain.Secret
	found := false
	for _, sec := range app.Secrets { // no early exit: time does not depend on which slot matched
		if HashEqual(sec.Hash, h) {
			match, found = sec, true
		}
	}
	if !found {
		return domain.Secret{}, ErrClientFailed
	}
	if match.Expired(now) {
		return domain.Secret{}, ErrSecretExpired
	}
	return match, nil
}

// loadClient returns the app of a code or refresh token and authenticates
// the presented secret.
func (s *Service) loadClient(ctx context.Context, clientID, presented string, now time.Time) (domain.App, domain.Secret, *Error, error) {
	app, err := s.store.ClientByID(ctx, clientID)
	if apperr.Is(err, apperr.NotFound) {
		return app, domain.Secret{}, ErrClientUnknown, nil
	}
	if err != nil {
		return app, domain.Secret{}, nil, err
	}
	sec, oerr := authenticateClient(app, presented, now)
	return app, sec, oerr, nil
}

// grantedScopes returns what the token's scopes still grant within both
// the authorization and the app's registration (scope.Intersect):
// narrowing either narrows every later token at once.
// The token's own order is kept when nothing was narrowed.
func grantedScopes(cat *scope.Catalog, tokenScopes []string, authz domain.Authorization, app domain.App) []string {
	kept := make([]string, 0, len(tokenScopes))
	for _, sc := range tokenScopes {
		if cat.Satisfies(authz.Scopes, sc) && cat.Satisfies(app.Scopes, sc) {
			kept = append(kept, sc)
		}
	}
	if len(kept) == len(tokenScopes) {
		return kept
	}
	return cat.Intersect(cat.Intersect(tokenScopes, authz.Scopes), app.Scopes)
}

// issue mints a refresh token (stored as a hash, in the chain familyID)
// and an access token for the authorization, and records the use of the
// authorization and of the secret. Runs inside the caller's transaction.
func (s *Service) issue(ctx context.Context, now time.Time, authz domain.Authorization, app domain.App, sec domain.Secret, familyID string, scopes []string) (TokenResponse, error) {
	refresh := NewOpaque(PrefixRefreshToken)
	err := s.store.CreateRefreshToken(ctx, domain.RefreshToken{
		ID: uuid.NewString(), Hash: Hash(refresh), AuthorizationID: authz.ID, FamilyID: familyID,
		ClientID: app.ClientID, UserID: authz.UserID, SecretID: sec.ID, Scopes: scopes,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL),
	})
	if err != nil {
		return TokenResponse{}, err
	}
	access, exp, err := s.mint(now, authz.UserID, authz.ID, app.ClientID, sec.ID, familyID, scopes, sec.ExpiresAt)
	if err != nil {
		return TokenResponse{}, err
	}
	if err := s.store.TouchAuthorization(ctx, authz.ID, now); err != nil {
		return TokenResponse{}, err
	}
	if err := s.store.TouchSecret(ctx, sec.ID, now); err != nil {
		return TokenResponse{}, err
	}
	// One second of slack, as the service does ("3599" for one hour).
	secs := max(int64(exp.Sub(now)/time.Second)-1, 0)
	return TokenResponse{
		AccessToken: access, TokenType: TokenTypeJWTBearer, ExpiresIn: strconv.FormatInt(secs, 10),
		RefreshToken: refresh, Scope: strings.Join(append(append([]string{}, scopes...), scope.AuthorizationGrant), " "),
		AuthorizationID: authz.ID, ClientID: app.ClientID,
	}, nil
}
