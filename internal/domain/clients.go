package domain

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// Client types (RFC 6749 §2.1). A public client has no client secret and
// must use PKCE.
const (
	ClientConfidential = "confidential"
	ClientPublic       = "public"
)

// Grant types a registration may allow. GrantDialect is the Azure DevOps
// web-server flow (response_type=Assertion + the jwt-bearer token request).
const (
	GrantDialect           = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// AllGrantTypes lists every grant type in the order forms show them.
var AllGrantTypes = []string{GrantDialect, GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantDeviceCode}

// ID token signing algorithms (OIDC Core §15.1: RS256 is mandatory).
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	AlgEdDSA = "EdDSA"
)

// IDTokenAlgs lists the ID token algorithms a registration may choose.
var IDTokenAlgs = []string{AlgRS256, AlgES256, AlgEdDSA}

// Field keys of the standard-flow registration fields (form names and
// apperr field keys).
const (
	FieldClientType             = "client_type"
	FieldGrantTypes             = "grant_types"
	FieldRedirectURIs           = "redirect_uris"
	FieldPostLogoutRedirectURIs = "post_logout_redirect_uris"
	FieldIDTokenAlg             = "id_token_alg"
)

// MaxRedirectURIs bounds the redirect URIs (and, separately, the
// post-logout redirect URIs) of one registration.
const MaxRedirectURIs = 20

// DefaultGrantTypes is what a registration without grant types has: the
// dialect only (apps registered before the standard flow, `app register
// --callback-url` without --grant-types).
var DefaultGrantTypes = []string{GrantDialect}

// FormGrantTypes is what the registration form preselects: the standard
// flow (code + refresh) and the dialect.
var FormGrantTypes = []string{GrantDialect, GrantAuthorizationCode, GrantRefreshToken}

// EffectiveClientType returns the client type, "" read as confidential.
func (r Registration) EffectiveClientType() string {
	if r.ClientType == "" {
		return ClientConfidential
	}
	return r.ClientType
}

// Public reports whether the client is public (no secret, PKCE required).
func (r Registration) Public() bool { return r.ClientType == ClientPublic }

// EffectiveGrantTypes returns the grant types, empty read as the dialect
// only.
func (r Registration) EffectiveGrantTypes() []string {
	if len(r.GrantTypes) == 0 {
		return DefaultGrantTypes
	}
	return r.GrantTypes
}

// AllowsGrant reports whether the registration allows grant type g.
func (r Registration) AllowsGrant(g string) bool {
	return slices.Contains(r.EffectiveGrantTypes(), g)
}

// EffectiveIDTokenAlg returns the ID token algorithm, "" read as RS256.
func (r Registration) EffectiveIDTokenAlg() string {
	if r.IDTokenAlg == "" {
		return AlgRS256
	}
	return r.IDTokenAlg
}

// AllRedirectURIs returns the callback URL followed by the other redirect
// URIs.
func (r Registration) AllRedirectURIs() []string {
	out := make([]string, 0, 1+len(r.RedirectURIs))
	if r.CallbackURL != "" {
		out = append(out, r.CallbackURL)
	}
	return append(out, r.RedirectURIs...)
}

// RedirectURIMatches reports whether given is one of the registered
// redirect URIs for the standard flow: an exact, byte-for-byte match (RFC
// 6749 §3.1.2.3; RFC 9700 §4.1.3), except that a registered loopback URI
// (http://127.0.0.1/… or http://[::1]/…) matches the same URI with any port
// (RFC 8252 §7.3: native apps listen on an ephemeral port).
func (r Registration) RedirectURIMatches(given string) bool {
	if given == "" {
		return false
	}
	for _, reg := range r.AllRedirectURIs() {
		if reg == given || loopbackMatches(reg, given) {
			return true
		}
	}
	return false
}

// PostLogoutMatches reports whether given is a registered post-logout
// redirect URI (exact match).
func (r Registration) PostLogoutMatches(given string) bool {
	return given != "" && slices.Contains(r.PostLogoutRedirectURIs, given)
}

func loopbackMatches(registered, given string) bool {
	ru, err1 := url.Parse(registered)
	gu, err2 := url.Parse(given)
	if err1 != nil || err2 != nil || ru.Scheme != "http" || gu.Scheme != "http" {
		return false
	}
	if !isLoopbackHost(ru.Hostname()) || ru.Hostname() != gu.Hostname() {
		return false
	}
	return ru.Path == gu.Path && ru.RawQuery == gu.RawQuery && gu.User == nil && gu.Fragment == ""
}

func isLoopbackHost(h string) bool { return h == "127.0.0.1" || h == "::1" }

// redirectURIProblem checks a standard-flow redirect URI: what
// ValidateCallbackURL accepts, or an http loopback URI (RFC 8252 §7.3:
// http://127.0.0.1 or http://[::1], any port). label names the field.
func redirectURIProblem(label, raw string) string {
	if strings.HasPrefix(raw, "http://") {
		u, err := url.Parse(raw)
		if err != nil || !isLoopbackHost(u.Hostname()) {
			return label + ": " + raw + " must use https; http is allowed only for the loopback addresses http://127.0.0.1 and http://[::1] (RFC 8252)."
		}
		raw = "https://" + strings.TrimPrefix(raw, "http://")
	}
	if msg := callbackProblem(raw); msg != "" {
		return label + ": " + strings.TrimPrefix(msg, labelCallbackURL+" ")
	}
	return ""
}

