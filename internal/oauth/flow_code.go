package oauth

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// exchangeCode is the jwt-bearer grant: an authorization code for an
// access token and a refresh token (seed 001 step 3; RFC 6749 §4.1.3).
// Runs inside Token's transaction. Order matters: the client is
// authenticated before anything about the code's state is revealed, and
// only an authenticated replay of a used code revokes the tokens issued
// from it (RFC 6749 §4.1.2).
func (s *Service) exchangeCode(ctx context.Context, now time.Time, req TokenRequest) (TokenResponse, *Error, error) {
	code, err := s.store.CodeByHash(ctx, Hash(req.Assertion))
	if apperr.Is(err, apperr.NotFound) {
		return TokenResponse{}, ErrGrantInvalid, nil
	}
	if err != nil {
		return TokenResponse{}, nil, err
	}
	if !HashEqual(code.Hash, Hash(req.Assertion)) {
		return TokenResponse{}, ErrGrantInvalid, nil
	}
	app, sec, oerr, err := s.loadClient(ctx, code.ClientID, req.ClientAssertion, now)
	if oerr != nil || err != nil {
		return TokenResponse{}, oerr, err
	}
	if !domain.CallbackMatches(app.CallbackURL, req.RedirectURI) || req.RedirectURI != code.RedirectURI {
		return TokenResponse{}, ErrRedirectURIMismatch, nil
	}
	if code.UsedAt != nil {
		return TokenResponse{}, ErrCodeReused, s.revokeFamily(ctx, code, now)
	}
	if !now.Before(code.ExpiresAt) {
		return TokenResponse{}, ErrGrantExpired, nil
	}
	authz, err := s.store.AuthorizationByID(ctx, code.AuthorizationID)
	if err != nil {
		return TokenResponse{}, nil, err
	}
	if !authz.Active() {
		return TokenResponse{}, ErrAuthorizationGone, nil
	}
	won, err := s.store.MarkCodeUsed(ctx, code.ID, now)
	if err != nil {
		return TokenResponse{}, nil, err
	}
	if !won {
		return TokenResponse{}, ErrCodeReused, s.revokeFamily(ctx, code, now)
	}
	resp, err := s.issue(ctx, now, authz, app, sec, code.ID, grantedScopes(s.scopes, code.Scopes, authz, app))
	return resp, nil, err
}

// revokeFamily revokes every token issued from a reused code (RFC 6749
// §4.1.2) and records it.
func (s *Service) revokeFamily(ctx context.Context, code domain.AuthCode, now time.Time) error {
	if err := s.store.RevokeFamily(ctx, code.ID, now); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "authorization code reused: its tokens are revoked", "client_id", code.ClientID, "authorization_id", code.AuthorizationID)
	return s.record(audit.WithActor(ctx, audit.Actor{Name: audit.ActorSystem}), now, audit.ActionTokenFamilyRevoke,
		audit.TargetAuthorization, code.AuthorizationID, map[string]any{"reason": "authorization code reused", "family_id": code.ID})
}

// hasSecret reports whether the app still holds the secret id (not
// regenerated or retired).
func hasSecret(app domain.App, id string) bool {
	for _, s := range app.Secrets {
		if s.ID == id {
			return true
		}
	}
	return false
}
