package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// Users is the users slice the dashboard calls: the user pages, the
// signed-in user's session and password (implemented by
// *admin.UserService).
type Users interface {
	User(ctx context.Context, id string) (domain.User, error)
	Users(ctx context.Context, f domain.UserFilter) (domain.UserPage, error)
	UserByUsername(ctx context.Context, username string) (domain.User, error)
	CreateUser(ctx context.Context, in admin.NewUser) (domain.User, error)
	SetRole(ctx context.Context, id string, role domain.Role) (domain.User, error)
	SetDisabled(ctx context.Context, id string, disabled bool) (domain.User, error)
	ResetPassword(ctx context.Context, id string) (string, error)
	ChangePassword(ctx context.Context, id, current, next string) error
	DeleteUser(ctx context.Context, id string) (int, error)
}

func userRow(u domain.User, active int64) views.UserRow {
	return views.UserRow{ID: u.ID, Username: u.Username, Display: u.DisplayName, Email: u.Email, Role: string(u.Role),
		ActiveAuthorizations: active, Status: u.Status(), MustChange: u.MustChangePassword,
		Source: cmp.Or(u.Source, domain.SourceLocal), LastSignIn: when(u.LastSignInAt), LastSync: when(u.LastSyncAt)}
}

// when formats an optional time for a table cell: UTC, or "never".
func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.DateTime) + " UTC"
}

// usersList is GET /admin/users?after=…: users by username,
// keyset-paginated, with their authorizations in the true state active.
func (s *Server) usersList(c echo.Context) error {
	ctx := c.Request().Context()
	q := strings.TrimSpace(c.QueryParam("q"))
	page, err := s.cfg.Users.Users(ctx, domain.UserFilter{Query: q, After: c.QueryParam("after"), Limit: 50})
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	p := views.UsersPage{Nav: s.nav(c, "users"), CanManage: u.Role == domain.RoleAdmin, CanAdd: u.Role == domain.RoleAdmin && s.cfg.Users != nil, Flash: s.sessions.PopString(ctx, sessFlash), Query: q}
	for _, x := range page.Users {
		p.Users = append(p.Users, userRow(x.User, x.ActiveAuthorizations))
	}
	if page.Next != "" {
		v := url.Values{"after": {page.Next}}
		if q != "" {
			v.Set("q", q)
		}
		p.NextURL = "/admin/users?" + v.Encode()
	}
	return render(c, http.StatusOK, views.Users(p))
}

// userPage is GET /admin/users/{id}?after=…: the user, its management and
// its authorizations with their true state (keyset-paginated).
func (s *Server) userPage(c echo.Context) error {
	return s.renderUser(c, "", http.StatusOK)
}

