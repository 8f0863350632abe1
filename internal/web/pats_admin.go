package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/pat"
	"github.com/oauthdesk/oauthdesk/views"
)

// PATAdmin is everyone's tokens as administrators see them on
// /admin/tokens (also the user page, the scope inventory, the reports
// page and the Token Admin API): list, count and revoke, one by one or
// in bulk (implemented by *pat.TokenService).
type PATAdmin interface {
	Get(ctx context.Context, id, ownerID string) (domain.PAT, error)
	List(ctx context.Context, f domain.PATFilter) (domain.PATPage, error)
	Count(ctx context.Context, f domain.PATFilter, max int) (int, error)
	Revoke(ctx context.Context, id, ownerID string) (bool, error)
	RevokeIDs(ctx context.Context, ids []string, by string) (int, error)
	RevokeWhere(ctx context.Context, f domain.PATFilter, max int) (int, error)
}

// PATPolicies is the organization's token policies on /admin/settings
// and the live tokens that break them (implemented by
// *pat.PolicyService); /profile/tokens reads them too.
type PATPolicies interface {
	Policy(ctx context.Context) (pat.Policy, error)
	PolicyWithAllowlist(ctx context.Context) (pat.Policy, error)
	SetMaxLifespan(ctx context.Context, days int) error
	SetFullScope(ctx context.Context, v string) error
	SetCreation(ctx context.Context, v string) error
	SetAllowed(ctx context.Context, username string, allowed bool) error
	Violations(ctx context.Context) ([]pat.Violation, int, error)
	RevokeViolations(ctx context.Context) (int, error)
}

// maxBulkRevoke bounds one bulk revocation from /admin/tokens.
const maxBulkRevoke = 100_000

// adminTokenFilter reads /admin/tokens' filters: q, owner (username),
// scope, state, expiring (days), full, unused (days).
func (s *Server) adminTokenFilter(c echo.Context, q url.Values) (domain.PATFilter, views.AdminPATsPage, error) {
	f := domain.PATFilter{Query: strings.TrimSpace(q.Get("q")), Scope: strings.TrimSpace(q.Get("scope")), State: q.Get("state"),
		FullAccess: q.Get("full") == "1", Limit: 100}
	p := views.AdminPATsPage{Query: f.Query, Owner: strings.TrimSpace(q.Get("owner")), Scope: f.Scope, State: f.State,
		Expiring: q.Get("expiring"), Full: f.FullAccess, Unused: q.Get("unused") != ""}
	switch f.State {
	case "", domain.PATActive, domain.PATExpired, domain.PATRevoked:
	default:
		return f, p, apperr.Errorf(apperr.Invalid, "state must be active, expired or revoked")
	}
	if p.Expiring != "" {
		n, err := strconv.Atoi(p.Expiring)
		if err != nil || n < 1 || n > 3650 {
			return f, p, apperr.Errorf(apperr.Invalid, "Expiring within must be a number of days from 1 to 3650.")
		}
		f.ExpiringDays = n
		f.Sort = "expires" // soonest first, along the live-expiry index
	}
	if f.State == domain.PATExpired && f.ExpiringDays == 0 {
		// Most recently expired first, backwards along the live-expiry
		// index from now (newest-created first would walk every live token
		// to reach the old, expired ones).
		f.Sort, f.Asc = "expires", true
	}
	if p.Unused {
		// unused=N: not used in the last N days (the form's box sends 90).
		n, err := strconv.Atoi(q.Get("unused"))
		if err != nil || n < 1 || n > 3650 {
			return f, p, apperr.Errorf(apperr.Invalid, "Not used within must be a number of days from 1 to 3650.")
		}
		f.UnusedDays = n
	}
	if p.Owner != "" {
		// One lookup by username, not the users list (which counts each
		// listed user's active authorizations).
		u, err := s.cfg.Users.UserByUsername(c.Request().Context(), p.Owner)
		switch {
		case apperr.Is(err, apperr.NotFound):
			f.UserID = "\x00none" // an unknown owner matches nothing
		case err != nil:
			return f, p, err
		default:
			f.UserID = u.ID
		}
	}
	v := url.Values{}
	for _, k := range []string{"q", "owner", "scope", "state", "expiring", "full", "unused"} {
		if x := q.Get(k); x != "" {
			v.Set(k, x)
		}
	}
	p.FilterQS = v.Encode()
	return f, p, nil
}

