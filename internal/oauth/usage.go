package oauth

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// UsageStore persists batched last-used times of authorizations.
type UsageStore interface {
	TouchAuthorizations(ctx context.Context, lastUsed map[string]time.Time) error
}

// Usage batches "authorization used at" facts from Bearer checks in memory
// and writes them every few seconds, so the Bearer check never writes to
// the database. A crash loses at most one interval of last-used times,
// never a grant or a revocation.
type Usage struct {
	store UsageStore
	log   *slog.Logger

	mu      sync.Mutex
	pending map[string]time.Time
}

// NewUsage returns an empty recorder writing to st.
func NewUsage(st UsageStore, log *slog.Logger) *Usage {
	return &Usage{store: st, log: log, pending: map[string]time.Time{}}
}

// Record notes that authorization id was used at at.
func (u *Usage) Record(id string, at time.Time) {
	u.mu.Lock()
	if prev, ok := u.pending[id]; !ok || at.After(prev) {
		u.pending[id] = at
	}
	u.mu.Unlock()
}

// Flush writes what was recorded since the previous flush in one
// transaction. On failure the facts are kept for the next flush.
func (u *Usage) Flush(ctx context.Context) error {
	u.mu.Lock()
	batch := u.pending
	u.pending = map[string]time.Time{}
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := u.store.TouchAuthorizations(ctx, batch); err != nil {
		for id, at := range batch {
			u.Record(id, at)
		}
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
