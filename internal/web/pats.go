package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/pat"
	"github.com/oauthdesk/oauthdesk/views"
)

// PATs is the tokens a person manages on /profile/tokens and through the
// Lifecycle API (pats_api.go), their own only (implemented by
// *pat.TokenService).
type PATs interface {
	Create(ctx context.Context, u domain.User, req pat.Request) (pat.Created, error)
	Get(ctx context.Context, id, ownerID string) (domain.PAT, error)
	List(ctx context.Context, f domain.PATFilter) (domain.PATPage, error)
	Update(ctx context.Context, id, ownerID string, req pat.Request) (domain.PAT, error)
	Revoke(ctx context.Context, id, ownerID string) (bool, error)
}

// PATNotices is the banner telling a person about their tokens (a leaked
// one revoked, one about to expire; implemented by *pat.NoticeService).
type PATNotices interface {
	Notices(ctx context.Context, userID string) ([]domain.PATNotice, error)
	DismissNotices(ctx context.Context, userID string) error
}

// PATUsage batches personal access tokens' last uses (implemented by
// *oauth.Usage).
type PATUsage interface {
	RecordPAT(id string, at time.Time, addr string)
}

// relDays says when t is relative to now in whole days: "in 12 days",
// "today", "expired 3 days ago".
func relDays(t, now time.Time) string {
	d := t.Sub(now)
	days := int(d.Hours() / 24)
	switch {
	case d > 0 && days == 0:
		return "today"
	case d > 0 && days == 1:
		return "in 1 day"
	case d > 0:
		return fmt.Sprintf("in %d days", days)
	case -days == 0:
		return "expired today"
	case -days == 1:
		return "expired 1 day ago"
	}
	return fmt.Sprintf("expired %d days ago", -days)
}

func (s *Server) patRow(p domain.PAT) views.PATRow {
	now := s.now()
	r := views.PATRow{ID: p.ID, Name: p.Name, Owner: p.Username, OwnerID: p.UserID, Display: p.Display, Scopes: p.Scopes,
		FullAccess: p.FullAccess(), Created: p.CreatedAt.Format("2006-01-02"), Expires: relDays(p.ExpiresAt, now),
		ExpiresOn: p.ExpiresAt.Format("2006-01-02"), LastUsed: "never", State: p.State(now)}
	if p.LastUsedAt != nil {
		r.LastUsed = stamp(*p.LastUsedAt)
		if p.LastUsedAddr != "" {
			r.LastUsed += " from " + p.LastUsedAddr
		}
	}
	if r.State == domain.PATRevoked {
		r.Expires = "—"
	}
	return r
}

// scopeOptions lists the catalog for the token form; checked marks the
// chosen ones; only, when non-nil, limits the list to those scopes.
func (s *Server) scopeOptions(checked []string, only []string) []views.PATScopeOption {
	on := map[string]bool{}
	for _, v := range checked {
		on[v] = true
	}
	var keep map[string]bool
	if only != nil {
		keep = map[string]bool{}
		for _, v := range only {
			keep[v] = true
		}
	}
	var out []views.PATScopeOption
	for _, sc := range s.scopes.All() {
		if keep != nil && !keep[sc.ID] {
			continue
		}
		out = append(out, views.PATScopeOption{ID: sc.ID, Name: sc.Name, Category: sc.Category, HighPrivilege: sc.HighPrivilege, Checked: on[sc.ID]})
	}
	return out
}

// maxExpiry is the latest expiry the policy allows now.
func (s *Server) maxExpiry(ctx context.Context) (time.Time, pat.Policy, error) {
	p, err := s.cfg.PATPolicies.Policy(ctx)
	if err != nil {
		return time.Time{}, p, err
	}
	limit := s.now().Add(pat.MaxLifetime)
	if p.MaxLifespanDays > 0 {
		limit = s.now().AddDate(0, 0, p.MaxLifespanDays)
	}
	return limit, p, nil
}

func policySentence(p pat.Policy) string {
	var parts []string
	if p.MaxLifespanDays > 0 {
		parts = append(parts, fmt.Sprintf("tokens live at most %d days (pat-max-lifespan)", p.MaxLifespanDays))
	}
	if p.FullScopeDenied {
		parts = append(parts, "full-access tokens are not allowed (pat-full-scope)")
	}
	if len(parts) == 0 {
		return ""
	}
	return "Organization policy: " + strings.Join(parts, "; ") + "."
}

// profileTokens is GET /profile/tokens.
func (s *Server) profileTokens(c echo.Context) error {
	p := views.PATsPage{Expiry: "30"}
	return s.renderTokens(c, http.StatusOK, p)
}

