package oauth

import (
	"context"
	"slices"
)

// UserInfo answers the userinfo endpoint (OIDC Core §5.3): the caller's
// Bearer access token (header as sent) must carry openid and belong to a
// user; the answer is sub plus the claims its profile and email scopes
// grant (§5.4). Errors: *BearerError (invalid_token 401,
// insufficient_scope 403), *PolicyError; storage.
func (s *Service) UserInfo(ctx context.Context, header string) (map[string]any, error) {
	p, err := s.Authenticate(ctx, header)
	if err != nil {
		return nil, err
	}
	if p.UserID == "" {
		return nil, &BearerError{Code: "invalid_token", Description: "A client credentials token speaks for no user."}
	}
	if !slices.Contains(p.Scopes, ScopeOpenID) {
		return nil, &BearerError{Code: "insufficient_scope", Scope: ScopeOpenID, Description: "The access token does not grant openid."}
	}
	u, err := s.users.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	c := claimsOf(u, p.Scopes)
	out := map[string]any{"sub": p.UserID}
	if c.Name != "" {
		out["name"], out["preferred_username"] = c.Name, c.PreferredUsername
	}
	if c.Email != "" {
		out["email"], out["email_verified"] = c.Email, false
	}
	return out, nil
}
