package admin

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// hashMemory bounds what the argon2id buffers (64 MiB per hash) cost.
// While hashes run back to back (a sign-in flood) each finished hash is
// collected before its slot is released, so the next hash reuses its
// memory instead of growing the heap: the heap holds about one buffer per
// slot, not what GOGC lets pile up between collections (peak RSS 449 MB
// under the 64-way flood of make bench without it). And it gives the
// buffers back to the operating system once no hash is running. Without it the Go runtime
// keeps freed heap for minutes, so a server that checked one password
// holds some 64–130 MiB it does not use — under a token load that needs a
// tenth of it. At most one release every hashReleaseEvery; the release (a GC and a
// scavenge) runs off the request's path; one asked for sooner is
// scheduled for when the interval is up.
type hashMemory struct {
	running atomic.Int32
	mu      sync.Mutex
	last    time.Time
	pending bool // a release is scheduled
}

// begin marks a hash as running.
func (h *hashMemory) begin() { h.running.Add(1) }

// end marks it done: it collects the finished hash's buffer (call it
// before releasing the hash slot, so that a waiting hash reuses it; a GC of
// a heap that is mostly pointer-free argon2id blocks costs about a
// millisecond, next to the hash's tens), and, when it was the last,
// schedules the release of the memory to the OS.
func (h *hashMemory) end() {
	runtime.GC()
	if h.running.Add(-1) != 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending {
		return
	}
	h.pending = true
	wait := max(hashReleaseEvery-time.Since(h.last), 0)
	time.AfterFunc(wait, func() {
		h.mu.Lock()
		h.pending, h.last = false, time.Now()
		h.mu.Unlock()
		if h.running.Load() == 0 {
			debug.FreeOSMemory()
		}
	})
}

// hashReleaseEvery spaces the releases: each costs a GC and a scavenge
// (a few milliseconds of CPU), so a sign-in flood costs at most four a
// second.
const hashReleaseEvery = 250 * time.Millisecond