func (s *Server) renderUser(c echo.Context, errMsg string, status int) error {
	ctx := c.Request().Context()
	u, err := s.cfg.Users.User(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	list, next, err := s.cfg.Authorizations.Authorizations(ctx, domain.AuthorizationFilter{UserID: u.ID, AppQuery: q, Limit: 50, After: c.QueryParam("after")})
	if err != nil {
		return err
	}
	me, _ := currentUser(c)
	p := views.UserPage{Nav: s.nav(c, "users"), CanManage: me.Role == domain.RoleAdmin, User: userRow(u, 0), Query: q,
		Flash: s.sessions.PopString(ctx, sessFlash), Error: errMsg}
	owned, err := s.cfg.Apps.ListApps(ctx, domain.AppFilter{OwnerID: u.ID, Limit: 20})
	if err != nil {
		return err
	}
	for _, a := range owned.Apps {
		p.OwnedApps = append(p.OwnedApps, views.Link{Label: a.Name, URL: "/admin/apps/" + a.ClientID})
	}
	p.MoreOwned = owned.Next != ""
	for _, a := range list {
		row := views.AuthorizationRow{ID: a.ID, AppName: a.AppName, ClientID: a.ClientID, Scopes: a.Scopes, ScopeViews: s.scopeViews(a.Scopes),
			GrantedAt: stamp(a.GrantedAt), LastUsed: dayPtr(a.LastUsedAt), State: a.State, Implied: s.impliedScopes(a.Scopes)}
		if a.RevokedAt != nil {
			row.Revoked = a.RevokedAt.Format("2006-01-02")
		} else {
			p.User.ActiveAuthorizations++
		}
		p.Authorizations = append(p.Authorizations, row)
	}
	if next != "" {
		v := url.Values{"after": {next}}
		if q != "" {
			v.Set("q", q)
		}
		p.NextURL = "/admin/users/" + u.ID + "?" + v.Encode()
	}
	p.Descriptor = domain.SubjectDescriptor(u.ID)
	if s.pats != nil {
		p.HasTokens, p.TokensURL = true, "/admin/tokens?owner="+url.QueryEscape(u.Username)
		tokens, err := s.cfg.PATAdmin.List(ctx, domain.PATFilter{UserID: u.ID, Limit: 20})
		if err != nil {
			return err
		}
		for _, t := range tokens.Tokens {
			p.Tokens = append(p.Tokens, s.patRow(t))
		}
	}
	return render(c, status, views.User(p))
}

// userResult shows a refused change (the last-admin rule, a deleted
// user) on the user's page with 409, or moves on with a flash.
func (s *Server) userResult(c echo.Context, err error, ok string) error {
	if apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.Invalid) {
		status := http.StatusConflict
		if apperr.Is(err, apperr.Invalid) {
			status = http.StatusBadRequest
		}
		return s.renderUser(c, apperr.ErrorMessage(err), status)
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/users/"+c.Param("id"), ok)
}

// userSetRole is POST /admin/users/{id}/role (field role).
func (s *Server) userSetRole(c echo.Context) error {
	u, err := s.cfg.Users.SetRole(c.Request().Context(), c.Param("id"), domain.Role(c.FormValue("role")))
	return s.userResult(c, err, u.Username+" is now "+string(u.Role)+".")
}

func (s *Server) userConfirm(c echo.Context, title, msg, button string) error {
	return s.userConfirmPage(c, title, msg, button, nil, http.StatusOK)
}

// maxHandOverListed bounds the apps a delete or disable confirmation
// lists, each with its own new-owner picker; the rest are counted and go
// to the new owner of every app. 500 keeps a user who alone owns a few
// hundred apps fully choosable on one page (a page of pickers that a
// second page could not carry the answers of) while the page stays a
// few hundred kilobytes.
const maxHandOverListed = 500

// maxHandOverCounted bounds how many of them a confirmation counts
// (beyond it, "more than 1,000"; every one is handed over all the same).
const maxHandOverCounted = 1000

// maxHandOverCandidates bounds the active users the pickers offer (any
// other active username may be typed).
const maxHandOverCandidates = 200

// openHandOverList is how many apps the per-app choices show without a
// click.
const openHandOverList = 10

// userConfirmPage renders the confirmation of a user action; deleting or
// disabling a user who alone owns apps lists them and asks for the new
// owner of each (handErr: the refused answer, re-shown with status and
// every value as it was typed).
func (s *Server) userConfirmPage(c echo.Context, title, msg, button string, handErr error, status int) error {
	ctx := c.Request().Context()
	u, err := s.cfg.Users.User(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	var impact []string
	if button == "Delete user" {
		if imp, err := s.cfg.Authorizations.RevocationImpact(ctx, domain.AuthorizationFilter{UserID: u.ID}); err == nil {
			impact = impactLines(imp)
		}
		if s.cfg.Offboarding != nil && u.DeletedAt == nil {
			co, err := s.cfg.Offboarding.CoOwnedApps(ctx, u.ID, maxHandOverCounted+1)
			if err != nil {
				return err
			}
			if line := coOwnedLine(u.Username, co); line != "" {
				impact = append(impact, line)
			}
		}
	}
	p := views.ConfirmPage{Nav: views.Nav{Active: "users"}, Title: title + " " + u.DisplayName + " (" + u.Username + ")?", Message: msg,
		Impact: impact, Action: c.Request().URL.Path, Button: button, Danger: button != "Enable user", Cancel: "/admin/users/" + u.ID}
	if s.cfg.Offboarding != nil && (button == "Delete user" || button == "Disable user") && u.DeletedAt == nil {
		h, err := s.handOverField(c, u, handErr)
		if err != nil {
			return err
		}
		if h != nil && handErr != nil {
			p.Error = apperr.ErrorMessage(handErr)
		}
		p.HandOver = h
	}
	p.Nav = s.nav(c, "users")
	return render(c, status, views.Confirm(p))
}

// handOverField is the confirmation's question for the apps u alone
// owns (nil when none), read once and bounded: maxHandOverListed apps
// with a picker each, the rest counted up to maxHandOverCounted (a user
// may own thousands). On a GET the new owner of every app is the acting
// administrator (as a directory's "transfer ownership to" defaults to
// whoever deletes); a refused POST shows every value as typed and each
// field's error beside its app.
func (s *Server) handOverField(c echo.Context, u domain.User, handErr error) (*views.HandOverField, error) {
	ctx := c.Request().Context()
	apps, err := s.cfg.Offboarding.SoleOwnedApps(ctx, u.ID, maxHandOverCounted+1)
	if err != nil || len(apps) == 0 {
		return nil, err
	}
	fields := apperr.FieldErrors(handErr)
	h := &views.HandOverField{Username: u.Username, Value: strings.TrimSpace(c.FormValue(admin.NewOwnerField)), Error: fields[admin.NewOwnerField]}
	if c.Request().Method == http.MethodGet {
		if me, ok := currentUser(c); ok && me.ID != u.ID {
			h.Value = me.Username
		}
	}
	if len(apps) > maxHandOverCounted {
		h.Uncounted = true
		apps = apps[:maxHandOverCounted]
	}
	if len(apps) > maxHandOverListed {
		h.More = len(apps) - maxHandOverListed
		apps = apps[:maxHandOverListed]
	}
	h.Open = len(apps) <= openHandOverList
	for _, a := range apps {
		field := admin.AppOwnerField(a.ClientID)
		row := views.HandOverApp{Name: a.Name, ClientID: a.ClientID, URL: "/admin/apps/" + a.ClientID, Field: field,
			Value: strings.TrimSpace(c.FormValue(field)), Error: fields[field]}
		h.Open = h.Open || row.Value != "" || row.Error != ""
		h.Apps = append(h.Apps, row)
	}
	page, err := s.cfg.Users.Users(ctx, domain.UserFilter{Limit: maxHandOverCandidates})
	if err != nil {
		return nil, err
	}
	for _, c := range page.Users {
		if c.ID != u.ID && c.Active() {
			h.Candidates = append(h.Candidates, views.UserOption{Username: c.Username, Display: c.DisplayName})
		}
	}
	h.MoreCandidates = page.Next != ""
	return h, nil
}

// maxCoOwnedNamed bounds the apps a delete confirmation names among
// those the user co-owns (the rest are counted, up to
// maxHandOverCounted).
const maxCoOwnedNamed = 10

// coOwnedLine says that deleting username removes them from the owners of
// apps (read with a limit of maxHandOverCounted+1), which their other
// owners keep: "" for none, the first maxCoOwnedNamed named, the rest
// counted.
func coOwnedLine(username string, apps []domain.App) string {
	if len(apps) == 0 {
		return ""
	}
	rest := ""
	switch n := len(apps) - maxCoOwnedNamed; {
	case len(apps) > maxHandOverCounted:
		rest = "more than " + plural(int64(maxHandOverCounted-maxCoOwnedNamed), "other app", "other apps")
	case n > 0:
		rest = plural(int64(n), "other app", "other apps")
	}
	names := make([]string, 0, maxCoOwnedNamed+1)
	for i, a := range apps {
		if i == maxCoOwnedNamed {
			break
		}
		names = append(names, a.Name)
	}
	if rest != "" {
		names = append(names, rest)
	}
	list := names[0]
	if len(names) > 1 {
		list = strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	if len(apps) == 1 {
		return username + " will be removed as a co-owner of " + list + "; its other owners keep it."
	}
	return username + " will be removed as a co-owner of " + list + "; their other owners keep them."
}

const (
	disableTitle   = "Disable"
	disableMessage = "The user is signed out everywhere and cannot sign in; every access and refresh token of the user stops working on its next request. Their authorizations stand: once enabled, they authorize their apps again."
	deleteTitle    = "Delete"
	deleteMessage  = "The user can no longer sign in, every authorization is revoked and every token stops working. The record is kept for the audit log."
)

func (s *Server) userDisableConfirm(c echo.Context) error {
	return s.userConfirm(c, disableTitle, disableMessage, "Disable user")
}

// successors reads the confirmation's new owners: field new_owner for
// every app the user alone owns, and new_owner.{client_id} for one app
// (it overrides the first).
func successors(c echo.Context) (admin.Successors, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, apperr.Errorf(apperr.Invalid, "The form could not be read.")
	}
	to := admin.Successors{admin.AllApps: strings.TrimSpace(form.Get(admin.NewOwnerField))}
	prefix := admin.NewOwnerField + "."
	for k, v := range form {
		if id, ok := strings.CutPrefix(k, prefix); ok && id != "" && len(v) > 0 {
			if name := strings.TrimSpace(v[0]); name != "" {
				to[id] = name
			}
		}
	}
	return to, nil
}

// handedOver says which apps changed owner: "" when none; their new owner
// when there is one, else how many new owners.
func handedOver(moved []admin.HandOff) string {
	if len(moved) == 0 {
		return ""
	}
	owners := map[string]bool{}
	for _, m := range moved {
		owners[m.To.Username] = true
	}
	n := plural(int64(len(moved)), "app was", "apps were")
	if len(owners) == 1 {
		return " " + n + " handed over to " + moved[0].To.Username + "."
	}
	return " " + n + " handed over to " + plural(int64(len(owners)), "new owner", "new owners") + "."
}

// userDisable is POST /admin/users/{id}/disable (field new_owner when the
// user alone owns apps: they are handed over in the same transaction).
func (s *Server) userDisable(c echo.Context) error {
	if s.cfg.Offboarding == nil {
		u, err := s.cfg.Users.SetDisabled(c.Request().Context(), c.Param("id"), true)
		return s.userResult(c, err, u.Username+" was disabled: signed out, tokens refused.")
	}
	to, err := successors(c)
	if err != nil {
		return err
	}
	u, moved, err := s.cfg.Offboarding.DisableUser(c.Request().Context(), c.Param("id"), to)
	if handOverRefused(err) {
		return s.userConfirmPage(c, disableTitle, disableMessage, "Disable user", err, http.StatusBadRequest)
	}
	return s.userResult(c, err, u.Username+" was disabled: signed out, tokens refused."+handedOver(moved))
}

// userEnable is POST /admin/users/{id}/enable.
func (s *Server) userEnable(c echo.Context) error {
	u, err := s.cfg.Users.SetDisabled(c.Request().Context(), c.Param("id"), false)
	return s.userResult(c, err, u.Username+" was enabled and may sign in again.")
}

func (s *Server) userResetConfirm(c echo.Context) error {
	return s.userConfirm(c, "Reset the password of", "The current password stops working. A one-time password is shown once; the user must choose a new one at the next sign-in.", "Reset password")
}

// userReset is POST /admin/users/{id}/reset-password: shows the one-time
// password once (never stored in clear, never in the session).
func (s *Server) userReset(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.cfg.Users.User(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	pw, err := s.cfg.Users.ResetPassword(ctx, u.ID)
	if err != nil {
		return s.userResult(c, err, "")
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.OneTime(views.OneTimePage{Nav: s.nav(c, "users"), Title: "One-time password for " + u.Username,
		Message: "Give it to " + u.DisplayName + " safely. It is shown only this once; they must choose a new password when they sign in with it.",
		Value:   pw, Back: "/admin/users/" + u.ID}))
}

func (s *Server) userDeleteConfirm(c echo.Context) error {
	return s.userConfirm(c, deleteTitle, deleteMessage, "Delete user")
}

// userDelete is POST /admin/users/{id}/delete (field new_owner when the
// user alone owns apps: they are handed over in the same transaction).
func (s *Server) userDelete(c echo.Context) error {
	if s.cfg.Offboarding == nil {
		n, err := s.cfg.Users.DeleteUser(c.Request().Context(), c.Param("id"))
		return s.userResult(c, err, "The user was deleted; "+plural(int64(n), "authorization was", "authorizations were")+" revoked.")
	}
	to, err := successors(c)
	if err != nil {
		return err
	}
	n, moved, err := s.cfg.Offboarding.DeleteUser(c.Request().Context(), c.Param("id"), to)
	if handOverRefused(err) {
		return s.userConfirmPage(c, deleteTitle, deleteMessage, "Delete user", err, http.StatusBadRequest)
	}
	return s.userResult(c, err, "The user was deleted; "+plural(int64(n), "authorization was", "authorizations were")+" revoked."+handedOver(moved))
}

// handOverRefused reports whether err refused a new owner (a field
// new_owner or new_owner.{client_id}): the confirmation comes back.
func handOverRefused(err error) bool {
	for k := range apperr.FieldErrors(err) {
		if k == admin.NewOwnerField || strings.HasPrefix(k, admin.NewOwnerField+".") {
			return true
		}
	}
	return false
}

// UserOffboarding deletes and disables users, handing over the apps they
// alone own (implemented by *admin.Offboarding).
type UserOffboarding interface {
	SoleOwnedApps(ctx context.Context, userID string, limit int) ([]domain.App, error)
	// CoOwnedApps: the apps the user owns with another active owner
	// (deleting the user removes them from their owners).
	CoOwnedApps(ctx context.Context, userID string, limit int) ([]domain.App, error)
	DeleteUser(ctx context.Context, id string, to admin.Successors) (int, []admin.HandOff, error)
	DisableUser(ctx context.Context, id string, to admin.Successors) (domain.User, []admin.HandOff, error)
}

// userAddForm is GET /admin/users/new.
func (s *Server) userAddForm(c echo.Context) error {
	return render(c, http.StatusOK, views.UserAdd(views.UserAddPage{Nav: s.nav(c, "users"), Role: "member"}))
}

// userAdd is POST /admin/users/new (username, display_name, email, role):
// the account with a one-time password, shown once; the user chooses a
// new one at the first sign-in. A refused form comes back with what was
// typed and the reason (400, 409 for a taken username).
func (s *Server) userAdd(c echo.Context) error {
	if s.cfg.Users == nil {
		return apperr.Errorf(apperr.NotFound, "Adding users here is not available; use oauthdesk user add.")
	}
	p := views.UserAddPage{Nav: s.nav(c, "users"), Username: strings.TrimSpace(c.FormValue("username")),
		DisplayName: strings.TrimSpace(c.FormValue("display_name")), Email: strings.TrimSpace(c.FormValue("email")), Role: c.FormValue("role")}
	pw := rand.Text()
	u, err := s.cfg.Users.CreateUser(c.Request().Context(), admin.NewUser{Username: p.Username, DisplayName: p.DisplayName,
		Email: p.Email, Role: domain.Role(p.Role), Password: pw, MustChangePassword: true})
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.Conflict) {
		status := http.StatusBadRequest
		if apperr.Is(err, apperr.Conflict) {
			status = http.StatusConflict
		}
		p.Error = apperr.ErrorMessage(err)
		return render(c, status, views.UserAdd(p))
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.OneTime(views.OneTimePage{Nav: s.nav(c, "users"), Title: "One-time password for " + u.Username,
		Message: u.Username + " (" + string(u.Role) + ") was added. Give them this password safely: it is shown only this once, and they must choose a new one when they sign in with it.",
		Value:   pw, Back: "/admin/users/" + u.ID}))
}

// roleEffects says what each role may do.
var roleEffects = map[domain.Role]string{
	domain.RoleAdmin:   "may change every app, user and setting",
	domain.RoleAuditor: "may read every page of the administration but change nothing",
	domain.RoleMember:  "manages only their own apps, authorizations and tokens",
}

// userRoleConfirm is GET /admin/users/{id}/role?role=…: what the new
// role allows, before it is given.
func (s *Server) userRoleConfirm(c echo.Context) error {
	u, err := s.cfg.Users.User(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	role := domain.Role(c.QueryParam("role"))
	effect, ok := roleEffects[role]
	if !ok {
		return s.renderUser(c, "Choose admin, auditor or member.", http.StatusBadRequest)
	}
	p := views.ConfirmPage{Nav: views.Nav{Active: "users"}, Title: "Make " + u.DisplayName + " (" + u.Username + ") " + string(role) + "?",
		Message: "As " + string(role) + ", " + u.Username + " " + effect + ", from their next request on.",
		Action:  "/admin/users/" + u.ID + "/role", Button: "Make " + string(role), Danger: role == domain.RoleAdmin, Cancel: "/admin/users/" + u.ID,
		Hidden: []views.HiddenField{{Name: "role", Value: string(role)}}}
	p.Impact = []string{"Now " + string(u.Role) + ": " + roleEffects[u.Role] + "."}
	if u.Role == role {
		p.Impact = []string{"This is the current role: nothing changes."}
	}
	return s.confirm(c, p)
}

// userEnableConfirm is GET /admin/users/{id}/enable.
func (s *Server) userEnableConfirm(c echo.Context) error {
	return s.userConfirmPage(c, "Enable", "The user may sign in again. Their authorizations stand, so their apps get tokens for them again once they sign in through the app; the tokens revoked by the disable stay revoked.", "Enable user", nil, http.StatusOK)
}

// impliedScopes returns the scopes granted holds only through a wider
// scope it holds, each with the first such wider scope ("via
// vso.code_full"), in catalog order: the definition of /admin/scopes
// (scope.Catalog.Holders), so that a grant listed there as holding a
// scope through a wider one shows it here too.
func (s *Server) impliedScopes(granted []string) []views.Link {
	direct := map[string]bool{}
	for _, g := range granted {
		direct[g] = true
	}
	var out []views.Link
	for _, id := range s.scopes.Expand(granted) {
		if direct[id] {
			continue
		}
		for _, h := range s.scopes.Holders(id)[1:] {
			if direct[h] {
				out = append(out, views.Link{Label: id, URL: "/admin/scopes/" + url.PathEscape(id), Via: "via " + h})
				break
			}
		}
	}
	return out
}
