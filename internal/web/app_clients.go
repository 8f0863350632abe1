package web

import (
	"net/url"
	"strings"

	"github.com/oauthdesk/oauthdesk/internal/domain"
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
	for _, g := range r.EffectiveGrantTypes() {
		values[grantValueKey(g)] = "on"
	}
	values[domain.FieldRedirectURIs] = strings.Join(r.RedirectURIs, "\n")
	values[domain.FieldPostLogoutRedirectURIs] = strings.Join(r.PostLogoutRedirectURIs, "\n")
}
