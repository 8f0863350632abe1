package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// confirm renders a confirmation page; the nav highlights p.Active, or
// "apps".
func (s *Server) confirm(c echo.Context, p views.ConfirmPage) error {
	active := p.Active
	if active == "" {
		active = "apps"
	}
	p.Nav = s.nav(c, active)
	return render(c, http.StatusOK, views.Confirm(p))
}

func (s *Server) flashTo(c echo.Context, target, msg string) error {
	s.sessions.Put(c.Request().Context(), sessFlash, msg)
	return c.Redirect(http.StatusSeeOther, target)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

func impactLines(imp domain.RevocationImpact) []string {
	return []string{
		plural(imp.Authorizations, "active authorization", "active authorizations") + " of " + plural(imp.Users, "user", "users") + " will be revoked.",
		plural(imp.RefreshTokens, "live refresh token stops", "live refresh tokens stop") + " working, and every access token of these authorizations gets 401 on its next request.",
	}
}

// appFor returns the active (not deleted) app of the route's client_id,
// for the confirmation pages of actions a deleted app no longer offers.
func (s *Server) appFor(c echo.Context) (domain.App, error) {
	d, err := s.admin.App(c.Request().Context(), c.Param("client_id"))
	if err == nil && d.App.DeletedAt != nil {
		return d.App, apperr.Errorf(apperr.NotFound, "%s was deleted; nothing about it can change.", d.App.Name)
	}
	return d.App, err
}

// slotSecret returns the app's active secret in the route's slot.
func slotSecret(c echo.Context, app domain.App) (string, error) {
	slot, err := slotParam(c)
	if err != nil {
		return "", err
	}
	for _, sec := range app.Secrets {
		if sec.Slot == slot {
			return slot, nil
		}
	}
	return "", apperr.Errorf(apperr.NotFound, "%s has no %s client secret.", app.Name, slot)
}

func slotParam(c echo.Context) (string, error) {
	slot := c.Param("slot")
	if slot != domain.SlotPrimary && slot != domain.SlotAlternative {
		return "", apperr.Errorf(apperr.NotFound, "There is no %q secret slot; use primary or alternative.", slot)
	}
	return slot, nil
}

// secretImpact returns the route's active app and secret slot, and how many
// active authorizations last refreshed with that secret.
func (s *Server) secretImpact(c echo.Context) (domain.App, string, int64, error) {
	app, err := s.appFor(c)
	if err != nil {
		return app, "", 0, err
	}
	slot, err := slotSecret(c, app)
	if err != nil {
		return app, "", 0, err
	}
	use, err := s.admin.SecretUse(c.Request().Context(), app)
	if err != nil {
		return app, "", 0, err
	}
	var n int64
	for _, sl := range use {
		if sl == slot {
			n++
		}
	}
	return app, slot, n, nil
}

// secretRegenerateConfirm explains what regenerating does before it is done.
func (s *Server) secretRegenerateConfirm(c echo.Context) error {
	app, slot, n, err := s.secretImpact(c)
	if err != nil {
		return err
	}
	return s.confirm(c, views.ConfirmPage{
		Title:   "Regenerate the " + slot + " secret of " + app.Name + "?",
		Message: "A new secret is shown once. The current " + slot + " secret stops working now, and every access and refresh token minted with it stops working on its next request. For zero downtime, add an alternative secret instead and retire this one once the app uses the new one.",
		Impact:  []string{plural(n, "active authorization last refreshed", "active authorizations last refreshed") + " with this secret and will have to authorize again."},
		Action:  c.Request().URL.Path, Button: "Regenerate secret", Danger: true, Cancel: appBase(c, app.ClientID),
	})
}

// secretRegenerate is POST …/secrets/:slot/regenerate.
func (s *Server) secretRegenerate(c echo.Context) error {
	slot, err := slotParam(c)
	if err != nil {
		return err
	}
	sec, err := s.admin.IssueSecret(c.Request().Context(), c.Param("client_id"), slot, true)
	if err != nil {
		return err
	}
	s.revealSecret(c, sec.ClientID, slot, sec.Secret)
	return c.Redirect(http.StatusSeeOther, appBase(c, sec.ClientID))
}

// secretAddAlternative is POST …/secrets/alternative: the first step of a
// staged rotation (nothing stops working, so no confirmation).
func (s *Server) secretAddAlternative(c echo.Context) error {
	sec, err := s.admin.IssueSecret(c.Request().Context(), c.Param("client_id"), domain.SlotAlternative, false)
	if err != nil {
		return err
	}
	s.revealSecret(c, sec.ClientID, domain.SlotAlternative, sec.Secret)
	return c.Redirect(http.StatusSeeOther, appBase(c, sec.ClientID))
}

func (s *Server) secretRetireConfirm(c echo.Context) error {
	app, slot, n, err := s.secretImpact(c)
	if err != nil {
		return err
	}
	msg := "The " + slot + " secret stops working now, with every token minted with it."
	hasAlt := false
	for _, sec := range app.Secrets {
		hasAlt = hasAlt || sec.Slot == domain.SlotAlternative
	}
	if slot == domain.SlotPrimary && hasAlt {
		msg += " The alternative secret becomes the primary."
	}
	if len(app.Secrets) == 1 {
		msg += " It is the app's only secret: the app cannot get tokens until a new one is issued."
	}
	var lines []string
	switch {
	case n > 0:
		lines = append(lines, plural(n, "active authorization still refreshes", "active authorizations still refresh")+" with this secret and will have to authorize again.")
	case len(app.Secrets) == 1:
		lines = append(lines, "No active authorization refreshes with this secret, but the app gets no new tokens until it has a new secret.")
	default:
		lines = append(lines, "No active authorization refreshes with this secret: the other secret keeps the app working.")
	}
	return s.confirm(c, views.ConfirmPage{Title: "Retire the " + slot + " secret of " + app.Name + "?", Message: msg,
		Impact: lines, Action: c.Request().URL.Path, Button: "Retire secret", Danger: true, Cancel: appBase(c, app.ClientID)})
}

func (s *Server) secretRetire(c echo.Context) error {
	slot, err := slotParam(c)
	if err != nil {
		return err
	}
	if _, err := s.admin.RetireSecret(c.Request().Context(), c.Param("client_id"), slot); err != nil {
		return err
	}
	return s.flashTo(c, appBase(c, c.Param("client_id")), "The "+slot+" secret was retired.")
}

// appRevokeConfirm asks before revoking every authorization of an app.
func (s *Server) appRevokeConfirm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	imp, err := s.admin.RevocationImpact(c.Request().Context(), domain.AuthorizationFilter{ClientID: app.ClientID})
	if err != nil {
		return err
	}
	return s.confirm(c, views.ConfirmPage{Title: "Revoke every authorization of " + app.Name + "?",
		Message: "Every user will have to authorize the app again.", Impact: impactLines(imp),
		Action: c.Request().URL.Path, Button: "Revoke all", Danger: true, Cancel: "/admin/apps/" + app.ClientID})
}

