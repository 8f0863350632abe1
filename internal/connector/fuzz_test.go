package connector

import (
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// FuzzParseRoleMap checks that ParseRoleMap never panics, rejects with
// Invalid only, and accepts only non-empty group names mapped to valid
// roles.
func FuzzParseRoleMap(f *testing.F) {
	for _, s := range []string{"", "a=admin", "a=admin,b=auditor", " a = member ,", "a", "=admin", "a=root", "a=b=admin", ",,,", "g\x00=admin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := ParseRoleMap(raw)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("ParseRoleMap(%q): %v is not Invalid", raw, err)
			}
			return
		}
		for g, r := range m {
			if strings.TrimSpace(g) == "" || g != strings.TrimSpace(g) || !domain.Role(r).Valid() {
				t.Fatalf("ParseRoleMap(%q) accepted %q=%q", raw, g, r)
			}
		}
	})
}
