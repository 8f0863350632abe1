package web

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// Authorizations is the authorizations and revocation slice: the
// dashboard's revocation pages, the profile's own authorizations and the
// token administration API (implemented by *admin.AuthorizationService).
type Authorizations interface {
	Authorizations(ctx context.Context, f domain.AuthorizationFilter) ([]domain.Authorization, string, error)
	RevocationImpact(ctx context.Context, f domain.AuthorizationFilter) (domain.RevocationImpact, error)
	RevokeAuthorizations(ctx context.Context, f domain.AuthorizationFilter) (int, error)
	RevokeAuthorization(ctx context.Context, id, ownerID string) (bool, error)
}

// impactLines says what revoking the authorizations imp counts does; with
// none active, that there is nothing to revoke (never "0 … of 0 users").
func impactLines(imp domain.RevocationImpact) []string {
	if imp.Authorizations == 0 {
		return []string{"No active authorizations: nothing to revoke."}
	}
	return []string{
		plural(imp.Authorizations, "active authorization", "active authorizations") + " of " + plural(imp.Users, "user", "users") + " will be revoked.",
		plural(imp.RefreshTokens, "live refresh token stops", "live refresh tokens stop") + " working, and every access token of these authorizations gets 401 on its next request.",
	}
}

// appRevokeConfirm asks before revoking every authorization of an app.
func (s *Server) appRevokeConfirm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	imp, err := s.cfg.Authorizations.RevocationImpact(c.Request().Context(), domain.AuthorizationFilter{ClientID: app.ClientID})
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
	n, err := s.cfg.Authorizations.RevokeAuthorizations(c.Request().Context(), domain.AuthorizationFilter{ClientID: app.ClientID})
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/apps/"+app.ClientID, plural(int64(n), "authorization was", "authorizations were")+" revoked.")
}

// authorizationRevokeConfirm asks before revoking one authorization.
func (s *Server) authorizationRevokeConfirm(c echo.Context) error {
	list, _, err := s.cfg.Authorizations.Authorizations(c.Request().Context(), domain.AuthorizationFilter{ID: c.Param("id"), ActiveOnly: true})
	if err != nil {
		return err
	}
	for _, a := range list {
		imp, err := s.cfg.Authorizations.RevocationImpact(c.Request().Context(), domain.AuthorizationFilter{UserID: a.UserID, ClientID: a.ClientID})
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
	revoked, err := s.cfg.Authorizations.RevokeAuthorization(c.Request().Context(), id, "")
	if err != nil {
		return err
	}
	target := "/admin/apps"
	if list, _, err := s.cfg.Authorizations.Authorizations(c.Request().Context(), domain.AuthorizationFilter{ID: id}); err == nil && len(list) == 1 {
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

func (s *Server) userRevokeConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.cfg.Users.User(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	imp, err := s.cfg.Authorizations.RevocationImpact(ctx, domain.AuthorizationFilter{UserID: u.ID})
	if err != nil {
		return err
	}
	return s.confirm(c, views.ConfirmPage{Title: "Revoke every authorization of " + u.DisplayName + " (" + u.Username + ")?",
		Message: "Every app this user authorized loses access at once.", Impact: impactLines(imp),
		Action: c.Request().URL.Path, Button: "Revoke all", Danger: true, Cancel: "/admin/users"})
}

func (s *Server) userRevoke(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.cfg.Users.User(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	n, err := s.cfg.Authorizations.RevokeAuthorizations(ctx, domain.AuthorizationFilter{UserID: u.ID})
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/users", plural(int64(n), "authorization", "authorizations")+" of "+u.Username+" revoked.")
}
