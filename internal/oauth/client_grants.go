package oauth

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// ClientGrantStore records the app's own grants (client_credentials,
// RFC 6749 §4.4): IssueClientGrant returns the live grant's id for the
// client and scope set (created on first use), the family of the token.
type ClientGrantStore interface {
	IssueClientGrant(ctx context.Context, clientID string, scopes []string, at time.Time) (string, error)
}

// ClientGrantUsageStore persists a batch of the app's own grants' last
// uses and of tokens issued from a cached grant (count, last issue).
type ClientGrantUsageStore interface {
	FlushClientGrantUsage(ctx context.Context, uses map[string]time.Time, issues map[string]domain.ClientGrantIssues) error
}

// SetClientGrants makes the client_credentials grant record its grants in
// st (nil: tokens get a family of their own, unrecorded). Call it before use.
func (s *Service) SetClientGrants(st ClientGrantStore) {
	s.clientGrants = st
	s.grantCache = &clientGrantCache{ids: map[grantKey]cachedGrant{}}
}

// clientGrantCacheTTL is how long a live grant's id is reused without
// asking the store. It must stay well below the Guard's window (the
// access-token lifetime), so a revocation within it is always in the
// Guard's dead set when the cached id is checked.
const clientGrantCacheTTL = time.Minute

// clientGrantCache remembers the live grant id per client and scope set,
// so issuing a client_credentials token costs no database round trip
// while the grant lives; counts and last issue go out with the usage
// batches.
type clientGrantCache struct {
	mu  sync.Mutex
	ids map[grantKey]cachedGrant
}

// grantKey is a client and its sorted scope set, space-separated.
type grantKey struct{ clientID, scopes string }

type cachedGrant struct {
	id    string
	until time.Time
}

// grantFor returns the live grant id for the client and scope set: a
// cached one unless the Guard says it was revoked, else from the store.
func (s *Service) grantFor(ctx context.Context, clientID string, scopes []string, now time.Time) (string, error) {
	sorted := scopes
	if !slices.IsSorted(sorted) {
		sorted = sortedScopes(scopes)
	}
	key := grantKey{clientID, strings.Join(sorted, " ")}
	s.grantCache.mu.Lock()
	cg, ok := s.grantCache.ids[key]
	s.grantCache.mu.Unlock()
	if ok && now.Before(cg.until) && s.guard != nil {
		v, err := s.guard.Check(ctx, &Claims{ClientID: clientID, FamilyID: cg.id})
		if err == nil && !v.Revoked {
			if s.usage != nil && s.usage.RecordClientGrantIssue(cg.id, now) {
				return cg.id, nil
			}
		}
	}
	id, err := s.clientGrants.IssueClientGrant(ctx, clientID, scopes, now)
	if err != nil {
		return "", err
	}
	s.grantCache.mu.Lock()
	if len(s.grantCache.ids) > 10000 {
		clear(s.grantCache.ids) // bounded: few apps use client credentials
	}
	s.grantCache.ids[key] = cachedGrant{id: id, until: now.Add(clientGrantCacheTTL)}
	s.grantCache.mu.Unlock()
	return id, nil
}

func sortedScopes(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// clientGrantPrefix starts the family id of a client_credentials token.
const clientGrantPrefix = "cc-"

// isClientGrantFamily tells whether a token's family is an app's own grant.
func isClientGrantFamily(family string) bool { return strings.HasPrefix(family, clientGrantPrefix) }

// clientGrantUses batches the last uses of the app's own grants.
type clientGrantUses struct {
	store  ClientGrantUsageStore
	mu     sync.Mutex
	uses   map[string]time.Time
	issues map[string]domain.ClientGrantIssues
}

// SetClientGrantStore makes Flush write the app's own grants' last uses
// to st. Call it before use.
func (u *Usage) SetClientGrantStore(st ClientGrantUsageStore) {
	u.cg = &clientGrantUses{store: st, uses: map[string]time.Time{}, issues: map[string]domain.ClientGrantIssues{}}
}

// RecordClientGrantIssue notes a token issued at at from the app's own
// grant id without the store; false when no store takes them (the caller
// then writes through).
func (u *Usage) RecordClientGrantIssue(id string, at time.Time) bool {
	if u == nil || u.cg == nil {
		return false
	}
	u.cg.mu.Lock()
	is := u.cg.issues[id]
	is.Count++
	if at.After(is.Last) {
		is.Last = at
	}
	u.cg.issues[id] = is
	u.cg.mu.Unlock()
	return true
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
	uses, issues := u.cg.uses, u.cg.issues
	u.cg.uses, u.cg.issues = map[string]time.Time{}, map[string]domain.ClientGrantIssues{}
	u.cg.mu.Unlock()
	if len(uses) == 0 && len(issues) == 0 {
		return nil
	}
	if err := u.cg.store.FlushClientGrantUsage(ctx, uses, issues); err != nil {
		u.cg.mu.Lock()
		for id, at := range uses {
			if prev, ok := u.cg.uses[id]; !ok || at.After(prev) {
				u.cg.uses[id] = at
			}
		}
		for id, is := range issues {
			cur := u.cg.issues[id]
			cur.Count += is.Count
			if is.Last.After(cur.Last) {
				cur.Last = is.Last
			}
			u.cg.issues[id] = cur
		}
		u.cg.mu.Unlock()
		return err
	}
	return nil
}
