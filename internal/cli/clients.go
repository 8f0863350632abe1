package cli

import (
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// clientFlags are the standard-flow (OpenID Connect / OAuth 2.1) flags of
// `app register` and `app update`.
type clientFlags struct {
	clientType   string
	grantTypes   string
	redirectURIs []string
	postLogout   []string
	idTokenAlg   string
	jwksFile     string
}

func addClientFlags(c *cobra.Command, cf *clientFlags) {
	f := c.Flags()
	f.StringVar(&cf.clientType, "client-type", "", "confidential (default: has a client secret) or public (no secret, PKCE required)")
	f.StringVar(&cf.grantTypes, "grant-types", "", "space-separated grant types: "+
		"urn:ietf:params:oauth:grant-type:jwt-bearer (the Azure DevOps flow; the default), authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code")
	f.StringArrayVar(&cf.redirectURIs, "redirect-uri", nil, "redirect URI, repeatable; the first is the Azure DevOps flow's callback URL (http://127.0.0.1 with any port for native apps)")
	f.StringArrayVar(&cf.postLogout, "post-logout-redirect-uri", nil, "where end_session may send the user after signing out, repeatable")
	f.StringVar(&cf.idTokenAlg, "id-token-alg", "", "ID token signing algorithm: RS256 (default), ES256 or EdDSA")
	f.StringVar(&cf.jwksFile, "jwks-file", "", "file holding the client's public JSON Web Key Set for private_key_jwt client authentication (RFC 7523); \"none\" removes it")
}

// apply sets the given flags on reg. On register (update false) a public
// client without --grant-types gets authorization_code and refresh_token.
// --redirect-uri without --callback-url makes the first redirect URI the
// callback URL. Errors: usage errors for a bad --grant-types.
func (cf *clientFlags) apply(fl *pflag.FlagSet, reg *domain.Registration, update bool) error {
	if fl.Changed("client-type") {
		reg.ClientType = cf.clientType
	}
	if fl.Changed("grant-types") {
		g, err := domain.ParseGrantTypes(cf.grantTypes)
		if err != nil {
			return usagef("--grant-types: %v", err)
		}
		if len(g) == 0 {
			return usagef("--grant-types: name at least one grant type")
		}
		reg.GrantTypes = g
	} else if !update && reg.ClientType == domain.ClientPublic {
		reg.GrantTypes = []string{domain.GrantAuthorizationCode, domain.GrantRefreshToken}
	}
	if fl.Changed("redirect-uri") {
		uris := cf.redirectURIs
		if !fl.Changed("callback-url") {
			reg.CallbackURL, uris = uris[0], uris[1:]
		}
		reg.RedirectURIs = append([]string{}, uris...)
	}
	if fl.Changed("post-logout-redirect-uri") {
		reg.PostLogoutRedirectURIs = append([]string{}, cf.postLogout...)
	}
	if fl.Changed("id-token-alg") {
		reg.IDTokenAlg = cf.idTokenAlg
	}
	if fl.Changed("jwks-file") {
		if cf.jwksFile == domain.JWKSNone {
			reg.JWKS = domain.JWKSNone
			return nil
		}
		f, err := os.Open(cf.jwksFile)
		if err != nil {
			return usagef("--jwks-file: %v", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, domain.MaxJWKSBytes+1))
		if err != nil {
			return usagef("--jwks-file: %v", err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return usagef("--jwks-file: %s is empty", cf.jwksFile)
		}
		reg.JWKS = string(b)
	}
	return nil
}
