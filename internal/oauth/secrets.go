package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
)

// Token value prefixes, so that secret scanners can recognise a leaked
// value (as GitHub and Gitea do).
const (
	PrefixClientSecret = "odcs_"
	PrefixCode         = "odac_"
	PrefixRefreshToken = "odrt_"
)

// NewOpaque returns prefix followed by 256 random bits, base64url without
// padding (URL- and form-safe, 48 characters after the prefix).
func NewOpaque(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash returns the SHA-256 of a secret, code or refresh token: the only
// form in which they are stored. SHA-256 (not a slow hash) is right for
// 256-bit random values: nothing to brute-force.
func Hash(value string) []byte {
	h := sha256.Sum256([]byte(value))
	return h[:]
}

// HashEqual compares two hashes in constant time.
func HashEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// withQuery returns base with the given key/value pairs added to its query
// (pairs with an empty value are left out). base is a verified callback URL.
func withQuery(base string, kv ...string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	add := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			add.Set(kv[i], kv[i+1])
		}
	}
	// Keep the registered query exactly as it is; append ours.
	if enc := add.Encode(); enc != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&" + enc
		} else {
			u.RawQuery = enc
		}
	}
	return u.String()
}
