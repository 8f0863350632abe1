package web

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/views"
)

// render writes a templ component as an HTML response with status. It
// renders into a buffer first, so a failing component yields a clean 500
// instead of half a page.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// cacheAssets lets browsers cache the embedded assets for a day (vendored
// files carry their version in their name).
func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

// confirm renders a confirmation page; the nav highlights p.Active, or
// "apps".
func (s *Server) confirm(c echo.Context, p views.ConfirmPage) error {
	active := p.Active
	if active == "" {
		active = "apps"
	}
	p.Nav = s.nav(c, active)
	return render(c, http.StatusOK, views.Confirm(p))
}

func (s *Server) flashTo(c echo.Context, target, msg string) error {
	s.sessions.Put(c.Request().Context(), sessFlash, msg)
	return c.Redirect(http.StatusSeeOther, target)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}
