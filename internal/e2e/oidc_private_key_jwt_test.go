package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

const jwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionKey is a client's EC P-256 key pair for private_key_jwt.
type assertionKey struct {
	priv *ecdsa.PrivateKey
	kid  string
}

func newAssertionKey(t *testing.T, kid string) assertionKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return assertionKey{priv: k, kid: kid}
}

// jwks is the public JWKS of the keys.
func jwksOf(t *testing.T, keys ...assertionKey) string {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: "ES256", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sign makes a client assertion (RFC 7523 §3) signed with go-jose.
func (k assertionKey) sign(t *testing.T, clientID, aud, jti string, exp time.Time) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{aud}, ID: jti,
		IssuedAt: jwt.NewNumericDate(time.Now()), Expiry: jwt.NewNumericDate(exp)}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// private_key_jwt (RFC 7523 §2.2, OIDC Core §9) with golang.org/x/oauth2's
// client credentials client carrying a go-jose assertion: accepted at the
// token endpoint, introspection and revocation; a wrong key, a wrong
// audience, an expired assertion and a replayed jti are refused
// (invalid_client, 401). The dialect's own client_assertion is unchanged
// (TestWebServerFlow and the other dialect tests).
func TestOIDCPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t, "")
	ctx := context.Background()
	good, other := newAssertionKey(t, "k1"), newAssertionKey(t, "k1")
	tokenURL := f.provider.Endpoint().TokenURL

	// Discovery advertises it.
	var disc struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if r := f.ts.newAgent(t).get("/.well-known/openid-configuration"); json.Unmarshal([]byte(r.Body), &disc) != nil || !strings.Contains(strings.Join(disc.Methods, " "), "private_key_jwt") {
		t.Fatalf("discovery: token_endpoint_auth_methods_supported %v lacks private_key_jwt", disc.Methods)
	}

	// Before a JWKS is registered: refused.
	cc := func(assertion string) clientcredentials.Config {
		return clientcredentials.Config{ClientID: f.clientID, TokenURL: tokenURL, Scopes: []string{"vso.work"}, AuthStyle: oauth2.AuthStyleInParams,
			EndpointParams: url.Values{"client_assertion_type": {jwtBearerAssertionType}, "client_assertion": {assertion}}}
	}
	var re *oauth2.RetrieveError
	c0 := cc(good.sign(t, f.clientID, tokenURL, uuid.NewString(), time.Now().Add(time.Minute)))
	if _, err := c0.Token(ctx); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Fatalf("private_key_jwt without a registered JWKS: %v, want invalid_client", err)
	}

	// Register the public key (what the form and `app update --jwks-file` do).
	app, err := f.ts.App.Admin.UpdateApp(ctx, f.clientID, domain.Registration{Name: "Contoso Portal", Company: "Contoso", AppURL: "https://rp.example",
		CallbackURL: callbackURL, Scopes: []string{"vso.work", "vso.profile"}, JWKS: jwksOf(t, good)})
	if err != nil || app.App.JWKS == "" {
		t.Fatalf("register the JWKS: %v", err)
	}

	jti := uuid.NewString()
	first := good.sign(t, f.clientID, tokenURL, jti, time.Now().Add(2*time.Minute))
	c1 := cc(first)
	tok, err := c1.Token(ctx)
	if err != nil {
		t.Fatalf("private_key_jwt: %v", err)
	}
	if st, _, _ := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", tok.AccessToken); st == http.StatusUnauthorized || st >= 500 {
		t.Errorf("/_apis with the token: %d", st)
	}
	// The same assertion again (a replayed jti): refused.
	if _, err := c1.Token(ctx); !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
		t.Errorf("replayed jti: %v, want invalid_client 401", err)
	}
	for name, a := range map[string]string{
		"a key not registered (same kid)": other.sign(t, f.clientID, tokenURL, uuid.NewString(), time.Now().Add(time.Minute)),
		"another audience":                good.sign(t, f.clientID, "https://elsewhere.example/token", uuid.NewString(), time.Now().Add(time.Minute)),
		"expired":                         good.sign(t, f.clientID, tokenURL, uuid.NewString(), time.Now().Add(-time.Minute)),
		"a lifetime over an hour":         good.sign(t, f.clientID, tokenURL, uuid.NewString(), time.Now().Add(2*time.Hour)),
		"not a JWT":                       "odcs_not-a-jwt",
	} {
		c := cc(a)
		if _, err := c.Token(ctx); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
			t.Errorf("%s: %v, want invalid_client", name, err)
		}
	}
	// The issuer is an accepted audience too; client_id may be left out
	// (RFC 7523 §3: taken from sub).
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {jwtBearerAssertionType},
		"client_assertion": {good.sign(t, f.clientID, f.ts.URL, uuid.NewString(), time.Now().Add(time.Minute))}}
	if st, body := postPlain(t, f.ts.URL+"/oauth2/token", form); st != http.StatusOK || body["access_token"] == nil {
		t.Errorf("aud = issuer, no client_id: %d %v", st, body)
	}
	// Mixing methods is refused.
	form.Set("client_assertion", good.sign(t, f.clientID, tokenURL, uuid.NewString(), time.Now().Add(time.Minute)))
	form.Set("client_secret", f.secret)
	form.Set("client_id", f.clientID)
	if st, body := postPlain(t, f.ts.URL+"/oauth2/token", form); st != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("secret and assertion together: %d %v, want invalid_request", st, body)
	}

	// The code flow and refresh with private_key_jwt: grant_type=refresh_token
	// with refresh_token (not the dialect's assertion) is the standard grant
	// even though it carries the dialect's client_assertion_type.
	cfg := f.config("openid", "offline_access", "vso.work")
	v := oauth2.GenerateVerifier()
	q := f.login(t, cfg.AuthCodeURL("s1", oauth2.S256ChallengeOption(v)))
	code := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {oidcRedirect}, "code_verifier": {v},
		"client_id": {f.clientID}, "client_assertion_type": {jwtBearerAssertionType},
		"client_assertion": {good.sign(t, f.clientID, tokenURL, uuid.NewString(), time.Now().Add(time.Minute))}}
	st, body := postPlain(t, tokenURL, code)
	rt, _ := body["refresh_token"].(string)
	if st != http.StatusOK || rt == "" || body["id_token"] == nil {
		t.Fatalf("code exchange with private_key_jwt: %d %v", st, body)
	}
	ref := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_assertion_type": {jwtBearerAssertionType},
		"client_assertion": {good.sign(t, f.clientID, tokenURL, uuid.NewString(), time.Now().Add(time.Minute))}}
	if st, body := postPlain(t, tokenURL, ref); st != http.StatusOK || body["access_token"] == nil || body["token_type"] != "Bearer" {
		t.Errorf("refresh with private_key_jwt: %d %v", st, body)
	}

	// Introspection and revocation accept it too; the revoked token is refused.
	in := url.Values{"token": {tok.AccessToken}, "client_assertion_type": {jwtBearerAssertionType},
		"client_assertion": {good.sign(t, f.clientID, tokenURL, uuid.NewString(), time.Now().Add(time.Minute))}}
	if st, body := postPlain(t, f.ts.URL+"/oauth2/introspect", in); st != http.StatusOK || body["active"] != true {
		t.Errorf("introspection with private_key_jwt: %d %v", st, body)
	}
	in.Set("client_assertion", good.sign(t, f.clientID, tokenURL, uuid.NewString(), time.Now().Add(time.Minute)))
	if st, body := postPlain(t, f.ts.URL+"/oauth2/revoke", in); st != http.StatusOK {
		t.Errorf("revocation with private_key_jwt: %d %v", st, body)
	}
	if st, _, _ := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", tok.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("/_apis after revocation: %d, want 401", st)
	}
	if b := f.introspect(t, tok.AccessToken); b["active"] != false {
		t.Errorf("introspection after revocation: %v", b)
	}
	// A replayed assertion at introspection: refused.
	if st, body := postPlain(t, f.ts.URL+"/oauth2/introspect", in); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("replayed assertion at introspection: %d %v, want 401 invalid_client", st, body)
	}
}

