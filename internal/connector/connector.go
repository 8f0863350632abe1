// Package connector signs users in through the organization's directory:
// an upstream OpenID Connect provider (oidc.go: authorization code with
// PKCE and nonce, github.com/coreos/go-oidc and golang.org/x/oauth2) or
// an LDAP / Active Directory server (ldap.go: service bind, user search,
// bind as the user, group search, github.com/go-ldap/ldap/v3).
//
// A connector knows nothing of oauthdesk's users or storage: it turns a
// browser redirect or a typed name and password into an Identity, and
// (LDAP) looks identities up again by their stable subject for the
// directory sync. internal/federation links identities to users.
// The idea follows dexidp/dex's connector package: a small surface, one
// type per upstream kind, identities keyed by the upstream's subject.
package connector

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// Identity is a person as the upstream knows them. Subject is stable for
// the person's whole life upstream (OIDC sub; LDAP entryUUID or
// "guid:"+hex(objectGUID)); the other fields may change at any time.
// Email is set only when the upstream vouches for it (OIDC
// email_verified; LDAP: the directory is the authority).
type Identity struct {
	Subject  string
	Username string
	Name     string
	Email    string
	Groups   []string
	// Disabled is set when the directory marks the account disabled
	// (Active Directory userAccountControl ACCOUNTDISABLE, OpenLDAP
	// pwdAccountLockedTime).
	Disabled bool
}

// State is what a redirect sign-in keeps between the login URL and the
// callback (in the browser's server-side session): the OAuth state, the
// OIDC nonce and the PKCE code verifier (RFC 7636).
type State struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

// Connector is any configured upstream: Test checks that it answers (a
// real discovery or a service bind). Errors: Unavailable, with what
// failed in one line.
type Connector interface {
	Test(ctx context.Context) error
}

// Redirector is an upstream the browser is sent to (OpenID Connect).
type Redirector interface {
	Connector
	// LoginURL is where to send the browser; redirectURI is
	// /signin/NAME/callback. Errors: Unavailable when discovery fails.
	LoginURL(ctx context.Context, redirectURI string, st State) (string, error)
	// Callback finishes the sign-in from the callback's query. Errors:
	// Unauthorized (refused, bad state, bad ID token or nonce);
	// Unavailable (upstream unreachable).
	Callback(ctx context.Context, redirectURI string, st State, q url.Values) (Identity, error)
}

// PasswordChecker is an upstream that checks a typed name and password
// (LDAP). Errors: Unauthorized for a wrong name or password; Unavailable
// when the directory cannot be reached or the service bind fails.
type PasswordChecker interface {
	Connector
	Login(ctx context.Context, username, password string) (Identity, error)
}

// Looker is an upstream that can look identities up by subject without
// the person (LDAP): the directory sync. The map holds the subjects
// found; a subject missing from it is gone upstream. Errors: Unavailable
// (then nothing may be concluded about anyone).
type Looker interface {
	Lookup(ctx context.Context, subjects []string) (map[string]Identity, error)
}

// Config is a connector's settings without its secret, stored as JSON.
// Type is domain.ConnectorOIDC or domain.ConnectorLDAP; each type reads
// its own fields. RoleMap maps upstream group names (compared
// case-insensitively) to roles; DefaultRole ("member" or "none") is the
// role of a person in no mapped group, "none" meaning no access.
type Config struct {
	Type string `json:"type"`

	// OpenID Connect.
	Issuer        string   `json:"issuer,omitempty"`
	ClientID      string   `json:"client_id,omitempty"`
	Scopes        []string `json:"scopes,omitempty"`
	UsernameClaim string   `json:"username_claim,omitempty"`
	NameClaim     string   `json:"name_claim,omitempty"`
	EmailClaim    string   `json:"email_claim,omitempty"`
	GroupsClaim   string   `json:"groups_claim,omitempty"`

	// LDAP.
	URL           string `json:"url,omitempty"`
	StartTLS      bool   `json:"start_tls,omitempty"`
	AllowPlain    bool   `json:"allow_plain,omitempty"`
	CAPEM         string `json:"ca_pem,omitempty"` // trusted CAs; empty: the system roots
	BindDN        string `json:"bind_dn,omitempty"`
	UserBase      string `json:"user_base,omitempty"`
	UserFilter    string `json:"user_filter,omitempty"`
	UsernameAttr  string `json:"username_attr,omitempty"`
	EmailAttr     string `json:"email_attr,omitempty"`
	NameAttr      string `json:"name_attr,omitempty"`
	GroupBase     string `json:"group_base,omitempty"`
	GroupFilter   string `json:"group_filter,omitempty"`
	GroupNameAttr string `json:"group_name_attr,omitempty"`

	RoleMap     map[string]string `json:"role_map,omitempty"`
	DefaultRole string            `json:"default_role"`
}

// Default roles of a person in no mapped group.
const (
	DefaultRoleMember = "member"
	DefaultRoleNone   = "none"
)

