package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/federation"
	"github.com/oauthdesk/oauthdesk/views"
)

// DirectorySignIn is sign-in through the organization's directory, the
// /signin pages call (implemented by *federation.SignInService).
type DirectorySignIn interface {
	SignInOptions(ctx context.Context) ([]federation.Option, error)
	ConnectorType(ctx context.Context, name string) (string, error)
	BeginLogin(ctx context.Context, name, redirectURI string) (string, connector.State, error)
	FinishLogin(ctx context.Context, name, redirectURI string, st connector.State, q map[string][]string) (domain.User, error)
	PasswordLogin(ctx context.Context, name, username, password string) (domain.User, error)
	SealState(name string, st connector.State, returnTo string) string
	OpenState(name, v string) (connector.State, string, error)
}

// stateCookie holds a redirect sign-in under way (federation.SealState),
// scoped to its connector's callback path.
const stateCookie = "oauthdesk_signin_state"

// signinPage renders /signin with the connectors on offer.
func (s *Server) signinPage(c echo.Context, status int, p views.SignInPage) error {
	p.Nav = s.nav(c, "signin")
	if s.cfg.DirectorySignIn != nil {
		opts, err := s.cfg.DirectorySignIn.SignInOptions(c.Request().Context())
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
	if s.cfg.DirectorySignIn == nil {
		return apperr.Errorf(apperr.NotFound, "No such sign-in.")
	}
	ctx := c.Request().Context()
	name := c.Param("name")
	ret := safeReturn(c.QueryParam("return_to"))
	typ, err := s.cfg.DirectorySignIn.ConnectorType(ctx, name)
	if apperr.Is(err, apperr.NotFound) {
		return apperr.Errorf(apperr.NotFound, "There is no sign-in called %q.", name)
	}
	if err != nil {
		return err
	}
	if typ == domain.ConnectorLDAP {
		return s.signinPage(c, http.StatusOK, views.SignInPage{ReturnTo: ret, Source: name})
	}
	to, st, err := s.cfg.DirectorySignIn.BeginLogin(ctx, name, s.callbackURL(name))
	if err != nil {
		return err
	}
	// A sealed cookie, not a session row: nothing is stored for a person
	// who is not signed in yet. SameSite=Lax: the upstream's redirect back
	// is a top-level GET.
	c.SetCookie(&http.Cookie{Name: stateCookie, Value: s.cfg.DirectorySignIn.SealState(name, st, ret), Path: federation.CallbackPath(name),
		MaxAge: int(federation.StateTTL.Seconds()), HttpOnly: true, Secure: secureBase(s.cfg.BaseURL), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusFound, to)
}

// connectorCallback is GET /signin/NAME/callback, the redirect URI
// registered upstream. The state kept in the session is used once.
func (s *Server) connectorCallback(c echo.Context) error {
	if s.cfg.DirectorySignIn == nil {
		return apperr.Errorf(apperr.NotFound, "No such sign-in.")
	}
	ctx := c.Request().Context()
	name := c.Param("name")
	var st connector.State
	var ret string
	ck, cerr := c.Cookie(stateCookie)
	if cerr == nil {
		var err error
		st, ret, err = s.cfg.DirectorySignIn.OpenState(name, ck.Value)
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
	u, err := s.cfg.DirectorySignIn.FinishLogin(actx, name, s.callbackURL(name), st, c.QueryParams())
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
	u, err := s.cfg.DirectorySignIn.PasswordLogin(actx, name, username, password)
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
