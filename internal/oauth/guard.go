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

// ChangeDetector reports whether anything was committed to the database
// since its previous call (true on the first call).
type ChangeDetector interface {
	Changed(ctx context.Context) (bool, error)
}

// Guard answers "is this access token revoked?" from memory. It follows
// the invalidation feed, which every revocation appends to in its own
// transaction, and re-reads the feed only when the database changed since
// the previous check — so a revocation committed by any process (server or
// CLI) is seen by the very next request, and an unchanged database costs
// one PRAGMA and no page read.
//
// Only invalidations younger than window (the access-token lifetime) are
// kept: a token minted before an older one has expired anyway.
type Guard struct {
	feed    Feed
	policy  PolicySource
	changes ChangeDetector
	window  time.Duration
	now     func() time.Time

	mu        sync.Mutex
	seq       int64
	dead      map[string]map[string]time.Time // kind → ref → when it died
	oauthDeny bool                            // third-party OAuth access is off
	ceilings  map[string]map[string][]string  // client id → authorization id → granted scopes, for apps narrowed within the window
}

// NewGuard returns a Guard over feed, policy and changes. window is the
// access token lifetime.
func NewGuard(feed Feed, policy PolicySource, changes ChangeDetector, window time.Duration, now func() time.Time) *Guard {
	return &Guard{feed: feed, policy: policy, changes: changes, window: window, now: now,
		dead: map[string]map[string]time.Time{}, ceilings: map[string]map[string][]string{}}
}

// sync brings the in-memory sets up to date. Caller holds g.mu.
func (g *Guard) sync(ctx context.Context) error {
	changed, err := g.changes.Changed(ctx)
	if err != nil || !changed {
		return err
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
	for _, inv := range list {
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
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.sync(ctx); err != nil {
		return Verdict{Revoked: true}, err
	}
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
			userDead,
		PolicyOff: g.oauthDeny,
		Ceiling:   g.ceiling(c),
	}, nil
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
