package oauth

import (
	"crypto/ed25519"
	"encoding/base64"
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
	scope                                         string    // scopes joined by spaces; "": join them
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
	scopes := g.scope
	if scopes == "" {
		scopes = strings.Join(g.scopes, " ")
	}
	iat, expAt := jwt.NewNumericDate(now), jwt.NewNumericDate(exp)
	claims := standardClaims{
		Claims: Claims{UserID: g.userID, Scope: scopes, AuthorizationID: g.authzID, ClientID: g.clientID,
			SecretID: g.secretID, FamilyID: g.familyID,
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: s.cfg.Issuer, Subject: sub, Audience: jwt.ClaimStrings{s.cfg.Issuer},
				NotBefore: iat, IssuedAt: iat, ExpiresAt: expAt,
				ID: uuid.NewString(),
			}},
		ClientIDStd: g.clientID, ScopeStd: scopes,
	}
	return s.keys.accessSigning().sign(&claims.Claims, &claims), exp, nil
}

// accessKey is the Ed25519 key that signs access tokens, with the two
// JOSE headers it signs under already encoded (RFC 7515 §7.1: the
// BASE64URL of the header's JSON): the dialect's {"alg":"EdDSA","kid":…,
// "typ":"JWT"} and RFC 9068's typ "at+jwt". They are the bytes the JWT
// library wrote (its header map, keys sorted), built once per key rather
// than once per token.
type accessKey struct {
	kid               string
	key               ed25519.PrivateKey
	dialect, standard string
}

func newAccessKey(kid string, key ed25519.PrivateKey) accessKey {
	header := func(typ string) string {
		b := append([]byte(`{"alg":"EdDSA","kid":`), appendJSONString(nil, kid)...)
		b = append(b, `,"typ":`...)
		b = append(appendJSONString(b, typ), '}')
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return accessKey{kid: kid, key: key, dialect: header("JWT"), standard: header(TypeAccessTokenJWT)}
}

// sign returns the compact JWS (RFC 7515 §7.1) of an access token: the
// dialect's claims c, or with std set RFC 9068's (typ at+jwt, c plus
// client_id and scope). The claims are the JSON encoding/json gives
// Claims and standardClaims (jsonappend.go), the signature EdDSA over
// header.payload as jwt.SigningMethodEdDSA makes it, so the token verifies
// with the published key like any other.
func (k *accessKey) sign(c *Claims, std *standardClaims) string {
	var js [640]byte
	payload := append(js[:0], '{')
	payload = appendClaimsJSON(payload, c)
	header := k.dialect
	if std != nil {
		header = k.standard
		payload = appendJSONField(payload, "client_id", std.ClientIDStd, false)
		payload = appendJSONField(payload, "scope", std.ScopeStd, false)
	}
	payload = append(payload, '}')
	enc := base64.RawURLEncoding
	n := len(header) + 1 + enc.EncodedLen(len(payload))
	buf := make([]byte, 0, n+1+enc.EncodedLen(ed25519.SignatureSize))
	buf = append(buf, header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	sig := ed25519.Sign(k.key, buf)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf)
}
