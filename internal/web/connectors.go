package web

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/federation"
	"github.com/oauthdesk/oauthdesk/views"
)

// Federation is sign-in through the organization's directory
// (implemented by *federation.Service).
type Federation interface {
	SignInOptions(ctx context.Context) ([]federation.Option, error)
	ConnectorType(ctx context.Context, name string) (string, error)
	BeginLogin(ctx context.Context, name, redirectURI string) (string, connector.State, error)
	FinishLogin(ctx context.Context, name, redirectURI string, st connector.State, q map[string][]string) (domain.User, error)
	PasswordLogin(ctx context.Context, name, username, password string) (domain.User, error)
	Connectors(ctx context.Context) ([]federation.Info, error)
	AddConnector(ctx context.Context, in federation.NewConnector) (federation.Info, error)
	RemoveConnector(ctx context.Context, name string) error
	TestConnector(ctx context.Context, name string) error
	LocalSignIn(ctx context.Context) (string, error)
	SetLocalSignIn(ctx context.Context, v string) error
	SyncProblems(ctx context.Context) ([]string, error)
	SealState(name string, st connector.State, returnTo string) string
	OpenState(name, v string) (connector.State, string, error)
}

// stateCookie holds a redirect sign-in under way (federation.SealState),
// scoped to its connector's callback path.
const stateCookie = "oauthdesk_signin_state"

// signinPage renders /signin with the connectors on offer.
func (s *Server) signinPage(c echo.Context, status int, p views.SignInPage) error {
	p.Nav = s.nav(c, "signin")
	if s.cfg.Federation != nil {
		opts, err := s.cfg.Federation.SignInOptions(c.Request().Context())
		if err != nil {
			return err
		}
		for _, o := range opts {
			if o.Type == domain.ConnectorOIDC {
				p.Buttons = append(p.Buttons, o.Name)
			} else {
				p.Directories = append(p.Directories, o.Name)
			}
		}
	}
	return render(c, status, views.SignIn(p))
}

func (s *Server) callbackURL(name string) string {
	return s.cfg.BaseURL + federation.CallbackPath(name)
}

// connectorSignin is GET /signin/NAME: an OpenID Connect connector sends
// the browser upstream (state, nonce and PKCE verifier kept in the
// session); an LDAP connector shows the password form with it chosen.
// An unreachable upstream gives a 503 page saying so.
func (s *Server) connectorSignin(c echo.Context) error {
	if s.cfg.Federation == nil {
		return apperr.Errorf(apperr.NotFound, "No such sign-in.")
	}
	ctx := c.Request().Context()
	name := c.Param("name")
	ret := safeReturn(c.QueryParam("return_to"))
	typ, err := s.cfg.Federation.ConnectorType(ctx, name)
	if apperr.Is(err, apperr.NotFound) {
		return apperr.Errorf(apperr.NotFound, "There is no sign-in called %q.", name)
	}
	if err != nil {
		return err
	}
	if typ == domain.ConnectorLDAP {
		return s.signinPage(c, http.StatusOK, views.SignInPage{ReturnTo: ret, Source: name})
	}
	to, st, err := s.cfg.Federation.BeginLogin(ctx, name, s.callbackURL(name))
	if err != nil {
		return err
	}
	// A sealed cookie, not a session row: nothing is stored for a person
	// who is not signed in yet. SameSite=Lax: the upstream's redirect back
	// is a top-level GET.
	c.SetCookie(&http.Cookie{Name: stateCookie, Value: s.cfg.Federation.SealState(name, st, ret), Path: federation.CallbackPath(name),
		MaxAge: int(federation.StateTTL.Seconds()), HttpOnly: true, Secure: secureBase(s.cfg.BaseURL), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusFound, to)
}

// connectorCallback is GET /signin/NAME/callback, the redirect URI
// registered upstream. The state kept in the session is used once.
func (s *Server) connectorCallback(c echo.Context) error {
	if s.cfg.Federation == nil {
		return apperr.Errorf(apperr.NotFound, "No such sign-in.")
	}
	ctx := c.Request().Context()
	name := c.Param("name")
	var st connector.State
	var ret string
	ck, cerr := c.Cookie(stateCookie)
	if cerr == nil {
		var err error
		st, ret, err = s.cfg.Federation.OpenState(name, ck.Value)
		cerr = err
	}
	// Used once: the cookie goes whatever the outcome.
	c.SetCookie(&http.Cookie{Name: stateCookie, Value: "", Path: federation.CallbackPath(name), MaxAge: -1, HttpOnly: true,
		Secure: secureBase(s.cfg.BaseURL), SameSite: http.SameSiteLaxMode})
	if cerr != nil {
		return s.signinPage(c, http.StatusBadRequest, views.SignInPage{
			Error: "This sign-in expired or was started in another browser. Start again below."})
	}
	actx := audit.WithActor(ctx, audit.Actor{Name: "anonymous", RemoteAddr: clientIP(c)})
	u, err := s.cfg.Federation.FinishLogin(actx, name, s.callbackURL(name), st, c.QueryParams())
	if err != nil {
		return s.connectorFailed(c, name, ret, err)
	}
	return s.startSession(c, u, ret)
}

// connectorFailed shows why a directory sign-in failed on the sign-in
// page: refused (401/403) or the upstream unreachable (503).
func (s *Server) connectorFailed(c echo.Context, name, ret string, err error) error {
	status := 0
	switch apperr.ErrorCode(err) {
	case apperr.Unauthorized:
		status = http.StatusUnauthorized
	case apperr.Forbidden:
		status = http.StatusForbidden
	case apperr.Unavailable:
		status = http.StatusServiceUnavailable
		s.log.Warn("directory sign-in: upstream unavailable", "connector", name, "err", apperr.ErrorMessage(err))
	default:
		return err
	}
	s.log.Warn("directory sign-in refused", "connector", name, "reason", apperr.ErrorMessage(err))
	return s.signinPage(c, status, views.SignInPage{ReturnTo: ret, Error: apperr.ErrorMessage(err)})
}

// startSession signs u in: a new session token (no fixation), a fresh
// CSRF token, and the user's start page or ret.
func (s *Server) startSession(c echo.Context, u domain.User, ret string) error {
	ctx := c.Request().Context()
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: secureBase(s.cfg.BaseURL), SameSite: http.SameSiteStrictMode})
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessUserID, u.ID)
	s.sessions.Put(ctx, sessRevision, u.Revision)
	s.sessions.Put(ctx, sessAuthTime, s.now().Unix()) // OIDC auth_time
	if u.MustChangePassword {
		return c.Redirect(http.StatusSeeOther, "/profile/password")
	}
	if ret == "" {
		ret = startPage(u.Role)
	}
	return c.Redirect(http.StatusSeeOther, ret)
}

