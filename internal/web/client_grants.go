package web

import (
	"context"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// ClientGrants is the app's own grants (client_credentials, RFC 6749
// §4.4): listed on the app page, revoked one by one, and the grant type
// switched on or off (admin.ClientGrants implements it).
type ClientGrants interface {
	List(ctx context.Context, clientID string) ([]domain.ClientGrant, error)
	Revoke(ctx context.Context, clientID, id string) error
	SetEnabled(ctx context.Context, clientID string, on bool) (domain.App, error)
}

// clientGrantsView builds the app page's section.
func (s *Server) clientGrantsView(ctx context.Context, a domain.App, base, csrf string, canManage, ownerPage bool) (views.ClientGrantsView, error) {
	v := views.ClientGrantsView{Shown: s.cfg.ClientGrants != nil && !a.Public() && !a.External, Enabled: a.AllowsGrant(domain.GrantClientCredentials),
		CanManage: canManage && a.DeletedAt == nil, Base: base, CSRF: csrf, OwnerPage: ownerPage}
	if !v.Shown {
		return v, nil
	}
	list, err := s.cfg.ClientGrants.List(ctx, a.ClientID)
	if err != nil {
		return v, err
	}
	for _, g := range list {
		r := views.ClientGrantRow{ID: g.ID, Scopes: strings.Join(g.Scopes, " "), Issued: stamp(g.CreatedAt), LastIssued: stamp(g.LastIssuedAt),
			LastUsed: when(g.LastUsedAt), Tokens: g.TokenCount, Live: g.Live()}
		if g.RevokedAt != nil {
			r.Revoked = stamp(*g.RevokedAt)
		} else {
			v.Live++
		}
		v.Rows = append(v.Rows, r)
	}
	return v, nil
}

// clientGrantRevoke is POST {app page}/client-grants/{id}/revoke: the
// grant's tokens are refused from the next request.
func (s *Server) clientGrantRevoke(c echo.Context) error {
	id := c.Param("client_id")
	err := s.cfg.ClientGrants.Revoke(c.Request().Context(), id, c.Param("id"))
	if apperr.Is(err, apperr.NotFound) {
		return s.flashTo(c, appBase(c, id), apperr.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, appBase(c, id), "The app's grant was revoked: its tokens are refused from now on.")
}

// clientCredentialsSwitch is POST {app page}/client-credentials (field
// enabled = on|off): switches the client_credentials grant type; off
// revokes every grant of the app at once.
func (s *Server) clientCredentialsSwitch(c echo.Context) error {
	id := c.Param("client_id")
	on := c.FormValue("enabled") == "on"
	if !on && c.FormValue("enabled") != "off" {
		return apperr.Errorf(apperr.Invalid, "enabled must be on or off.")
	}
	if on && ownerPage(c) {
		// widening an app goes through the registration form and its review
		return s.flashTo(c, appBase(c, id), "To switch client credentials on, tick \"Client credentials\" in the registration.")
	}
	_, err := s.cfg.ClientGrants.SetEnabled(c.Request().Context(), id, on)
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.NotFound) {
		return s.flashTo(c, appBase(c, id), apperr.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	if on {
		return s.flashTo(c, appBase(c, id), "Client credentials are on: the app can get tokens of its own.")
	}
	return s.flashTo(c, appBase(c, id), "Client credentials are off: the app's own tokens are refused from now on.")
}
