package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/views"
)

// passwordForm is GET /profile/password.
func (s *Server) passwordForm(c echo.Context) error {
	u, _ := currentUser(c)
	return render(c, http.StatusOK, views.Password(views.PasswordPage{Nav: s.nav(c, "password"), Required: u.MustChangePassword,
		Errors: map[string]string{}, Flash: s.sessions.PopString(c.Request().Context(), sessFlash)}))
}

// passwordChange is POST /profile/password (fields current_password,
// new_password): needs the current password and at least 12 characters.
// A wrong current password is a failed guess counted against the same
// per-username-and-address delays as a failed sign-in (signinKey): after
// 5 in 15 minutes both this form and /signin answer 429 with Retry-After
// (10 s, doubling up to 15 minutes) before anything is hashed. The hashes
// run in the sign-in's bounded slots: 503 with Retry-After when none
// frees up in time.
func (s *Server) passwordChange(c echo.Context) error {
	u, _ := currentUser(c)
	key := signinKey(u.Username, clientIP(c))
	ctx := c.Request().Context()
	if wait, err := s.signinFails.Wait(ctx, key); err != nil {
		return err
	} else if wait > 0 {
		return s.passwordTooMany(c, wait)
	}
	err := s.cfg.Users.ChangePassword(ctx, u.ID, c.FormValue("current_password"), c.FormValue("new_password"))
	if admin.WrongCurrentPassword(err) {
		if _, ferr := s.signinFails.Fail(ctx, key); ferr != nil {
			return ferr
		}
	}
	if apperr.Is(err, apperr.Invalid) {
		return render(c, http.StatusUnprocessableEntity, views.Password(views.PasswordPage{Nav: s.nav(c, "password"),
			Required: u.MustChangePassword, Errors: apperr.FieldErrors(err), Error: apperr.ErrorMessage(err)}))
	}
	if err != nil {
		return err
	}
	if err := s.signinFails.Reset(ctx, key); err != nil {
		return err
	}
	// This session goes on (under a new token) with the user's new
	// revision; every other session of the user ends.
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	if now, err := s.cfg.Users.User(ctx, u.ID); err == nil {
		s.sessions.Put(ctx, sessRevision, now.Revision)
	}
	return s.flashTo(c, "/profile/password", "Your password was changed. Your other sessions were signed out.")
}

// passwordTooMany re-shows the password form with 429 and Retry-After.
func (s *Server) passwordTooMany(c echo.Context, wait time.Duration) error {
	u, _ := currentUser(c)
	setRetryAfter(c, wait)
	secs := int(max(wait, time.Second) / time.Second)
	return render(c, http.StatusTooManyRequests, views.Password(views.PasswordPage{Nav: s.nav(c, "password"), Required: u.MustChangePassword,
		Errors: map[string]string{}, Error: "Too many wrong passwords. Wait " + strconv.Itoa(secs) + " seconds, then try again."}))
}
