package admin

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/limit"
)

// TestChangePasswordChecksLengthFirst: with every hashing slot taken, an
// overlong current password (900 KB) or new password is still answered
// Invalid at once — so it was refused before any hash was attempted
// (an attempt would have answered Unavailable). The users slice has no
// store: nothing may be read before the checks either.
func TestChangePasswordChecksLengthFirst(t *testing.T) {
	s := &UserService{hashing: &hashing{hashSlots: limit.NewSlots(1, 10*time.Millisecond)}, now: time.Now}
	if !s.hashSlots.Acquire(nil) {
		t.Fatal("could not take the slot")
	}
	defer s.hashSlots.Release()
	ctx := context.Background()
	for name, c := range map[string]struct{ current, next, field string }{
		"900 KB current": {strings.Repeat("x", 900<<10), "a brand new long password", "current_password"},
		"empty current":  {"", "a brand new long password", "current_password"},
		"2 KB new":       {"the current password", strings.Repeat("y", 2048), "new_password"},
		"short new":      {"the current password", "short", "new_password"},
	} {
		err := s.ChangePassword(ctx, "u-1", c.current, c.next)
		if !apperr.Is(err, apperr.Invalid) || apperr.FieldErrors(err)[c.field] == "" {
			t.Errorf("%s: %v, want Invalid at %s", name, err, c.field)
		}
	}
	if _, err := s.hashPassword(ctx, "a fine password"); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("hashPassword with no free slot: %v, want Unavailable", err)
	}
	if _, err := s.hashPassword(ctx, strings.Repeat("z", MaxPasswordBytes+1)); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("hashPassword of an overlong password: %v, want Invalid", err)
	}
}

// TestDummyHashCostsAsMuchAsARealOne: the hash an unknown username is
// compared with is a valid argon2id PHC string with the parameters real
// hashes get (so the comparison takes as long), and no password matches it.
func TestDummyHashCostsAsMuchAsARealOne(t *testing.T) {
	genuine, err := argon2id.CreateHash("a real password", argonParams)
	if err != nil {
		t.Fatal(err)
	}
	gotParams, gotSalt, gotKey, err := argon2id.DecodeHash(dummyHash)
	if err != nil {
		t.Fatalf("dummy hash %q: %v", dummyHash, err)
	}
	wantParams, wantSalt, wantKey, err := argon2id.DecodeHash(genuine)
	if err != nil {
		t.Fatal(err)
	}
	if *gotParams != *wantParams || len(gotSalt) != len(wantSalt) || len(gotKey) != len(wantKey) {
		t.Errorf("dummy hash parameters %+v (salt %d, key %d bytes), a real hash's %+v (salt %d, key %d bytes)",
			*gotParams, len(gotSalt), len(gotKey), *wantParams, len(wantSalt), len(wantKey))
	}
	for _, pw := range []string{"", "oauthdesk-dummy-password", "a real password"} {
		if ok, err := argon2id.ComparePasswordAndHash(pw, dummyHash); err != nil || ok {
			t.Errorf("password %q against the dummy hash: match %v, err %v", pw, ok, err)
		}
	}
}
