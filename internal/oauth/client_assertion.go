package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// AuthMethodPrivateKeyJWT is client authentication by a JWT signed with a
// key of the client's registered JWKS (RFC 7523 §2.2, OIDC Core §9).
const AuthMethodPrivateKeyJWT = "private_key_jwt"

// ClientAssertionType is the client_assertion_type of private_key_jwt
// (RFC 7523 §2.2). The Azure DevOps dialect sends the same value with its
// own client secret JWT; the web layer tells them apart by grant_type.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// MaxAssertionLifetime bounds exp - now of a client assertion, and so how
// long its jti is remembered.
const MaxAssertionLifetime = time.Hour

// assertionAlgs are the signature algorithms accepted in client assertions.
var assertionAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.ES384, jose.EdDSA}

// ClientAssertionStore remembers the jti of every accepted client
// assertion until its expiry: UseClientAssertion answers false when
// (clientID, jtiHash) was already used and has not expired. Safe under
// concurrent calls on several replicas (one row per key).
type ClientAssertionStore interface {
	UseClientAssertion(ctx context.Context, clientID, jtiHash string, expires, now time.Time) (bool, error)
}

// SetClientAssertions enables private_key_jwt with st as the jti memory
// (nil: private_key_jwt is refused). Call it before use.
func (s *Service) SetClientAssertions(st ClientAssertionStore) { s.assertions = st }

// AssertionClientID reads the client id a client assertion claims (its
// sub) without verifying anything, for requests that send no client_id
// (RFC 7523 §3: client_id is optional). "" when unreadable.
func AssertionClientID(assertion string) string {
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil {
		return ""
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return ""
	}
	return c.Subject
}

// authenticateAssertion verifies a private_key_jwt client assertion for
// app (RFC 7523 §3): signed by a key of the registered JWKS (kid chosen
// when given), iss = sub = client_id, aud naming the token endpoint URL or
// the issuer, exp present, in the future and at most MaxAssertionLifetime
// away, nbf/iat not in the future (30 s leeway), and a jti not seen
// before within its lifetime. Errors: ErrStdClientFailed; storage.
func (s *Service) authenticateAssertion(ctx context.Context, app domain.App, assertion string, now time.Time) error {
	if s.assertions == nil || app.JWKS == "" || app.Public() {
		return ErrStdClientFailed
	}
	set, msg := domain.ParseClientJWKS(app.JWKS)
	if msg != "" {
		return ErrStdClientFailed
	}
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return ErrStdClientFailed
	}
	h := tok.Headers[0]
	keys := set.Keys
	if h.KeyID != "" {
		keys = set.Key(h.KeyID)
	}
	var claims struct {
		jwt.Claims
	}
	verified := false
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		if err := tok.Claims(k.Key, &claims); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return ErrStdClientFailed
	}
	base := strings.TrimSuffix(s.cfg.Issuer, "/")
	auds := []string{base + "/oauth2/token", s.cfg.Issuer, base}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: app.ClientID, Subject: app.ClientID, Time: now}, 30*time.Second); err != nil {
		return ErrStdClientFailed
	}
	if !slices.ContainsFunc(auds, func(a string) bool { return claims.Audience.Contains(a) }) {
		return ErrStdClientFailed
	}
	if claims.Expiry == nil || claims.ID == "" || len(claims.ID) > 256 {
		return ErrStdClientFailed
	}
	exp := claims.Expiry.Time()
	if !exp.After(now) || exp.Sub(now) > MaxAssertionLifetime {
		return ErrStdClientFailed
	}
	sum := sha256.Sum256([]byte(claims.ID))
	fresh, err := s.assertions.UseClientAssertion(ctx, app.ClientID, hex.EncodeToString(sum[:]), exp, now)
	if err != nil {
		return err
	}
	if !fresh {
		return ErrStdClientFailed // a replayed jti
	}
	return nil
}
