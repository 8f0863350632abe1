package oauth

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// Client authentication methods of the standard endpoints (OIDC Core §9,
// RFC 7591 §2).
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	AuthMethodNone  = "none"
)

// AuthMethodsSupported lists them for discovery.
var AuthMethodsSupported = []string{AuthMethodBasic, AuthMethodPost, AuthMethodPrivateKeyJWT, AuthMethodNone}

// ClientCredentials is how a client identified itself at a standard
// endpoint: client_id and client_secret from HTTP Basic (RFC 6749 §2.3.1,
// form-urlencoded inside) or from the body, or client_id alone.
type ClientCredentials struct {
	ClientID     string
	ClientSecret string
	Method       string // AuthMethodBasic, AuthMethodPost, AuthMethodPrivateKeyJWT or AuthMethodNone
	// Assertion is the client_assertion of AuthMethodPrivateKeyJWT.
	Assertion string
}

// AuthenticateClient authenticates a client at the standard token,
// revocation, introspection and device endpoints: a confidential client
// by one of its active secrets (compared in constant time, every slot), a
// public client by its client_id alone. Returns the app and the secret
// that matched (zero for a public client). Errors: ErrStdClientMissing,
// ErrStdClientFailed (unknown, deleted, external, pending or rejected app,
// wrong or expired secret, a secret sent for a public client or none for
// a confidential one) — all invalid_client, 401; storage errors.
func (s *Service) AuthenticateClient(ctx context.Context, cc ClientCredentials, now time.Time) (domain.App, domain.Secret, error) {
	if cc.ClientID == "" {
		return domain.App{}, domain.Secret{}, ErrStdClientMissing
	}
	app, err := s.grants.ClientByID(ctx, cc.ClientID)
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Invalid) {
		return domain.App{}, domain.Secret{}, ErrStdClientFailed
	}
	if err != nil {
		return domain.App{}, domain.Secret{}, err
	}
	if app.DeletedAt != nil || app.External || (app.Status != "" && app.Status != domain.AppActive) {
		return domain.App{}, domain.Secret{}, ErrStdClientFailed
	}
	if cc.Method == AuthMethodPrivateKeyJWT {
		if err := s.authenticateAssertion(ctx, app, cc.Assertion, now); err != nil {
			return domain.App{}, domain.Secret{}, err
		}
		return app, domain.Secret{}, nil
	}
	if app.Public() {
		if cc.ClientSecret != "" {
			return domain.App{}, domain.Secret{}, ErrStdClientFailed
		}
		return app, domain.Secret{}, nil
	}
	if cc.ClientSecret == "" {
		return domain.App{}, domain.Secret{}, ErrStdClientMissing
	}
	sec, err := matchSecret(app, cc.ClientSecret, now)
	if err != nil {
		return domain.App{}, domain.Secret{}, ErrStdClientFailed
	}
	return app, sec, nil
}

// identifyClient finds an active app by client_id alone (no secret).
// Errors: ErrStdClientMissing, ErrStdClientFailed; storage.
func (s *Service) identifyClient(ctx context.Context, clientID string) (domain.App, error) {
	if clientID == "" {
		return domain.App{}, ErrStdClientMissing
	}
	app, err := s.grants.ClientByID(ctx, clientID)
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Invalid) {
		return domain.App{}, ErrStdClientFailed
	}
	if err != nil {
		return domain.App{}, err
	}
	if app.DeletedAt != nil || app.External || (app.Status != "" && app.Status != domain.AppActive) {
		return domain.App{}, ErrStdClientFailed
	}
	return app, nil
}