// adminTokens is GET /admin/tokens: every personal access token with its
// owner, scopes, expiry and last use; search, filters and keyset pages.
func (s *Server) adminTokens(c echo.Context) error {
	ctx := c.Request().Context()
	f, p, err := s.adminTokenFilter(c, c.QueryParams())
	if err != nil {
		return err
	}
	f.After = c.QueryParam("after")
	page, err := s.cfg.PATAdmin.List(ctx, f)
	if err != nil {
		return err
	}
	me, _ := currentUser(c)
	p.Nav, p.Flash, p.CanManage = s.nav(c, "admin-tokens"), s.sessions.PopString(ctx, sessFlash), me.Role == domain.RoleAdmin
	for _, t := range page.Tokens {
		p.Tokens = append(p.Tokens, s.patRow(t))
	}
	if page.Next != "" {
		v, _ := url.ParseQuery(p.FilterQS)
		v.Set("after", page.Next)
		p.Next = "/admin/tokens?" + v.Encode()
	}
	switch {
	case len(page.Tokens) == 0:
	case page.Next == "" && f.After == "":
		p.Matching = plural(int64(len(page.Tokens)), "token matches.", "tokens match.")
	default:
		p.Matching = "Showing " + strconv.Itoa(len(page.Tokens)) + " tokens per page."
	}
	return render(c, http.StatusOK, views.AdminPATs(p))
}

// adminTokenRevokeConfirm is GET /admin/tokens/{id}/revoke.
func (s *Server) adminTokenRevokeConfirm(c echo.Context) error {
	t, err := s.cfg.PATAdmin.Get(c.Request().Context(), c.Param("id"), "")
	if err != nil {
		return err
	}
	list, _ := s.cfg.PATAdmin.List(c.Request().Context(), domain.PATFilter{ID: t.ID})
	owner := t.UserID
	if len(list.Tokens) == 1 {
		owner = list.Tokens[0].Username
	}
	p := views.ConfirmPage{Nav: s.nav(c, "admin-tokens"), Title: "Revoke " + owner + "'s token " + t.Name + "?",
		Message: "Scripts and tools using " + t.Display + " are refused from their next request on. " + owner + " is not told; this cannot be undone.",
		Action:  c.Request().URL.Path, Button: "Revoke", Danger: true, Cancel: "/admin/tokens"}
	return render(c, http.StatusOK, views.Confirm(p))
}

// adminTokenRevoke is POST /admin/tokens/{id}/revoke.
func (s *Server) adminTokenRevoke(c echo.Context) error {
	t, err := s.cfg.PATAdmin.Get(c.Request().Context(), c.Param("id"), "")
	if err != nil {
		return err
	}
	if _, err := s.cfg.PATAdmin.Revoke(c.Request().Context(), t.ID, ""); err != nil {
		return err
	}
	return s.flashTo(c, "/admin/tokens", "Token "+t.Name+" revoked.")
}

// bulkSelection reads a bulk revocation: mode "selected" (the id values)
// or "all" (every live token the filter query string selects).
func (s *Server) bulkSelection(c echo.Context) (mode string, ids []string, f domain.PATFilter, qs string, err error) {
	form, _ := c.FormParams()
	if c.Request().Method == http.MethodGet {
		form = c.QueryParams()
	}
	mode, qs = form.Get("mode"), form.Get("filter")
	fq, err := url.ParseQuery(qs)
	if err != nil {
		return "", nil, f, "", apperr.Errorf(apperr.Invalid, "The filter is not valid.")
	}
	f, _, err = s.adminTokenFilter(c, fq)
	if err != nil {
		return "", nil, f, "", err
	}
	f.State = domain.PATActive
	switch mode {
	case "selected":
		ids = form["id"]
		if len(ids) == 0 {
			return "", nil, f, "", apperr.Errorf(apperr.Invalid, "Select the tokens to revoke first.")
		}
		if len(ids) > 1000 {
			return "", nil, f, "", apperr.Errorf(apperr.Invalid, "Select at most 1000 tokens, or revoke all matching.")
		}
	case "all":
	default:
		return "", nil, f, "", apperr.Errorf(apperr.Invalid, "Choose the selected tokens or all matching ones.")
	}
	return mode, ids, f, qs, nil
}

