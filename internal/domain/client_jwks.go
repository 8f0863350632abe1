package domain

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// FieldJWKS is the registration field holding the client's JSON Web Key
// Set for private_key_jwt (RFC 7523 §2.2, OIDC Core §9).
const FieldJWKS = "jwks"

// JWKSNone, given as a registration's JWKS, removes the registered one
// (an empty JWKS means "unchanged" on updates).
const JWKSNone = "none"

// MaxJWKSBytes and MaxJWKSKeys bound a registered JWKS.
const (
	MaxJWKSBytes = 32 << 10
	MaxJWKSKeys  = 10
)

// StoredJWKS is the JWKS as stored: JWKSNone reads as none.
func (r Registration) StoredJWKS() string {
	if r.JWKS == JWKSNone {
		return ""
	}
	return r.JWKS
}

// ParseClientJWKS parses a registered JWKS (RFC 7517 §5): a JSON object
// with "keys", 1 to MaxJWKSKeys public signing keys (RSA of at least 2048
// bits, EC P-256/P-384/P-521, Ed25519; "use" absent or "sig"), at most
// MaxJWKSBytes. Returns the set and "" or a message for the form/CLI.
func ParseClientJWKS(s string) (jose.JSONWebKeySet, string) {
	var set jose.JSONWebKeySet
	if len(s) > MaxJWKSBytes {
		return set, "The JWKS is too large (at most 32 KiB)."
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &set); err != nil {
		return set, "The JWKS is not a valid JSON Web Key Set: " + err.Error() + "."
	}
	if len(set.Keys) == 0 || len(set.Keys) > MaxJWKSKeys {
		return set, "The JWKS must hold 1 to 10 keys."
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return set, "The JWKS holds a private key: register only the public keys."
		}
		if k.Use != "" && k.Use != "sig" {
			return set, "Every key of the JWKS must be for signatures (use \"sig\")."
		}
		switch pk := k.Key.(type) {
		case *rsa.PublicKey:
			if pk.N.BitLen() < 2048 {
				return set, "RSA keys must have at least 2048 bits."
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return set, "The JWKS may hold RSA, EC and Ed25519 public keys only."
		}
	}
	return set, ""
}
