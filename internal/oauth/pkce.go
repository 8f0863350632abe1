package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// PKCE (RFC 7636), beside the Azure DevOps contract: a code issued with a
// code_challenge is exchanged only with the code_verifier that hashes to
// it.

// ValidChallenge reports whether c has the shape of an S256
// code_challenge: 43 characters of base64url without padding (RFC 7636
// §4.2, a SHA-256 digest).
func ValidChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// ValidVerifier reports whether v is a code_verifier: 43 to 128
// characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~" (RFC 7636
// §4.1).
func ValidVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// S256 returns the S256 code_challenge of verifier:
// BASE64URL(SHA256(ASCII(verifier))) (RFC 7636 §4.2).
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// verifyPKCE checks a token request's code_verifier against the code's
// challenge (RFC 7636 §4.6), in constant time. Errors: ErrPKCEFailed
// (missing or wrong verifier), ErrPKCEUnexpected (a verifier for a code
// issued without a challenge: RFC 9700 §2.1.1, PKCE downgrade).
func verifyPKCE(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return ErrPKCEUnexpected
	case !ValidVerifier(verifier):
		return ErrPKCEFailed
	}
	if subtle.ConstantTimeCompare([]byte(S256(verifier)), []byte(challenge)) != 1 {
		return ErrPKCEFailed
	}
	return nil
}
