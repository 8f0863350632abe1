package oauth

import (
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// TestTokenHash checks at_hash against the example of OIDC Core
// Appendix A.3 (RS256: SHA-256) and the half-length rule for EdDSA
// (SHA-512: 32 bytes → 43 base64url characters).
func TestTokenHash(t *testing.T) {
	if got := tokenHash(domain.AlgRS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"); got != "77QmUPtjPfzWtF2AnpK9RQ" {
		t.Errorf("RS256 at_hash = %q, want 77QmUPtjPfzWtF2AnpK9RQ (OIDC Core A.3)", got)
	}
	if got := tokenHash(domain.AlgES256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"); got != "77QmUPtjPfzWtF2AnpK9RQ" {
		t.Errorf("ES256 at_hash = %q, want the SHA-256 one", got)
	}
	if got := tokenHash(domain.AlgEdDSA, "x"); len(got) != 43 {
		t.Errorf("EdDSA at_hash %q has %d characters, want 43 (half of SHA-512)", got, len(got))
	}
}

// TestNormalizeUserCode: what a person types matches the code shown.
func TestNormalizeUserCode(t *testing.T) {
	for in, want := range map[string]string{"BCDF-GHJK": "BCDFGHJK", "bcdf ghjk": "BCDFGHJK", " b-c-d-f-g-h-j-k ": "BCDFGHJK", "": ""} {
		if got := NormalizeUserCode(in); got != want {
			t.Errorf("NormalizeUserCode(%q) = %q, want %q", in, got, want)
		}
	}
	for range 100 {
		c := newUserCode()
		if len(c) != 9 || c[4] != '-' || len(NormalizeUserCode(c)) != 8 {
			t.Fatalf("user code %q", c)
		}
	}
}
