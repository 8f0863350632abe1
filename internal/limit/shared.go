package limit

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// FailureLimiter is the growing-delay policy of Failures behind a
// context: Failures itself for one process (LocalFailures), or
// SharedFailures whose counts live in the database that several replicas
// share, so that N replicas behind a balancer give an attacker one budget
// per key, not N.
type FailureLimiter interface {
	// Wait returns how long key must still wait (0: it may try now).
	Wait(ctx context.Context, key string) (time.Duration, error)
	// Fail records a failure of key and returns the wait it now imposes.
	Fail(ctx context.Context, key string) (time.Duration, error)
	// Reset forgets key (after a success).
	Reset(ctx context.Context, key string) error
}

// LocalFailures adapts Failures (in memory, per process) to
// FailureLimiter.
type LocalFailures struct{ F *Failures }

// Wait implements FailureLimiter.
func (l LocalFailures) Wait(_ context.Context, key string) (time.Duration, error) {
	return l.F.Wait(key), nil
}

// Fail implements FailureLimiter.
func (l LocalFailures) Fail(_ context.Context, key string) (time.Duration, error) {
	return l.F.Fail(key), nil
}

// Reset implements FailureLimiter.
func (l LocalFailures) Reset(_ context.Context, key string) error { l.F.Reset(key); return nil }

// FailureStore keeps failure counts in a database shared by replicas.
// Keys arrive as their SHA-256 (fixed size, no user text stored).
type FailureStore interface {
	// AddFailure records one failure of key at at in one transaction
	// that locks the key's row: a count whose window (starting at the
	// first failure) has passed, with no wait running, starts over; then
	// the count grows by one and the wait until at+wait(count) is stored
	// when wait(count) > 0. Returns wait(count).
	AddFailure(ctx context.Context, key []byte, at time.Time, window time.Duration, wait func(count int) time.Duration) (time.Duration, error)
	// FailureUntil returns until when key waits (zero: no row).
	FailureUntil(ctx context.Context, key []byte) (time.Time, error)
	// ResetFailures deletes key's row.
	ResetFailures(ctx context.Context, key []byte) error
	// PruneFailures deletes the rows whose window began before
	// windowStart and whose wait ended before now; returns how many.
	PruneFailures(ctx context.Context, windowStart, now time.Time) (int64, error)
}

// SharedFailures is Failures' policy (Window, Free, Base, Max) with the
// counts in a FailureStore, read and written on every check: every
// replica sees every replica's failures at once. Expired rows are pruned
// at most once a minute, by the replica that records a failure.
type SharedFailures struct {
	Window time.Duration
	Free   int
	Base   time.Duration
	Max    time.Duration

	store FailureStore
	now   func() time.Time

	mu      sync.Mutex
	pruneAt time.Time
}

// NewSharedFailures returns a shared tracker with the sign-in policy of
// NewFailures (5 free failures in 15 minutes, then 10 s doubling up to
// 15 minutes). now may be nil (time.Now).
func NewSharedFailures(store FailureStore, now func() time.Time) *SharedFailures {
	if now == nil {
		now = time.Now
	}
	return &SharedFailures{Window: 15 * time.Minute, Free: 5, Base: 10 * time.Second, Max: 15 * time.Minute, store: store, now: now}
}

func failureKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// wait is the delay after count failures: 0 below Free, Base at Free,
// doubling with each further failure, at most Max.
func (s *SharedFailures) wait(count int) time.Duration {
	return growWait(count, s.Free, s.Base, s.Max)
}

// Wait implements FailureLimiter.
func (s *SharedFailures) Wait(ctx context.Context, key string) (time.Duration, error) {
	until, err := s.store.FailureUntil(ctx, failureKey(key))
	if err != nil {
		return 0, err
	}
	if d := until.Sub(s.now()); d > 0 {
		return roundUp(d), nil
	}
	return 0, nil
}

// Fail implements FailureLimiter.
func (s *SharedFailures) Fail(ctx context.Context, key string) (time.Duration, error) {
	now := s.now()
	s.mu.Lock()
	prune := !now.Before(s.pruneAt)
	if prune {
		s.pruneAt = now.Add(time.Minute)
	}
	s.mu.Unlock()
	if prune {
		if _, err := s.store.PruneFailures(ctx, now.Add(-s.Window), now); err != nil {
			return 0, err
		}
	}
	return s.store.AddFailure(ctx, failureKey(key), now, s.Window, s.wait)
}

// Reset implements FailureLimiter.
func (s *SharedFailures) Reset(ctx context.Context, key string) error {
	return s.store.ResetFailures(ctx, failureKey(key))
}
