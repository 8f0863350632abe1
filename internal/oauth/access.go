package oauth

import (
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Claims are an access token's JWT claims: those of the Azure DevOps
// service (PROTOCOL.md, "Using tokens": nameid, scp, aui, appid, iss, aud,
// nbf, exp) plus csid, the id of the client secret that minted it, and
// fam, the id of the authorization code that began its refresh chain.
type Claims struct {
	UserID          string `json:"nameid"`
	Scope           string `json:"scp"` // space-separated granted scopes
	AuthorizationID string `json:"aui"`
	ClientID        string `json:"appid"`
	SecretID        string `json:"csid"`
	FamilyID        string `json:"fam"`
	jwt.RegisteredClaims
}

// Scopes returns the granted scopes.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// mint signs an access token for the given grant. exp is the earlier of
// now+AccessTTL and secretExpires (a token never outlives its secret).
// Returns the JWT and its expiry.
func (s *Service) mint(now time.Time, userID, authzID, clientID, secretID, familyID string, scopes []string, secretExpires time.Time) (string, time.Time, error) {
	exp := now.Add(s.cfg.AccessTTL)
	if secretExpires.Before(exp) {
		exp = secretExpires
	}
	iat := jwt.NewNumericDate(now)
	claims := Claims{
		UserID: userID, Scope: strings.Join(scopes, " "), AuthorizationID: authzID,
		ClientID: clientID, SecretID: secretID, FamilyID: familyID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Audience:  jwt.ClaimStrings{s.cfg.Issuer},
			NotBefore: iat,
			IssuedAt:  iat,
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        uuid.NewString(),
		},
	}
	signed := s.keys.accessSigning().sign(&claims, nil)
	return signed, exp, nil
}

// parse verifies an access token's signature (EdDSA with a known kid),
// issuer, audience and time window, and returns its claims. It does no I/O.
func (s *Service) parse(raw string, now time.Time) (*Claims, error) {
	var c Claims
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithAudience(s.cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), // an iat in the future is refused
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	tok, err := p.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if pub, ok := s.keys.verifier(kid); ok {
			return pub, nil
		}
		return nil, fmt.Errorf("unknown key id %q", kid)
	})
	if err != nil {
		return nil, err
	}
	if typ, _ := tok.Header["typ"].(string); typ == TypeAccessTokenJWT {
		// The standard flow's tokens (RFC 9068): a public client has no
		// secret, a client credentials token no user or authorization.
		if c.ClientID == "" || c.FamilyID == "" || (c.UserID == "") != (c.AuthorizationID == "") {
			return nil, fmt.Errorf("access token lacks required claims")
		}
		return &c, nil
	}
	if c.UserID == "" || c.AuthorizationID == "" || c.ClientID == "" || c.SecretID == "" || c.FamilyID == "" {
		return nil, fmt.Errorf("access token lacks required claims")
	}
	return &c, nil
}
