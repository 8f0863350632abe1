package scope

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// FuzzParse checks that Parse never panics, that every success is a
// deduplicated list of known, requestable catalog ids that round-trips
// through strings.Join, and that every failure is a short apperr.Invalid.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", " ", "vso.code", "vso.code vso.profile", "  vso.work_write   vso.work ",
		"vso.code vso.code", "VSO.CODE", "vso.c\u043ede", "vso.code\tvso.profile",
		"vso.code\nvso.profile", "vso.code\x00", `"vso.code"`, `vso\code`,
		AuthorizationGrant, "vso.foo", "user_impersonation vso.extension.data",
		strings.Repeat("vso.code ", 101), strings.Repeat("a", 5000),
	} {
		f.Add(seed)
	}
	c := Default()
	f.Fuzz(func(t *testing.T, s string) {
		got, err := c.Parse(s)
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Code != apperr.Invalid {
				t.Fatalf("Parse(%q) error = %#v, want *apperr.Error with code Invalid", s, err)
			}
			if len(e.Message) > 200 {
				t.Fatalf("Parse(%q) message is %d bytes", s, len(e.Message))
			}
			if got != nil {
				t.Fatalf("Parse(%q) = %q together with an error", s, got)
			}
			return
		}
		if len(got) == 0 {
			t.Fatalf("Parse(%q) = empty list without error", s)
		}
		for i, id := range got {
			if _, ok := c.Lookup(id); !ok {
				t.Fatalf("Parse(%q) returned unknown id %q", s, id)
			}
			if id == AuthorizationGrant {
				t.Fatalf("Parse(%q) returned the marker scope", s)
			}
			if slices.Contains(got[:i], id) {
				t.Fatalf("Parse(%q) returned %q twice", s, id)
			}
		}
		again, err := c.Parse(strings.Join(got, " "))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("Parse(Join(Parse(%q))) = %q, %v; want %q", s, again, err, got)
		}
		if v, err := c.Validate(got); err != nil || !slices.Equal(v, got) {
			t.Fatalf("Validate(Parse(%q)) = %q, %v; want %q", s, v, err, got)
		}
	})
}