func postPlain(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// `app update ID --jwks-file FILE` registers a JWKS; a private key, a bad
// file and "none" behave as documented.
func TestCLIJWKSFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "oauthdesk.db")
	run := cliRun{dir: dir}
	mustSucceed(t, oauthdesk(t, cliRun{dir: dir, stdin: cliPassword + "\n"}, "user", "add", "ada", "--role", "member", "--password-stdin", "--db", db))
	var reg registerJSON
	if err := json.Unmarshal([]byte(mustSucceed(t, oauthdesk(t, run, append(registerArgs(db), "--json")...)).stdout), &reg); err != nil {
		t.Fatal(err)
	}
	jwksOn := func() string {
		t.Helper()
		st, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		a, err := st.ClientByID(context.Background(), reg.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		return a.JWKS
	}
	k := newAssertionKey(t, "cli")
	pub := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(pub, []byte(jwksOf(t, k)), 0o600); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, oauthdesk(t, run, "app", "update", reg.ClientID, "--db", db, "--jwks-file", pub))
	if j := jwksOn(); !strings.Contains(j, `"kid":"cli"`) {
		t.Fatalf("after --jwks-file: JWKS %q", j)
	}
	privSet, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.priv, KeyID: "p"}}})
	priv := filepath.Join(dir, "private.json")
	if err := os.WriteFile(priv, privSet, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{"a private key": priv, "a missing file": filepath.Join(dir, "nope.json"), "not JSON": db} {
		if r := oauthdesk(t, run, "app", "update", reg.ClientID, "--db", db, "--jwks-file", file); r.code != 2 {
			t.Errorf("%s: want exit 2\n%s", name, r)
		}
	}
	if j := jwksOn(); !strings.Contains(j, `"kid":"cli"`) {
		t.Errorf("a refused update changed the JWKS: %q", j)
	}
	mustSucceed(t, oauthdesk(t, run, "app", "update", reg.ClientID, "--db", db, "--jwks-file", "none"))
	if j := jwksOn(); j != "" {
		t.Errorf("--jwks-file none left %q", j)
	}
}
