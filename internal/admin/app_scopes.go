package admin

import (
	"context"
	"slices"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// AppScopeStore keeps what scopes an app registered, was granted and
// used.
type AppScopeStore interface {
	Transactor
	AuditAppender
	ScopeUsage(ctx context.Context, clientID string, since time.Time) ([]domain.ScopeUsage, error)
	ActiveGrants(ctx context.Context, clientID string) ([][]string, error)
	ActiveScopeUsage(ctx context.Context, clientID string) ([]domain.ScopeUsage, error)
	MoveScopeUses(ctx context.Context, from, to string, n int64, last time.Time) error
	SetAppScopes(ctx context.Context, clientID string, scopes []string) error
	SetAuthorizationScopes(ctx context.Context, id string, scopes []string) error
	MarkScopesNarrowed(ctx context.Context, clientID string, at time.Time) error
}

// AppScopeService is the scopes slice's side of one app: its registered,
// granted and used scopes (the scope audit) and narrowing them, which
// narrows or revokes its authorizations. It calls the apps slice (the
// app) and the authorizations slice (its authorizations, revocation).
type AppScopeService struct {
	store AppScopeStore
	recorder
	now    func() time.Time
	scopes *scope.Catalog
	apps   *AppService
	authz  *AuthorizationService
}

// AppScopeAudit returns the scope audit of one app over the last days days
// (DefaultUnusedDays when ≤ 0). Errors: NotFound.
func (s *AppScopeService) AppScopeAudit(ctx context.Context, clientID string, days int) (reports.AppScopes, error) {
	if days <= 0 {
		days = DefaultUnusedDays
	}
	var out reports.AppScopes
	err := s.store.ReadTx(ctx, func(ctx context.Context) error {
		app, err := s.apps.appByID(ctx, clientID)
		if err != nil {
			return err
		}
		grants, err := s.store.ActiveGrants(ctx, app.ClientID)
		if err != nil {
			return err
		}
		usage, err := s.store.ActiveScopeUsage(ctx, app.ClientID)
		if err != nil {
			return err
		}
		out = reports.ForAppGrants(s.scopes, app, grants, usage, s.now(), days)
		return nil
	})
	return out, err
}

// ScopeChange is the outcome of ChangeAppScopes.
type ScopeChange struct {
	Before, After []string
	Narrowed      bool // something the old registration allowed is no longer allowed
	Widened       bool // something new is allowed (users must consent again)
	// NarrowedAuthorizations counts active authorizations whose grant
	// shrank; RevokedAuthorizations those left with nothing.
	NarrowedAuthorizations int
	RevokedAuthorizations  int
}

// ChangeAppScopes replaces the app's registered scopes (better than the
// hosted service, which cannot). Narrowing narrows every active
// authorization at once, to what it granted that the new registration
// still allows (scope.Intersect), revoking those left with nothing, and
// existing access tokens lose the removed scopes on their next request.
// Widening never widens an authorization: users must consent again.
// One transaction, one audit event. Errors: Invalid scopes; NotFound.
func (s *AppScopeService) ChangeAppScopes(ctx context.Context, clientID string, scopes []string) (ScopeChange, error) {
	ids, err := s.scopes.Validate(scopes)
	if err != nil {
		return ScopeChange{}, err
	}
	var ch ScopeChange
	err = s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.apps.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		now := s.now()
		if ch, err = s.changeScopes(ctx, app, ids, now); err != nil {
			return err
		}
		return s.record(ctx, now, audit.ActionAppScopes, audit.TargetApp, app.ClientID, map[string]any{
			"before": ch.Before, "after": ch.After, "narrowed": ch.Narrowed, "widened": ch.Widened,
			"narrowed_authorizations": ch.NarrowedAuthorizations, "revoked_authorizations": ch.RevokedAuthorizations,
		})
	})
	return ch, err
}

// changeScopes stores the app's new registered scopes ids (validated) and
// narrows its authorizations when they shrank; inside the caller's write
// transaction, which records the audit event.
func (s *AppScopeService) changeScopes(ctx context.Context, app domain.App, ids []string, now time.Time) (ScopeChange, error) {
	ch := ScopeChange{Before: app.Scopes, After: ids}
	for _, old := range app.Scopes {
		ch.Narrowed = ch.Narrowed || !s.scopes.Satisfies(ids, old)
	}
	for _, n := range ids {
		ch.Widened = ch.Widened || !s.scopes.Satisfies(app.Scopes, n)
	}
	if err := s.store.SetAppScopes(ctx, app.ClientID, ids); err != nil {
		return ch, err
	}
	if !ch.Narrowed {
		return ch, nil
	}
	auths, err := s.authz.activeAuthorizations(ctx, domain.AuthorizationFilter{ClientID: app.ClientID})
	if err != nil {
		return ch, err
	}
	usage, err := s.store.ScopeUsage(ctx, app.ClientID, time.Time{})
	if err != nil {
		return ch, err
	}
	byAuth := map[string][]domain.ScopeUsage{}
	for _, u := range usage {
		byAuth[u.AuthorizationID] = append(byAuth[u.AuthorizationID], u)
	}
	for _, z := range auths {
		kept := s.scopes.Intersect(z.Scopes, ids)
		switch {
		case len(kept) == 0:
			if err := s.authz.revokeOne(ctx, z.ID, now, map[string]any{"reason": "registered scopes narrowed"}); err != nil {
				return ch, err
			}
			ch.RevokedAuthorizations++
		case !slices.Equal(kept, z.Scopes):
			if err := s.store.SetAuthorizationScopes(ctx, z.ID, kept); err != nil {
				return ch, err
			}
			// The inventory credits past uses to what the grant still
			// holds that satisfies them (nothing: they drop out).
			for _, u := range byAuth[z.ID] {
				if slices.Contains(kept, u.SatisfiedBy) {
					continue
				}
				if err := s.store.MoveScopeUses(ctx, u.SatisfiedBy, s.scopes.SatisfiedBy(kept, u.Scope), u.Count, u.LastUsedAt); err != nil {
					return ch, err
				}
			}
			ch.NarrowedAuthorizations++
		}
	}
	return ch, s.store.MarkScopesNarrowed(ctx, app.ClientID, now)
}
