package admin

import (
	"cmp"
	"slices"
	"strings"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// keepClientFields fills the standard-flow fields that reg leaves unset
// (nil lists, empty strings) from old: an edit that does not speak of
// them (an older form, a script) keeps them.
func keepClientFields(old, reg domain.Registration) domain.Registration {
	if reg.ClientType == "" {
		reg.ClientType = old.ClientType
	}
	if reg.GrantTypes == nil {
		reg.GrantTypes = old.GrantTypes
	}
	if reg.RedirectURIs == nil {
		reg.RedirectURIs = old.RedirectURIs
	}
	if reg.PostLogoutRedirectURIs == nil {
		reg.PostLogoutRedirectURIs = old.PostLogoutRedirectURIs
	}
	if reg.IDTokenAlg == "" {
		reg.IDTokenAlg = old.IDTokenAlg
	}
	switch reg.JWKS {
	case "":
		reg.JWKS = old.JWKS
	case domain.JWKSNone:
		reg.JWKS = ""
	}
	return reg
}

// clientFieldChanges records the standard-flow fields that differ between
// old and reg (each as its before and after, lists space-joined).
func clientFieldChanges(old, reg domain.Registration, changes map[string][2]any) {
	for _, f := range []struct {
		name          string
		before, after string
	}{
		{domain.FieldClientType, old.EffectiveClientType(), reg.EffectiveClientType()},
		{domain.FieldGrantTypes, strings.Join(old.EffectiveGrantTypes(), " "), strings.Join(reg.EffectiveGrantTypes(), " ")},
		{domain.FieldIDTokenAlg, old.EffectiveIDTokenAlg(), reg.EffectiveIDTokenAlg()},
	} {
		if f.before != f.after {
			changes[f.name] = [2]any{f.before, f.after}
		}
	}
	if !slices.Equal(old.RedirectURIs, reg.RedirectURIs) && len(old.RedirectURIs)+len(reg.RedirectURIs) > 0 {
		changes[domain.FieldRedirectURIs] = [2]any{strings.Join(old.RedirectURIs, " "), strings.Join(reg.RedirectURIs, " ")}
	}
	if !slices.Equal(old.PostLogoutRedirectURIs, reg.PostLogoutRedirectURIs) && len(old.PostLogoutRedirectURIs)+len(reg.PostLogoutRedirectURIs) > 0 {
		changes[domain.FieldPostLogoutRedirectURIs] = [2]any{strings.Join(old.PostLogoutRedirectURIs, " "), strings.Join(reg.PostLogoutRedirectURIs, " ")}
	}
	if old.StoredJWKS() != reg.StoredJWKS() { // audited by key ids, not the keys
		changes[domain.FieldJWKS] = [2]any{jwksKids(old.StoredJWKS()), jwksKids(reg.StoredJWKS())}
	}
}

// jwksKids names a stored JWKS by its keys' ids ("" none).
func jwksKids(s string) string {
	if s == "" {
		return ""
	}
	set, _ := domain.ParseClientJWKS(s)
	kids := make([]string, 0, len(set.Keys))
	for _, k := range set.Keys {
		kids = append(kids, cmp.Or(k.KeyID, "(no kid)"))
	}
	return "keys: " + strings.Join(kids, " ")
}
