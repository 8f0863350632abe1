package oauth

import (
	"slices"
	"strings"

	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// OpenID Connect scopes (OIDC Core §3.1.2.1, §5.4, §11). They are allowed
// to every app with the standard flow without being registered, and are
// kept in the user's authorization beside the catalog scopes.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// OIDCScopes lists the OpenID Connect scopes in discovery order.
var OIDCScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess}

func isOIDCScope(s string) bool { return slices.Contains(OIDCScopes, s) }

// splitStandardScopes splits a standard-flow scope string (RFC 6749
// §3.3) into its OpenID Connect scopes and its catalog scopes (validated
// by the catalog). Errors: the catalog's Invalid error.
func splitStandardScopes(cat *scope.Catalog, raw string) (oidc, catalog []string, err error) {
	var rest []string
	for tok := range strings.SplitSeq(raw, " ") {
		switch {
		case tok == "":
		case isOIDCScope(tok):
			if !slices.Contains(oidc, tok) {
				oidc = append(oidc, tok)
			}
		default:
			rest = append(rest, tok)
		}
	}
	if len(rest) > 0 {
		if catalog, err = cat.Validate(rest); err != nil {
			return nil, nil, err
		}
	}
	return oidc, catalog, nil
}

// oidcOf returns the OpenID Connect scopes of a scope list.
func oidcOf(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if isOIDCScope(s) {
			out = append(out, s)
		}
	}
	return out
}
