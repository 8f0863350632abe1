package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/views"
)

// Scopes is the scopes slice's inventory: every scope in use and who
// holds it (implemented by *admin.ScopeService).
type Scopes interface {
	ScopeInventory(ctx context.Context, unusedDays int, highOnly bool) ([]reports.ScopeRow, error)
	ScopeHoldersPage(ctx context.Context, scope string, authorizations bool, after string, limit int) (admin.ScopeHolders, error)
}

// AppScopes is the scopes slice's side of one app: its scope audit and
// narrowing (implemented by *admin.AppScopeService).
type AppScopes interface {
	AppScopeAudit(ctx context.Context, clientID string, days int) (reports.AppScopes, error)
	ChangeAppScopes(ctx context.Context, clientID string, scopes []string) (admin.ScopeChange, error)
}

func (s *Server) scopeViews(ids []string) []views.ScopeView {
	out := make([]views.ScopeView, 0, len(ids))
	for _, id := range ids {
		sc, ok := s.scopes.Lookup(id)
		if !ok {
			out = append(out, views.ScopeView{ID: id})
			continue
		}
		out = append(out, scopeView(sc))
	}
	return out
}

func daysParam(c echo.Context, name string) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return admin.DefaultUnusedDays, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 3650 {
		return 0, apperr.Errorf(apperr.Invalid, "%s must be a number of days from 1 to 3650", name)
	}
	return n, nil
}

// scopesPage is /admin/scopes?unused_days=90&high=1&q=…: every scope in
// use with maintained counts and a preview of its holders (O(scopes) per
// request; see admin.ScopeInventory).
func (s *Server) scopesPage(c echo.Context) error {
	days, err := daysParam(c, "unused_days")
	if err != nil {
		return err
	}
	high := c.QueryParam("high") == "1"
	rows, err := s.cfg.Scopes.ScopeInventory(c.Request().Context(), days, high)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	p := views.ScopesPage{Nav: s.nav(c, "scopes"), UnusedDays: days, HighOnly: high, Query: q}
	for _, a := range s.APIRoutes() {
		p.APIs = append(p.APIs, views.APIView{Method: a.Method, Path: a.Path, Scope: a.Scope, AdminOnly: a.AdminOnly})
	}
	lq := strings.ToLower(q)
	for _, r := range rows {
		if lq != "" && !strings.Contains(strings.ToLower(r.Scope+" "+r.Name+" "+r.Category), lq) {
			continue
		}
		p.Rows = append(p.Rows, inventoryRow(r))
	}
	s.addPATHolders(p.Rows)
	return render(c, http.StatusOK, views.Scopes(p))
}

func inventoryRow(r reports.ScopeRow) views.ScopeInventoryRow {
	v := views.ScopeInventoryRow{ID: r.Scope, Name: r.Name, Category: r.Category, HighPrivilege: r.HighPrivilege,
		AppCount: r.AppCount, Authorizations: r.Authorizations, Uses: r.Uses, Unused: r.Unused, LastUsed: "never",
		MoreUsers: r.UserCount < 0, DrillURL: "/admin/scopes/" + r.Scope}
	if r.LastUsed != nil {
		v.LastUsed = stamp(*r.LastUsed)
	}
	v.Counts = "Registered directly by " + plural(r.AppCount, "app", "apps") + " · granted directly by " +
		plural(int64(r.Authorizations), "authorization", "authorizations") + " · " +
		plural(r.AppGrants, "app's own grant (client credentials)", "apps' own grants (client credentials)") + " · " + plural(r.Uses, "use", "uses")
	if r.DirectPATs > 0 {
		v.Counts += " · carried by " + plural(r.DirectPATs, "personal access token", "personal access tokens")
	}
	v.AppGrants, v.PATs = r.AppGrants, int(r.PATs)
	apps := r.AppCount
	for _, t := range r.Through {
		apps += t.Apps
		line := "through " + t.Scope + ": " + plural(t.Apps, "app", "apps") + ", " +
			plural(t.Authorizations, "authorization", "authorizations")
		if t.Authorizations > 0 {
			v.AuthorizationsVia = append(v.AuthorizationsVia, strconv.FormatInt(t.Authorizations, 10)+" via "+t.Scope)
		}
		if t.PATs > 0 {
			line += ", " + plural(t.PATs, "personal access token", "personal access tokens")
		}
		v.Through = append(v.Through, line)
	}
	for _, a := range r.Apps {
		v.Apps = append(v.Apps, views.Link{Label: a.Name, URL: "/admin/apps/" + a.ClientID + "/scopes", Via: viaText(a.Via)})
	}
	for _, u := range r.Users {
		v.Users = append(v.Users, views.Link{Label: u.Username, URL: "/admin/users/" + u.ID, Via: viaText(u.Via)})
	}
	v.MoreApps = apps > int64(len(v.Apps))
	return v
}