// adminTokensBulkConfirm is GET /admin/tokens/revoke: the impact preview
// ("revoke all of bob's 12 tokens") before a bulk revocation.
func (s *Server) adminTokensBulkConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	mode, ids, f, qs, err := s.bulkSelection(c)
	if err != nil {
		return err
	}
	var impact []string
	n := len(ids)
	owners := map[string]int{}
	if mode == "all" {
		if n, err = s.cfg.PATAdmin.Count(ctx, f, maxBulkRevoke); err != nil {
			return err
		}
		page, err := s.cfg.PATAdmin.List(ctx, domain.PATFilter{UserID: f.UserID, Query: f.Query, Scope: f.Scope, State: domain.PATActive,
			ExpiringDays: f.ExpiringDays, FullAccess: f.FullAccess, UnusedDays: f.UnusedDays, Limit: 1000})
		if err != nil {
			return err
		}
		for _, t := range page.Tokens {
			owners[t.Username]++
		}
	} else {
		for _, id := range ids {
			if list, err := s.cfg.PATAdmin.List(ctx, domain.PATFilter{ID: id, State: domain.PATActive}); err == nil && len(list.Tokens) == 1 {
				owners[list.Tokens[0].Username]++
			}
		}
	}
	if n > maxBulkRevoke {
		return apperr.Errorf(apperr.Invalid, "More than %d tokens match: narrow the filters first.", maxBulkRevoke)
	}
	title := "Revoke " + plural(int64(n), "token", "tokens") + "?"
	if len(owners) == 1 {
		for o := range owners {
			title = fmt.Sprintf("Revoke all of %s's %s?", o, plural(int64(n), "token", "tokens"))
			if mode == "selected" {
				title = fmt.Sprintf("Revoke %d of %s's tokens?", n, o)
			}
		}
	}
	for o, k := range owners {
		impact = append(impact, fmt.Sprintf("%s: %d token(s)", o, k))
		if len(impact) == 20 {
			impact = append(impact, "…")
			break
		}
	}
	action := "/admin/tokens/revoke?" + url.Values{"mode": {mode}, "filter": {qs}, "id": ids}.Encode()
	p := views.ConfirmPage{Nav: s.nav(c, "admin-tokens"), Title: title,
		Message: "Every script or tool using these tokens is refused from its next request on. This cannot be undone.",
		Impact:  impact, Action: action, Button: "Revoke", Danger: true, Cancel: "/admin/tokens?" + qs}
	return render(c, http.StatusOK, views.Confirm(p))
}

