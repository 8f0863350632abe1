package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// UserStore reads the user an ID token or userinfo speaks of.
type UserStore interface {
	UserByID(ctx context.Context, id string) (domain.User, error)
}

// idClaims are an ID token's claims (OIDC Core §2): iss, sub, aud, exp,
// iat, auth_time, azp always; nonce when the request had one; at_hash
// from the token endpoint; the profile and email scopes' claims (§5.4).
type idClaims struct {
	jwt.RegisteredClaims
	AuthTime int64  `json:"auth_time"`
	AZP      string `json:"azp"`
	Nonce    string `json:"nonce,omitempty"`
	ATHash   string `json:"at_hash,omitempty"`
	userClaims
}

// userClaims are the standard claims of the profile and email scopes
// (OIDC Core §5.1, §5.4), also the userinfo response.
type userClaims struct {
	Name              string `json:"name,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Email             string `json:"email,omitempty"`
	EmailVerified     *bool  `json:"email_verified,omitempty"`
}

// ClaimsSupported lists the claims discovery advertises.
var ClaimsSupported = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "azp", "nonce", "at_hash",
	"name", "preferred_username", "email", "email_verified"}

// claimsOf returns the profile and email claims scopes grant for u.
func claimsOf(u domain.User, scopes []string) userClaims {
	var c userClaims
	if slices.Contains(scopes, ScopeProfile) {
		c.Name = u.DisplayName
		if c.Name == "" {
			c.Name = u.Username
		}
		c.PreferredUsername = u.Username
	}
	if slices.Contains(scopes, ScopeEmail) && u.Email != "" {
		// Addresses are entered by administrators, not proven by mail.
		f := false
		c.Email, c.EmailVerified = u.Email, &f
	}
	return c
}

// tokenHash is the at_hash / c_hash of OIDC Core §3.1.3.6 and §3.3.2.11:
// the base64url of the left half of the hash of the ASCII token, with the
// hash of the ID token's alg (SHA-256 for RS256 and ES256; SHA-512 for
// EdDSA over Ed25519, as OpenID Connect's errata and every library use).
func tokenHash(alg, token string) string {
	var h hash.Hash
	switch alg {
	case domain.AlgEdDSA:
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// idTokenFor describes the ID token to mint.
type idTokenFor struct {
	app         domain.App
	userID      string
	scopes      []string
	nonce       string
	authTime    *time.Time
	accessToken string // for at_hash; "" leaves it out
}

// mintIDToken signs an ID token with the app's registered algorithm
// (RS256 by default), valid for AccessTTL. Errors: storage (the user),
// signing.
func (s *Service) mintIDToken(ctx context.Context, now time.Time, f idTokenFor) (string, error) {
	u, err := s.users.UserByID(ctx, f.userID)
	if err != nil {
		return "", fmt.Errorf("id token: %w", err)
	}
	alg := f.app.EffectiveIDTokenAlg()
	kid, key, method, ok := s.keys.signer(alg)
	if !ok {
		return "", fmt.Errorf("id token: no %s signing key", alg)
	}
	authTime := now
	if f.authTime != nil {
		authTime = *f.authTime
	}
	c := idClaims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: s.cfg.Issuer, Subject: f.userID, Audience: jwt.ClaimStrings{f.app.ClientID},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.AccessTTL))},
		AuthTime: authTime.Unix(), AZP: f.app.ClientID, Nonce: f.nonce, userClaims: claimsOf(u, f.scopes),
	}
	if f.accessToken != "" {
		c.ATHash = tokenHash(alg, f.accessToken)
	}
	tok := jwt.NewWithClaims(method, c)
	tok.Header["kid"] = kid
	signed, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign id token: %w", err)
	}
	return signed, nil
}