// viaText is "via vso.code_full" (or "via a, b") for a holding through
// wider scopes, "" for a direct one.
func viaText(via []string) string {
	if len(via) == 0 {
		return ""
	}
	return "via " + strings.Join(via, ", ")
}

// scopeHoldersPage is /admin/scopes/{scope}?tab=apps|authorizations&after=…:
// the apps registered with the scope (with their true active counts) or
// the unrevoked authorizations granting it (with their true states), 50 a
// page, keyset-paginated on the aggregate's primary key.
func (s *Server) scopeHoldersPage(c echo.Context) error {
	sc := c.Param("scope")
	tab := c.QueryParam("tab")
	if tab == "" {
		tab = "apps"
	}
	if tab != "apps" && tab != "authorizations" && (tab != "tokens" || s.pats == nil) {
		return apperr.Errorf(apperr.Invalid, "tab must be apps, authorizations or tokens")
	}
	after := c.QueryParam("after")
	h, err := s.cfg.Scopes.ScopeHoldersPage(c.Request().Context(), sc, tab == "authorizations", after, 50)
	if err != nil {
		return err
	}
	p := views.ScopeHoldersPage{Nav: s.nav(c, "scopes"), Row: inventoryRow(h.Row), Tab: tab}
	rows := []views.ScopeInventoryRow{p.Row}
	s.addPATHolders(rows)
	p.Row = rows[0]
	base := "/admin/scopes/" + url.PathEscape(sc) + "?tab=" + tab
	if after != "" {
		p.FirstURL = base
	}
	if tab == "tokens" {
		if p.NextURL, err = s.scopeTokens(c, sc, after, &p); err != nil {
			return err
		}
	} else if h.Next != "" {
		p.NextURL = base + "&after=" + url.QueryEscape(h.Next)
	}
	for _, a := range h.Apps {
		p.Apps = append(p.Apps, views.ScopeAppRow{ClientID: a.ClientID, Name: a.Name, Company: a.Company, Owner: a.OwnerUsername,
			OwnerID: a.OwnerID, ActiveAuthorizations: a.ActiveAuthorizations, Via: viaText(h.Via[a.ClientID])})
	}
	for _, z := range h.Authorizations {
		p.Authorizations = append(p.Authorizations, views.ScopeAuthorizationRow{ID: z.ID, UserID: z.UserID, Username: z.Username,
			ClientID: z.ClientID, AppName: z.AppName, GrantedAt: day(z.GrantedAt), LastUsed: dayPtr(z.LastUsedAt), Via: viaText(h.Via[z.ID]),
			State: z.State})
	}
	return render(c, http.StatusOK, views.ScopeHolders(p))
}

// scopeTokens fills the tokens tab of a scope's page: one page (50) of
// the live personal access tokens holding sc — carrying it, a scope that
// includes it (scope.Catalog.Holders, as the inventory counts them) or
// full access — newest first; it returns the next page's URL.
func (s *Server) scopeTokens(c echo.Context, sc, after string, p *views.ScopeHoldersPage) (string, error) {
	page, err := s.cfg.PATAdmin.List(c.Request().Context(), domain.PATFilter{Scope: sc, State: domain.PATActive, After: after, Limit: 50})
	if err != nil {
		return "", err
	}
	holders := s.scopes.Holders(sc)
	for _, t := range page.Tokens {
		r := s.patRow(t)
		held := slices.DeleteFunc(slices.Clone(t.Scopes), func(x string) bool { return !slices.Contains(holders, x) })
		holds := "directly"
		switch {
		case t.FullAccess():
			holds = "full access"
		case reports.Via(sc, held) != nil:
			holds = viaText(held)
		}
		p.Tokens = append(p.Tokens, views.ScopeTokenRow{ID: r.ID, Name: r.Name, Display: r.Display, Owner: r.Owner, OwnerID: r.OwnerID,
			Holds: holds, Expires: r.Expires, LastUsed: r.LastUsed})
	}
	p.TokensURL = "/admin/tokens?" + url.Values{"scope": {sc}, "state": {domain.PATActive}}.Encode()
	if page.Next == "" {
		return "", nil
	}
	return "/admin/scopes/" + url.PathEscape(sc) + "?tab=tokens&after=" + url.QueryEscape(page.Next), nil
}

// appScopesPage is /admin/apps/{client_id}/scopes?days=90.
func (s *Server) appScopesPage(c echo.Context) error {
	days, err := daysParam(c, "days")
	if err != nil {
		return err
	}
	return s.renderAppScopes(c, days, nil, "", http.StatusOK)
}