// adminTokensBulkRevoke is POST /admin/tokens/revoke.
func (s *Server) adminTokensBulkRevoke(c echo.Context) error {
	ctx := c.Request().Context()
	mode, ids, f, qs, err := s.bulkSelection(c)
	if err != nil {
		return err
	}
	var n int
	if mode == "all" {
		n, err = s.cfg.PATAdmin.RevokeWhere(ctx, f, maxBulkRevoke)
	} else {
		n, err = s.cfg.PATAdmin.RevokeIDs(ctx, ids, pat.ByAdmin)
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/tokens?"+qs, fmt.Sprintf("Revoked %d token(s).", n))
}

// tokenPolicyView is the settings page's token section (nil when off).
func (s *Server) tokenPolicyView(c echo.Context) (*views.PATPolicyView, error) {
	if s.pats == nil {
		return nil, nil
	}
	ctx := c.Request().Context()
	p, err := s.cfg.PATPolicies.PolicyWithAllowlist(ctx)
	if err != nil {
		return nil, err
	}
	v := &views.PATPolicyView{MaxLifespanDays: p.MaxLifespanDays, FullScopeDenied: p.FullScopeDenied, CreationAllowlist: p.CreationAllowlist, Allowlist: p.Allowlist}
	list, n, err := s.cfg.PATPolicies.Violations(ctx)
	if err != nil {
		return nil, err
	}
	v.ViolationCount = n
	for i, x := range list {
		if i == 100 {
			break
		}
		v.Violations = append(v.Violations, views.PATViolation{Token: s.patRow(x.PAT), Policy: x.Policy})
	}
	return v, nil
}

// settingsPATPolicy is POST /admin/settings/pat-policy: the three token
// policies at once (each change audited).
func (s *Server) settingsPATPolicy(c echo.Context) error {
	ctx := c.Request().Context()
	days, err := strconv.Atoi(strings.TrimSpace(c.FormValue("max_lifespan")))
	if err != nil {
		return s.renderSettings(c, "The maximum lifespan must be a number of days (0: one year).", http.StatusUnprocessableEntity)
	}
	cur, err := s.cfg.PATPolicies.Policy(ctx)
	if err != nil {
		return err
	}
	if days != cur.MaxLifespanDays {
		if err := s.cfg.PATPolicies.SetMaxLifespan(ctx, days); err != nil {
			if apperr.ErrorCode(err) == apperr.Invalid {
				return s.renderSettings(c, apperr.ErrorMessage(err), http.StatusUnprocessableEntity)
			}
			return err
		}
	}
	if deny := c.FormValue("full_scope_deny") == "1"; deny != cur.FullScopeDenied {
		if err := s.cfg.PATPolicies.SetFullScope(ctx, map[bool]string{true: "deny", false: "allow"}[deny]); err != nil {
			return err
		}
	}
	if al := c.FormValue("creation_allowlist") == "1"; al != cur.CreationAllowlist {
		if err := s.cfg.PATPolicies.SetCreation(ctx, map[bool]string{true: "allowlist", false: "everyone"}[al]); err != nil {
			return err
		}
	}
	return s.flashTo(c, "/admin/settings", "Personal access token policies saved.")
}

// settingsPATAllowlistConfirm is GET
// /admin/settings/pat-allowlist?username=…&action=add|remove: what adding
// the user to or removing them from the token creation allowlist means
// under the creation policy in force, before it is done.
func (s *Server) settingsPATAllowlistConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	name := strings.TrimSpace(c.QueryParam("username"))
	add := c.QueryParam("action") != "remove"
	if name == "" {
		return s.renderSettings(c, "Type the username to add to or remove from the token allowlist.", http.StatusUnprocessableEntity)
	}
	p, err := s.cfg.PATPolicies.PolicyWithAllowlist(ctx)
	if err != nil {
		return err
	}
	on := slices.ContainsFunc(p.Allowlist, func(u string) bool { return strings.EqualFold(u, name) })
	cp := views.ConfirmPage{Nav: views.Nav{Active: "settings"}, Action: "/admin/settings/pat-allowlist", Cancel: "/admin/settings",
		Hidden: []views.HiddenField{{Name: "username", Value: name}, {Name: "action", Value: map[bool]string{true: "add", false: "remove"}[add]}}}
	policy := "Creation is open to everyone now (pat-creation everyone), so this matters only once creation is limited to the allowlist."
	if add {
		u, err := s.cfg.Users.UserByUsername(ctx, name)
		if apperr.Is(err, apperr.NotFound) {
			return s.renderSettings(c, "There is no user "+name+".", http.StatusUnprocessableEntity)
		}
		if err != nil {
			return err
		}
		if on {
			return s.flashTo(c, "/admin/settings", u.Username+" is already on the token allowlist.")
		}
		cp.Title, cp.Button = "Add "+u.Username+" to the token allowlist?", "Add to allowlist"
		cp.Message = u.Username + " may create personal access tokens while creation is limited to the allowlist."
		if p.CreationAllowlist {
			cp.Message = u.Username + " may create personal access tokens from now on: creation is limited to the allowlist, and " + u.Username + " joins it."
			policy = ""
		}
	} else {
		if !on {
			return s.flashTo(c, "/admin/settings", name+" is not on the token allowlist.")
		}
		cp.Title, cp.Button, cp.Danger = "Remove "+name+" from the token allowlist?", "Remove from allowlist", true
		cp.Message = name + " may no longer create personal access tokens once creation is limited to the allowlist. The tokens " + name + " already has keep working until revoked or expired."
		if p.CreationAllowlist {
			cp.Message = name + " can no longer create personal access tokens: creation is limited to the allowlist. The tokens " + name + " already has keep working until revoked or expired."
			policy = ""
		}
	}
	if policy != "" {
		cp.Impact = []string{policy}
	}
	return s.confirm(c, cp)
}

// settingsPATAllowlist is POST /admin/settings/pat-allowlist (after its
// confirmation).
func (s *Server) settingsPATAllowlist(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("username"))
	add := c.FormValue("action") != "remove"
	if err := s.cfg.PATPolicies.SetAllowed(c.Request().Context(), name, add); err != nil {
		if apperr.ErrorCode(err) == apperr.NotFound {
			return s.renderSettings(c, apperr.ErrorMessage(err), http.StatusUnprocessableEntity)
		}
		return err
	}
	if add {
		return s.flashTo(c, "/admin/settings", name+" may create personal access tokens.")
	}
	return s.flashTo(c, "/admin/settings", name+" is off the allowlist.")
}

