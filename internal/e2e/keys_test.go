package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/keyseal"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// The database, its -wal and -shm and the key file are private (0600).
func TestDatabaseFilesArePrivate(t *testing.T) {
	sqliteOnly(t)
	ts := newTestServer(t)
	ts.addUser(t, "alice", domain.RoleMember, "alice-password-1")
	ts.newAgent(t).signIn("alice", "alice-password-1")
	for _, p := range []string{ts.DBPath, ts.DBPath + "-wal", ts.DBPath + "-shm", filepath.Join(filepath.Dir(ts.DBPath), "oauthdesk.key")} {
		if m := fileMode(t, p); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), m)
		}
	}
	if ts.App.KeyFile != filepath.Join(filepath.Dir(ts.DBPath), "oauthdesk.key") || !ts.App.KeyFileCreated {
		t.Errorf("key file %q created %v: want oauthdesk.key beside the database, created", ts.App.KeyFile, ts.App.KeyFileCreated)
	}
}

// The CLI refuses a database file that others can write, with one line;
// serve prints where it created the key file.
func TestServeRefusesSharedDatabaseAndPrintsKeyFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "oauthdesk.db")
	p := startServe(t, dir, "--db", db, "--addr", freeAddr(t))
	lines := p.waitOutput(t, regexp.MustCompile(`Created the key file (\S+): `))
	if lines[1] != filepath.Join(dir, "oauthdesk.key") {
		t.Errorf("printed key file %q, want %q", lines[1], filepath.Join(dir, "oauthdesk.key"))
	}
	p.stop(t)
	if err := os.Chmod(db, 0o664); err != nil {
		t.Fatal(err)
	}
	r := oauthdesk(t, cliRun{dir: dir}, "serve", "--db", db, "--addr", freeAddr(t))
	if r.code == 0 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "writable by group or others") || !strings.Contains(r.stderr, "chmod 600") {
		t.Errorf("serve on a group-writable database: want one clear line and a failure\n%s", r)
	}
}

// storedKeys reads the raw stored access-token (Ed25519) signing keys;
// the RSA and EC keys of ID tokens are left out.
func storedKeys(t *testing.T, ts *testServer) []domain.SigningKey {
	t.Helper()
	keys, err := ts.App.DB.SigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.SigningKey
	for _, k := range keys {
		if !keyseal.Sealed(k.PrivateKey) {
			t.Errorf("stored %s key %s is not sealed", k.Alg, k.ID)
		}
		if k.Alg == "EdDSA" {
			out = append(out, k)
		}
	}
	return out
}

