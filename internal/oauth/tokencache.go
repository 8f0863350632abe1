package oauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// DefaultTokenCacheSize bounds the verified-token cache: about 64k
// entries of a few hundred bytes, some 20 MB at most.
const DefaultTokenCacheSize = 1 << 16

// tokenCache remembers access tokens whose signature, issuer, audience
// and time window were verified, so that Ed25519 verification and JSON
// decoding run once per token rather than once per call. It is keyed by
// the SHA-256 of the token (never the token itself), bounded to max
// entries, and an entry goes at the token's exp. Only verified tokens
// enter it, so nobody without a valid token can fill it. Revocation is not
// its business: every call still asks the Guard.
type tokenCache struct {
	perShard int
	shards   [tokenCacheShards]tokenShard
}

const tokenCacheShards = 16

type tokenShard struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]verifiedToken
}

// verifiedToken is a cache entry: the claims, the parsed scopes and the
// window in which the token is valid.
type verifiedToken struct {
	claims    *Claims
	scopes    []string
	notBefore time.Time
	expires   time.Time
}

// newTokenCache returns a cache of at most size entries (at least one per
// shard).
func newTokenCache(size int) *tokenCache {
	c := &tokenCache{perShard: max(size/tokenCacheShards, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[[sha256.Size]byte]verifiedToken)
	}
	return c
}

func tokenKey(raw string) [sha256.Size]byte { return sha256.Sum256([]byte(raw)) }

// get returns the verified token for key when it is valid at now; an
// expired entry is dropped.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) (verifiedToken, bool) {
	sh := &c.shards[key[0]%tokenCacheShards]
	sh.mu.RLock()
	v, ok := sh.m[key]
	sh.mu.RUnlock()
	if !ok {
		return verifiedToken{}, false
	}
	if !now.Before(v.expires) {
		sh.mu.Lock()
		delete(sh.m, key)
		sh.mu.Unlock()
		return verifiedToken{}, false
	}
	if now.Before(v.notBefore) {
		return verifiedToken{}, false
	}
	return v, true
}

// put adds a verified token. A full shard first drops the expired entries
// among a few it looks at, then, if still full, one arbitrary entry (Go's
// map iteration starts at a random place): the bound holds and live tokens
// only cost a verification when evicted.
func (c *tokenCache) put(key [sha256.Size]byte, v verifiedToken, now time.Time) {
	sh := &c.shards[key[0]%tokenCacheShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[key]; !ok && len(sh.m) >= c.perShard {
		looked, evicted := 0, false
		for k, e := range sh.m {
			if !now.Before(e.expires) {
				delete(sh.m, k)
				evicted = true
			}
			if looked++; looked >= 8 {
				break
			}
		}
		if !evicted {
			for k := range sh.m {
				delete(sh.m, k)
				break
			}
		}
	}
	sh.m[key] = v
}

// len returns the number of entries (for tests).
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.RLock()
		n += len(c.shards[i].m)
		c.shards[i].mu.RUnlock()
	}
	return n
}
