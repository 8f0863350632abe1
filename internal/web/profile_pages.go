package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// profileAuthorizations is /profile/authorizations: the signed-in user's
// active authorizations (seed 003, Profile → Authorizations).
func (s *Server) profileAuthorizations(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	list, _, err := s.cfg.Authorizations.Authorizations(ctx, domain.AuthorizationFilter{UserID: u.ID, ActiveOnly: true, Limit: 1000})
	if err != nil {
		return err
	}
	p := views.ProfileAuthorizationsPage{Nav: s.nav(c, "profile"), Flash: s.sessions.PopString(ctx, sessFlash)}
	for _, a := range list {
		pa := views.ProfileAuthorization{ID: a.ID, AppName: a.AppName, Company: a.AppCompany, AppURL: a.AppURL,
			GrantedAt: a.GrantedAt.Format("2006-01-02"), LastUsed: dayPtr(a.LastUsedAt), State: a.State}
		for _, id := range a.Scopes {
			sc, _ := s.scopes.Lookup(id)
			pa.Scopes = append(pa.Scopes, views.ProfileScope{ID: id, Name: sc.Name, Description: sc.UserDescription(), HighPrivilege: sc.HighPrivilege})
		}
		p.Authorizations = append(p.Authorizations, pa)
	}
	return render(c, http.StatusOK, views.ProfileAuthorizations(p))
}

func (s *Server) ownAuthorization(c echo.Context) (domain.Authorization, error) {
	u, _ := currentUser(c)
	list, _, err := s.cfg.Authorizations.Authorizations(c.Request().Context(), domain.AuthorizationFilter{ID: c.Param("id"), UserID: u.ID, ActiveOnly: true})
	if err != nil {
		return domain.Authorization{}, err
	}
	if len(list) == 0 {
		return domain.Authorization{}, apperr.Errorf(apperr.NotFound, "You have no such active authorization; it may have been revoked already.")
	}
	return list[0], nil
}

func (s *Server) profileRevokeConfirm(c echo.Context) error {
	a, err := s.ownAuthorization(c)
	if err != nil {
		return err
	}
	p := views.ConfirmPage{Nav: s.nav(c, "profile"), Title: "Revoke " + a.AppName + "?",
		Message: a.AppName + " loses access to your account at once. It will have to ask for your authorization again.",
		Action:  c.Request().URL.Path, Button: "Revoke", Danger: true, Cancel: "/profile/authorizations"}
	return render(c, http.StatusOK, views.Confirm(p))
}

func (s *Server) profileRevoke(c echo.Context) error {
	a, err := s.ownAuthorization(c)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	if _, err := s.cfg.Authorizations.RevokeAuthorization(c.Request().Context(), a.ID, u.ID); err != nil {
		return err
	}
	return s.flashTo(c, "/profile/authorizations", a.AppName+" can no longer access your account.")
}
