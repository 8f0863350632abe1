package limit

import (
	"strconv"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestKeyedBucket(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	k := NewKeyed(3, time.Minute, c.now)
	for i := range 3 {
		if ok, _ := k.Allow("a"); !ok {
			t.Fatalf("event %d refused", i+1)
		}
	}
	ok, wait := k.Allow("a")
	if ok || wait < time.Second || wait > 20*time.Second {
		t.Fatalf("4th event: ok %v wait %v, want refused with ~20 s", ok, wait)
	}
	if ok, _ := k.Allow("b"); !ok {
		t.Errorf("another key was refused")
	}
	c.t = c.t.Add(20 * time.Second)
	if ok, _ := k.Allow("a"); !ok {
		t.Errorf("refused after the refill")
	}
}

func TestKeyedBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	k := NewKeyed(1, time.Minute, c.now)
	k.maxKeys = 100
	for i := range 1000 {
		k.Allow(strconv.Itoa(i))
	}
	if n := k.Len(); n > 100 {
		t.Errorf("%d keys held, want at most 100", n)
	}
	c.t = c.t.Add(2 * time.Minute)
	k.Allow("fresh")
	if n := k.Len(); n != 1 {
		t.Errorf("%d keys after they all went idle, want 1", n)
	}
}

func TestFailuresGrowAndReset(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	f := NewFailures(c.now)
	var waits []time.Duration
	for range 8 {
		waits = append(waits, f.Fail("k"))
	}
	want := []time.Duration{0, 0, 0, 0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("failure %d: wait %v, want %v", i+1, waits[i], want[i])
		}
	}
	if w := f.Wait("k"); w != 80*time.Second {
		t.Errorf("Wait = %v, want 80s", w)
	}
	for range 20 {
		f.Fail("k")
	}
	if w := f.Wait("k"); w != 15*time.Minute {
		t.Errorf("Wait = %v, want the 15 min cap", w)
	}
	f.Reset("k")
	if w := f.Wait("k"); w != 0 {
		t.Errorf("Wait after Reset = %v", w)
	}
	// Failures older than the window are forgotten.
	for range 4 {
		f.Fail("old")
	}
	c.t = c.t.Add(16 * time.Minute)
	if w := f.Fail("old"); w != 0 {
		t.Errorf("a failure after the window: wait %v, want 0", w)
	}
}

func TestSlots(t *testing.T) {
	s := NewSlots(1, 10*time.Millisecond)
	if !s.Acquire(nil) {
		t.Fatal("first acquire failed")
	}
	if s.Acquire(nil) {
		t.Fatal("second acquire succeeded with one slot")
	}
	s.Release()
	if !s.Acquire(nil) {
		t.Fatal("acquire after release failed")
	}
}

// TestFailuresBoundedDropsIdleFirst: a full map drops idle keys, the
// least recently failed first, and keeps every running delay.
func TestFailuresBoundedDropsIdleFirst(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	f := NewFailures(c.now)
	f.maxKeys = 100
	for i := range 10 { // ten keys waiting (15 min cap: still running below)
		for range 12 {
			f.Fail("locked" + strconv.Itoa(i))
		}
	}
	for i := range 300 { // then a flood of one-failure keys, one a second
		c.t = c.t.Add(time.Second)
		f.Fail("idle" + strconv.Itoa(i))
	}
	if n := f.Len(); n > 100 {
		t.Errorf("%d keys held, want at most 100", n)
	}
	for i := range 10 {
		if w := f.Wait("locked" + strconv.Itoa(i)); w == 0 {
			t.Errorf("locked%d lost its running delay to an idle key", i)
		}
	}
	// The newest idle keys stay, the oldest went.
	f.mu.Lock()
	_, newest := f.m["idle299"]
	_, oldest := f.m["idle0"]
	f.mu.Unlock()
	if !newest || oldest {
		t.Errorf("newest idle key held %v, oldest held %v: want the oldest dropped first", newest, oldest)
	}
}

// TestFailuresBoundedAllActive: when every key waits, the delays that end
// first go, never the newest.
func TestFailuresBoundedAllActive(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	f := NewFailures(c.now)
	f.maxKeys = 10
	for i := range 11 {
		c.t = c.t.Add(time.Second)
		for range 5 {
			f.Fail("k" + strconv.Itoa(i))
		}
	}
	if n := f.Len(); n > 10 {
		t.Errorf("%d keys held, want at most 10", n)
	}
	if f.Wait("k0") != 0 || f.Wait("k10") == 0 {
		t.Errorf("k0 wait %v, k10 wait %v: want the earliest-ending delay dropped", f.Wait("k0"), f.Wait("k10"))
	}
}

func TestAddrKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"", ""},
		{"not an address", "not an address"},
	} {
		if got := AddrKey(c.in); got != c.want {
			t.Errorf("AddrKey(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
