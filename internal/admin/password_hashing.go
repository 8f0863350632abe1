package admin

import (
	"context"

	"github.com/alexedwards/argon2id"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/limit"
)

// MaxPasswordBytes is the longest password accepted anywhere (sign-in,
// password change, user add, CLI): longer ones are refused before any
// hashing, so a megabyte of "password" costs a length check.
const MaxPasswordBytes = 1024

// Every argon2id computation of oauthdesk (64 MiB and tens of
// milliseconds each) runs through hashPassword or comparePassword: at
// most SetHashConcurrency of them at once, a caller waiting at most the
// configured wait for a slot and then getting errBusy (503 with
// Retry-After on the web), and each finished hash's memory collected
// before its slot is released (hashMemory). Sign-in, the password change
// of /profile/password, the administrator's reset, `user add` and `user
// passwd` share these slots, so no mix of them grows memory beyond one
// buffer per slot.

// hashing is the bounded password hashing that the users and sign-in
// slices share: hashSlots bounds the argon2id computations running at
// once (Service.SetHashConcurrency) and hashMem collects their memory.
type hashing struct {
	hashSlots *limit.Slots
	hashMem   hashMemory
}

// withHashSlot runs fn holding a hashing slot. Errors: errBusy
// (Unavailable) when no slot frees up within the wait or ctx ends first.
func (s *hashing) withHashSlot(ctx context.Context, fn func()) error {
	if !s.hashSlots.Acquire(ctx.Done()) {
		return errBusy
	}
	s.hashMem.begin()
	defer s.hashSlots.Release() // after end: a waiting hash reuses the collected memory
	defer s.hashMem.end()
	fn()
	return nil
}

// hashPassword returns the argon2id PHC string of pw (argonParams),
// computed in a hashing slot. The caller checks pw's length first.
// Errors: errBusy; argon2id's.
func (s *hashing) hashPassword(ctx context.Context, pw string) (string, error) {
	if len(pw) > MaxPasswordBytes {
		return "", apperr.Errorf(apperr.Invalid, "the password must be at most %d bytes", MaxPasswordBytes)
	}
	var hash string
	var herr error
	if err := s.withHashSlot(ctx, func() { hash, herr = argon2id.CreateHash(pw, argonParams) }); err != nil {
		return "", err
	}
	return hash, herr
}

// comparePassword reports whether pw matches the argon2id PHC string
// hash, computed in a hashing slot. A password over MaxPasswordBytes never
// matches and is not hashed. Errors: errBusy (a malformed hash is a
// mismatch).
func (s *hashing) comparePassword(ctx context.Context, pw, hash string) (bool, error) {
	if pw == "" || len(pw) > MaxPasswordBytes {
		return false, nil
	}
	var ok bool
	var herr error
	if err := s.withHashSlot(ctx, func() { ok, herr = argon2id.ComparePasswordAndHash(pw, hash) }); err != nil {
		return false, err
	}
	return ok && herr == nil, nil
}