func (s *Server) appRevoke(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	n, err := s.admin.RevokeAuthorizations(c.Request().Context(), domain.AuthorizationFilter{ClientID: app.ClientID})
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/apps/"+app.ClientID, plural(int64(n), "authorization was", "authorizations were")+" revoked.")
}

// authorizationRevokeConfirm asks before revoking one authorization.
func (s *Server) authorizationRevokeConfirm(c echo.Context) error {
	list, _, err := s.admin.Authorizations(c.Request().Context(), domain.AuthorizationFilter{ID: c.Param("id"), ActiveOnly: true})
	if err != nil {
		return err
	}
	for _, a := range list {
		imp, err := s.admin.RevocationImpact(c.Request().Context(), domain.AuthorizationFilter{UserID: a.UserID, ClientID: a.ClientID})
		if err != nil {
			return err
		}
		action, cancel := c.Request().URL.Path, "/admin/apps/"+a.ClientID
		if c.QueryParam("from") == "user" { // opened from the user's page: back there
			action, cancel = action+"?from=user", "/admin/users/"+a.UserID
		}
		return s.confirm(c, views.ConfirmPage{Title: "Revoke " + a.UserDisplayName + "'s authorization of " + a.AppName + "?",
			Message: "The app loses access to " + a.Username + "'s account at once; the user can authorize it again.",
			Impact:  impactLines(imp), Action: action, Button: "Revoke", Danger: true, Cancel: cancel})
	}
	return apperr.Errorf(apperr.NotFound, "No such active authorization; it may have been revoked already.")
}

func (s *Server) authorizationRevoke(c echo.Context) error {
	id := c.Param("id")
	revoked, err := s.admin.RevokeAuthorization(c.Request().Context(), id, "")
	if err != nil {
		return err
	}
	target := "/admin/apps"
	if list, _, err := s.admin.Authorizations(c.Request().Context(), domain.AuthorizationFilter{ID: id}); err == nil && len(list) == 1 {
		target = "/admin/apps/" + list[0].ClientID
		if c.QueryParam("from") == "user" {
			target = "/admin/users/" + list[0].UserID
		}
	}
	if !revoked {
		return s.flashTo(c, target, "The authorization had already been revoked.")
	}
	return s.flashTo(c, target, "The authorization was revoked.")
}

// appDeleteConfirm asks for the app name before deleting.
func (s *Server) appDeleteConfirm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	return s.renderDeleteConfirm(c, app, "", http.StatusOK)
}

func (s *Server) renderDeleteConfirm(c echo.Context, app domain.App, errMsg string, status int) error {
	imp, err := s.admin.RevocationImpact(c.Request().Context(), domain.AuthorizationFilter{ClientID: app.ClientID})
	if err != nil {
		return err
	}
	active := "apps"
	if ownerPage(c) {
		active = "myapps"
	}
	p := views.ConfirmPage{Nav: s.nav(c, active), Title: "Delete " + app.Name + "?",
		Message: "The app breaks: no new tokens are minted and no minted token is accepted. This cannot be undone; the record is kept for the audit trail.",
		Impact:  impactLines(imp), Action: appBase(c, app.ClientID) + "/delete", Button: "Delete this app", Danger: true,
		TypeToConfirm: app.Name, Error: errMsg, Cancel: appBase(c, app.ClientID)}
	return render(c, status, views.Confirm(p))
}