// directorySignin is POST /signin with a connector chosen: the name and
// password are checked by that LDAP directory.
func (s *Server) directorySignin(c echo.Context, name string) error {
	ctx := c.Request().Context()
	username, password := c.FormValue("username"), c.FormValue("password")
	ret := safeReturn(c.FormValue("return_to"))
	key := signinKey(name+"/"+username, clientIP(c))
	if wait, err := s.signinFails.Wait(ctx, key); err != nil {
		return err
	} else if wait > 0 {
		return s.signinTooMany(c, wait)
	}
	actx := audit.WithActor(ctx, audit.Actor{Name: "anonymous", RemoteAddr: clientIP(c)})
	u, err := s.cfg.Federation.PasswordLogin(actx, name, username, password)
	if err != nil {
		if apperr.Is(err, apperr.Unauthorized) {
			if _, ferr := s.signinFails.Fail(ctx, key); ferr != nil {
				return ferr
			}
		}
		if apperr.Is(err, apperr.NotFound) {
			err = apperr.Errorf(apperr.Unauthorized, "There is no directory called %q.", name)
		}
		code := apperr.ErrorCode(err)
		if code == apperr.Unauthorized || code == apperr.Forbidden || code == apperr.Unavailable || code == apperr.Invalid {
			status := map[apperr.Code]int{apperr.Unauthorized: 401, apperr.Forbidden: 403, apperr.Unavailable: 503, apperr.Invalid: 400}[code]
			return s.signinPage(c, status, views.SignInPage{Username: username, ReturnTo: ret, Source: name, Error: apperr.ErrorMessage(err)})
		}
		return err
	}
	if err := s.signinFails.Reset(ctx, key); err != nil {
		return err
	}
	return s.startSession(c, u, ret)
}

// withDirectoryProblems marks admin pages while the last sync of some
// directory failed.
func (s *Server) withDirectoryProblems(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Federation != nil {
			p, err := s.cfg.Federation.SyncProblems(c.Request().Context())
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
	if s.cfg.Federation == nil {
		return apperr.Errorf(apperr.NotFound, "Connectors are not available.")
	}
	ctx := c.Request().Context()
	list, err := s.cfg.Federation.Connectors(ctx)
	if err != nil {
		return err
	}
	local, err := s.cfg.Federation.LocalSignIn(ctx)
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
	if _, err := s.cfg.Federation.AddConnector(c.Request().Context(), federation.NewConnector{Name: name, Config: cfg, Secret: c.FormValue("secret")}); err != nil {
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
	err := s.cfg.Federation.TestConnector(c.Request().Context(), name)
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
	if _, err := s.cfg.Federation.ConnectorType(c.Request().Context(), name); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ConnectorRemove(s.nav(c, "settings"), name))
}

// connectorRemove is POST /admin/settings/connectors/NAME/remove.
func (s *Server) connectorRemove(c echo.Context) error {
	name := c.Param("name")
	if err := s.cfg.Federation.RemoveConnector(c.Request().Context(), name); err != nil {
		return err
	}
	s.sessions.Put(c.Request().Context(), sessFlash, "Connector "+name+" removed.")
	return c.Redirect(http.StatusSeeOther, "/admin/settings/connectors")
}

// localSigninSet is POST /admin/settings/local-signin.
func (s *Server) localSigninSet(c echo.Context) error {
	if err := s.cfg.Federation.SetLocalSignIn(c.Request().Context(), c.FormValue("value")); err != nil {
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
