package oauth

import (
	"context"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// RevokeToken is the revocation endpoint (RFC 7009 §2): the
// authenticated client revokes one of its refresh tokens or access tokens
// (token_type_hint is only a hint: both kinds are tried). A refresh token
// takes its whole chain with it — every refresh token and access token
// that descends from the same code or device grant; an access token is
// revoked with its chain too (RFC 7009 §2.1 allows it), so nothing issued
// beside it lives on. Both bite on the next request (the invalidation
// feed). A token that is unknown, expired, already revoked or another
// client's is answered like a success (§2.2) and changes nothing.
// Errors: invalid_client (*Error); storage.
func (s *Service) RevokeToken(ctx context.Context, cc ClientCredentials, token string) error {
	now := s.now()
	app, _, err := s.AuthenticateClient(ctx, cc, now)
	if err != nil {
		return err
	}
	if token == "" {
		return stdErr("invalid_request", "token is required", 400)
	}
	family := ""
	rt, err := s.refresh.RefreshTokenByHash(ctx, secret.Hash(token))
	switch {
	case err == nil:
		if rt.ClientID == app.ClientID && secret.Equal(rt.Hash, secret.Hash(token)) {
			family = rt.FamilyID
		}
	case !apperr.Is(err, apperr.NotFound):
		return err
	default:
		if c, err := s.parse(token, now); err == nil && c.ClientID == app.ClientID {
			family = c.FamilyID
		}
	}
	if family == "" {
		return nil
	}
	return s.consents.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.codes.RevokeFamily(ctx, family, now); err != nil {
			return err
		}
		return s.record(audit.WithActor(ctx, audit.Actor{Name: "client " + app.ClientID}), now, audit.ActionTokenFamilyRevoke,
			audit.TargetApp, app.ClientID, map[string]any{"reason": "revoked by the client (RFC 7009)", "family_id": family})
	})
}
