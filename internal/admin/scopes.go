package admin

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// ScopeStore reads who holds which scopes (the scope inventory).
type ScopeStore interface {
	ReadTx(ctx context.Context, fn func(ctx context.Context) error) error
	ScopeStats(ctx context.Context) ([]domain.ScopeStat, error)
	ScopeApps(ctx context.Context, scopes []string, after string, limit int) ([]domain.App, map[string][]string, string, error)
	ScopeAuthorizations(ctx context.Context, scopes []string, after string, limit int) ([]domain.Authorization, map[string][]string, string, error)
	ScopeUsers(ctx context.Context, scopes []string, after string, limit int) ([]domain.User, map[string][]string, string, error)
	// WalkDirectScopeHolders streams every direct holder of each of
	// scopes, grouped by scope in their order (the scope report).
	WalkDirectScopeHolders(ctx context.Context, scopes []string, fn func(pos int, user bool, id, name string) error) error
	// ScopePreviews names the first limit holders of each set of scopes
	// (the inventory page), in a few queries whatever the number of sets.
	ScopePreviews(ctx context.Context, sets [][]string, limit int) ([]domain.ScopePreview, error)
	// PATScopeCombos counts the live personal access tokens (unrevoked,
	// unexpired at now, of active users) per distinct scope set, as stored.
	PATScopeCombos(ctx context.Context, now time.Time) (map[string]int, error)
}

// ScopeService is the scopes slice's inventory: every scope in use, who
// holds it, and the scope report.
type ScopeService struct {
	store  ScopeStore
	now    func() time.Time
	scopes *scope.Catalog
}

// DefaultUnusedDays is the default window of the scope audit: a granted
// scope not used in the last 90 days counts as unused.
const DefaultUnusedDays = 90

// ScopePreview is how many holders of each kind the inventory page names
// per scope; the rest are one click away (ScopeHolders).
const ScopePreview = 3

// ScopeInventory returns one row per scope in use (see
// reports.Inventory), counting a scope unused when it satisfied no API
// call in the last unusedDays days (DefaultUnusedDays when ≤ 0). Each row
// names up to ScopePreview apps and users; the counts are the maintained
// aggregates, so the cost is O(scopes), whatever the number of apps and
// authorizations.
func (s *ScopeService) ScopeInventory(ctx context.Context, unusedDays int, highOnly bool) ([]reports.ScopeRow, error) {
	return s.scopeInventory(ctx, unusedDays, highOnly, ScopePreview, nil)
}

// ScopeReport calls fn with each row of the scope inventory (as
// ScopeInventory), every holder named, one row at a time: memory holds one
// row's holders, never the authorizations.
func (s *ScopeService) ScopeReport(ctx context.Context, unusedDays int, highOnly bool, fn func(reports.ScopeRow) error) error {
	_, err := s.scopeInventory(ctx, unusedDays, highOnly, 0, fn)
	return err
}

