package oauth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// UsageStore persists a batch of usage facts in one transaction.
type UsageStore interface {
	FlushUsage(ctx context.Context, lastUsed map[string]time.Time, scopes map[domain.ScopeUseKey]domain.ScopeUse) error
}

// Usage batches usage facts from Bearer checks in memory — when each
// authorization was last used, and which scope each API call required and
// which granted scope satisfied it — and writes them every few seconds,
// so the Bearer check never writes to the database. A crash loses at most
// one interval of counters, never a grant or a revocation.
type Usage struct {
	store UsageStore
	log   *slog.Logger

	mu       sync.Mutex
	lastUsed map[string]time.Time
	scopes   map[domain.ScopeUseKey]domain.ScopeUse

	patStore PATUsageStore // nil: personal access token uses are dropped
	patMu    sync.Mutex
	patUses  map[string]domain.PATUse
}

// PATUsageStore persists a batch of personal access tokens' last uses.
type PATUsageStore interface {
	FlushPATUsage(ctx context.Context, uses map[string]domain.PATUse) error
}

// SetPATStore makes Flush write personal access tokens' last uses to st.
// Call it before use.
func (u *Usage) SetPATStore(st PATUsageStore) {
	u.patStore = st
	u.patUses = map[string]domain.PATUse{}
}

// RecordPAT notes that personal access token id was used at at from
// address addr (the last use wins).
func (u *Usage) RecordPAT(id string, at time.Time, addr string) {
	if u.patStore == nil {
		return
	}
	u.patMu.Lock()
	if prev, ok := u.patUses[id]; !ok || !at.Before(prev.At) {
		u.patUses[id] = domain.PATUse{At: at, Addr: addr}
	}
	u.patMu.Unlock()
}

// flushPATs writes the recorded token uses; on failure they are kept.
func (u *Usage) flushPATs(ctx context.Context) error {
	if u.patStore == nil {
		return nil
	}
	u.patMu.Lock()
	uses := u.patUses
	u.patUses = map[string]domain.PATUse{}
	u.patMu.Unlock()
	if len(uses) == 0 {
		return nil
	}
	if err := u.patStore.FlushPATUsage(ctx, uses); err != nil {
		u.patMu.Lock()
		for id, v := range uses {
			if prev, ok := u.patUses[id]; !ok || v.At.After(prev.At) {
				u.patUses[id] = v
			}
		}
		u.patMu.Unlock()
		return err
	}
	return nil
}

// NewUsage returns an empty recorder writing to st.
func NewUsage(st UsageStore, log *slog.Logger) *Usage {
	return &Usage{store: st, log: log, lastUsed: map[string]time.Time{}, scopes: map[domain.ScopeUseKey]domain.ScopeUse{}}
}

// Record notes that authorization id was used at at.
func (u *Usage) Record(id string, at time.Time) {
	u.mu.Lock()
	if prev, ok := u.lastUsed[id]; !ok || at.After(prev) {
		u.lastUsed[id] = at
	}
	u.mu.Unlock()
}

// RecordScope notes one API call by authorization id that required scope
// and was satisfied by the granted scope satisfiedBy.
func (u *Usage) RecordScope(id, scope, satisfiedBy string, at time.Time) {
	k := domain.ScopeUseKey{AuthorizationID: id, Scope: scope, SatisfiedBy: satisfiedBy}
	u.mu.Lock()
	v := u.scopes[k]
	v.Count++
	if at.After(v.Last) {
		v.Last = at
	}
	u.scopes[k] = v
	u.mu.Unlock()
}

// Flush writes what was recorded since the previous flush in one
// transaction. On failure the facts are kept for the next flush.
func (u *Usage) Flush(ctx context.Context) error {
	if err := u.flushPATs(ctx); err != nil {
		return err
	}
	u.mu.Lock()
	last, scopes := u.lastUsed, u.scopes
	u.lastUsed, u.scopes = map[string]time.Time{}, map[domain.ScopeUseKey]domain.ScopeUse{}
	u.mu.Unlock()
	if len(last) == 0 && len(scopes) == 0 {
		return nil
	}
	if err := u.store.FlushUsage(ctx, last, scopes); err != nil {
		u.mu.Lock()
		for id, at := range last {
			if prev, ok := u.lastUsed[id]; !ok || at.After(prev) {
				u.lastUsed[id] = at
			}
		}
		for k, v := range scopes {
			cur := u.scopes[k]
			cur.Count += v.Count
			if v.Last.After(cur.Last) {
				cur.Last = v.Last
			}
			u.scopes[k] = cur
		}
		u.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every interval until ctx is cancelled, then flushes once
// more (with a short deadline of its own).
func (u *Usage) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := u.Flush(fctx); err != nil {
				u.log.Error("usage: final flush", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := u.Flush(ctx); err != nil {
				u.log.Error("usage: flush", "err", err)
			}
		}
	}
}
