package oauth

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// CodeStore is what the code exchange needs: find a code by its hash,
// spend it once (MarkCodeUsed: exactly one concurrent caller wins), and
// revoke the chain of a replayed code (RFC 6749 §4.1.2).
type CodeStore interface {
	CodeByHash(ctx context.Context, hash []byte) (domain.AuthCode, error)
	MarkCodeUsed(ctx context.Context, id string, at time.Time) (bool, error)
	RevokeFamily(ctx context.Context, familyID string, at time.Time) error
	AuthorizationByID(ctx context.Context, id string) (domain.Authorization, error)
}

// codeGrant is the jwt-bearer grant: an authorization code for an access
// token and a refresh token (seed 001 step 3; RFC 6749 §4.1.3).
//
// A code is strictly single-use, with no grace: a second presentation,
// even by the client it was issued to and a moment later, is answered
// "An access token has already been issued" and revokes every token issued
// from the code — the whole refresh chain that began with it (RFC 6749
// §4.1.2: "the authorization server SHOULD revoke (when possible) all
// tokens previously issued based on that authorization code"). Only an
// authenticated replay revokes, since the skeleton authenticates the
// client before validate runs. find reads outside the transaction; the
// conditional used mark inside it decides between concurrent exchanges.
type codeGrant struct {
	s    *Service
	code domain.AuthCode
}

func (g *codeGrant) find(ctx context.Context, assertion string) (string, error) {
	h := secret.Hash(assertion)
	code, err := g.s.codes.CodeByHash(ctx, h)
	if apperr.Is(err, apperr.NotFound) {
		return "", ErrGrantInvalid
	}
	if err != nil {
		return "", err
	}
	if !secret.Equal(code.Hash, h) {
		return "", ErrGrantInvalid
	}
	g.code = code
	return code.ClientID, nil
}

func (g *codeGrant) validate(ctx context.Context, t grantRequest) (issuance, error) {
	s, code := g.s, g.code
	if (code.Flow == domain.FlowStandard) != t.standard {
		// A code is exchanged only at the endpoint of the flow that issued it.
		return issuance{}, ErrGrantInvalid
	}
	if t.req.RedirectURI != code.RedirectURI {
		return issuance{}, ErrRedirectURIMismatch
	}
	if code.UsedAt != nil {
		return issuance{}, s.codeReplayed(ctx, code, t)
	}
	if !t.now.Before(code.ExpiresAt) {
		return issuance{}, ErrGrantExpired
	}
	// PKCE before the code is spent: a request without the verifier
	// neither gets tokens nor burns the client's code.
	if err := verifyPKCE(code.CodeChallenge, t.req.CodeVerifier); err != nil {
		return issuance{}, err
	}
	authz, err := s.codes.AuthorizationByID(ctx, code.AuthorizationID)
	if err != nil {
		return issuance{}, err
	}
	if !authz.Active() {
		return issuance{}, ErrAuthorizationGone
	}
	won, err := s.codes.MarkCodeUsed(ctx, code.ID, t.now)
	if err != nil {
		return issuance{}, err
	}
	if !won {
		return issuance{}, s.codeReplayed(ctx, code, t)
	}
	return issuance{authz: authz, familyID: code.ID, scopes: grantedScopes(s.scopes, code.Scopes, authz, t.app),
		nonce: code.Nonce, authTime: code.AuthTime}, nil
}

// codeReplayed revokes every token issued from a used code (RFC 6749
// §4.1.2), records it, and returns ErrCodeReused (or a storage error).
func (s *Service) codeReplayed(ctx context.Context, code domain.AuthCode, t grantRequest) error {
	if err := s.codes.RevokeFamily(ctx, code.ID, t.now); err != nil {
		return err
	}
	t.after.warn(ctx, "authorization code reused: its tokens are revoked", "client_id", code.ClientID, "authorization_id", code.AuthorizationID)
	err := s.record(audit.WithActor(ctx, audit.Actor{Name: audit.ActorSystem}), t.now, audit.ActionTokenFamilyRevoke,
		audit.TargetAuthorization, code.AuthorizationID, map[string]any{"reason": "authorization code reused", "family_id": code.ID})
	if err != nil {
		return err
	}
	return ErrCodeReused
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