func (s *Server) renderTokens(c echo.Context, status int, p views.PATsPage) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	page, err := s.pats.List(ctx, domain.PATFilter{UserID: u.ID, After: c.QueryParam("after"), Limit: 100})
	if err != nil {
		return err
	}
	limit, pol, err := s.maxExpiry(ctx)
	if err != nil {
		return err
	}
	p.Nav, p.Flash = s.nav(c, "tokens"), s.sessions.PopString(ctx, sessFlash)
	for _, t := range page.Tokens {
		p.Tokens = append(p.Tokens, s.patRow(t))
	}
	if page.Next != "" {
		p.Next = "/profile/tokens?after=" + url.QueryEscape(page.Next)
	}
	p.MaxDate, p.Policy, p.CanCreate = limit.Format("2006-01-02"), policySentence(pol), true
	if pol.CreationAllowlist {
		p.CanCreate = false
		for _, name := range mustAllowlist(ctx, s.cfg.PATPolicies) {
			if strings.EqualFold(name, u.Username) {
				p.CanCreate = true
			}
		}
	}
	if p.Options == nil {
		p.Options = s.scopeOptions(nil, nil)
	}
	return render(c, status, views.PATs(p))
}

func mustAllowlist(ctx context.Context, pats PATPolicies) []string {
	p, err := pats.PolicyWithAllowlist(ctx)
	if err != nil {
		return nil
	}
	return p.Allowlist
}

// tokenForm reads the create/edit form: name, expiry, access and scopes.
func (s *Server) tokenForm(c echo.Context) (pat.Request, string, string, bool, error) {
	req := pat.Request{Name: c.FormValue("name")}
	full := c.FormValue("access") == "full"
	if full {
		req.Scopes = []string{domain.ScopeFullAccess}
	} else {
		form, _ := c.FormParams()
		req.Scopes = form["scope"]
	}
	expiry, on := c.FormValue("expiry"), strings.TrimSpace(c.FormValue("expires_on"))
	switch expiry {
	case "30", "60", "90":
		n, _ := strconv.Atoi(expiry)
		req.ExpiresAt = s.now().AddDate(0, 0, n).Truncate(time.Second)
	case "custom", "":
		if on == "" {
			if expiry == "custom" {
				return req, expiry, on, full, apperr.Errorf(apperr.Invalid, "Choose the expiry date.")
			}
			break
		}
		d, err := time.Parse("2006-01-02", on)
		if err != nil {
			return req, expiry, on, full, apperr.Errorf(apperr.Invalid, "The expiry date must be a date such as 2027-03-31.")
		}
		// The end of that day, but no later than the policy allows.
		req.ExpiresAt = d.Add(24*time.Hour - time.Second)
		if limit, _, err := s.maxExpiry(c.Request().Context()); err == nil && req.ExpiresAt.After(limit) && d.Format("2006-01-02") == limit.Format("2006-01-02") {
			req.ExpiresAt = limit.Truncate(time.Second)
		}
	default:
		return req, expiry, on, full, apperr.Errorf(apperr.Invalid, "Choose an expiry of 30, 60 or 90 days or a date.")
	}
	return req, expiry, on, full, nil
}

