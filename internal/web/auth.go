package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// SignIn is the sign-in slice the dashboard's session pages call
// (implemented by *admin.SignInService).
type SignIn interface {
	Authenticate(ctx context.Context, username, password string) (domain.User, error)
	RecordSignOut(ctx context.Context, u domain.User) error
}

// home is GET /: admins and auditors go to the dashboard.
func (s *Server) home(c echo.Context) error {
	p := views.HomePage{Nav: s.nav(c, "home")}
	if u, ok := currentUser(c); ok {
		if err := s.homeFor(c, u, &p); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, views.Home(p))
}

// homeFor fills the signed-in home page: the user's apps, those needing
// action first (a secret expired or about to, approval pending or
// refused), and their active authorizations.
func (s *Server) homeFor(c echo.Context, u domain.User, p *views.HomePage) error {
	ctx := c.Request().Context()
	now := s.now()
	apps, err := s.cfg.Apps.ListApps(ctx, domain.AppFilter{OwnerID: u.ID, Limit: 50})
	if err != nil {
		return err
	}
	p.MoreApps = apps.Next != ""
	changes, err := s.changeStatuses(ctx, apps.Apps)
	if err != nil {
		return err
	}
	for _, a := range apps.Apps {
		r := views.HomeApp{AppRow: s.appRow(a, now)}
		r.Change = changes[a.ClientID]
		base := "/profile/apps/" + a.ClientID
		switch {
		case a.Status == domain.AppPending:
			r.Action, r.URL = "waiting for an administrator's approval", base
		case a.Status == domain.AppRejected:
			r.Action, r.URL = "an administrator refused it: fix the registration and save", base+"?tab=settings"
		case r.State == "expired":
			r.Action, r.URL = "its client secret expired on "+r.SecretExpires+": regenerate it", base+"?tab=secrets"
		case r.State == "none":
			r.Action, r.URL = "it has no client secret: it cannot get tokens", base+"?tab=secrets"
		case r.State == "critical" || r.State == "expiring":
			r.Action, r.URL = "its client secret expires in "+plural(int64(r.SecretDaysLeft), "day", "days")+" ("+r.SecretExpires+"): rotate it", base+"?tab=secrets"
		case r.Change == domain.ChangePending:
			r.Action, r.URL = "your change waits for an administrator's approval; until then the app keeps its approved registration", base
		case r.Change == domain.ChangeRejected:
			r.Action, r.URL = "an administrator rejected your change: see why, then withdraw it or propose another", base
		}
		if r.Action != "" {
			p.NeedsAction = append(p.NeedsAction, r)
		} else if len(p.OtherApps) < 10 {
			p.OtherApps = append(p.OtherApps, r)
		} else {
			p.MoreApps = true
		}
	}
	auths, next, err := s.cfg.Authorizations.Authorizations(ctx, domain.AuthorizationFilter{UserID: u.ID, ActiveOnly: true, Limit: 20})
	if err != nil {
		return err
	}
	for _, a := range auths {
		last := "never"
		if a.LastUsedAt != nil {
			last = day(*a.LastUsedAt)
		}
		p.Authorizations = append(p.Authorizations, views.HomeAuthorization{ID: a.ID, AppName: a.AppName, State: a.State, LastUsed: last})
	}
	p.MoreAuths = next != ""
	return nil
}

// signinForm is GET /signin?return_to=PATH.
func (s *Server) signinForm(c echo.Context) error {
	ret := safeReturn(c.QueryParam("return_to"))
	if u, ok := currentUser(c); ok {
		// Already signed in: go where the sign-in would have gone.
		if ret == "" {
			ret = startPage(u.Role)
		}
		return c.Redirect(http.StatusFound, ret)
	}
	return s.signinPage(c, http.StatusOK, views.SignInPage{ReturnTo: ret, Username: c.QueryParam("login_hint")})
}

// signin is POST /signin (fields username, password, return_to). On
// success the session token is renewed (no fixation) and the user goes
// back to return_to, or to the dashboard. A failure re-shows the form with
// 401 and one message for unknown user and wrong password alike. After 5
// failures in 15 minutes for one username from one address, that pair
// waits (429 with Retry-After, 10 s doubling up to 15 minutes).
func (s *Server) signin(c echo.Context) error {
	if name := c.FormValue("connector"); name != "" && s.cfg.DirectorySignIn != nil {
		return s.directorySignin(c, name)
	}
	ctx := c.Request().Context()
	username, password := c.FormValue("username"), c.FormValue("password")
	ret := safeReturn(c.FormValue("return_to"))
	ip := clientIP(c)
	key := signinKey(username, ip)
	if wait, err := s.signinFails.Wait(ctx, key); err != nil {
		return err
	} else if wait > 0 {
		return s.signinTooMany(c, wait)
	}
	ctx = audit.WithActor(ctx, audit.Actor{Name: "anonymous", RemoteAddr: ip})
	u, err := s.cfg.SignIn.Authenticate(ctx, username, password)
	if apperr.Is(err, apperr.Unauthorized) {
		if _, ferr := s.signinFails.Fail(ctx, key); ferr != nil {
			return ferr
		}
		return s.signinPage(c, http.StatusUnauthorized, views.SignInPage{Username: username, ReturnTo: ret, Error: apperr.ErrorMessage(err)})
	}
	if apperr.Is(err, apperr.Forbidden) { // local passwords are for administrators only
		return s.signinPage(c, http.StatusForbidden, views.SignInPage{Username: username, ReturnTo: ret, Error: apperr.ErrorMessage(err)})
	}
	if err != nil {
		return err
	}
	if err := s.signinFails.Reset(ctx, key); err != nil {
		return err
	}
	// A new session token and a new CSRF token for the signed-in session.
	return s.startSession(c, u, ret)
}

// startPage is where a user of role lands after signing in: the overview
// (what needs attention) for admins and auditors, the home page (their
// apps and authorizations) for members.
func startPage(role domain.Role) string {
	if role.CanViewAdmin() {
		return "/admin"
	}
	return "/"
}

// signoutForm is GET /signout: a page with the sign-out button (a state
// change needs a POST with a CSRF token).
func (s *Server) signoutForm(c echo.Context) error {
	if _, ok := currentUser(c); !ok {
		return c.Redirect(http.StatusFound, "/signin")
	}
	return render(c, http.StatusOK, views.SignOut(views.HomePage{Nav: s.nav(c, "")}))
}

// signout is POST /signout: destroys the session.
func (s *Server) signout(c echo.Context) error {
	if u, ok := currentUser(c); ok {
		if err := s.cfg.SignIn.RecordSignOut(c.Request().Context(), u); err != nil {
			return err
		}
	}
	if err := s.sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/signin")
}
