package pat

import (
	"strings"
	"testing"
)

func TestGenerateValid(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		tok := Generate()
		if len(tok) != TokenLen || !Valid(tok) {
			t.Fatalf("Generate() = %q (len %d), Valid false", tok, len(tok))
		}
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
	}
}

func TestValidRejects(t *testing.T) {
	good := Generate()
	flip := func(i int) string {
		b := []byte(good)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"prefix only", Prefix},
		{"truncated", good[:len(good)-1]},
		{"longer", good + "0"},
		{"other prefix", "ghp_" + good[4:]},
		{"typo in body", flip(10)},
		{"typo in checksum", flip(len(good) - 1)},
		{"non-base62", good[:20] + "-" + good[21:]},
		{"jwt", "eyJhbGciOiJFZERTQSJ9.eyJ9.sig"},
		{"upper-case prefix", strings.ToUpper(good[:4]) + good[4:]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if Valid(c.in) {
				t.Errorf("Valid(%q) = true, want false", c.in)
			}
		})
	}
}

func TestDisplay(t *testing.T) {
	tok := Generate()
	if got := Display(tok); got != tok[:8]+"…" {
		t.Errorf("Display = %q", got)
	}
}
