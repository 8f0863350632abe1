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

func TestLastActiveOwner(t *testing.T) {
	active := func(id string) AppOwner { return AppOwner{UserID: id} }
	disabled := func(id string) AppOwner { return AppOwner{UserID: id, Disabled: true} }
	deleted := func(id string) AppOwner { return AppOwner{UserID: id, Deleted: true} }
	for _, c := range []struct {
		name   string
		owners []AppOwner
		remove string
		want   bool
	}{
		{"the only owner", []AppOwner{active("a")}, "a", true},
		{"another active owner stays", []AppOwner{active("a"), active("b")}, "a", false},
		{"only a disabled owner would stay", []AppOwner{active("a"), disabled("b")}, "a", true},
		{"only a deleted owner would stay", []AppOwner{deleted("b"), active("a")}, "a", true},
		{"one active among the rest", []AppOwner{active("a"), disabled("b"), active("c")}, "a", false},
		{"removing a disabled owner", []AppOwner{active("a"), disabled("b")}, "b", false},
		{"removing a disabled owner when none is active", []AppOwner{disabled("a"), disabled("b")}, "a", false},
		{"not an owner", []AppOwner{active("a")}, "z", false},
		{"no owners", nil, "a", false},
	} {
		if got := LastActiveOwner(c.owners, c.remove); got != c.want {
			t.Errorf("%s: LastActiveOwner = %v, want %v", c.name, got, c.want)
		}
	}
}
