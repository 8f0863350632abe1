package secret

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{PrefixClientSecret, PrefixCode, PrefixRefreshToken} {
		for range 100 {
			v := New(prefix)
			if !strings.HasPrefix(v, prefix) || len(v) != len(prefix)+43 {
				t.Fatalf("New(%q) = %q: want the prefix and 43 base64url characters", prefix, v)
			}
			if strings.ContainsAny(v[len(prefix):], "+/=") {
				t.Fatalf("New(%q) = %q: not URL-safe", prefix, v)
			}
			if seen[v] {
				t.Fatalf("New(%q) repeated %q", prefix, v)
			}
			seen[v] = true
		}
	}
}

func TestHashEqual(t *testing.T) {
	a, b := New(PrefixCode), New(PrefixCode)
	tests := []struct {
		name string
		x, y []byte
		want bool
	}{
		{"same value", Hash(a), Hash(a), true},
		{"different values", Hash(a), Hash(b), false},
		{"truncated", Hash(a), Hash(a)[:31], false},
		{"empty against hash", nil, Hash(a), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.x, tt.y); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
	if len(Hash(a)) != 32 {
		t.Errorf("Hash length %d, want 32", len(Hash(a)))
	}
}