// profileTokenCreate is POST /profile/tokens: creates the token and shows
// it once; a refusal re-renders the form with the reason (naming the
// policy) and the values kept.
func (s *Server) profileTokenCreate(c echo.Context) error {
	u, _ := currentUser(c)
	req, expiry, on, full, err := s.tokenForm(c)
	var created pat.Created
	if err == nil {
		created, err = s.pats.Create(c.Request().Context(), u, req)
	}
	if err != nil {
		if apperr.ErrorCode(err) == apperr.Internal {
			return err
		}
		checked := req.Scopes
		p := views.PATsPage{Error: apperr.ErrorMessage(err), Name: req.Name, Expiry: expiry, ExpiresOn: on, FullAccess: full,
			Options: s.scopeOptions(checked, nil)}
		return s.renderTokens(c, http.StatusUnprocessableEntity, p)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return s.renderTokens(c, http.StatusOK, views.PATsPage{NewToken: created.Token, NewName: created.PAT.Name, Expiry: "30"})
}

func (s *Server) ownToken(c echo.Context) (domain.PAT, error) {
	u, _ := currentUser(c)
	return s.pats.Get(c.Request().Context(), c.Param("id"), u.ID)
}

// profileTokenEdit is GET /profile/tokens/{id}/edit.
func (s *Server) profileTokenEdit(c echo.Context) error {
	t, err := s.ownToken(c)
	if err != nil {
		return err
	}
	return s.renderTokenEdit(c, http.StatusOK, t, "", t.Name, t.ExpiresAt.Format("2006-01-02"), t.Scopes)
}

func (s *Server) renderTokenEdit(c echo.Context, status int, t domain.PAT, msg, name, on string, checked []string) error {
	limit, _, err := s.maxExpiry(c.Request().Context())
	if err != nil {
		return err
	}
	var only []string
	if !t.FullAccess() {
		only = t.Scopes
	}
	p := views.PATEditPage{Nav: s.nav(c, "tokens"), Error: msg, Token: s.patRow(t), Name: name, ExpiresOn: on,
		MaxDate: limit.Format("2006-01-02"), FullAccess: t.FullAccess(), Options: s.scopeOptions(checked, only),
		Action: "/profile/tokens/" + t.ID + "/edit", Cancel: "/profile/tokens"}
	return render(c, status, views.PATEdit(p))
}

// profileTokenUpdate is POST /profile/tokens/{id}/edit: a new name, a new
// expiry within policy, narrower scopes.
func (s *Server) profileTokenUpdate(c echo.Context) error {
	t, err := s.ownToken(c)
	if err != nil {
		return err
	}
	req, _, on, _, err := s.tokenForm(c)
	if err == nil && len(req.Scopes) == 0 {
		err = apperr.Errorf(apperr.Invalid, "Keep at least one scope, or revoke the token.")
	}
	if err == nil && on != "" && on == t.ExpiresAt.Format("2006-01-02") {
		req.ExpiresAt = time.Time{} // the date was not changed
	}
	if err == nil {
		_, err = s.pats.Update(c.Request().Context(), t.ID, t.UserID, req)
	}
	if err != nil {
		if apperr.ErrorCode(err) == apperr.Internal {
			return err
		}
		return s.renderTokenEdit(c, http.StatusUnprocessableEntity, t, apperr.ErrorMessage(err), req.Name, on, req.Scopes)
	}
	return s.flashTo(c, "/profile/tokens", "Token "+req.Name+" saved.")
}

// profileTokenRevokeConfirm is GET /profile/tokens/{id}/revoke.
func (s *Server) profileTokenRevokeConfirm(c echo.Context) error {
	t, err := s.ownToken(c)
	if err != nil {
		return err
	}
	p := views.ConfirmPage{Nav: s.nav(c, "tokens"), Title: "Revoke token " + t.Name + "?",
		Message: "Scripts and tools using " + t.Display + " are refused from their next request on. This cannot be undone.",
		Action:  c.Request().URL.Path, Button: "Revoke", Danger: true, Cancel: "/profile/tokens"}
	return render(c, http.StatusOK, views.Confirm(p))
}

// profileTokenRevoke is POST /profile/tokens/{id}/revoke.
func (s *Server) profileTokenRevoke(c echo.Context) error {
	t, err := s.ownToken(c)
	if err != nil {
		return err
	}
	if _, err := s.pats.Revoke(c.Request().Context(), t.ID, t.UserID); err != nil {
		return err
	}
	return s.flashTo(c, "/profile/tokens", "Token "+t.Name+" revoked.")
}

// profileNoticesDismissConfirm is GET /profile/notices/dismiss: which
// notices the banner stops showing, and that the tokens are untouched,
// before it is done.
func (s *Server) profileNoticesDismissConfirm(c echo.Context) error {
	u, _ := currentUser(c)
	list, err := s.cfg.PATNotices.Notices(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return s.flashTo(c, "/profile/tokens", "There are no token notices to dismiss.")
	}
	leaked, expiring := splitNotices(list)
	var impact []string
	if len(leaked) > 0 {
		impact = append(impact, "Found exposed and revoked: "+joinAnd(leaked)+" — "+map[bool]string{true: "it stays", false: "they stay"}[len(leaked) == 1]+" revoked.")
	}
	if len(expiring) > 0 {
		impact = append(impact, "Expiring within 7 days: "+joinAnd(expiring)+" — "+map[bool]string{true: "it still expires on its date", false: "they still expire on their dates"}[len(expiring) == 1]+"; create a new token before then.")
	}
	return s.confirm(c, views.ConfirmPage{Nav: views.Nav{Active: "tokens"}, Title: "Dismiss the token notices?",
		Message: "The banner about your personal access tokens is hidden until there is a new notice. Nothing happens to the tokens themselves.",
		Impact:  impact, Action: "/profile/notices/dismiss", Button: "Dismiss", Cancel: "/profile/tokens"})
}

// profileNoticesDismiss is POST /profile/notices/dismiss (after its
// confirmation): hides the token banner.
func (s *Server) profileNoticesDismiss(c echo.Context) error {
	u, _ := currentUser(c)
	if err := s.cfg.PATNotices.DismissNotices(c.Request().Context(), u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/profile/tokens")
}

// tokenNotice is the banner of the signed-in user's unseen token notices
// ("" when none).
func (s *Server) tokenNotice(ctx context.Context, userID string) string {
	if s.pats == nil {
		return ""
	}
	list, err := s.cfg.PATNotices.Notices(ctx, userID)
	if err != nil || len(list) == 0 {
		return ""
	}
	leaked, expiring := splitNotices(list)
	var parts []string
	if len(leaked) > 0 {
		parts = append(parts, "Found exposed and revoked: "+strings.Join(leaked, ", ")+".")
	}
	if len(expiring) > 0 {
		parts = append(parts, "Expiring within 7 days: "+strings.Join(expiring, ", ")+".")
	}
	return "Personal access tokens — " + strings.Join(parts, " ")
}

// splitNotices splits token notices by kind into the names of the tokens
// found leaked (and revoked) and of those about to expire (every other
// kind), each in list's order: for the banner (tokenNotice) and the
// dismissal's confirmation (profileNoticesDismissConfirm).
func splitNotices(list []domain.PATNotice) (leaked, expiring []string) {
	for _, n := range list {
		if n.Kind == domain.NoticeLeaked {
			leaked = append(leaked, n.PATName)
		} else {
			expiring = append(expiring, n.PATName)
		}
	}
	return leaked, expiring
}