// scopeInventory builds the rows; preview > 0 names that many holders per
// row and returns the rows, otherwise every holder is named and each row
// goes to fn as soon as it is complete.
func (s *ScopeService) scopeInventory(ctx context.Context, unusedDays int, highOnly bool, preview int, fn func(reports.ScopeRow) error) ([]reports.ScopeRow, error) {
	if unusedDays <= 0 {
		unusedDays = DefaultUnusedDays
	}
	var out []reports.ScopeRow
	err := s.store.ReadTx(ctx, func(ctx context.Context) error {
		rows, err := s.inventory(ctx, unusedDays, highOnly)
		if err != nil {
			return err
		}
		if preview <= 0 {
			return s.scopeReportRows(ctx, rows, fn)
		}
		if fn == nil {
			out, err = s.scopePreviewRows(ctx, rows, preview)
			return err
		}
		for _, r := range rows {
			limit := preview
			if limit <= 0 {
				limit = 1000
			}
			holders := s.scopes.Holders(r.Scope)
			for after := ""; ; {
				apps, held, next, err := s.store.ScopeApps(ctx, holders, after, limit)
				if err != nil {
					return err
				}
				for _, a := range apps {
					r.Apps = append(r.Apps, reports.AppRef{ClientID: a.ClientID, Name: a.Name, Via: reports.Via(r.Scope, held[a.ClientID])})
				}
				if next == "" || preview > 0 {
					break
				}
				after = next
			}
			for after := ""; ; {
				users, held, next, err := s.store.ScopeUsers(ctx, holders, after, limit)
				if err != nil {
					return err
				}
				for _, u := range users {
					r.Users = append(r.Users, reports.UserRef{ID: u.ID, Username: u.Username, Via: reports.Via(r.Scope, held[u.ID])})
				}
				if next == "" {
					// Every holder was read: the count is exact (a
					// preview of exactly ScopePreview users is complete).
					r.UserCount = int64(len(r.Users))
					break
				}
				if preview > 0 {
					break
				}
				after = next
			}
			slices.SortFunc(r.Users, func(a, b reports.UserRef) int { return strings.Compare(a.Username, b.Username) })
			if fn == nil {
				out = append(out, r)
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// inventory is reports.Inventory over the maintained aggregates and the
// live personal access tokens' scope sets, with each row's token holders
// (reports.PATHolders): the one definition of "holds" for the inventory,
// a scope's page and the scope report.
func (s *ScopeService) inventory(ctx context.Context, unusedDays int, highOnly bool) ([]reports.ScopeRow, error) {
	stats, err := s.store.ScopeStats(ctx)
	if err != nil {
		return nil, err
	}
	sets, err := s.store.PATScopeCombos(ctx, s.now())
	if err != nil {
		return nil, err
	}
	pats := reports.CountPATs(s.scopes, sets)
	rows := reports.Inventory(s.scopes, reports.WithPATs(stats, pats), s.now(), unusedDays, highOnly)
	reports.PATHolders(rows, pats)
	return rows, nil
}

// scopePreviewRows names the first preview holders of each kind on every
// row, all rows at once (ScopePreviews: four queries, not four per row).
func (s *ScopeService) scopePreviewRows(ctx context.Context, rows []reports.ScopeRow, preview int) ([]reports.ScopeRow, error) {
	sets := make([][]string, len(rows))
	for i, r := range rows {
		sets[i] = s.scopes.Holders(r.Scope)
	}
	previews, err := s.store.ScopePreviews(ctx, sets, preview)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		r, p := &rows[i], previews[i]
		for _, a := range p.Apps {
			r.Apps = append(r.Apps, reports.AppRef{ClientID: a.ClientID, Name: a.Name, Via: reports.Via(r.Scope, p.AppsHeld[a.ClientID])})
		}
		for _, u := range p.Users {
			r.Users = append(r.Users, reports.UserRef{ID: u.ID, Username: u.Username, Via: reports.Via(r.Scope, p.UsersHeld[u.ID])})
		}
		if !p.MoreUsers {
			// Every holder was read: the count is exact (a preview of
			// exactly preview users is complete).
			r.UserCount = int64(len(r.Users))
		}
		slices.SortFunc(r.Users, func(a, b reports.UserRef) int { return strings.Compare(a.Username, b.Username) })
	}
	return rows, nil
}

// scopeReportRows names every direct holder of each row (one read per
// kind for the whole report, WalkDirectScopeHolders) and hands each row
// to fn as soon as its holders are read. A holder through a wider scope is
// named in that scope's row, which the narrower row's Through names (the
// definition of scope.Catalog.Holders, as on /admin/scopes): each holder
// appears once per scope it holds directly, not once per scope it implies.
func (s *ScopeService) scopeReportRows(ctx context.Context, rows []reports.ScopeRow, fn func(reports.ScopeRow) error) error {
	scopes := make([]string, len(rows))
	for i, r := range rows {
		scopes[i] = r.Scope
	}
	next := 0
	emit := func(upTo int) error {
		for ; next < upTo; next++ {
			r := rows[next]
			r.UserCount = int64(len(r.Users))
			rows[next] = reports.ScopeRow{} // its holders are written: not kept
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	err := s.store.WalkDirectScopeHolders(ctx, scopes, func(pos int, user bool, id, name string) error {
		if err := emit(pos); err != nil {
			return err
		}
		r := &rows[pos]
		if user {
			r.Users = append(r.Users, reports.UserRef{ID: id, Username: name})
		} else {
			r.Apps = append(r.Apps, reports.AppRef{ClientID: id, Name: name})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return emit(len(rows))
}

// ScopeHolders is one page of a scope's drill-down: the apps that
// register it, or the active authorizations that grant it, directly or
// through a scope that includes it. Via maps a client id or authorization
// id to the including scopes it holds the scope through (absent: direct).
type ScopeHolders struct {
	Row            reports.ScopeRow
	Apps           []domain.App
	Authorizations []domain.Authorization
	Via            map[string][]string
	Next           string // the cursor of the next page, "" on the last
}

// ScopeHoldersPage returns the inventory row of scope and one page
// (limit, default 50) of its apps (authorizations false) or active
// authorizations, direct or through an including scope, after the cursor
// after. Errors: NotFound when no app or active authorization holds scope,
// directly or through another.
func (s *ScopeService) ScopeHoldersPage(ctx context.Context, scope string, authorizations bool, after string, limit int) (ScopeHolders, error) {
	if limit <= 0 {
		limit = 50
	}
	var out ScopeHolders
	err := s.store.ReadTx(ctx, func(ctx context.Context) error {
		rows, err := s.inventory(ctx, DefaultUnusedDays, false)
		if err != nil {
			return err
		}
		found := false
		for _, r := range rows {
			if r.Scope == scope {
				out.Row, found = r, true
			}
		}
		if !found {
			return apperr.Errorf(apperr.NotFound, "No app, active authorization or personal access token holds the scope %q, directly or through a scope that includes it.", scope)
		}
		var held map[string][]string
		if authorizations {
			out.Authorizations, held, out.Next, err = s.store.ScopeAuthorizations(ctx, s.scopes.Holders(scope), after, limit)
		} else {
			out.Apps, held, out.Next, err = s.store.ScopeApps(ctx, s.scopes.Holders(scope), after, limit)
		}
		out.Via = map[string][]string{}
		for k, h := range held {
			if via := reports.Via(scope, h); via != nil {
				out.Via[k] = via
			}
		}
		return err
	})
	return out, err
}
