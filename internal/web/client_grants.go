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

// clientCredentialsConfirm is GET {app page}/client-credentials?enabled=on|off:
// what switching the app's own grants does, before it is done.
func (s *Server) clientCredentialsConfirm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	base := appBase(c, app.ClientID)
	p := views.ConfirmPage{Nav: views.Nav{Active: "apps"}, Action: base + "/client-credentials", Cancel: base}
	if ownerPage(c) {
		p.Nav.Active = "myapps"
	}
	switch c.QueryParam("enabled") {
	case "off":
		p.Title, p.Button, p.Danger = "Switch off client credentials for "+app.Name+"?", "Switch off and revoke", true
		p.Message = "The token endpoint refuses the app's client_credentials requests (unauthorized_client), and every token the app got for itself is refused from its next request. Users' authorizations and their tokens are not touched."
		p.Hidden = []views.HiddenField{{Name: "enabled", Value: "off"}}
	case "on":
		if ownerPage(c) {
			return s.flashTo(c, base+"?tab=settings", "To switch client credentials on, tick \"Client credentials\" in the registration.")
		}
		p.Title, p.Button = "Switch on client credentials for "+app.Name+"?", "Switch on"
		p.Message = "The app may get tokens of its own with its client secret, without a user, for the scopes it registered."
		p.Hidden = []views.HiddenField{{Name: "enabled", Value: "on"}}
	default:
		return apperr.Errorf(apperr.Invalid, "enabled must be on or off.")
	}
	return s.confirm(c, p)
}

// clientGrantRevokeConfirm is GET {app page}/client-grants/{id}/revoke.
func (s *Server) clientGrantRevokeConfirm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	base := appBase(c, app.ClientID)
	p := views.ConfirmPage{Nav: views.Nav{Active: "apps"}, Title: "Revoke this grant of " + app.Name + "?",
		Message: "Every token the app got with this grant is refused from its next request. The app may ask for a new one while client credentials stay on.",
		Action:  base + "/client-grants/" + c.Param("id") + "/revoke", Button: "Revoke", Danger: true, Cancel: base}
	if ownerPage(c) {
		p.Nav.Active = "myapps"
	}
	return s.confirm(c, p)
}
