// Package limit holds oauthdesk's in-memory abuse limits: token buckets per
// key (golang.org/x/time/rate) and growing delays after repeated failures,
// both in maps of bounded size whose entries expire, so that no stream of
// unauthenticated requests can grow memory without bound.
//
// Keys are chosen by the caller: a client address (the TCP peer unless a
// trusted proxy forwarded it; AddrKey: an IPv6 client's /64), or a
// username together with an address. Keyed and Failures keep state per
// process; SharedFailures (shared.go) keeps the failure counts in the
// database that several replicas share.
package limit

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys bounds the entries of a Keyed or Failures map.
const DefaultMaxKeys = 100_000

// Keyed is a token bucket per key: Rate events per Per, bursts up to
// Rate. Entries not touched for Per are forgotten; at most MaxKeys are
// kept (the least recently seen go first when full). Safe for concurrent
// use.
type Keyed struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	idle    time.Duration
	maxKeys int
	now     func() time.Time
	m       map[string]*bucket
	sweepAt time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewKeyed allows n events per period per key (n > 0, period > 0), in
// bursts of up to n. now may be nil (time.Now).
func NewKeyed(n int, period time.Duration, now func() time.Time) *Keyed {
	if now == nil {
		now = time.Now
	}
	return &Keyed{limit: rate.Limit(float64(n) / period.Seconds()), burst: n, idle: period,
		maxKeys: DefaultMaxKeys, now: now, m: map[string]*bucket{}}
}

// Allow takes one event for key. When the bucket is empty it returns
// false and how long until the next event would be allowed (≥ 1 s).
func (k *Keyed) Allow(key string) (bool, time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	b := k.m[key]
	if b == nil {
		k.makeRoom(now)
		b = &bucket{lim: rate.NewLimiter(k.limit, k.burst)}
		k.m[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, k.idle
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, roundUp(d)
	}
	return true, 0
}

// Len returns the number of keys held.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// makeRoom drops idle entries (at most once a second, or when full) and,
// when the map is still full, the least recently seen one.
func (k *Keyed) makeRoom(now time.Time) {
	if len(k.m) < k.maxKeys && now.Before(k.sweepAt) {
		return
	}
	k.sweepAt = now.Add(time.Second)
	for key, b := range k.m {
		if now.Sub(b.seen) >= k.idle {
			delete(k.m, key)
		}
	}
	if len(k.m) >= k.maxKeys {
		var oldest string
		var t time.Time
		for key, b := range k.m {
			if oldest == "" || b.seen.Before(t) {
				oldest, t = key, b.seen
			}
		}
		delete(k.m, oldest)
	}
}

// Failures counts failures per key in a sliding window and, once Free
// failures happened within Window, makes the key wait: Base after the
// Free-th failure, doubling with each further one, at most Max. A success
// (Reset) clears the key. Entries expire with their window; at most
// MaxKeys are kept. Safe for concurrent use.
type Failures struct {
	Window time.Duration
	Free   int
	Base   time.Duration
	Max    time.Duration

	mu      sync.Mutex
	now     func() time.Time
	maxKeys int
	m       map[string]*failState
}

type failState struct {
	first, last, until time.Time
	count              int
}

// NewFailures returns a tracker with the sign-in policy: 5 free failures
// in 15 minutes, then waits of 10 s, 20 s, 40 s, … up to 15 minutes.
// now may be nil (time.Now).
func NewFailures(now func() time.Time) *Failures {
	if now == nil {
		now = time.Now
	}
	return &Failures{Window: 15 * time.Minute, Free: 5, Base: 10 * time.Second, Max: 15 * time.Minute,
		now: now, maxKeys: DefaultMaxKeys, m: map[string]*failState{}}
}

// Wait returns how long key must still wait before its next attempt; 0
// when it may try now.
func (f *Failures) Wait(key string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.m[key]
	if st == nil {
		return 0
	}
	now := f.now()
	if d := st.until.Sub(now); d > 0 {
		return roundUp(d)
	}
	return 0
}

// Fail records a failure of key and returns the wait it now imposes (0
// while under Free failures).
func (f *Failures) Fail(key string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	st := f.m[key]
	if st != nil && now.Sub(st.first) >= f.Window && now.After(st.until) {
		delete(f.m, key)
		st = nil
	}
	if st == nil {
		f.makeRoom(now)
		st = &failState{first: now}
		f.m[key] = st
	}
	st.count++
	st.last = now
	d := growWait(st.count, f.Free, f.Base, f.Max)
	if d > 0 {
		st.until = now.Add(d)
	}
	return d
}

// growWait is the wait after count failures: 0 below free, base at
// free, doubling with each further failure, at most max.
func growWait(count, free int, base, max time.Duration) time.Duration {
	if count < free {
		return 0
	}
	d := base
	for i := free; i < count && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Reset forgets key (after a success).
func (f *Failures) Reset(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
}

// Len returns the number of keys held.
func (f *Failures) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}

// makeRoom, called before a new key is added to a full map, drops every
// expired entry; when the map is still full it drops idle entries (no
// delay running), least recently failed first, down to 99 % of MaxKeys
// so that a flood of new keys sorts once per 1 % of the map. Only when
// every entry holds a running delay does it drop the delays that end
// first: an active delay never goes before an idle key.
func (f *Failures) makeRoom(now time.Time) {
	if len(f.m) < f.maxKeys {
		return
	}
	for key, st := range f.m {
		if now.Sub(st.first) >= f.Window && !now.Before(st.until) {
			delete(f.m, key)
		}
	}
	if len(f.m) < f.maxKeys {
		return
	}
	target := f.maxKeys - max(1, f.maxKeys/100)
	type entry struct {
		key string
		at  time.Time
	}
	var idle, active []entry
	for key, st := range f.m {
		if now.Before(st.until) {
			active = append(active, entry{key, st.until})
		} else {
			idle = append(idle, entry{key, st.last})
		}
	}
	byTime := func(a, b entry) int { return a.at.Compare(b.at) }
	slices.SortFunc(idle, byTime)
	slices.SortFunc(active, byTime)
	for _, e := range append(idle, active...) {
		if len(f.m) <= target {
			break
		}
		delete(f.m, e.key)
	}
}

// AddrKey returns the key of a client address for per-address limits:
// an IPv4 address as it is, an IPv6 address as its /64 prefix
// ("2001:db8:1:2::/64"), since one subscriber or host usually holds a
// whole /64 (RFC 6177) and would otherwise get 2^64 separate budgets.
// Anything that does not parse is returned unchanged.
func AddrKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// Slots bounds how many expensive operations (argon2id) run at once.
type Slots struct {
	ch   chan struct{}
	wait time.Duration
}

// NewSlots allows n concurrent holders (n ≥ 1); Acquire waits at most wait.
func NewSlots(n int, wait time.Duration) *Slots {
	return &Slots{ch: make(chan struct{}, max(n, 1)), wait: wait}
}

// Acquire takes a slot, waiting up to the configured wait (or until done
// is closed). It returns false when no slot freed up in time; on true the
// caller must call Release.
func (s *Slots) Acquire(done <-chan struct{}) bool {
	select {
	case s.ch <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case s.ch <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-done:
		return false
	}
}

// Release returns a slot taken by Acquire.
func (s *Slots) Release() { <-s.ch }

func roundUp(d time.Duration) time.Duration {
	return max(time.Second, (d+time.Second-1)/time.Second*time.Second)
}
