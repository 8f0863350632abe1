package oauth

import (
	"context"
	"sync"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// Feed reads the invalidation feed: entries with Seq > afterSeq and
// At >= since, in Seq order.
type Feed interface {
	Invalidations(ctx context.Context, afterSeq int64, since time.Time) ([]domain.Invalidation, error)
}

// PolicySource reads an organization setting and the current grants of an
// app's active authorizations.
type PolicySource interface {
	Setting(ctx context.Context, key string) (string, bool, error)
	ActiveAuthorizationScopes(ctx context.Context, clientID string) (map[string][]string, error)
}

// ChangeDetector tells whether the database may have changed: Version
// moves at once when this process commits, and within a stated bound (the
// store's PollInterval, 250 ms) when another process does. It does no I/O.
type ChangeDetector interface {
	Version() int64
}

// Guard answers "is this access token revoked?" from memory. It follows
// the invalidation feed, which every revocation appends to in its own
// transaction, and re-reads the feed only when the database's Version
// moved since the previous check. So a check costs one atomic read and
// map lookups — no database round trip — while a revocation committed by
// this process bites on its very next request, and one committed by
// another process (the CLI, another replica) within 1 s (the watcher
// looks every 250 ms).
//
// Only invalidations younger than window (the access-token lifetime) are
// kept: a token minted before an older one has expired anyway.
type Guard struct {
	feed    Feed
	policy  PolicySource
	changes ChangeDetector
	window  time.Duration
	now     func() time.Time

	mu        sync.RWMutex
	synced    int64 // the Version the sets reflect; -1 before the first sync
	seq       int64
	dead      map[string]map[string]time.Time // kind → ref → when it died
	oauthDeny bool                            // third-party OAuth access is off
	ceilings  map[string]map[string][]string  // client id → authorization id → granted scopes, for apps narrowed within the window

	rulesSrc    RuleSource // nil: no revocation rules
	rules       []domain.RevocationRule
	rulesLoaded bool
}

// RuleSource reads the Token Admin API's revocation rules (few; every
// rule is kept in memory and reloaded when the feed says one was added).
type RuleSource interface {
	RevocationRules(ctx context.Context) ([]domain.RevocationRule, error)
}

// SetRules makes the guard enforce the revocation rules of src. Call it
// before use.
func (g *Guard) SetRules(src RuleSource) { g.rulesSrc = src }

// NewGuard returns a Guard over feed, policy and changes. window is the
// access token lifetime.
func NewGuard(feed Feed, policy PolicySource, changes ChangeDetector, window time.Duration, now func() time.Time) *Guard {
	return &Guard{feed: feed, policy: policy, changes: changes, window: window, now: now, synced: -1,
		dead: map[string]map[string]time.Time{}, ceilings: map[string]map[string][]string{}}
}

// sync brings the in-memory sets up to date with the database as of
// Version version. Caller holds g.mu for writing.
func (g *Guard) sync(ctx context.Context, version int64) error {
	if g.synced == version {
		return nil // another request synced meanwhile
	}
	v, set, err := g.policy.Setting(ctx, domain.SettingThirdPartyOAuth)
	if err != nil {
		return err
	}
	g.oauthDeny = set && v == "off"
	horizon := g.now().Add(-g.window - time.Minute)
	list, err := g.feed.Invalidations(ctx, g.seq, horizon)
	if err != nil {
		return err
	}
	reloadRules := !g.rulesLoaded
	for _, inv := range list {
		if inv.Kind == domain.KindRule {
			reloadRules = true
		}
		m := g.dead[inv.Kind]
		if m == nil {
			m = map[string]time.Time{}
			g.dead[inv.Kind] = m
		}
		m[inv.Ref] = inv.At
		g.seq = inv.Seq
	}
	for _, m := range g.dead {
		for ref, at := range m {
			if at.Before(horizon) {
				delete(m, ref)
			}
		}
	}
	// Narrowed apps: their tokens minted before the narrowing still carry
	// the old scopes, so each authorization's current grant (narrowed with
	// the registration, widened only by a new consent) is their ceiling.
	for clientID := range g.ceilings {
		if _, ok := g.dead[domain.KindScopes][clientID]; !ok {
			delete(g.ceilings, clientID)
		}
	}
	for clientID := range g.dead[domain.KindScopes] {
		grants, err := g.policy.ActiveAuthorizationScopes(ctx, clientID)
		if err != nil {
			return err
		}
		g.ceilings[clientID] = grants
	}
	if reloadRules && g.rulesSrc != nil {
		rules, err := g.rulesSrc.RevocationRules(ctx)
		if err != nil {
			return err
		}
		g.rules, g.rulesLoaded = rules, true
	}
	g.synced = version
	return nil
}

// Verdict is the guard's answer about one access token.
type Verdict struct {
	Revoked   bool     // its authorization, chain, secret, app or user was revoked
	PolicyOff bool     // third-party OAuth access is off
	Ceiling   []string // non-nil: the app was narrowed; only scopes the authorization's current grant satisfies count
}

// Check reports whether any of the token's refs was invalidated, whether
// third-party OAuth access is currently off, and the scope ceiling of a
// narrowed app. Errors are storage errors; callers must then reject the
// token (fail closed).
func (g *Guard) Check(ctx context.Context, c *Claims) (Verdict, error) {
	version := g.changes.Version()
	g.mu.RLock()
	if g.synced == version {
		v := g.verdict(c)
		g.mu.RUnlock()
		return v, nil
	}
	g.mu.RUnlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.sync(ctx, version); err != nil {
		return Verdict{Revoked: true}, err
	}
	return g.verdict(c), nil
}

// verdict answers from the in-memory sets. Caller holds g.mu.
func (g *Guard) verdict(c *Claims) Verdict {
	dead := func(kind, ref string) bool { _, ok := g.dead[kind][ref]; return ok }
	// A user can be enabled again after being disabled: only the tokens
	// issued up to the invalidation (to the second, JWT precision) are dead.
	userDead := false
	if at, ok := g.dead[domain.KindUser][c.UserID]; ok {
		userDead = c.IssuedAt == nil || !c.IssuedAt.Time.After(at)
	}
	return Verdict{
		Revoked: dead(domain.KindAuthorization, c.AuthorizationID) ||
			dead(domain.KindFamily, c.FamilyID) ||
			dead(domain.KindSecret, c.SecretID) ||
			dead(domain.KindApp, c.ClientID) ||
			userDead || g.ruled(c),
		PolicyOff: g.oauthDeny,
		Ceiling:   g.ceiling(c),
	}
}

// ceiling returns the current grant of the token's authorization when its
// app was narrowed recently (empty, not nil, when the authorization is
// gone from the active set), else nil. Caller holds g.mu.
func (g *Guard) ceiling(c *Claims) []string {
	grants, ok := g.ceilings[c.ClientID]
	if !ok {
		return nil
	}
	if scopes, ok := grants[c.AuthorizationID]; ok {
		return scopes
	}
	return []string{}
}

// ruled reports whether a revocation rule covers the access token: issued
// (iat) at or before the rule's time and carrying one of its scopes.
// Caller holds g.mu.
func (g *Guard) ruled(c *Claims) bool {
	if len(g.rules) == 0 {
		return false
	}
	issued := time.Time{}
	if c.IssuedAt != nil {
		issued = c.IssuedAt.Time
	}
	return g.matchRule(issued, c.Scopes())
}

func (g *Guard) matchRule(issued time.Time, scopes []string) bool {
	for _, r := range g.rules {
		if r.Matches(issued, scopes) {
			return true
		}
	}
	return false
}

// ensure brings the guard up to date with the database's current Version
// and runs fn under the read lock. Errors: storage errors (fail closed).
func (g *Guard) ensure(ctx context.Context, fn func()) error {
	version := g.changes.Version()
	g.mu.RLock()
	if g.synced == version {
		fn()
		g.mu.RUnlock()
		return nil
	}
	g.mu.RUnlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.sync(ctx, version); err != nil {
		return err
	}
	fn()
	return nil
}

// RuleRevoked reports whether a revocation rule covers a token issued at
// issued that carries scopes (refresh tokens, personal access tokens).
func (g *Guard) RuleRevoked(ctx context.Context, issued time.Time, scopes []string) (bool, error) {
	var hit bool
	err := g.ensure(ctx, func() { hit = g.matchRule(issued, scopes) })
	return hit || err != nil, err
}

// patClockSkew is how much earlier than a cached entry's load an
// invalidation may be dated and still make the entry stale: replicas'
// clocks differ a little.
const patClockSkew = 2 * time.Second

// PATVerdict says whether a cached personal access token, read from the
// database at loaded, must be read again (it or its user was invalidated
// since), and whether a revocation rule covers it.
func (g *Guard) PATVerdict(ctx context.Context, id, userID string, loaded, created time.Time, scopes []string) (stale, ruled bool, err error) {
	err = g.ensure(ctx, func() {
		since := loaded.Add(-patClockSkew)
		if at, ok := g.dead[domain.KindPAT][id]; ok && !at.Before(since) {
			stale = true
		}
		if at, ok := g.dead[domain.KindUser][userID]; ok && !at.Before(since) {
			stale = true
		}
		ruled = g.matchRule(created, scopes)
	})
	if err != nil {
		return true, true, err
	}
	return stale, ruled, nil
}
