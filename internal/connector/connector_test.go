package connector

import (
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

func TestRole(t *testing.T) {
	cfg := Config{RoleMap: map[string]string{"oauthdesk-admins": "admin", "security-audit": "auditor", "staff": "member"}, DefaultRole: DefaultRoleNone}
	for _, tc := range []struct {
		name   string
		groups []string
		want   domain.Role
		ok     bool
	}{
		{"most privileged wins", []string{"staff", "security-audit", "OAuthDesk-Admins"}, domain.RoleAdmin, true},
		{"auditor over member", []string{"staff", "security-audit"}, domain.RoleAuditor, true},
		{"member", []string{"staff"}, domain.RoleMember, true},
		{"no group, no access", []string{"other"}, "", false},
		{"no groups", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := cfg.Role(tc.groups)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("Role(%v) = %q, %v; want %q, %v", tc.groups, got, ok, tc.want, tc.ok)
			}
		})
	}
	cfg.DefaultRole = DefaultRoleMember
	if got, ok := cfg.Role([]string{"other"}); got != domain.RoleMember || !ok {
		t.Fatalf("default member: got %q, %v", got, ok)
	}
}

func TestValidate(t *testing.T) {
	oidc := func(f func(*Config)) Config {
		c := Config{Type: "oidc", Issuer: "https://login.example.com/t/v2.0", ClientID: "abc"}.WithDefaults()
		f(&c)
		return c
	}
	ldap := func(f func(*Config)) Config {
		c := Config{Type: "ldap", URL: "ldaps://ldap.example.com:636", BindDN: "cn=svc,dc=x", UserBase: "ou=people,dc=x"}.WithDefaults()
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"oidc ok", oidc(func(*Config) {}), true},
		{"oidc http loopback", oidc(func(c *Config) { c.Issuer = "http://127.0.0.1:9000" }), true},
		{"oidc http remote", oidc(func(c *Config) { c.Issuer = "http://idp.example.com" }), false},
		{"oidc no client", oidc(func(c *Config) { c.ClientID = "" }), false},
		{"oidc no openid scope", oidc(func(c *Config) { c.Scopes = []string{"profile"} }), false},
		{"bad default role", oidc(func(c *Config) { c.DefaultRole = "admin" }), false},
		{"bad role map", oidc(func(c *Config) { c.RoleMap = map[string]string{"g": "root"} }), false},
		{"ldaps ok", ldap(func(*Config) {}), true},
		{"ldap starttls ok", ldap(func(c *Config) { c.URL, c.StartTLS = "ldap://h:389", true }), true},
		{"ldap plain refused", ldap(func(c *Config) { c.URL = "ldap://h:389" }), false},
		{"ldap plain allowed", ldap(func(c *Config) { c.URL, c.AllowPlain = "ldap://h:389", true }), true},
		{"ldaps with starttls", ldap(func(c *Config) { c.StartTLS = true }), false},
		{"http url", ldap(func(c *Config) { c.URL = "http://h" }), false},
		{"filter without %s", ldap(func(c *Config) { c.UserFilter = "(uid=bob)" }), false},
		{"filter two %s", ldap(func(c *Config) { c.UserFilter = "(|(uid=%s)(mail=%s))" }), false},
		{"no bind dn", ldap(func(c *Config) { c.BindDN = "" }), false},
		{"bad ca", ldap(func(c *Config) { c.CAPEM = "nope" }), false},
		{"unknown type", Config{Type: "saml", DefaultRole: "member"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("error %v is not Invalid", err)
			}
		})
	}
}

func TestSubjectFilterEscapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"5f2c1e4a-0000-1111-2222-333344445555", "(entryUUID=5f2c1e4a-0000-1111-2222-333344445555)"},
		{"x)(uid=*", `(entryUUID=x\29\28uid=\2a)`},
		{"guid:00ff2a", `(objectGUID=\00\ff\2a)`},
	} {
		got, ok := subjectFilter(tc.in)
		if !ok || got != tc.want {
			t.Errorf("subjectFilter(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := subjectFilter("guid:zz"); ok {
		t.Error("a bad guid must not make a filter")
	}
}

func TestParseRoleMap(t *testing.T) {
	m, err := ParseRoleMap(" admins=admin, audit=auditor ,")
	if err != nil || m["admins"] != "admin" || m["audit"] != "auditor" || len(m) != 2 {
		t.Fatalf("got %v, %v", m, err)
	}
	for _, bad := range []string{"admins", "=admin", "g=root"} {
		if _, err := ParseRoleMap(bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("ParseRoleMap(%q) = %v, want Invalid", bad, err)
		}
	}
}
