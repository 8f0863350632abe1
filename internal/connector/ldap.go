package connector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// ldapConn is an LDAP directory (OpenLDAP, Active Directory): a service
// bind finds the person's entry with the user filter (the typed name
// escaped, RFC 4515 §3), a bind as that entry checks the password, then
// the groups are read with the group filter (the entry's DN escaped) or,
// without a group base, from the entry's memberOf. Connections use
// ldaps:// or StartTLS (RFC 4513 §3) with the configured CAs or the
// system roots; plain ldap:// only with AllowPlain.
type ldapConn struct {
	cfg      Config
	password string
	tls      *tls.Config
}

func newLDAP(cfg Config, password string) (*ldapConn, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, apperr.Errorf(apperr.Invalid, "--url %q does not parse", cfg.URL)
	}
	tc := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if cfg.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(cfg.CAPEM)) {
			return nil, apperr.Errorf(apperr.Invalid, "--ca-file holds no PEM certificate")
		}
		tc.RootCAs = pool
	} // else nil RootCAs: the system roots (SSL_CERT_FILE honoured)
	return &ldapConn{cfg: cfg, password: password, tls: tc}, nil
}

// dial connects (TLS or StartTLS as configured) and binds as the service
// account. Errors: Unavailable saying which step failed.
func (c *ldapConn) dial(ctx context.Context) (*ldap.Conn, error) {
	d := &net.Dialer{Timeout: upstreamTimeout}
	conn, err := ldap.DialURL(c.cfg.URL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(c.tls))
	if err != nil {
		return nil, unavailable("The directory at %s could not be reached (%s).", c.cfg.URL, oneLine(err))
	}
	conn.SetTimeout(upstreamTimeout)
	if c.cfg.StartTLS {
		if err := conn.StartTLS(c.tls); err != nil {
			_ = conn.Close()
			return nil, unavailable("StartTLS with %s failed (%s).", c.cfg.URL, oneLine(err))
		}
	}
	if err := c.serviceBind(conn); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

func (c *ldapConn) serviceBind(conn *ldap.Conn) error {
	if err := conn.Bind(c.cfg.BindDN, c.password); err != nil {
		return unavailable("The service bind as %s to %s failed (%s).", c.cfg.BindDN, c.cfg.URL, oneLine(err))
	}
	return nil
}

// Test connects and binds as the service account.
func (c *ldapConn) Test(ctx context.Context) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	return conn.Close()
}

func (c *ldapConn) userAttrs() []string {
	return []string{c.cfg.UsernameAttr, c.cfg.NameAttr, c.cfg.EmailAttr, "entryUUID", "objectGUID", "memberOf",
		"userAccountControl", "pwdAccountLockedTime"}
}

// Login finds the entry of username, binds as it with password and reads
// its groups.
func (c *ldapConn) Login(ctx context.Context, username, password string) (Identity, error) {
	bad := apperr.Errorf(apperr.Unauthorized, "Wrong username or password.")
	// An empty password would be an unauthenticated bind (RFC 4513 §5.1.2),
	// which many servers accept: never a sign-in.
	if username == "" || password == "" || len(username) > 256 || len(password) > 1024 {
		return Identity{}, bad
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return Identity{}, err
	}
	defer conn.Close()
	filter := strings.Replace(c.cfg.UserFilter, "%s", ldap.EscapeFilter(username), 1)
	res, err := conn.Search(ldap.NewSearchRequest(c.cfg.UserBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, int(upstreamTimeout.Seconds()), false, filter, c.userAttrs(), nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return Identity{}, unavailable("The user search in %s failed (%s).", c.cfg.URL, oneLine(err))
	}
	if res == nil || len(res.Entries) != 1 {
		return Identity{}, bad // none, or an ambiguous filter
	}
	e := res.Entries[0]
	if err := conn.Bind(e.DN, password); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			return Identity{}, bad
		}
		return Identity{}, unavailable("The bind as the user to %s failed (%s).", c.cfg.URL, oneLine(err))
	}
	if err := c.serviceBind(conn); err != nil {
		return Identity{}, err
	}
	id, err := c.identity(conn, e)
	if err != nil {
		return Identity{}, err
	}
	if id.Subject == "" {
		return Identity{}, apperr.Errorf(apperr.Forbidden, "Your directory entry has no entryUUID or objectGUID, so it cannot be linked to an account. Ask your administrator.")
	}
	return id, nil
}

