package oauth

import (
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// TypeAccessTokenJWT is the JOSE typ of the standard flow's access tokens
// (RFC 9068 §2.1).
const TypeAccessTokenJWT = "at+jwt"

// standardClaims are the claims of a standard-flow access token: RFC
// 9068 §2.2 (iss, exp, aud = the base URL, sub, client_id, iat, jti,
// scope) beside the claims the Bearer check and the revocation guard read
// (Claims), so both dialects' tokens pass one check with one set of scope
// rules. sub is the user, or the client for client credentials.
type standardClaims struct {
	Claims
	ClientIDStd string `json:"client_id"`
	ScopeStd    string `json:"scope"`
}

// accessGrant is what a standard access token is minted for.
type accessGrant struct {
	userID, authzID, clientID, secretID, familyID string
	scopes                                        []string
	secretExpires                                 time.Time // zero: no secret (public client)
}

// mintStandard signs an RFC 9068 access token (EdDSA, the access-token
// key). exp is the earlier of now+AccessTTL and the secret's expiry.
// Returns the JWT and its expiry.
func (s *Service) mintStandard(now time.Time, g accessGrant) (string, time.Time, error) {
	exp := now.Add(s.cfg.AccessTTL)
	if !g.secretExpires.IsZero() && g.secretExpires.Before(exp) {
		exp = g.secretExpires
	}
	sub := g.userID
	if sub == "" {
		sub = g.clientID
	}
	scopes := strings.Join(g.scopes, " ")
	claims := standardClaims{
		Claims: Claims{UserID: g.userID, Scope: scopes, AuthorizationID: g.authzID, ClientID: g.clientID,
			SecretID: g.secretID, FamilyID: g.familyID,
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: s.cfg.Issuer, Subject: sub, Audience: jwt.ClaimStrings{s.cfg.Issuer},
				NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
				ID: uuid.NewString(),
			}},
		ClientIDStd: g.clientID, ScopeStd: scopes,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	kid, key := s.keys.signing()
	tok.Header["kid"] = kid
	tok.Header["typ"] = TypeAccessTokenJWT
	signed, err := tok.SignedString(key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, exp, nil
}