// WithDefaults fills the optional settings the CLI documents.
func (c Config) WithDefaults() Config {
	or := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	or(&c.DefaultRole, DefaultRoleMember)
	switch c.Type {
	case domain.ConnectorOIDC:
		if len(c.Scopes) == 0 {
			c.Scopes = []string{"openid", "profile", "email", "groups"}
		}
		or(&c.UsernameClaim, "preferred_username")
		or(&c.NameClaim, "name")
		or(&c.EmailClaim, "email")
		or(&c.GroupsClaim, "groups")
	case domain.ConnectorLDAP:
		or(&c.UserFilter, "(uid=%s)")
		or(&c.UsernameAttr, "uid")
		or(&c.EmailAttr, "mail")
		or(&c.NameAttr, "cn")
		or(&c.GroupFilter, "(member=%s)")
		or(&c.GroupNameAttr, "cn")
	}
	return c
}

// Validate checks c (after WithDefaults). Errors: Invalid naming the
// setting.
func (c Config) Validate() error {
	bad := func(f string, a ...any) error { return apperr.Errorf(apperr.Invalid, f, a...) }
	if c.DefaultRole != DefaultRoleMember && c.DefaultRole != DefaultRoleNone {
		return bad("--default-role must be member or none")
	}
	for g, r := range c.RoleMap {
		if strings.TrimSpace(g) == "" || !domain.Role(r).Valid() {
			return bad("--role-map takes GROUP=admin|auditor|member pairs, not %q=%q", g, r)
		}
	}
	switch c.Type {
	case domain.ConnectorOIDC:
		u, err := url.Parse(c.Issuer)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			return bad("--issuer %q must be an https URL (http only on a loopback address)", c.Issuer)
		}
		if c.ClientID == "" {
			return bad("--client-id is required")
		}
		if !slices.Contains(c.Scopes, "openid") {
			return bad("--scopes must include openid")
		}
	case domain.ConnectorLDAP:
		u, err := url.Parse(c.URL)
		if err != nil || u.Host == "" || (u.Scheme != "ldap" && u.Scheme != "ldaps") {
			return bad("--url %q must be ldaps://host:port or ldap://host:port", c.URL)
		}
		if u.Scheme == "ldaps" && c.StartTLS {
			return bad("--start-tls is for ldap:// URLs; ldaps:// is TLS already")
		}
		if u.Scheme == "ldap" && !c.StartTLS && !c.AllowPlain {
			return bad("ldap:// without --start-tls sends passwords in clear text: add --start-tls, use ldaps://, or --allow-plain")
		}
		if c.BindDN == "" || c.UserBase == "" {
			return bad("--bind-dn and --user-base are required")
		}
		if strings.Count(c.UserFilter, "%s") != 1 || !strings.HasPrefix(c.UserFilter, "(") {
			return bad("--user-filter %q must be an LDAP filter with one %%s (the typed name), such as (uid=%%s)", c.UserFilter)
		}
		if c.GroupBase != "" && (strings.Count(c.GroupFilter, "%s") != 1 || !strings.HasPrefix(c.GroupFilter, "(")) {
			return bad("--group-filter %q must be an LDAP filter with one %%s (the user's DN), such as (member=%%s)", c.GroupFilter)
		}
		if c.CAPEM != "" && !strings.Contains(c.CAPEM, "-----BEGIN CERTIFICATE-----") {
			return bad("--ca-file must hold PEM certificates")
		}
	default:
		return bad("connector type must be oidc or ldap")
	}
	return nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Role returns the role of a person in groups: the most privileged role
// any mapped group gives (admin, then auditor, then member), else the
// default role; ok is false when that is "none" (no access).
func (c Config) Role(groups []string) (role domain.Role, ok bool) {
	rank := map[domain.Role]int{domain.RoleMember: 1, domain.RoleAuditor: 2, domain.RoleAdmin: 3}
	best := 0
	for g, r := range c.RoleMap {
		for _, have := range groups {
			if strings.EqualFold(g, have) && rank[domain.Role(r)] > best {
				best, role = rank[domain.Role(r)], domain.Role(r)
			}
		}
	}
	if best > 0 {
		return role, true
	}
	if c.DefaultRole == DefaultRoleNone {
		return "", false
	}
	return domain.RoleMember, true
}

// Marshal returns c as JSON.
func (c Config) Marshal() []byte {
	b, _ := json.Marshal(c)
	return b
}

// ParseConfig reads a stored config. Errors: Internal for bad JSON.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	err := json.Unmarshal(b, &c)
	return c, err
}

// New builds the connector of cfg with its secret (the OIDC client secret
// or the LDAP service bind password). Errors: Invalid.
func New(cfg Config, secret string) (Connector, error) {
	switch cfg.Type {
	case domain.ConnectorOIDC:
		return newOIDC(cfg, secret), nil
	case domain.ConnectorLDAP:
		return newLDAP(cfg, secret)
	}
	return nil, apperr.Errorf(apperr.Invalid, "unknown connector type %q", cfg.Type)
}

func unavailable(format string, args ...any) error {
	return apperr.Errorf(apperr.Unavailable, format, args...)
}

// ParseRoleMap parses the role map flag or field, "GROUP=role,GROUP=role". Errors: Invalid.
func ParseRoleMap(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		g, r, ok := strings.Cut(pair, "=")
		g, r = strings.TrimSpace(g), strings.TrimSpace(r)
		if !ok || g == "" || !domain.Role(r).Valid() {
			return nil, apperr.Errorf(apperr.Invalid, "role map takes GROUP=admin|auditor|member pairs separated by commas, not %q", pair)
		}
		out[g] = r
	}
	return out, nil
}
