// Package secret mints and compares oauthdesk's opaque secrets: client
// secrets, authorization codes and refresh tokens. Values are 256 random
// bits behind a prefix that secret scanners can recognise (as GitHub and
// Gitea do); only their SHA-256 is ever stored, and hashes are compared in
// constant time. It has no dependencies inside oauthdesk, so both the
// protocol (internal/oauth) and the administration (internal/admin) use it
// without importing each other.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// Value prefixes, so that secret scanners can spot a leaked value.
const (
	PrefixClientSecret = "odcs_"
	PrefixCode         = "odac_"
	PrefixRefreshToken = "odrt_"
	PrefixDeviceCode   = "oddc_" // RFC 8628 device code
)

// New returns prefix followed by 256 random bits, base64url without
// padding (URL- and form-safe, 43 characters after the prefix).
func New(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash returns the SHA-256 (32 bytes) of a secret, code or refresh token:
// the only form in which they are stored. SHA-256, not a slow hash, is
// right for 256-bit random values: there is nothing to brute-force.
func Hash(value string) []byte {
	h := sha256.Sum256([]byte(value))
	return h[:]
}

// Equal reports whether two hashes are equal, in time that depends only
// on their lengths.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