// settingsPATViolationsRevoke is POST /admin/settings/pat-violations/revoke:
// the one click that revokes the tokens a tightened policy listed.
func (s *Server) settingsPATViolationsRevoke(c echo.Context) error {
	n, err := s.cfg.PATPolicies.RevokeViolations(c.Request().Context())
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/settings", fmt.Sprintf("Revoked %d token(s) that broke the policies.", n))
}

// addPATHolders links the scope inventory's personal access token column
// (counted by admin.ScopeInventory) to the tokens list, or marks it absent
// (-1) when the token slice is off.
func (s *Server) addPATHolders(rows []views.ScopeInventoryRow) {
	for i := range rows {
		if s.pats == nil {
			rows[i].PATs = -1
			continue
		}
		rows[i].PATsURL = "/admin/scopes/" + url.PathEscape(rows[i].ID) + "?tab=tokens"
	}
}

// settingsPATPolicyConfirm is GET /admin/settings/pat-policy?max_lifespan=…
// &full_scope_deny=1&creation_allowlist=1: each policy the form changes and
// what it does, before it is saved. Tightening revokes nothing.
func (s *Server) settingsPATPolicyConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	days, err := strconv.Atoi(strings.TrimSpace(c.QueryParam("max_lifespan")))
	if err != nil || days < 0 || days > 365 {
		return s.renderSettings(c, "The maximum lifespan must be a number of days from 0 to 365 (0: one year).", http.StatusUnprocessableEntity)
	}
	cur, err := s.cfg.PATPolicies.Policy(ctx)
	if err != nil {
		return err
	}
	deny, allow := c.QueryParam("full_scope_deny") == "1", c.QueryParam("creation_allowlist") == "1"
	lifespan := func(d int) string {
		if d == 0 {
			return "one year"
		}
		return plural(int64(d), "day", "days")
	}
	var impact []string
	if days != cur.MaxLifespanDays {
		impact = append(impact, "New tokens will live at most "+lifespan(days)+" (now "+lifespan(cur.MaxLifespanDays)+"); existing tokens keep their expiry.")
	}
	if deny != cur.FullScopeDenied {
		if deny {
			impact = append(impact, "New full-access tokens will be refused; existing ones keep working until revoked or expired.")
		} else {
			impact = append(impact, "Users may create full-access tokens again.")
		}
	}
	if allow != cur.CreationAllowlist {
		if allow {
			impact = append(impact, "Only users on the allowlist will be able to create tokens; everyone's existing tokens keep working.")
		} else {
			impact = append(impact, "Every user will be able to create tokens again.")
		}
	}
	msg := "These personal access token policies change:"
	if len(impact) == 0 {
		msg, impact = "Nothing changes: these are the current policies.", nil
	} else {
		impact = append(impact, "Tokens that break a tightened policy are listed on the settings page, where you may revoke them.")
	}
	return s.confirm(c, views.ConfirmPage{Nav: views.Nav{Active: "settings"}, Title: "Save the personal access token policies?", Message: msg,
		Impact: impact, Action: "/admin/settings/pat-policy", Button: "Save policies", Cancel: "/admin/settings",
		Hidden: []views.HiddenField{{Name: "max_lifespan", Value: strconv.Itoa(days)}, {Name: "full_scope_deny", Value: map[bool]string{true: "1"}[deny]},
			{Name: "creation_allowlist", Value: map[bool]string{true: "1"}[allow]}}})
}

// settingsPATViolationsConfirm is GET /admin/settings/pat-violations/revoke:
// how many tokens the revocation stops, before it is done.
func (s *Server) settingsPATViolationsConfirm(c echo.Context) error {
	_, n, err := s.cfg.PATPolicies.Violations(c.Request().Context())
	if err != nil {
		return err
	}
	return s.confirm(c, views.ConfirmPage{Nav: views.Nav{Active: "settings"}, Title: "Revoke " + plural(int64(n), "token", "tokens") + " that break the policies?",
		Message: "Each is refused on its next request; its owner sees it revoked and may create a new one within the policies.",
		Action:  "/admin/settings/pat-violations/revoke", Button: "Revoke " + plural(int64(n), "token", "tokens"), Danger: true, Cancel: "/admin/settings"})
}
