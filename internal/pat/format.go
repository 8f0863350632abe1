package pat

import (
	"crypto/rand"
	"crypto/sha256"
	"hash/crc32"
	"math/big"
	"strings"
)

// Prefix starts every personal access token, so that a secret scanner
// recognizes one offline (GitHub's token format: a fixed prefix and a
// CRC32 checksum).
const Prefix = "odp_"

// Format: Prefix, then 32 random bytes as 43 base62 digits, then the
// CRC32 (IEEE) of Prefix+body as 6 base62 digits: 53 characters.
const (
	bodyLen     = 43 // ceil(256 / log2(62))
	checksumLen = 6  // ceil(32 / log2(62))
	// TokenLen is the length of every personal access token.
	TokenLen = len(Prefix) + bodyLen + checksumLen
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Generate returns a new token: Prefix + 32 bytes from crypto/rand in
// base62 + a CRC32 checksum in base62 (see TokenLen).
func Generate() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	body := base62(new(big.Int).SetBytes(b[:]), bodyLen)
	return Prefix + body + checksum(Prefix+body)
}

// Valid reports whether s has the shape of a token — prefix, length,
// base62 digits — and its checksum matches: a typo or a truncated token
// is refused without a database lookup. It does no I/O and allocates
// nothing for strings of the wrong length.
func Valid(s string) bool {
	if len(s) != TokenLen || !strings.HasPrefix(s, Prefix) {
		return false
	}
	for i := len(Prefix); i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return false
		}
	}
	cut := len(Prefix) + bodyLen
	return checksum(s[:cut]) == s[cut:]
}

// LooksLike reports whether s starts with the token prefix (it is meant
// as a personal access token, valid or not).
func LooksLike(s string) bool { return strings.HasPrefix(s, Prefix) }

// Hash is the stored form of a token: its SHA-256. Tokens carry 256
// random bits, so a fast hash is right (no dictionary to guess from).
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Display is the shown-forever part of a token: its prefix and first four
// body characters ("odp_Ab3x…"), enough to tell tokens apart.
func Display(token string) string {
	if len(token) < len(Prefix)+4 {
		return token
	}
	return token[:len(Prefix)+4] + "…"
}

func checksum(s string) string {
	return base62(new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(s)))), checksumLen)
}

// base62 writes n in base62, left-padded with '0' to width digits.
func base62(n *big.Int, width int) string {
	out := make([]byte, width)
	for i := range out {
		out[i] = '0'
	}
	base, mod := big.NewInt(62), new(big.Int)
	n = new(big.Int).Set(n)
	for i := width - 1; i >= 0 && n.Sign() > 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = alphabet[mod.Int64()]
	}
	return string(out)
}
