package domain

import (
	"testing"
	"time"
)

// TestUserStatus: deletion wins over disabling; neither is active.
func TestUserStatus(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name              string
		disabled, deleted *time.Time
		want              string
		active            bool
	}{
		{"active", nil, nil, "active", true},
		{"disabled", &at, nil, "disabled", false},
		{"deleted", nil, &at, "deleted", false},
		{"disabled then deleted", &at, &at, "deleted", false},
	} {
		u := User{DisabledAt: tc.disabled, DeletedAt: tc.deleted}
		if got := u.Status(); got != tc.want {
			t.Errorf("%s: Status() = %q, want %q", tc.name, got, tc.want)
		}
		if got := u.Active(); got != tc.active {
			t.Errorf("%s: Active() = %v, want %v", tc.name, got, tc.active)
		}
	}
}
