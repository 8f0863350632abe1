package oauth

import (
	"context"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// EndSessionRequest is an RP-initiated logout request (OpenID Connect
// RP-Initiated Logout 1.0 §2).
type EndSessionRequest struct {
	IDTokenHint           string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
}

// EndSession checks a logout request and returns where to send the user
// agent once signed out: post_logout_redirect_uri (with state) when it is
// registered for the client named by client_id or by the ID token hint's
// aud, else "" (the server's signed-out page). The hint must be an ID
// token this server signed (it may have expired). Errors: Invalid with a
// message (a bad hint, an unregistered URI, a client_id that disagrees
// with the hint); storage.
func (s *Service) EndSession(ctx context.Context, req EndSessionRequest) (string, error) {
	clientID := req.ClientID
	if req.IDTokenHint != "" {
		aud, err := s.idTokenAudience(req.IDTokenHint)
		if err != nil {
			return "", apperr.Errorf(apperr.Invalid, "The id_token_hint is not an ID token of this server.")
		}
		if clientID != "" && clientID != aud {
			return "", apperr.Errorf(apperr.Invalid, "The client_id does not match the id_token_hint.")
		}
		clientID = aud
	}
	if req.PostLogoutRedirectURI == "" {
		return "", nil
	}
	if clientID == "" {
		return "", apperr.Errorf(apperr.Invalid, "A post_logout_redirect_uri needs client_id or id_token_hint to say whose it is.")
	}
	app, err := s.consents.ClientByID(ctx, clientID)
	if apperr.Is(err, apperr.NotFound) || (err == nil && app.DeletedAt != nil) {
		return "", apperr.Errorf(apperr.Invalid, "No app is registered with this client_id.")
	}
	if err != nil {
		return "", err
	}
	if !app.PostLogoutMatches(req.PostLogoutRedirectURI) {
		return "", apperr.Errorf(apperr.Invalid, "The post_logout_redirect_uri is not registered for %s, so you stay here.", app.Name)
	}
	return withQuery(req.PostLogoutRedirectURI, "state", req.State), nil
}

// idTokenAudience verifies an ID token's signature and issuer (not its
// expiry: a logout hint is often old) and returns its client (aud).
func (s *Service) idTokenAudience(raw string) (string, error) {
	var c idClaims
	p := jwt.NewParser(jwt.WithValidMethods([]string{domain.AlgRS256, domain.AlgES256, domain.AlgEdDSA}),
		jwt.WithIssuer(s.cfg.Issuer), jwt.WithoutClaimsValidation())
	_, err := p.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, alg, ok := s.keys.publicKey(kid)
		if !ok || alg != t.Method.Alg() {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return key, nil
	})
	if err != nil {
		return "", err
	}
	if c.Issuer != s.cfg.Issuer || len(c.Audience) != 1 {
		return "", fmt.Errorf("id token audience")
	}
	return c.Audience[0], nil
}
