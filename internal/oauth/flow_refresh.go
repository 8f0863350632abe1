package oauth

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// RevokedByReuse is the revoked_by of an authorization revoked because a
// rotated refresh token was presented again.
const RevokedByReuse = "system: refresh token reuse"

// refresh is the refresh_token grant (seed 001 step 5; RFC 6749 §6): the
// refresh token travels in assertion. Every refresh rotates: the
// presented token is marked used and a new one is issued in the same
// chain, recording the secret presented now (a refresh with a new secret
// moves the chain to it). Presenting an already rotated token revokes the
// whole authorization (RFC 9700 §4.14.2: a stolen chain dies); of two
// concurrent refreshes with one token, exactly one wins. Runs inside
// Token's transaction.
func (s *Service) refresh(ctx context.Context, now time.Time, req TokenRequest) (TokenResponse, *Error, error) {
	rt, err := s.store.RefreshTokenByHash(ctx, Hash(req.Assertion))
	if apperr.Is(err, apperr.NotFound) {
		return TokenResponse{}, ErrRefreshUnknown, nil
	}
	if err != nil {
		return TokenResponse{}, nil, err
	}
	if !HashEqual(rt.Hash, Hash(req.Assertion)) {
		return TokenResponse{}, ErrRefreshUnknown, nil
	}
	app, sec, oerr, err := s.loadClient(ctx, rt.ClientID, req.ClientAssertion, now)
	if oerr != nil || err != nil {
		return TokenResponse{}, oerr, err
	}
	if !domain.CallbackMatches(app.CallbackURL, req.RedirectURI) {
		return TokenResponse{}, ErrRedirectURIMismatch, nil
	}
	authz, err := s.store.AuthorizationByID(ctx, rt.AuthorizationID)
	if err != nil {
		return TokenResponse{}, nil, err
	}
	if !authz.Active() || rt.RevokedAt != nil {
		return TokenResponse{}, ErrAuthorizationGone, nil
	}
	if !hasSecret(app, rt.SecretID) {
		return TokenResponse{}, ErrSecretRetired, nil
	}
	reuse := func() (TokenResponse, *Error, error) {
		if _, err := s.store.RevokeAuthorization(ctx, authz.ID, RevokedByReuse, now); err != nil {
			return TokenResponse{}, nil, err
		}
		s.log.WarnContext(ctx, "refresh token reuse: authorization revoked", "authorization_id", authz.ID, "client_id", app.ClientID)
		err := s.record(audit.WithActor(ctx, audit.Actor{Name: audit.ActorSystem}), now, audit.ActionAuthorizationRevoke,
			audit.TargetAuthorization, authz.ID, map[string]any{"reason": "refresh token reuse", "user_id": authz.UserID,
				"client_id": app.ClientID, "scopes": authz.Scopes})
		return TokenResponse{}, ErrRefreshReused, err
	}
	if rt.UsedAt != nil {
		return reuse()
	}
	if !now.Before(rt.ExpiresAt) {
		return TokenResponse{}, ErrGrantExpired, nil
	}
	won, err := s.store.MarkRefreshTokenUsed(ctx, rt.ID, now)
	if err != nil {
		return TokenResponse{}, nil, err
	}
	if !won {
		return reuse()
	}
	resp, err := s.issue(ctx, now, authz, app, sec, rt.FamilyID, grantedScopes(s.scopes, rt.Scopes, authz, app))
	return resp, nil, err
}
