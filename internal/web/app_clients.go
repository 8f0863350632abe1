package web

import (
	"net/url"
	"strings"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// The registration form's standard-flow (OpenID Connect / OAuth 2.1)
// fields: a client type select, one grant_types checkbox per grant type,
// redirect URIs and post-logout redirect URIs one per line, the ID token
// algorithm. The hidden field clientFormMarker tells a form that shows
// them from one posted without them (today's scripts and tests): a new
// registration posted without them gets domain.FormGrantTypes, an edit
// keeps the app's values.
const clientFormMarker = "client_fields"

// grantValueKey is the Values key of a grant type's checkbox.
func grantValueKey(g string) string { return "grant:" + g }

// readClientFields reads the standard-flow fields into reg and values.
// Without the marker reg's fields stay unset (nil, "").
func readClientFields(form url.Values, values map[string]string, reg *domain.Registration) {
	if form.Get(clientFormMarker) == "" {
		return
	}
	values[clientFormMarker] = "1"
	reg.ClientType = form.Get(domain.FieldClientType)
	reg.IDTokenAlg = form.Get(domain.FieldIDTokenAlg)
	values[domain.FieldClientType], values[domain.FieldIDTokenAlg] = reg.ClientType, reg.IDTokenAlg
	// The form shows the registered JWKS: posted empty, it is removed.
	values[domain.FieldJWKS] = form.Get(domain.FieldJWKS)
	if reg.JWKS = strings.TrimSpace(form.Get(domain.FieldJWKS)); reg.JWKS == "" {
		reg.JWKS = domain.JWKSNone
	}
	reg.GrantTypes = []string{}
	for _, g := range form[domain.FieldGrantTypes] {
		reg.GrantTypes = append(reg.GrantTypes, g)
		values[grantValueKey(g)] = "on"
	}
	if len(reg.GrantTypes) == 0 {
		// An unticked form is a choice, not "unchanged".
		reg.GrantTypes = []string{""}
	}
	reg.RedirectURIs = lines(form.Get(domain.FieldRedirectURIs))
	reg.PostLogoutRedirectURIs = lines(form.Get(domain.FieldPostLogoutRedirectURIs))
	values[domain.FieldRedirectURIs] = form.Get(domain.FieldRedirectURIs)
	values[domain.FieldPostLogoutRedirectURIs] = form.Get(domain.FieldPostLogoutRedirectURIs)
}

// lines splits a textarea into its non-empty trimmed lines (never nil).
func lines(s string) []string {
	out := []string{}
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// newRegistrationDefaults gives a new registration posted without the
// standard-flow fields the form's preselection: the standard flow and the
// dialect.
func newRegistrationDefaults(reg *domain.Registration) {
	if reg.GrantTypes == nil {
		reg.GrantTypes = append([]string{}, domain.FormGrantTypes...)
	}
}

// clientValues are the form values of a registration's standard-flow
// fields.
func clientValues(r domain.Registration, values map[string]string) {
	values[clientFormMarker] = "1"
	values[domain.FieldClientType] = r.EffectiveClientType()
	values[domain.FieldIDTokenAlg] = r.EffectiveIDTokenAlg()
	values[domain.FieldJWKS] = r.StoredJWKS()
	for _, g := range r.EffectiveGrantTypes() {
		values[grantValueKey(g)] = "on"
	}
	values[domain.FieldRedirectURIs] = strings.Join(r.RedirectURIs, "\n")
	values[domain.FieldPostLogoutRedirectURIs] = strings.Join(r.PostLogoutRedirectURIs, "\n")
}

// protocols builds the app page's endpoints per flow and the migration
// guide.
func (s *Server) protocols(a domain.App) views.AppProtocols {
	base := strings.TrimSuffix(s.cfg.BaseURL, "/")
	scopes := strings.Join(a.Scopes, " ")
	p := views.AppProtocols{Dialect: a.AllowsGrant(domain.GrantDialect), ClientCredentials: a.AllowsGrant(domain.GrantClientCredentials),
		CCScopes: scopes, Device: a.AllowsGrant(domain.GrantDeviceCode)}
	for _, g := range []string{domain.GrantAuthorizationCode, domain.GrantClientCredentials, domain.GrantDeviceCode} {
		p.Standard = p.Standard || a.AllowsGrant(g)
	}
	if p.Dialect {
		p.DialectEndpoints = []views.Field{{Label: "Authorize", Value: base + "/oauth2/authorize"}, {Label: "Token", Value: base + "/oauth2/token"},
			{Label: "Callback URL", Value: a.CallbackURL}}
		p.DialectExample = base + "/oauth2/authorize?" + url.Values{"client_id": {a.ClientID}, "response_type": {"Assertion"},
			"state": {"STATE"}, "scope": {scopes}, "redirect_uri": {a.CallbackURL}}.Encode()
		p.Guide = true
	}
	if p.Standard {
		p.StdEndpoints = []views.Field{{Label: "Issuer", Value: s.cfg.BaseURL}, {Label: "Discovery", Value: base + "/.well-known/openid-configuration"},
			{Label: "Authorize", Value: base + "/oauth2/authorize"}, {Label: "Token", Value: base + "/oauth2/token"},
			{Label: "Userinfo", Value: base + "/oauth2/userinfo"}, {Label: "JWKS", Value: base + "/.well-known/jwks.json"},
			{Label: "Revocation", Value: base + "/oauth2/revoke"}, {Label: "Introspection", Value: base + "/oauth2/introspect"},
			{Label: "Device authorization", Value: base + "/oauth2/device_authorization"}, {Label: "End session", Value: base + "/oauth2/logout"}}
		redirect := a.CallbackURL
		if len(a.RedirectURIs) > 0 {
			redirect = a.RedirectURIs[0]
		}
		p.StdExample = base + "/oauth2/authorize?" + url.Values{"client_id": {a.ClientID}, "response_type": {"code"},
			"state": {"STATE"}, "nonce": {"NONCE"}, "scope": {"openid " + scopes}, "redirect_uri": {redirect},
			"code_challenge": {"BASE64URL-SHA256-OF-VERIFIER"}, "code_challenge_method": {"S256"}}.Encode()
	} else if p.Dialect {
		p.Enable = "Enable the standard flow: tick \"Authorization code (OpenID Connect)\" and \"Refresh token\" in the registration, or run oauthdesk app update " +
			a.ClientID + " --grant-types \"urn:ietf:params:oauth:grant-type:jwt-bearer authorization_code refresh_token\"."
	}
	return p
}

// clientFieldRows are the standard-flow fields on the app page.
func clientFieldRows(a domain.App) []views.Field {
	return []views.Field{
		{Label: "Client type", Value: a.EffectiveClientType()},
		{Label: "Grant types", Value: strings.Join(a.EffectiveGrantTypes(), " ")},
		{Label: "More redirect URIs", Value: strings.Join(a.RedirectURIs, " ")},
		{Label: "Post-logout redirect URIs", Value: strings.Join(a.PostLogoutRedirectURIs, " ")},
		{Label: "ID token algorithm", Value: a.EffectiveIDTokenAlg()},
		{Label: "Client authentication", Value: clientAuthMethods(a)},
	}
}

// clientAuthMethods names how the app authenticates at the standard
// endpoints (OIDC Core §9).
func clientAuthMethods(a domain.App) string {
	if a.Public() {
		return "none (public client)"
	}
	m := "client_secret_basic, client_secret_post"
	if a.JWKS != "" {
		set, _ := domain.ParseClientJWKS(a.JWKS)
		m += ", private_key_jwt (" + plural(int64(len(set.Keys)), "registered key", "registered keys") + ")"
	}
	return m
}
