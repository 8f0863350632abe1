package store

import "sync"

// cacheSize bounds each read-through cache (entries).
const cacheSize = 10000

// versionCache is a small read-through cache whose entries are valid only
// while DB.Version has not moved since they were read: a change committed
// by this process invalidates them at once, one committed by another
// process once the change watcher noticed it (PollInterval). Values are
// shared: get returns a copy made by clone.
type versionCache[T any] struct {
	clone func(T) T
	mu    sync.RWMutex
	m     map[string]versionEntry[T]
}

type versionEntry[T any] struct {
	v       T
	version int64
}

func (c *versionCache[T]) get(key string, version int64) (T, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || e.version != version {
		var zero T
		return zero, false
	}
	if c.clone != nil {
		return c.clone(e.v), true
	}
	return e.v, true
}

// put stores v as read at version (taken before the read began).
func (c *versionCache[T]) put(key string, v T, version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= cacheSize {
		c.m = make(map[string]versionEntry[T], 64) // stale entries are useless anyway: start over
	}
	c.m[key] = versionEntry[T]{v: v, version: version}
}
