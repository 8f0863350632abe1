package oauth

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// StandardTokenRequest is a request to the standard token endpoint (RFC
// 6749 §4.1.3, §6, §4.4; RFC 8628 §3.4): the grant type, how the client
// authenticated, and the grant's parameters. Unrecognized parameters
// never reach it (RFC 6749 §3.2: ignored).
type StandardTokenRequest struct {
	GrantType    string
	Client       ClientCredentials
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	Scope        string // refresh: narrows; client_credentials: requests
	DeviceCode   string
}

// StandardTokenResponse is RFC 6749 §5.1's body (expires_in a number of
// seconds, token_type Bearer) plus OIDC Core §3.1.3.3's id_token.
type StandardTokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`

	// Not serialized: for the caller's logs.
	AuthorizationID string `json:"-"`
	ClientID        string `json:"-"`
}

// GrantTypesSupported lists the standard token endpoint's grant types
// (discovery); the dialect's jwt-bearer is served beside them.
var GrantTypesSupported = []string{domain.GrantAuthorizationCode, domain.GrantRefreshToken, domain.GrantClientCredentials, domain.GrantDeviceCode}

// StandardToken runs the standard token endpoint over the same grants as
// the dialect's (flow_code.go, flow_refresh.go: the single-use code with
// replay revocation, PKCE, rotation with the grace window and reuse
// revocation) and the same transaction (runGrant):
//
//  1. authenticate the client (client_secret_basic, client_secret_post,
//     or none for a public client) and check the app may use the grant;
//  2. find the presented grant, which must have been issued to it;
//  3. validate and store the new refresh token in one write transaction;
//  4. sign an RFC 9068 access token and, for openid, an ID token.
//
// A refresh token is issued when the app may refresh and either
// offline_access was granted or openid was not requested. Errors: *Error
// with Standard set; others are internal.
func (s *Service) StandardToken(ctx context.Context, req StandardTokenRequest) (StandardTokenResponse, error) {
	switch {
	case req.GrantType == "":
		return StandardTokenResponse{}, ErrStdGrantTypeMissing
	case !slices.Contains(GrantTypesSupported, req.GrantType):
		return StandardTokenResponse{}, ErrStdGrantTypeUnsupported
	}
	now := s.now()
	app, sec, err := s.AuthenticateClient(ctx, req.Client, now)
	if err != nil {
		return StandardTokenResponse{}, err
	}
	if !app.AllowsGrant(req.GrantType) {
		return StandardTokenResponse{}, ErrStdGrantNotAllowed
	}
	if req.GrantType == domain.GrantClientCredentials {
		resp, err := s.clientCredentials(ctx, app, sec, req.Scope, now)
		if err == nil {
			s.issued(FlowOIDC, req.GrantType)
		}
		return resp, err
	}
	return s.standardGrant(ctx, req, app, sec, now)
}

// standardGrant is StandardToken for the grants that present something
// (a code, a refresh token, a device code) and run in runGrant. It is a
// function of its own so that client_credentials, which presents
// nothing, does not carry wantRefresh's captures to the heap.
func (s *Service) standardGrant(ctx context.Context, req StandardTokenRequest, app domain.App, sec domain.Secret, now time.Time) (StandardTokenResponse, error) {
	var (
		g         grant
		presented string
	)
	switch req.GrantType {
	case domain.GrantAuthorizationCode:
		g, presented = &codeGrant{s: s}, req.Code
		if presented == "" {
			return StandardTokenResponse{}, ErrStdCodeMissing
		}
	case domain.GrantRefreshToken:
		g, presented = &refreshGrant{s: s}, req.RefreshToken
		if presented == "" {
			return StandardTokenResponse{}, ErrStdRefreshMissing
		}
	case domain.GrantDeviceCode:
		g, presented = &deviceGrant{s: s}, req.DeviceCode
		if presented == "" {
			return StandardTokenResponse{}, ErrStdDeviceCodeMissing
		}
	}
	clientID, err := g.find(ctx, presented)
	if err != nil {
		return StandardTokenResponse{}, standardError(err)
	}
	if clientID != app.ClientID {
		return StandardTokenResponse{}, ErrStdGrantOtherClient
	}
	treq := TokenRequest{RedirectURI: req.RedirectURI, CodeVerifier: req.CodeVerifier}
	var narrow []string
	switch g := g.(type) {
	case *codeGrant:
		if treq.RedirectURI == "" {
			// OAuth 2.1 §4.1.3: with PKCE the redirect URI need not be repeated.
			treq.RedirectURI = g.code.RedirectURI
		}
	case *refreshGrant:
		// Checked before the token rotates: a bad scope burns nothing.
		if narrow = strings.Fields(req.Scope); len(narrow) > 0 && !s.within(narrow, g.rt.Scopes) {
			return StandardTokenResponse{}, ErrStdScopeWiden
		}
	}
	t := grantRequest{req: treq, now: now, app: app, sec: sec, standard: true}
	wantRefresh := func(iss issuance) bool {
		if !app.AllowsGrant(domain.GrantRefreshToken) {
			return false
		}
		return req.GrantType == domain.GrantRefreshToken || slices.Contains(iss.scopes, ScopeOfflineAccess) || !slices.Contains(iss.scopes, ScopeOpenID)
	}
	iss, refresh, err := s.runGrant(ctx, g, t, wantRefresh)
	if err != nil {
		return StandardTokenResponse{}, standardError(err)
	}
	scopes := iss.scopes
	if len(narrow) > 0 {
		scopes = s.narrowTo(iss.scopes, narrow)
	}
	resp, err := s.respondStandard(ctx, t, accessGrant{userID: iss.authz.UserID, authzID: iss.authz.ID, clientID: app.ClientID,
		secretID: sec.ID, familyID: iss.familyID, scopes: scopes, secretExpires: sec.ExpiresAt})
	if err != nil {
		return StandardTokenResponse{}, err
	}
	resp.RefreshToken = refresh
	s.issued(FlowOIDC, req.GrantType)
	if slices.Contains(scopes, ScopeOpenID) {
		nonce := iss.nonce
		if req.GrantType == domain.GrantRefreshToken {
			nonce = "" // OIDC Core §12.2: a refreshed ID token carries no nonce
		}
		resp.IDToken, err = s.mintIDToken(ctx, now, idTokenFor{app: app, userID: iss.authz.UserID, scopes: scopes,
			nonce: nonce, authTime: iss.authTime, accessToken: resp.AccessToken})
		if err != nil {
			return StandardTokenResponse{}, err
		}
	}
	return resp, nil
}

// within reports whether every scope of want is granted by have (OIDC
// scopes exactly, catalog scopes by inclusion).
func (s *Service) within(want, have []string) bool {
	for _, sc := range want {
		if isOIDCScope(sc) {
			if !slices.Contains(have, sc) {
				return false
			}
		} else if !s.scopes.Satisfies(have, sc) {
			return false
		}
	}
	return true
}

// narrowTo returns the scopes of narrow that granted holds (RFC 6749 §6:
// a refresh may ask for less than was granted).
func (s *Service) narrowTo(granted, narrow []string) []string {
	var out []string
	for _, sc := range narrow {
		if s.within([]string{sc}, granted) && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// respondStandard signs the access token of a committed issuance.
func (s *Service) respondStandard(_ context.Context, t grantRequest, g accessGrant) (StandardTokenResponse, error) {
	g.scope = strings.Join(g.scopes, " ")
	access, exp, err := s.mintStandard(t.now, g)
	if err != nil {
		return StandardTokenResponse{}, err
	}
	return StandardTokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: max(int64(exp.Sub(t.now)/time.Second), 0),
		Scope: g.scope, AuthorizationID: g.authzID, ClientID: g.clientID}, nil
}