// identity maps an entry and reads its groups.
func (c *ldapConn) identity(conn *ldap.Conn, e *ldap.Entry) (Identity, error) {
	id := Identity{Username: e.GetAttributeValue(c.cfg.UsernameAttr), Name: e.GetAttributeValue(c.cfg.NameAttr),
		Email: e.GetAttributeValue(c.cfg.EmailAttr)}
	if v := e.GetAttributeValue("entryUUID"); v != "" {
		id.Subject = strings.ToLower(v)
	} else if b := e.GetRawAttributeValue("objectGUID"); len(b) > 0 {
		id.Subject = "guid:" + hex.EncodeToString(b)
	}
	if uac, err := strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64); err == nil && uac&2 != 0 {
		id.Disabled = true // ACCOUNTDISABLE
	}
	if e.GetAttributeValue("pwdAccountLockedTime") != "" {
		id.Disabled = true
	}
	if c.cfg.GroupBase == "" {
		for _, dn := range e.GetAttributeValues("memberOf") {
			if p, err := ldap.ParseDN(dn); err == nil && len(p.RDNs) > 0 && len(p.RDNs[0].Attributes) > 0 {
				id.Groups = append(id.Groups, p.RDNs[0].Attributes[0].Value)
			}
		}
		return id, nil
	}
	filter := strings.Replace(c.cfg.GroupFilter, "%s", ldap.EscapeFilter(e.DN), 1)
	res, err := conn.Search(ldap.NewSearchRequest(c.cfg.GroupBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		1000, int(upstreamTimeout.Seconds()), false, filter, []string{c.cfg.GroupNameAttr}, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return Identity{}, unavailable("The group search in %s failed (%s).", c.cfg.URL, oneLine(err))
	}
	if res != nil {
		for _, g := range res.Entries {
			if n := g.GetAttributeValue(c.cfg.GroupNameAttr); n != "" {
				id.Groups = append(id.Groups, n)
			}
		}
	}
	return id, nil
}

// subjectFilter is the filter matching the entry of subject.
func subjectFilter(subject string) (string, bool) {
	if h, ok := strings.CutPrefix(subject, "guid:"); ok {
		b, err := hex.DecodeString(h)
		if err != nil {
			return "", false
		}
		var sb strings.Builder
		for _, x := range b {
			sb.WriteString(`\` + hex.EncodeToString([]byte{x}))
		}
		return "(objectGUID=" + sb.String() + ")", true
	}
	return "(entryUUID=" + ldap.EscapeFilter(subject) + ")", subject != ""
}

// Lookup finds each subject's entry under the user base (still matching
// the user filter, with any name) and reads its groups, over one
// connection.
func (c *ldapConn) Lookup(ctx context.Context, subjects []string) (map[string]Identity, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	population := strings.Replace(c.cfg.UserFilter, "%s", "*", 1)
	out := map[string]Identity{}
	for _, s := range subjects {
		if err := ctx.Err(); err != nil {
			return nil, unavailable("directory sync stopped: %v", err)
		}
		sf, ok := subjectFilter(s)
		if !ok {
			continue
		}
		res, err := conn.Search(ldap.NewSearchRequest(c.cfg.UserBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			2, int(upstreamTimeout.Seconds()), false, "(&"+population+sf+")", c.userAttrs(), nil))
		if err != nil {
			// Including noSuchObject (the user base is gone): a
			// misconfiguration must not read as "everyone left".
			return nil, unavailable("The user lookup in %s failed (%s).", c.cfg.URL, oneLine(err))
		}
		if len(res.Entries) != 1 {
			continue
		}
		id, err := c.identity(conn, res.Entries[0])
		if err != nil {
			return nil, err
		}
		if id.Subject == s {
			out[s] = id
		}
	}
	return out, nil
}
