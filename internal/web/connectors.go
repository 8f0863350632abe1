package web

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/federation"
	"github.com/oauthdesk/oauthdesk/views"
)

// Connectors is the administrators' configuration of directory sign-in
// the connector pages call (implemented by *federation.ConnectorService).
type Connectors interface {
	Connectors(ctx context.Context) ([]federation.Info, error)
	AddConnector(ctx context.Context, in federation.NewConnector) (federation.Info, error)
	RemoveConnector(ctx context.Context, name string) error
	TestConnector(ctx context.Context, name string) error
	ConnectorType(ctx context.Context, name string) (string, error)
	LocalSignIn(ctx context.Context) (string, error)
	SetLocalSignIn(ctx context.Context, v string) error
	SyncProblems(ctx context.Context) ([]string, error)
}

// withDirectoryProblems marks admin pages while the last sync of some
// directory failed.
func (s *Server) withDirectoryProblems(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Connectors != nil {
			p, err := s.cfg.Connectors.SyncProblems(c.Request().Context())
			if err != nil {
				return err
			}
			c.Set(ctxDirectoryProblems, p)
		}
		return next(c)
	}
}

const ctxDirectoryProblems = "directory_problems"

// connectorsPage is GET /admin/settings/connectors.
func (s *Server) connectorsPage(c echo.Context) error {
	return s.renderConnectors(c, http.StatusOK, "")
}

func (s *Server) renderConnectors(c echo.Context, status int, errMsg string) error {
	if s.cfg.Connectors == nil {
		return apperr.Errorf(apperr.NotFound, "Connectors are not available.")
	}
	ctx := c.Request().Context()
	list, err := s.cfg.Connectors.Connectors(ctx)
	if err != nil {
		return err
	}
	local, err := s.cfg.Connectors.LocalSignIn(ctx)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	p := views.ConnectorsPage{Nav: s.nav(c, "settings"), CanManage: u.Role == domain.RoleAdmin, BaseURL: s.cfg.BaseURL,
		LocalSignIn: local, Flash: s.sessions.PopString(ctx, sessFlash), Error: errMsg}
	for _, ci := range list {
		row := views.ConnectorRow{Name: ci.Name, Type: ci.Type, DefaultRole: ci.Config.DefaultRole, SyncError: ci.LastSyncError, LastSync: "never"}
		if ci.Type == domain.ConnectorOIDC {
			row.Where, row.CallbackURL, row.LastSync = ci.Config.Issuer, s.callbackURL(ci.Name), "at sign-in"
		} else {
			row.Where = ci.Config.URL
		}
		if ci.LastSyncAt != nil {
			row.LastSync = ci.LastSyncAt.UTC().Format(time.DateTime) + " UTC"
		}
		var pairs []string
		for g, r := range ci.Config.RoleMap {
			pairs = append(pairs, g+"="+r)
		}
		sort.Strings(pairs)
		row.RoleMap = strings.Join(pairs, ", ")
		p.Connectors = append(p.Connectors, row)
	}
	return render(c, status, views.Connectors(p))
}

// connectorAdd is POST /admin/settings/connectors.
func (s *Server) connectorAdd(c echo.Context) error {
	roles, err := connector.ParseRoleMap(c.FormValue("role_map"))
	if err != nil {
		return s.renderConnectors(c, http.StatusBadRequest, apperr.ErrorMessage(err))
	}
	cfg := connector.Config{Type: c.FormValue("type"), DefaultRole: c.FormValue("default_role"), RoleMap: roles,
		Issuer: strings.TrimSpace(c.FormValue("issuer")), ClientID: strings.TrimSpace(c.FormValue("client_id")),
		Scopes: strings.Fields(c.FormValue("scopes")),
		URL:    strings.TrimSpace(c.FormValue("url")), StartTLS: c.FormValue("start_tls") != "",
		BindDN: c.FormValue("bind_dn"), UserBase: c.FormValue("user_base"), UserFilter: c.FormValue("user_filter"),
		GroupBase: c.FormValue("group_base"), GroupFilter: c.FormValue("group_filter")}
	name := strings.TrimSpace(c.FormValue("name"))
	if _, err := s.cfg.Connectors.AddConnector(c.Request().Context(), federation.NewConnector{Name: name, Config: cfg, Secret: c.FormValue("secret")}); err != nil {
		if code := apperr.ErrorCode(err); code == apperr.Invalid || code == apperr.Conflict {
			return s.renderConnectors(c, http.StatusBadRequest, apperr.ErrorMessage(err))
		}
		return err
	}
	s.sessions.Put(c.Request().Context(), sessFlash, "Connector "+name+" added. Its secret is sealed and will not be shown again.")
	return c.Redirect(http.StatusSeeOther, "/admin/settings/connectors")
}