// validateClientFields checks the standard-flow fields of r and returns r
// with them normalized (grant types deduplicated in AllGrantTypes order,
// defaults spelled out), plus one message per bad field (Field* keys).
func validateClientFields(r Registration) (Registration, map[string]string) {
	bad := map[string]string{}
	switch r.ClientType {
	case "", ClientConfidential, ClientPublic:
	default:
		bad[FieldClientType] = "Client type must be confidential or public."
	}
	var grants []string
	for _, g := range r.GrantTypes {
		g = strings.TrimSpace(g)
		if g == "" && len(r.GrantTypes) == 1 {
			bad[FieldGrantTypes] = "Choose at least one grant type."
			break
		}
		if !slices.Contains(AllGrantTypes, g) {
			bad[FieldGrantTypes] = "Unknown grant type " + strconvQuote(g) + ": use " + strings.Join(AllGrantTypes, ", ") + "."
			break
		}
	}
	for _, g := range AllGrantTypes {
		if slices.Contains(r.GrantTypes, g) {
			grants = append(grants, g)
		}
	}
	if len(r.GrantTypes) > 0 {
		r.GrantTypes = grants
	} else {
		grants = DefaultGrantTypes
	}
	if _, ok := bad[FieldGrantTypes]; !ok {
		switch {
		case r.ClientType == ClientPublic && slices.Contains(grants, GrantDialect):
			bad[FieldGrantTypes] = "A public client cannot use the Azure DevOps flow: it authenticates with a client secret."
		case r.ClientType == ClientPublic && slices.Contains(grants, GrantClientCredentials):
			bad[FieldGrantTypes] = "A public client cannot use client credentials: it has no secret."
		case slices.Contains(grants, GrantRefreshToken) && !slices.Contains(grants, GrantAuthorizationCode) && !slices.Contains(grants, GrantDeviceCode):
			bad[FieldGrantTypes] = "refresh_token needs authorization_code or the device code grant to start from."
		}
	}
	if r.JWKS = strings.TrimSpace(r.JWKS); r.JWKS != "" && r.JWKS != JWKSNone {
		if _, msg := ParseClientJWKS(r.JWKS); msg != "" {
			bad[FieldJWKS] = msg
		} else if r.ClientType == ClientPublic {
			bad[FieldJWKS] = "A public client cannot authenticate with a key: make it confidential first."
		}
	}
	switch r.IDTokenAlg {
	case "", AlgRS256, AlgES256, AlgEdDSA:
	default:
		bad[FieldIDTokenAlg] = "ID token algorithm must be RS256, ES256 or EdDSA."
	}
	clean := func(list []string) []string {
		out := []string{}
		for _, u := range list {
			if u = strings.TrimSpace(u); u != "" && !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
		return out
	}
	if r.RedirectURIs != nil {
		r.RedirectURIs = slices.DeleteFunc(clean(r.RedirectURIs), func(u string) bool { return u == r.CallbackURL })
	}
	if r.PostLogoutRedirectURIs != nil {
		r.PostLogoutRedirectURIs = clean(r.PostLogoutRedirectURIs)
	}
	if len(r.RedirectURIs)+1 > MaxRedirectURIs {
		bad[FieldRedirectURIs] = "At most 20 redirect URIs can be registered."
	}
	for _, u := range r.RedirectURIs {
		if msg := redirectURIProblem("Redirect URI", u); msg != "" {
			bad[FieldRedirectURIs] = msg
			break
		}
	}
	if len(r.PostLogoutRedirectURIs) > MaxRedirectURIs {
		bad[FieldPostLogoutRedirectURIs] = "At most 20 post-logout redirect URIs can be registered."
	}
	for _, u := range r.PostLogoutRedirectURIs {
		if msg := redirectURIProblem("Post-logout redirect URI", u); msg != "" {
			bad[FieldPostLogoutRedirectURIs] = msg
			break
		}
	}
	return r, bad
}

// ParseGrantTypes splits a space- or comma-separated grant type list (the
// CLI's --grant-types). Errors: Invalid naming an unknown grant type.
func ParseGrantTypes(s string) ([]string, error) {
	var out []string
	for _, g := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		if !slices.Contains(AllGrantTypes, g) {
			return nil, apperr.Errorf(apperr.Invalid, "unknown grant type %q: use %s", g, strings.Join(AllGrantTypes, ", "))
		}
		out = append(out, g)
	}
	return out, nil
}

func strconvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// Device code statuses (RFC 8628).
const (
	DeviceCodePending  = "pending"
	DeviceCodeApproved = "approved"
	DeviceCodeDenied   = "denied"
	DeviceCodeUsed     = "used"
)

// DeviceCode is a device authorization request (RFC 8628 §3.2): the
// device code and the user code are stored as SHA-256 hashes only. Once a
// user approves it, UserID, AuthorizationID and AuthTime are set.
type DeviceCode struct {
	ID              string
	DeviceHash      []byte
	UserCodeHash    []byte
	ClientID        string
	Scopes          []string
	Status          string
	UserID          string
	AuthorizationID string
	AuthTime        *time.Time
	CreatedAt       time.Time
	ExpiresAt       time.Time
	PolledAt        *time.Time
}
