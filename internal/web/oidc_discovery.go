package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
)

// endpoint is one protocol endpoint: its discovery metadata name (RFC
// 8414 §2, OIDC Discovery §3), its path, and how it is routed. Discovery
// is built from the same table that routes requests, so the two cannot
// disagree.
type endpoint struct {
	key     string // metadata name; "" for none
	path    string
	methods []string
	handler echo.HandlerFunc // nil: routed elsewhere (the authorization endpoint's browser chain)
	limited bool             // behind the per-address token limit
	browser bool             // behind the browser chain (session, CSRF)
	oidc    bool             // served only when the OAuth implements OIDC
	cors    bool             // callable from a browser app on another origin (CORS, with preflight)
}

// endpoints is the protocol's table of endpoints.
func (s *Server) endpoints() []endpoint {
	get, post, both := []string{http.MethodGet}, []string{http.MethodPost}, []string{http.MethodGet, http.MethodPost}
	return []endpoint{
		{key: "authorization_endpoint", path: "/oauth2/authorize", methods: both, oidc: true},
		{key: "token_endpoint", path: "/oauth2/token", methods: post, handler: s.token, limited: true, cors: true},
		{key: "jwks_uri", path: "/.well-known/jwks.json", methods: get, handler: s.jwks, cors: true},
		{key: "userinfo_endpoint", path: "/oauth2/userinfo", methods: both, handler: s.userinfo, oidc: true, cors: true},
		{key: "revocation_endpoint", path: "/oauth2/revoke", methods: post, handler: s.revoke, limited: true, oidc: true, cors: true},
		{key: "introspection_endpoint", path: "/oauth2/introspect", methods: post, handler: s.introspect, limited: true, oidc: true},
		{key: "device_authorization_endpoint", path: "/oauth2/device_authorization", methods: post, handler: s.deviceAuthorization, limited: true, oidc: true},
		{key: "end_session_endpoint", path: "/oauth2/logout", methods: get, handler: s.endSession, browser: true, oidc: true},
		{path: "/.well-known/openid-configuration", methods: get, handler: s.discovery, oidc: true, cors: true},
		{path: "/.well-known/oauth-authorization-server", methods: get, handler: s.discovery, oidc: true, cors: true},
	}
}

// discovery is GET /.well-known/openid-configuration (OIDC Discovery 1.0
// §4) and GET /.well-known/oauth-authorization-server (RFC 8414 §3): one
// document; issuer is --base-url exactly.
func (s *Server) discovery(c echo.Context) error {
	base := strings.TrimSuffix(s.cfg.BaseURL, "/")
	doc := map[string]any{
		"issuer":                                         s.cfg.BaseURL,
		"response_types_supported":                       []string{oauth.ResponseTypeCode},
		"response_modes_supported":                       []string{oauth.ResponseModeQuery, oauth.ResponseModeFormPost},
		"grant_types_supported":                          append([]string{}, oauth.GrantTypesSupported...),
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{domain.AlgRS256, domain.AlgES256, domain.AlgEdDSA},
		"code_challenge_methods_supported":               []string{oauth.PKCEMethodS256},
		"token_endpoint_auth_methods_supported":          oauth.AuthMethodsSupported,
		"revocation_endpoint_auth_methods_supported":     oauth.AuthMethodsSupported,
		"introspection_endpoint_auth_methods_supported":  []string{oauth.AuthMethodBasic, oauth.AuthMethodPost},
		"scopes_supported":                               s.scopesSupported(),
		"claims_supported":                               oauth.ClaimsSupported,
		"prompt_values_supported":                        []string{oauth.PromptNone, oauth.PromptLogin, oauth.PromptConsent},
		"authorization_response_iss_parameter_supported": true,
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
	}
	for _, e := range s.endpoints() {
		if e.key != "" {
			doc[e.key] = base + e.path
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
	return c.JSON(http.StatusOK, doc)
}

// scopesSupported lists the OpenID Connect scopes and the catalog's.
func (s *Server) scopesSupported() []string {
	out := append([]string{}, oauth.OIDCScopes...)
	for _, sc := range s.scopes.All() {
		out = append(out, sc.ID)
	}
	return out
}

// routeEndpoints registers the table's endpoints that have a handler:
// machine endpoints on e (limited ones behind the token limit), browser
// ones on b.
func (s *Server) routeEndpoints(e *echo.Echo, b *echo.Group) {
	for _, ep := range s.endpoints() {
		if ep.handler == nil || (ep.oidc && s.oidc == nil) {
			continue
		}
		var mw []echo.MiddlewareFunc
		if ep.cors && s.oidc != nil {
			mw = append(mw, corsForOrigins)
			// The preflight of a browser app (a public client).
			e.OPTIONS(ep.path, corsForOrigins(func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }))
		}
		if ep.limited {
			mw = append(mw, s.limitToken)
		}
		// Echo applies a route's own middleware on every request; a
		// machine endpoint's chain is built once here instead.
		h := ep.handler
		for i := len(mw) - 1; i >= 0; i-- {
			h = mw[i](h)
		}
		for _, m := range ep.methods {
			if ep.browser {
				b.Add(m, ep.path, ep.handler, mw...)
			} else {
				e.Add(m, ep.path, h)
			}
		}
	}
}

// corsAnyOrigin is corsForOrigins' CORS middleware, configured once.
var corsAnyOrigin = middleware.CORSWithConfig(middleware.CORSConfig{
	AllowOrigins:  []string{"*"},
	AllowMethods:  []string{http.MethodGet, http.MethodPost},
	AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType},
	ExposeHeaders: []string{echo.HeaderWWWAuthenticate},
	MaxAge:        600,
})

// corsForOrigins lets browser apps on any origin call the machine
// endpoints (OAuth 2.0 for Browser-Based Apps): they carry their own
// credentials (a client id, a Bearer token), never cookies, so "*" grants
// nothing ambient. Requests without an Origin header — every server-side
// client, the Azure DevOps dialect's included — pass untouched, with no
// header added.
func corsForOrigins(next echo.HandlerFunc) echo.HandlerFunc {
	cors := corsAnyOrigin(next)
	return func(c echo.Context) error {
		if c.Request().Header.Get(echo.HeaderOrigin) == "" {
			return next(c)
		}
		return cors(c)
	}
}