// startAt opens a server on dbPath with keyFile; it returns the error of
// server.Open (nil: it started and was closed again).
func openAt(dbPath, keyFile string) error {
	app, err := server.Open(context.Background(), server.Config{DBPath: dbPath, KeyFile: keyFile, BaseURL: "http://127.0.0.1:1",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	return app.Close()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Signing keys are sealed at rest: the stored blob is no PKCS #8 key, a
// copy of the database without its key file cannot start (and creates no
// new keys), nor can it with the wrong key file.
func TestSigningKeysSealedAtRest(t *testing.T) {
	sqliteOnly(t)
	ts := newTestServer(t)
	keys := storedKeys(t, ts)
	if len(keys) != 1 {
		t.Fatalf("%d keys, want 1", len(keys))
	}
	blob := keys[0].PrivateKey
	if !keyseal.Sealed(blob) {
		t.Fatalf("stored key is not sealed")
	}
	if _, err := x509.ParsePKCS8PrivateKey(blob); err == nil {
		t.Fatal("the stored key parses as a plain PKCS #8 private key")
	}
	// Copy the database (with its write-ahead log) somewhere else.
	elsewhere := t.TempDir()
	stolen := filepath.Join(elsewhere, "oauthdesk.db")
	copyFile(t, ts.DBPath, stolen)
	copyFile(t, ts.DBPath+"-wal", stolen+"-wal")

	err := openAt(stolen, "")
	if err == nil || !strings.Contains(err.Error(), "key file") {
		t.Fatalf("a database copied without its key file started (err %v)", err)
	}
	if _, serr := os.Stat(filepath.Join(elsewhere, "oauthdesk.key")); serr == nil {
		t.Errorf("a new key file was left beside the copied database")
	}
	wrong := filepath.Join(t.TempDir(), "wrong.key")
	if _, _, err := keyseal.LoadFile(wrong); err != nil {
		t.Fatal(err)
	}
	err = openAt(stolen, wrong)
	if err == nil || !strings.Contains(err.Error(), "does not open this database's signing keys") {
		t.Fatalf("start with the wrong key file: err %v, want the clear message", err)
	}
	// With the right key file the copy starts, and still has one key.
	right := filepath.Join(elsewhere, "right.key")
	copyFile(t, filepath.Join(filepath.Dir(ts.DBPath), "oauthdesk.key"), right)
	if err := openAt(stolen, right); err != nil {
		t.Fatalf("start with the right key file: %v", err)
	}
	r := oauthdesk(t, cliRun{}, "keys", "list", "--json", "--db", stolen)
	var listed []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed) != len(oauth.KeyAlgs) || !slices.ContainsFunc(listed, func(k map[string]any) bool { return k["kid"] == keys[0].ID }) {
		t.Errorf("keys after failed starts: %s (want only %s)", r.stdout, keys[0].ID)
	}
}

// Sessions are stored under the SHA-256 of their token.
func TestSessionsStoredHashed(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "alice", domain.RoleMember, "alice-password-1")
	a := ts.newAgent(t)
	a.signIn("alice", "alice-password-1")
	var token string
	base, _ := url.Parse(ts.URL)
	for _, c := range a.c.Jar.Cookies(base) {
		if c.Name == "oauthdesk_session" {
			token = c.Value
		}
	}
	if token == "" {
		t.Fatal("no session cookie")
	}
	ctx := context.Background()
	if _, found, err := ts.App.DB.Sessions().FindCtx(ctx, token); err != nil || found {
		t.Errorf("the session is stored under its token (found %v, err %v)", found, err)
	}
	sum := sha256.Sum256([]byte(token))
	if _, found, err := ts.App.DB.Sessions().FindCtx(ctx, hex.EncodeToString(sum[:])); err != nil || !found {
		t.Errorf("no session under the SHA-256 of the token (found %v, err %v)", found, err)
	}
	if r := a.get("/profile/authorizations"); r.Status != http.StatusOK {
		t.Errorf("signed-in page: status %d", r.Status)
	}
}

// keys rotate: the new key signs, the old one stays in JWKS and verifies
// its tokens until they expired, then retires.
func TestKeysRotate(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().UTC()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ts := newTestServerWith(t, func(c *server.Config) { c.Now = clock })
	_, alice, app := rootAliceApp(t, ts, "vso.work")
	oldTok := workToken(t, ts, alice, app)
	oldKid := jwtKid(t, oldTok)

	mustSucceed(t, oauthdesk(t, cliRun{}, "keys", "rotate", "--db", ts.DBPath, "--key-file", ts.App.KeyFile))
	if err := ts.App.OAuth.Keys().Reload(context.Background(), clock()); err != nil { // what the server does every 30 s
		t.Fatal(err)
	}
	newTok := workToken(t, ts, alice, app)
	if kid := jwtKid(t, newTok); kid == oldKid {
		t.Fatalf("after rotate the token is still signed by %s", kid)
	}
	if st, _, _ := callAPI(t, ts.URL, profilePath, oldTok); st != http.StatusOK {
		t.Errorf("a token of the replaced key: status %d, want 200 until it expires", st)
	}
	if kids := jwksKids(t, ts); len(kids) != 2 || !kids[oldKid] {
		t.Errorf("JWKS after rotate: %v, want both keys", kids)
	}
	statuses := keyStatuses(t, ts)
	if statuses[oldKid] != "verify-only" || statuses[jwtKid(t, newTok)] != "signing" {
		t.Errorf("keys list after rotate: %v", statuses)
	}
	// Past the access-token lifetime (and the grace) the old key retires.
	mu.Lock()
	now = now.Add(time.Hour + 6*time.Minute)
	mu.Unlock()
	if err := ts.App.OAuth.Keys().Reload(context.Background(), clock()); err != nil {
		t.Fatal(err)
	}
	if kids := jwksKids(t, ts); len(kids) != 1 || kids[oldKid] {
		t.Errorf("JWKS after the lifetime: %v, want only the new key", kids)
	}
	out := mustSucceed(t, oauthdesk(t, cliRun{}, "keys", "list", "--db", ts.DBPath)).stdout
	if !strings.Contains(out, "signing") || !strings.Contains(out, "KID") {
		t.Errorf("keys list table:\n%s", out)
	}
}

func jwtKid(t *testing.T, tok string) string {
	t.Helper()
	p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := p.Header["kid"].(string)
	return kid
}

func jwksKids(t *testing.T, ts *testServer) map[string]bool {
	t.Helper()
	r := ts.newAgent(t).get("/.well-known/jwks.json")
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.Body), &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range set.Keys {
		if k.Alg == "EdDSA" { // the access-token keys; RS256 and ES256 sign ID tokens
			out[k.Kid] = true
		}
	}
	return out
}

func keyStatuses(t *testing.T, ts *testServer) map[string]string {
	t.Helper()
	r := mustSucceed(t, oauthdesk(t, cliRun{}, "keys", "list", "--json", "--db", ts.DBPath))
	var listed []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil {
		t.Fatalf("keys list --json: %v\n%s", err, r.stdout)
	}
	out := map[string]string{}
	for _, k := range listed {
		out[k["kid"].(string)] = k["status"].(string)
	}
	return out
}

// An access token whose iat lies in the future is refused, even when its
// signature, issuer, audience and expiry are fine.
func TestFutureIssuedAtRefused(t *testing.T) {
	ts := newTestServer(t)
	_, alice, app := rootAliceApp(t, ts, "vso.work")
	tok := workToken(t, ts, alice, app)

	// Re-sign the token's claims with the server's own key, iat moved ahead.
	sealer, _, err := keyseal.LoadFile(ts.App.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	k := storedKeys(t, ts)[0]
	der, err := sealer.Open(k.PrivateKey, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		t.Fatal(err)
	}
	sign := func(iat time.Time) string {
		claims["iat"] = iat.Unix()
		j := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
		j.Header["kid"] = k.ID
		s, err := j.SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if st, _, _ := callAPI(t, ts.URL, profilePath, sign(time.Now().Add(-time.Minute))); st != http.StatusOK {
		t.Fatalf("the re-signed token with a past iat: status %d, want 200 (the test's forgery must be otherwise valid)", st)
	}
	if st, _, _ := callAPI(t, ts.URL, profilePath, sign(time.Now().Add(30*time.Minute))); st != http.StatusUnauthorized {
		t.Errorf("iat 30 minutes in the future: status %d, want 401", st)
	}
}
