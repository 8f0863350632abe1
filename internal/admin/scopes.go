package admin

import (
	"context"
	"slices"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
)

// DefaultUnusedDays is the default window of the scope audit: a granted
// scope not used in the last 90 days counts as unused.
const DefaultUnusedDays = 90

// activeAuthorizations returns every active authorization matching f.
func (s *Service) activeAuthorizations(ctx context.Context, f domain.AuthorizationFilter) ([]domain.Authorization, error) {
	f.ActiveOnly, f.Limit = true, 1000
	var out []domain.Authorization
	for {
		page, next, err := s.store.ListAuthorizations(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		f.After = next
	}
}

// ScopeInventory returns one row per scope in use (see
// reports.Inventory), counting a scope unused when it satisfied no API
// call in the last unusedDays days (DefaultUnusedDays when ≤ 0).
func (s *Service) ScopeInventory(ctx context.Context, unusedDays int, highOnly bool) ([]reports.ScopeRow, error) {
	if unusedDays <= 0 {
		unusedDays = DefaultUnusedDays
	}
	var rows []reports.ScopeRow
	err := s.store.ReadTx(ctx, func(ctx context.Context) error {
		var apps []domain.App
		f := domain.AppFilter{Limit: 200}
		for {
			page, err := s.store.ListApps(ctx, f)
			if err != nil {
				return err
			}
			apps = append(apps, page.Apps...)
			if page.Next == "" {
				break
			}
			f.After = page.Next
		}
		auths, err := s.activeAuthorizations(ctx, domain.AuthorizationFilter{})
		if err != nil {
			return err
		}
		usage, err := s.store.ScopeUsage(ctx, "", time.Time{})
		if err != nil {
			return err
		}
		rows = reports.Inventory(s.scopes, apps, auths, usage, s.now(), unusedDays, highOnly)
		return nil
	})
	return rows, err
}

// AppScopeAudit returns the scope audit of one app over the last days days
// (DefaultUnusedDays when ≤ 0). Errors: NotFound.
func (s *Service) AppScopeAudit(ctx context.Context, clientID string, days int) (reports.AppScopes, error) {
	if days <= 0 {
		days = DefaultUnusedDays
	}
	var out reports.AppScopes
	err := s.store.ReadTx(ctx, func(ctx context.Context) error {
		d, err := s.App(ctx, clientID)
		if err != nil {
			return err
		}
		auths, err := s.activeAuthorizations(ctx, domain.AuthorizationFilter{ClientID: d.App.ClientID})
		if err != nil {
			return err
		}
		usage, err := s.store.ScopeUsage(ctx, d.App.ClientID, time.Time{})
		if err != nil {
			return err
		}
		out = reports.ForApp(s.scopes, d.App, auths, usage, s.now(), days)
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
func (s *Service) ChangeAppScopes(ctx context.Context, clientID string, scopes []string) (ScopeChange, error) {
	ids, err := s.scopes.Validate(scopes)
	if err != nil {
		return ScopeChange{}, err
	}
	var ch ScopeChange
	err = s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		now := s.now()
		ch = ScopeChange{Before: app.Scopes, After: ids}
		for _, old := range app.Scopes {
			ch.Narrowed = ch.Narrowed || !s.scopes.Satisfies(ids, old)
		}
		for _, n := range ids {
			ch.Widened = ch.Widened || !s.scopes.Satisfies(app.Scopes, n)
		}
		if err := s.store.SetAppScopes(ctx, app.ClientID, ids); err != nil {
			return err
		}
		if ch.Narrowed {
			auths, err := s.activeAuthorizations(ctx, domain.AuthorizationFilter{ClientID: app.ClientID})
			if err != nil {
				return err
			}
			for _, z := range auths {
				kept := s.scopes.Intersect(z.Scopes, ids)
				switch {
				case len(kept) == 0:
					if err := s.revokeOne(ctx, z.ID, now, map[string]any{"reason": "registered scopes narrowed"}); err != nil {
						return err
					}
					ch.RevokedAuthorizations++
				case !slices.Equal(kept, z.Scopes):
					if err := s.store.SetAuthorizationScopes(ctx, z.ID, kept); err != nil {
						return err
					}
					ch.NarrowedAuthorizations++
				}
			}
			if err := s.store.MarkScopesNarrowed(ctx, app.ClientID, now); err != nil {
				return err
			}
		}
		return s.record(ctx, now, audit.ActionAppScopes, audit.TargetApp, app.ClientID, map[string]any{
			"before": ch.Before, "after": ch.After, "narrowed": ch.Narrowed, "widened": ch.Widened,
			"narrowed_authorizations": ch.NarrowedAuthorizations, "revoked_authorizations": ch.RevokedAuthorizations,
		})
	})
	return ch, err
}
