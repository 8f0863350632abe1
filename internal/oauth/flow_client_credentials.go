package oauth

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// clientCredentials is the client_credentials grant (RFC 6749 §4.4): an
// access token that belongs to the app itself (sub = client_id, no user,
// no authorization), for the scopes asked for (by default every
// registered scope), each of which the registration must allow. No
// refresh token is issued (§4.4.3). Its refs are the app, the secret
// and a family id of its own, so deleting the app, retiring the secret or
// revoking the token (RFC 7009) kills it on the next request.
func (s *Service) clientCredentials(ctx context.Context, app domain.App, sec domain.Secret, scope string, now time.Time) (StandardTokenResponse, error) {
	if app.Public() {
		return StandardTokenResponse{}, ErrStdGrantNotAllowed // no secret, no credentials of its own
	}
	scopes := app.Scopes
	if scope != "" {
		oidc, catalog, err := splitStandardScopes(s.scopes, scope)
		if err != nil || len(oidc) > 0 || len(s.scopes.Covers(app.Scopes, catalog)) > 0 {
			return StandardTokenResponse{}, ErrStdScopeNotRegistered
		}
		scopes = catalog
	}
	if s.usage != nil && sec.ID != "" {
		s.usage.RecordSecret(sec.ID, now) // flushed in batches, as for the other grants
	}
	var family string
	if s.clientGrants != nil {
		// the app's own grant for this scope set: shown on the app page and
		// in the scope audit; revoking it ends every token it issued
		id, err := s.grantFor(ctx, app.ClientID, scopes, now)
		if err != nil {
			return StandardTokenResponse{}, err
		}
		family = id
	} else {
		family = clientGrantPrefix + uuid.NewString()
	}
	t := grantRequest{now: now, app: app, sec: sec, standard: true}
	resp, err := s.respondStandard(ctx, t, accessGrant{clientID: app.ClientID, secretID: sec.ID,
		familyID: family, scopes: scopes, secretExpires: sec.ExpiresAt})
	if err != nil {
		return StandardTokenResponse{}, err
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.DebugContext(ctx, "client credentials token", "client_id", app.ClientID, "scopes", resp.Scope)
	}
	return resp, nil
}