func (s *Server) appDelete(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	n, err := s.admin.DeleteApp(c.Request().Context(), app.ClientID, c.FormValue("confirm"))
	if apperr.Is(err, apperr.Invalid) {
		msg := apperr.ErrorMessage(err)
		if f := apperr.FieldErrors(err)["confirm"]; f != "" {
			msg += " " + f
		}
		return s.renderDeleteConfirm(c, app, msg, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, appsHome(c), fmt.Sprintf("%s was deleted; %s revoked.", app.Name, plural(int64(n), "authorization was", "authorizations were")))
}

func (s *Server) userRevokeConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.admin.User(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	imp, err := s.admin.RevocationImpact(ctx, domain.AuthorizationFilter{UserID: u.ID})
	if err != nil {
		return err
	}
	return s.confirm(c, views.ConfirmPage{Title: "Revoke every authorization of " + u.DisplayName + " (" + u.Username + ")?",
		Message: "Every app this user authorized loses access at once.", Impact: impactLines(imp),
		Action: c.Request().URL.Path, Button: "Revoke all", Danger: true, Cancel: "/admin/users"})
}

func (s *Server) userRevoke(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.admin.User(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	n, err := s.admin.RevokeAuthorizations(ctx, domain.AuthorizationFilter{UserID: u.ID})
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/users", plural(int64(n), "authorization", "authorizations")+" of "+u.Username+" revoked.")
}

// settingsPage is /admin/settings.
func (s *Server) settingsPage(c echo.Context) error { return s.renderSettings(c, "", http.StatusOK) }

func (s *Server) renderSettings(c echo.Context, errMsg string, status int) error {
	ctx := c.Request().Context()
	on, err := s.admin.ThirdPartyOAuth(ctx)
	if err != nil {
		return err
	}
	life, err := s.admin.SecretLifetime(ctx)
	if err != nil {
		return err
	}
	days := int(life.Hours() / 24)
	if life == 0 {
		days = 1826
	}
	policy, err := s.admin.RegistrationPolicy(ctx)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	n := s.nav(c, "settings")
	n.PolicyOff = !on
	tp, err := s.tokenPolicyView(c)
	if err != nil {
		return err
	}
	p := views.SettingsPage{Nav: n, ThirdPartyOAuth: on, SecretLifetimeDays: days,
		MaxLifetimeDays: 1827, CanManage: u.Role == domain.RoleAdmin, Flash: s.sessions.PopString(ctx, sessFlash), Error: errMsg,
		RegistrationPolicy: policy, TokenPolicy: tp}
	if p.CanManage {
		p.Jobs = s.jobRows()
	}
	return render(c, status, views.Settings(p))
}

// settingsPolicyConfirm is GET /admin/settings/third-party-oauth?value=on|off:
// what switching third-party OAuth access does, before it is done.
func (s *Server) settingsPolicyConfirm(c echo.Context) error {
	v := c.QueryParam("value")
	p := views.ConfirmPage{Nav: views.Nav{Active: "settings"}, Action: "/admin/settings/third-party-oauth?value=" + v, Cancel: "/admin/settings"}
	switch v {
	case "off":
		p.Title, p.Button, p.Danger = "Turn off third-party application access?", "Turn off", true
		p.Message = "Every app stops working against the REST APIs at once, for every user."
		p.Impact = []string{"Every REST API call with an OAuth access token answers 401 TF400813 until it is turned on again.",
			"Apps can still be authorized and still get tokens; nothing is revoked or deleted.",
			"Turning it on again makes the same tokens work at once."}
	case "on":
		p.Title, p.Button = "Turn on third-party application access?", "Turn on"
		p.Message = "Apps' access tokens work against the REST APIs again, at once."
		p.Impact = []string{"Every unexpired access token of an active authorization is accepted again on its next request."}
	default:
		return apperr.Errorf(apperr.Invalid, "value must be on or off")
	}
	return s.confirm(c, p)
}

func (s *Server) settingsPolicy(c echo.Context) error {
	v := c.FormValue("value")
	if v != "on" && v != "off" {
		return apperr.Errorf(apperr.Invalid, "value must be on or off")
	}
	if err := s.admin.SetThirdPartyOAuth(c.Request().Context(), v == "on"); err != nil {
		return err
	}
	return s.flashTo(c, "/admin/settings", "Third-party application access via OAuth is now "+v+".")
}

func (s *Server) settingsLifetime(c echo.Context) error {
	days, err := strconv.Atoi(c.FormValue("days"))
	if err == nil {
		err = s.admin.SetSecretLifetimeDays(c.Request().Context(), days)
	} else {
		err = apperr.Errorf(apperr.Invalid, "the lifetime must be a whole number of days")
	}
	if apperr.Is(err, apperr.Invalid) {
		return s.renderSettings(c, apperr.ErrorMessage(err), http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/settings", "New client secrets now live "+strconv.Itoa(days)+" days.")
}