func (s *Server) renderAppScopes(c echo.Context, days int, selected []string, errMsg string, status int) error {
	ctx := c.Request().Context()
	rep, err := s.cfg.AppScopes.AppScopeAudit(ctx, c.Param("client_id"), days)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	form := s.appForm(c, nil, rep.Registered, "")
	if selected != nil {
		form = s.appForm(c, nil, selected, "")
	}
	p := views.AppScopesPage{Nav: s.nav(c, "scopes"), ClientID: rep.ClientID, AppName: rep.Name, Days: rep.Days,
		Registered: s.scopeViews(rep.Registered), Granted: s.scopeViews(rep.Granted), Recommended: s.scopeViews(rep.Recommended),
		Removable: rep.Removable, CanManage: u.Role == domain.RoleAdmin && !rep.Deleted, Groups: form.Groups,
		Selected: form.Selected, Flash: s.sessions.PopString(ctx, sessFlash), Error: errMsg}
	p.Observation, p.Caution = observation(rep)
	for _, x := range rep.Used {
		p.Used = append(p.Used, views.UsedScopeRow{Scope: x.Scope, SatisfiedBy: x.SatisfiedBy, Uses: x.Uses, LastUsed: stamp(x.LastUsed)})
	}
	return render(c, status, views.AppScopes(p))
}

// observation is what a least-privilege recommendation rests on, in
// words, and the caution when the observed period is short ("" when not).
func observation(rep reports.AppScopes) (basis, caution string) {
	basis = "Based on " + plural(rep.Calls, "call", "calls") + " over " + plural(int64(rep.ObservedDays), "day", "days") +
		" since " + day(rep.ObservedSince) + "."
	if rep.ShortObservation {
		caution = "Observed for only " + plural(int64(rep.ObservedDays), "day", "days") + ": scopes the app uses rarely " +
			"(a monthly job, an admin feature) may not have been exercised yet, and narrowing would take them away. " +
			"Consider waiting until it has been observed for " + strconv.Itoa(reports.MinObservationDays) + " days."
	}
	return basis, caution
}

func changeSummary(ch admin.ScopeChange) string {
	msg := "Registered scopes are now " + strings.Join(ch.After, " ") + "."
	if ch.Narrowed {
		msg += " " + plural(int64(ch.NarrowedAuthorizations), "authorization was", "authorizations were") + " narrowed"
		if ch.RevokedAuthorizations > 0 {
			msg += " and " + plural(int64(ch.RevokedAuthorizations), "was", "were") + " revoked (nothing left)"
		}
		msg += "; existing tokens lost the removed scopes."
	}
	if ch.Widened {
		msg += " Users must consent again to the new scopes."
	}
	return msg
}

// appScopesSave is POST /admin/apps/{client_id}/scopes (field scopes, many).
func (s *Server) appScopesSave(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return apperr.Errorf(apperr.Invalid, "The form could not be read.")
	}
	ch, err := s.cfg.AppScopes.ChangeAppScopes(c.Request().Context(), c.Param("client_id"), form["scopes"])
	if apperr.Is(err, apperr.Invalid) {
		return s.renderAppScopes(c, admin.DefaultUnusedDays, form["scopes"], apperr.ErrorMessage(err), http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/apps/"+c.Param("client_id")+"/scopes", changeSummary(ch))
}

func (s *Server) recommendation(c echo.Context) (reports.AppScopes, error) {
	rep, err := s.cfg.AppScopes.AppScopeAudit(c.Request().Context(), c.Param("client_id"), admin.DefaultUnusedDays)
	if err != nil {
		return rep, err
	}
	if len(rep.Recommended) == 0 || len(rep.Removable) == 0 {
		return rep, apperr.Errorf(apperr.Conflict, "There is no narrower recommendation for %s right now.", rep.Name)
	}
	return rep, nil
}

// appScopesNarrowConfirm asks before narrowing to the recommended set.
func (s *Server) appScopesNarrowConfirm(c echo.Context) error {
	rep, err := s.recommendation(c)
	if err != nil {
		return err
	}
	basis, caution := observation(rep)
	imp, err := s.cfg.Authorizations.RevocationImpact(c.Request().Context(), domain.AuthorizationFilter{ClientID: rep.ClientID})
	if err != nil {
		return err
	}
	return s.confirm(c, views.ConfirmPage{Nav: views.Nav{Active: "scopes"}, Title: "Narrow " + rep.Name + " to " + strings.Join(rep.Recommended, " ") + "?",
		Message: "The registration drops " + strings.Join(rep.Removable, " ") + ". Existing authorizations are narrowed at once and existing tokens lose the removed scopes on their next request. " +
			strings.TrimSpace(basis+" "+caution),
		Impact: []string{plural(imp.Authorizations, "active authorization", "active authorizations") + " of " + plural(imp.Users, "user", "users") + " will be narrowed."},
		Action: c.Request().URL.Path, Button: "Narrow scopes", Danger: true, Cancel: "/admin/apps/" + rep.ClientID + "/scopes"})
}

// appScopesNarrow is POST …/scopes/narrow: the audited change to the
// recommended set.
func (s *Server) appScopesNarrow(c echo.Context) error {
	rep, err := s.recommendation(c)
	if err != nil {
		return err
	}
	ch, err := s.cfg.AppScopes.ChangeAppScopes(c.Request().Context(), rep.ClientID, rep.Recommended)
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/apps/"+rep.ClientID+"/scopes", changeSummary(ch))
}
