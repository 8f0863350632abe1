package e2e

// A real OpenLDAP server for the directory tests: Debian's slapd, started
// on 127.0.0.1 with a temp directory, a small tree loaded with slapadd,
// and StartTLS under a CA made for the test. Installed by
// .ci/ensure-slapd (make test); missing, the tests skip, except under
// CI=true, where they fail.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

const slapdPath = "/usr/sbin/slapd"

// slapdSuffix and the passwords of the test tree.
const (
	slapdSuffix = "dc=example,dc=com"
	slapdRootDN = "cn=admin," + slapdSuffix
	slapdRootPW = "root-secret"
	slapdSvcDN  = "cn=svc,ou=services," + slapdSuffix
	slapdSvcPW  = "svc-secret"
)

// slapdTree is the directory: alice (admins, staff), bob and carol
// (staff), dave (no group), the service account, and the groups.
var slapdTree = `dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups

dn: ou=services,dc=example,dc=com
objectClass: organizationalUnit
ou: services

dn: cn=svc,ou=services,dc=example,dc=com
objectClass: person
cn: svc
sn: service
userPassword: svc-secret
` + slapdPeople + `
dn: cn=oauthdesk-admins,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: oauthdesk-admins
member: uid=alice,ou=people,dc=example,dc=com

dn: cn=staff,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,dc=example,dc=com
member: uid=bob,ou=people,dc=example,dc=com
member: uid=carol,ou=people,dc=example,dc=com
`

var slapdPeople = func() string {
	var b strings.Builder
	for _, p := range [][3]string{{"alice", "Alice Admin", "alice-pw"}, {"bob", "Bob Builder", "bob-pw"},
		{"carol", "Carol Directory", "carol-pw"}, {"dave", "Dave Nogroup", "dave-pw"}} {
		b.WriteString("\ndn: uid=" + p[0] + ",ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: " + p[0] +
			"\ncn: " + p[1] + "\nsn: " + p[0] + "\nmail: " + p[0] + "@example.com\nuserPassword: " + p[2] + "\n")
	}
	return b.String()
}()

// slapd is a running OpenLDAP server.
type slapd struct {
	URL    string // ldap://127.0.0.1:PORT (StartTLS offered)
	LDAPS  string // ldaps://127.0.0.1:PORT
	CAFile string // PEM of the CA that signed its certificate
	caPool *x509.CertPool
	cmd    *exec.Cmd
}

// startSlapd starts slapd with the test tree and stops it when t ends.
func startSlapd(t *testing.T) *slapd {
	t.Helper()
	if _, err := os.Stat(slapdPath); err != nil {
		if underCI() {
			t.Fatalf("slapd not found at %s (%v), and CI=true: the directory tests must run under CI (.ci/ensure-slapd installs Debian's slapd as root)", slapdPath, err)
		}
		t.Skipf("slapd not found at %s: skipping the OpenLDAP tests (install Debian's slapd, or run .ci/ensure-slapd as root)", slapdPath)
	}
	dir := t.TempDir()
	caFile, pool := writeTestPKI(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ` + filepath.Join(dir, "slapd.pid") + `
TLSCACertificateFile ` + caFile + `
TLSCertificateFile ` + filepath.Join(dir, "cert.pem") + `
TLSCertificateKeyFile ` + filepath.Join(dir, "key.pem") + `
database mdb
maxsize 10485760
suffix "` + slapdSuffix + `"
rootdn "` + slapdRootDN + `"
rootpw ` + slapdRootPW + `
directory ` + filepath.Join(dir, "db") + `
`
	confPath := filepath.Join(dir, "slapd.conf")
	ldif := filepath.Join(dir, "tree.ldif")
	for p, s := range map[string]string{confPath: conf, ldif: slapdTree} {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("/usr/sbin/slapadd", "-f", confPath, "-l", ldif).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsAddr := ln.Addr().String()
	_ = ln.Close()
	// -d 0: stay in the foreground, so the test owns the process.
	cmd := exec.Command(slapdPath, "-f", confPath, "-h", "ldap://"+addr+"/ ldaps://"+tlsAddr+"/", "-d", "0")
	var logBuf strings.Builder
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	s := &slapd{URL: "ldap://" + addr, LDAPS: "ldaps://" + tlsAddr, CAFile: caFile, caPool: pool, cmd: cmd}
	t.Cleanup(s.stop)
	for _, a := range []string{addr, tlsAddr} {
		waitListening(t, a, &logBuf)
	}
	return s
}

// waitListening waits up to 10 s until addr accepts connections.
func waitListening(t *testing.T, addr string, logBuf *strings.Builder) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not listen on %s: %s", addr, logBuf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends slapd (idempotent).
func (s *slapd) stop() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// admin runs fn on a StartTLS connection bound as the root DN: the
// directory's administrator changing the tree behind oauthdesk's back.
func (s *slapd) admin(t *testing.T, fn func(c *ldap.Conn) error) {
	t.Helper()
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: s.caPool}); err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(slapdRootDN, slapdRootPW); err != nil {
		t.Fatal(err)
	}
	if err := fn(c); err != nil {
		t.Fatal(err)
	}
}

// writeTestPKI writes ca.pem, cert.pem and key.pem (a certificate for
// 127.0.0.1) to dir.
func writeTestPKI(t *testing.T, dir string) (string, *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "oauthdesk test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("ca.pem", "CERTIFICATE", caDER)
	write("cert.pem", "CERTIFICATE", der)
	write("key.pem", "PRIVATE KEY", keyDER)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return caFile, pool
}
