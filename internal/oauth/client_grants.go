package oauth

import (
	"context"
	"strings"
	"sync"
	"time"
)

// ClientGrantStore records the app's own grants (client_credentials,
// RFC 6749 §4.4): IssueClientGrant returns the live grant's id for the
// client and scope set (created on first use), the family of the token.
type ClientGrantStore interface {
	IssueClientGrant(ctx context.Context, clientID string, scopes []string, at time.Time) (string, error)
}

// ClientGrantUsageStore persists a batch of the app's own grants' last uses.
type ClientGrantUsageStore interface {
	FlushClientGrantUsage(ctx context.Context, uses map[string]time.Time) error
}

// SetClientGrants makes the client_credentials grant record its grants in
// st (nil: tokens get a family of their own, unrecorded). Call it before use.
func (s *Service) SetClientGrants(st ClientGrantStore) { s.clientGrants = st }

// clientGrantPrefix starts the family id of a client_credentials token.
const clientGrantPrefix = "cc-"

// isClientGrantFamily tells whether a token's family is an app's own grant.
func isClientGrantFamily(family string) bool { return strings.HasPrefix(family, clientGrantPrefix) }

// clientGrantUses batches the last uses of the app's own grants.
type clientGrantUses struct {
	store ClientGrantUsageStore
	mu    sync.Mutex
	uses  map[string]time.Time
}

// SetClientGrantStore makes Flush write the app's own grants' last uses
// to st. Call it before use.
func (u *Usage) SetClientGrantStore(st ClientGrantUsageStore) {
	u.cg = &clientGrantUses{store: st, uses: map[string]time.Time{}}
}

// RecordClientGrant notes that a token of the app's own grant id made an
// allowed call at at (the last use wins).
func (u *Usage) RecordClientGrant(id string, at time.Time) {
	if u == nil || u.cg == nil {
		return
	}
	u.cg.mu.Lock()
	if prev, ok := u.cg.uses[id]; !ok || at.After(prev) {
		u.cg.uses[id] = at
	}
	u.cg.mu.Unlock()
}

// flushClientGrants writes the recorded uses; on failure they are kept.
func (u *Usage) flushClientGrants(ctx context.Context) error {
	if u.cg == nil {
		return nil
	}
	u.cg.mu.Lock()
	uses := u.cg.uses
	u.cg.uses = map[string]time.Time{}
	u.cg.mu.Unlock()
	if len(uses) == 0 {
		return nil
	}
	if err := u.cg.store.FlushClientGrantUsage(ctx, uses); err != nil {
		u.cg.mu.Lock()
		for id, at := range uses {
			if prev, ok := u.cg.uses[id]; !ok || at.After(prev) {
				u.cg.uses[id] = at
			}
		}
		u.cg.mu.Unlock()
		return err
	}
	return nil
}
