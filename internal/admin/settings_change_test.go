package admin_test

import (
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// TestSettingsChangeValidate: every bad setting is named before anything
// changes.
func TestSettingsChangeValidate(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	for _, tc := range []struct {
		in   admin.SettingsChange
		pats bool
		bad  []string
	}{
		{admin.SettingsChange{AppRegistration: str("approval"), SecretLifetimeDays: num(30), PATMaxLifespanDays: num(0), PATFullScope: str("deny"), PATCreation: str("allowlist")}, true, nil},
		{admin.SettingsChange{AppRegistration: str("anyone")}, true, []string{"app_registration"}},
		{admin.SettingsChange{SecretLifetimeDays: num(0), PATMaxLifespanDays: num(366)}, true, []string{"secret_lifetime_days", "pat_max_lifespan_days"}},
		{admin.SettingsChange{SecretLifetimeDays: num(1828)}, true, []string{"secret_lifetime_days"}},
		{admin.SettingsChange{PATFullScope: str("maybe"), PATCreation: str("nobody")}, true, []string{"pat_full_scope", "pat_creation"}},
		{admin.SettingsChange{PATAllowlist: &[]string{"bob"}}, false, []string{"pat_allowlist"}},
		{admin.SettingsChange{PATAllowlist: &[]string{" "}}, true, []string{"pat_allowlist"}},
	} {
		err := tc.in.Validate(tc.pats)
		got := apperr.FieldErrors(err)
		if len(got) != len(tc.bad) {
			t.Errorf("%+v: %v, want fields %q", tc.in, err, tc.bad)
		}
		for _, f := range tc.bad {
			if got[f] == "" {
				t.Errorf("%+v: no message for %s in %v", tc.in, f, got)
			}
		}
	}
}