// connectorTest is POST /admin/settings/connectors/NAME/test.
func (s *Server) connectorTest(c echo.Context) error {
	name := c.Param("name")
	err := s.cfg.Connectors.TestConnector(c.Request().Context(), name)
	switch {
	case err == nil:
		s.sessions.Put(c.Request().Context(), sessFlash, "Connector "+name+" answers.")
	case apperr.Is(err, apperr.Unavailable), apperr.Is(err, apperr.Invalid):
		return s.renderConnectors(c, http.StatusOK, "Connector "+name+" failed: "+apperr.ErrorMessage(err))
	default:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/settings/connectors")
}

// connectorRemoveConfirm is GET /admin/settings/connectors/NAME/remove.
func (s *Server) connectorRemoveConfirm(c echo.Context) error {
	name := c.Param("name")
	if _, err := s.cfg.Connectors.ConnectorType(c.Request().Context(), name); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ConnectorRemove(s.nav(c, "settings"), name))
}

// connectorRemove is POST /admin/settings/connectors/NAME/remove.
func (s *Server) connectorRemove(c echo.Context) error {
	name := c.Param("name")
	if err := s.cfg.Connectors.RemoveConnector(c.Request().Context(), name); err != nil {
		return err
	}
	s.sessions.Put(c.Request().Context(), sessFlash, "Connector "+name+" removed.")
	return c.Redirect(http.StatusSeeOther, "/admin/settings/connectors")
}

// localSigninSet is POST /admin/settings/local-signin.
func (s *Server) localSigninSet(c echo.Context) error {
	if err := s.cfg.Connectors.SetLocalSignIn(c.Request().Context(), c.FormValue("value")); err != nil {
		if apperr.Is(err, apperr.Invalid) {
			return s.renderConnectors(c, http.StatusBadRequest, apperr.ErrorMessage(err))
		}
		return err
	}
	s.sessions.Put(c.Request().Context(), sessFlash, "Local passwords: "+c.FormValue("value")+".")
	return c.Redirect(http.StatusSeeOther, "/admin/settings/connectors")
}

// localSigninConfirm is GET /admin/settings/local-signin?value=…: who
// may sign in with a local password afterwards, before it is saved.
func (s *Server) localSigninConfirm(c echo.Context) error {
	v := c.QueryParam("value")
	p := views.ConfirmPage{Nav: views.Nav{Active: "settings"}, Action: "/admin/settings/local-signin", Cancel: "/admin/settings/connectors",
		Hidden: []views.HiddenField{{Name: "value", Value: v}}}
	switch v {
	case domain.LocalSignInEveryone:
		p.Title, p.Button = "Let everyone sign in with a local password?", "Allow local passwords"
		p.Message = "Every user with a local password may sign in with it again, beside the directory connectors."
	case domain.LocalSignInAdminsOnly:
		p.Title, p.Button, p.Danger = "Allow local passwords for administrators only?", "Administrators only", true
		p.Message = "Members and auditors will no longer sign in with a local password; they sign in through a directory connector. Administrators keep their local password (break-glass)."
		p.Impact = []string{"Sessions already open stay open until they end; nobody's authorizations or tokens change."}
	default:
		return s.renderConnectors(c, http.StatusBadRequest, "Choose everyone or admins-only.")
	}
	return s.confirm(c, p)
}
