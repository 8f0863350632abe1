package web

import (
	"crypto/subtle"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/limit"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/views"
)

// ipExtractor returns how the client address is found: the TCP peer, or —
// only when the peer is one of trusted — the nearest untrusted address of
// X-Forwarded-For (else X-Real-IP). Loopback, link-local and private
// peers are trusted only when a range in trusted covers them.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	xff, xri := echo.ExtractIPFromXFFHeader(opts...), echo.ExtractIPFromRealIPHeader(opts...)
	return func(r *http.Request) string {
		if len(r.Header[echo.HeaderXForwardedFor]) > 0 {
			return xff(r)
		}
		return xri(r)
	}
}

// clientIP is the request's client address, parsed ("" if none).
func clientIP(c echo.Context) string { return audit.CleanAddr(c.RealIP()) }

// limitAddr is the key of the request's client address in per-address
// limits: the IPv4 address, or the /64 of an IPv6 one (limit.AddrKey).
func limitAddr(c echo.Context) string { return limit.AddrKey(clientIP(c)) }

func setRetryAfter(c echo.Context, d time.Duration) {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(max(d, time.Second)/time.Second)))
}

// limitToken bounds POST /oauth2/token per client address: 429 with
// Retry-After and the token endpoint's error body.
func (s *Server) limitToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.tokenAddr != nil {
			if ok, wait := s.tokenAddr.Allow(limitAddr(c)); !ok {
				setRetryAfter(c, wait)
				writeTokenError(c, &oauth.Error{Code: "invalid_request", Description: "Too many requests", Status: http.StatusTooManyRequests})
				return nil
			}
		}
		return next(c)
	}
}

// limitSignIn bounds POST /signin per client address.
func (s *Server) limitSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.signinAddr != nil {
			if ok, wait := s.signinAddr.Allow(limitAddr(c)); !ok {
				return s.signinTooMany(c, wait)
			}
		}
		return next(c)
	}
}

// signinKey is the key of failed sign-ins: the username (case-folded, at
// most 256 characters) and the client address key (limitAddr: an IPv6
// client's /64), so an attacker failing against a name from one address
// never locks its owner out elsewhere.
func signinKey(username, ip string) string {
	username = strings.ToLower(username)
	if utf8.RuneCountInString(username) > 256 {
		username = string([]rune(username)[:256])
	}
	return username + "\x00" + limit.AddrKey(ip)
}

// signinTooMany re-shows the sign-in form with 429 and Retry-After; the
// message is the same whether the user exists or not.
func (s *Server) signinTooMany(c echo.Context, wait time.Duration) error {
	setRetryAfter(c, wait)
	secs := int(max(wait, time.Second) / time.Second)
	return render(c, http.StatusTooManyRequests, views.SignIn(views.SignInPage{Nav: s.nav(c, "signin"),
		Username: c.FormValue("username"), ReturnTo: safeReturn(c.FormValue("return_to")),
		Error: "Too many sign-in attempts. Wait " + strconv.Itoa(secs) + " seconds, then try again."}))
}

// noStore marks every REST API response Cache-Control: no-store (they
// carry a user's data and answer per token).
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return next(c)
	}
}

// noDirs answers 404 for directories of fsys, so that /assets/ lists
// nothing.
func noDirs(fsys fs.FS, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(r.URL.Path, "/")
		if name == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		if st, err := fs.Stat(fsys, name); err == nil && st.IsDir() {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsAuth guards /metrics: with a token configured, only "Bearer
// <token>" (compared in constant time) gets through; without one, a
// server on a non-loopback address refuses every scrape.
func (s *Server) metricsAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.MetricsToken == "" {
			if s.cfg.MetricsNeedToken {
				return echo.NewHTTPError(http.StatusForbidden, "/metrics needs --metrics-token when the server listens on a non-loopback address.")
			}
			return next(c)
		}
		got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.MetricsToken)) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="oauthdesk metrics"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "/metrics needs the metrics Bearer token.")
		}
		return next(c)
	}
}
