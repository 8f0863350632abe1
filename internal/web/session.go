package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

const (
	sessUserID   = "user_id"
	sessRevision = "user_revision" // the user's revision when the session began
	sessReveal   = "reveal"
	sessFlash    = "flash"
	ctxUser      = "user"
	ctxPolicyOff = "policy_off"
)

// withSession loads and saves the scs session around the handler. Errors
// are rendered inside, so that the session is committed exactly once,
// after the response is known.
func (s *Server) withSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.SetRequest(r)
			c.SetResponse(echo.NewResponse(w, c.Echo()))
			if err := next(c); err != nil {
				c.Error(err)
			}
		})).ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// loadUser puts the signed-in user, if any, in the context. A session whose
// user no longer exists, was disabled or deleted, or changed since the
// session began (an administrator changed the role, disabled and enabled
// the user, reset the password) is ended, so that every session of the
// user ends on its next request. A user whose password was reset is held
// on /profile/password until they change it.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if id := s.sessions.GetString(ctx, sessUserID); id != "" {
			u, err := s.cfg.Users.User(ctx, id)
			rev := s.sessions.GetInt64(ctx, sessRevision)
			switch {
			case err == nil && u.Active() && (rev == 0 || rev == u.Revision):
				if rev == 0 { // a session from before sessions kept the revision
					s.sessions.Put(ctx, sessRevision, u.Revision)
				}
				c.Set(ctxUser, u)
			case err == nil, apperr.Is(err, apperr.NotFound):
				_ = s.sessions.Destroy(ctx)
				err = apperr.Errorf(apperr.NotFound, "session ended")
			default:
				return err
			}
			if err == nil && u.MustChangePassword {
				switch c.Request().URL.Path {
				case "/profile/password", "/signout", "/signin":
				default:
					if c.Request().Method == http.MethodGet {
						return c.Redirect(http.StatusSeeOther, "/profile/password")
					}
					return apperr.Errorf(apperr.Forbidden, "Change your password first, at /profile/password.")
				}
			}
		}
		return next(c)
	}
}

// withActor puts the signed-in user in the context as the audit actor.
func (s *Server) withActor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u, ok := currentUser(c); ok {
			r := c.Request()
			c.SetRequest(r.WithContext(audit.WithActor(r.Context(), audit.Actor{Name: u.Username, ID: u.ID, RemoteAddr: clientIP(c)})))
		}
		return next(c)
	}
}

// policyBanner marks admin pages while third-party OAuth access is off.
func (s *Server) policyBanner(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		on, err := s.cfg.Settings.ThirdPartyOAuth(c.Request().Context())
		if err != nil {
			return err
		}
		c.Set(ctxPolicyOff, !on)
		return next(c)
	}
}

func currentUser(c echo.Context) (domain.User, bool) {
	u, ok := c.Get(ctxUser).(domain.User)
	return u, ok
}

// requireRole lets signed-in users holding one of roles through; others
// are sent to sign in (not signed in) or get 403.
func (s *Server) requireRole(roles ...domain.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, ok := currentUser(c)
			if !ok {
				if c.Request().Method == http.MethodGet {
					return c.Redirect(http.StatusFound, "/signin?return_to="+url.QueryEscape(c.Request().URL.RequestURI()))
				}
				return apperr.Errorf(apperr.Unauthorized, "Your session ended. Sign in again.")
			}
			if !slices.Contains(roles, u.Role) {
				return apperr.Errorf(apperr.Forbidden, "Your role (%s) does not allow this page. Ask an administrator if you need access.", u.Role)
			}
			return next(c)
		}
	}
}

// nav builds the header's view model.
func (s *Server) nav(c echo.Context, active string) views.Nav {
	n := views.Nav{Active: active}
	n.PolicyOff, _ = c.Get(ctxPolicyOff).(bool)
	n.DirectoryProblems, _ = c.Get(ctxDirectoryProblems).([]string)
	if t, ok := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string); ok {
		n.CSRF = t
	}
	if u, ok := currentUser(c); ok {
		n.Username, n.DisplayName, n.Role = u.Username, u.DisplayName, string(u.Role)
		n.CanAdmin = u.Role.CanViewAdmin()
		n.Tokens = s.pats != nil
		n.TokenNotice = s.tokenNotice(c.Request().Context(), u.ID)
	}
	return n
}

// safeReturn returns target if it is a local path (no scheme, no host, not
// protocol-relative), else "".
func safeReturn(target string) string {
	if target == "" || !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.HasPrefix(target, `/\`) {
		return ""
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.ContainsAny(target, "\r\n") {
		return ""
	}
	return target
}

// requestLog logs one line per request: method, path (never the query,
// which carries codes and state), status, latency. A handler's error is
// mapped (errorHandler) before the line is written, so the status logged
// is the one the client got.
func (s *Server) requestLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: false, LogMethod: true, LogLatency: true, LogRequestID: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			ctx, h := c.Request().Context(), s.log.Handler()
			if !h.Enabled(ctx, slog.LevelInfo) {
				return nil
			}
			// The line Logger.LogAttrs writes, handed to the handler
			// directly: LogAttrs would also walk the stack for the caller's
			// PC on every request, which only AddSource prints (the server's
			// handler has none).
			r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
			r.AddAttrs(slog.String("method", v.Method), slog.String("path", c.Request().URL.Path),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency.Round(time.Microsecond)),
				slog.String("request_id", v.RequestID))
			_ = h.Handle(ctx, r) // as LogAttrs: a failed write is not the request's error
			return nil
		},
	})
}
