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
	FlushUsage(ctx context.Context, b domain.UsageBatch) error
}

// Usage batches usage facts in memory — when each authorization was last
// used, which scope each API call required and which granted scope
// satisfied it (for an authorization, or for the app's own
// client_credentials grant), and how often and when each client secret was presented
// at the token endpoint — and writes them every few seconds (Flush, run by the server
// as the job "usage-flush" every 5 s) and once more on shutdown. So neither the
// Bearer check nor the token endpoint writes a shared row per request: a
// secret's use count would be one hot row that every refresh of the app
// updates (on PostgreSQL concurrent transactions would queue on its lock).
// What the dashboard shows lags by at most one interval; a crash loses at
// most one interval of counters, never a grant or a revocation.
type Usage struct {
	store UsageStore
	log   *slog.Logger

	mu  sync.Mutex
	cur domain.UsageBatch

	patStore PATUsageStore // nil: personal access token uses are dropped
	patMu    sync.Mutex
	patUses  map[string]domain.PATUse

	cg *clientGrantUses // nil: the app's own grants' uses are dropped
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
	return &Usage{store: st, log: log, cur: emptyBatch()}
}

func emptyBatch() domain.UsageBatch {
	return domain.UsageBatch{LastUsed: map[string]time.Time{}, Scopes: map[domain.ScopeUseKey]domain.ScopeUse{}, Secrets: map[string]domain.ScopeUse{},
		ClientGrantScopes: map[domain.ClientGrantScopeUseKey]domain.ScopeUse{}}
}

// Record notes that authorization id was used at at.
func (u *Usage) Record(id string, at time.Time) {
	u.mu.Lock()
	if prev, ok := u.cur.LastUsed[id]; !ok || at.After(prev) {
		u.cur.LastUsed[id] = at
	}
	u.mu.Unlock()
}

// RecordScope notes one API call by authorization id that required scope
// and was satisfied by the granted scope satisfiedBy.
func (u *Usage) RecordScope(id, scope, satisfiedBy string, at time.Time) {
	k := domain.ScopeUseKey{AuthorizationID: id, Scope: scope, SatisfiedBy: satisfiedBy}
	u.mu.Lock()
	u.cur.Scopes[k] = addUse(u.cur.Scopes[k], domain.ScopeUse{Count: 1, Last: at})
	u.mu.Unlock()
}

// RecordClientGrantScope notes one API call by a token of the app's own
// grant grantID (client_credentials) that required scope and was
// satisfied by the granted scope satisfiedBy.
func (u *Usage) RecordClientGrantScope(grantID, scope, satisfiedBy string, at time.Time) {
	k := domain.ClientGrantScopeUseKey{GrantID: grantID, Scope: scope, SatisfiedBy: satisfiedBy}
	u.mu.Lock()
	u.cur.ClientGrantScopes[k] = addUse(u.cur.ClientGrantScopes[k], domain.ScopeUse{Count: 1, Last: at})
	u.mu.Unlock()
}

// RecordSecret notes one use of client secret id (a committed token
// request authenticated with it) at at.
func (u *Usage) RecordSecret(id string, at time.Time) {
	u.mu.Lock()
	u.cur.Secrets[id] = addUse(u.cur.Secrets[id], domain.ScopeUse{Count: 1, Last: at})
	u.mu.Unlock()
}

func addUse(a, b domain.ScopeUse) domain.ScopeUse {
	a.Count += b.Count
	if b.Last.After(a.Last) {
		a.Last = b.Last
	}
	return a
}

// Flush writes what was recorded since the previous flush in one
// transaction. On failure the facts are kept for the next flush.
func (u *Usage) Flush(ctx context.Context) error {
	if err := u.flushPATs(ctx); err != nil {
		return err
	}
	if err := u.flushClientGrants(ctx); err != nil {
		return err
	}
	u.mu.Lock()
	b := u.cur
	u.cur = emptyBatch()
	u.mu.Unlock()
	if b.Empty() {
		return nil
	}
	if err := u.store.FlushUsage(ctx, b); err != nil {
		u.mu.Lock()
		for id, at := range b.LastUsed {
			if prev, ok := u.cur.LastUsed[id]; !ok || at.After(prev) {
				u.cur.LastUsed[id] = at
			}
		}
		for k, v := range b.Scopes {
			u.cur.Scopes[k] = addUse(u.cur.Scopes[k], v)
		}
		for id, v := range b.Secrets {
			u.cur.Secrets[id] = addUse(u.cur.Secrets[id], v)
		}
		for k, v := range b.ClientGrantScopes {
			u.cur.ClientGrantScopes[k] = addUse(u.cur.ClientGrantScopes[k], v)
		}
		u.mu.Unlock()
		return err
	}
	return nil
}
