package oauth

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// libraryToken signs claims with the JWT library the way mint and
// mintStandard did before they appended the JSON themselves: the
// reference the hand-built tokens must equal byte for byte (Ed25519
// signatures are deterministic, so equal input gives an equal token).
func libraryToken(t *testing.T, kid string, key ed25519.PrivateKey, typ string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = kid
	if typ != "" {
		tok.Header["typ"] = typ
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Access tokens of both dialects are the bytes the JWT library would have
// written and signed, for ordinary values and for every string that
// encoding/json escapes.
func TestAccessTokenBytes(t *testing.T) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 15, 4, 5, 987654321, time.UTC)
	tests := []struct {
		name, kid, user, scope, client, family, issuer, sub string
	}{
		{"plain", "0f6a3d52-6b5e-4d8c-9d7a-2c1e5b9e8f10", "7c1d", "vso.work vso.profile", "c1", "fam-1", "https://auth.example.com", "7c1d"},
		{"client credentials", "k", "", "vso.profile", "5f3e-client", "cc-0a1b", "http://127.0.0.1:8080", "5f3e-client"},
		{"html and quotes", `k"<1>`, `a"b\c`, "x&y <z>", "c\u2028d\u2029", "f\x01\x1f", "https://a.example/?q=1&r=<2>", "s\t\n"},
		{"non-ASCII and invalid UTF-8", "clé", "ünïcode", "s\xff\xfe", "ç", "日本", "https://émoji.example/🙂", "\x7f"},
		{"empty values", "", "", "", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ak := newAccessKey(tt.kid, key)
			iat, exp := jwt.NewNumericDate(now), jwt.NewNumericDate(now.Add(time.Hour))
			c := Claims{UserID: tt.user, Scope: tt.scope, AuthorizationID: "aui-" + tt.user, ClientID: tt.client,
				SecretID: "csid", FamilyID: tt.family, RegisteredClaims: jwt.RegisteredClaims{
					Issuer: tt.issuer, Subject: tt.sub, Audience: jwt.ClaimStrings{tt.issuer},
					NotBefore: iat, IssuedAt: iat, ExpiresAt: exp, ID: "jti-" + tt.kid}}
			if got, want := ak.sign(&c, nil), libraryToken(t, tt.kid, key, "", c); got != want {
				t.Errorf("dialect token\n got %s\nwant %s", got, want)
			}
			std := standardClaims{Claims: c, ClientIDStd: tt.client, ScopeStd: tt.scope}
			if got, want := ak.sign(&std.Claims, &std), libraryToken(t, tt.kid, key, TypeAccessTokenJWT, std); got != want {
				t.Errorf("RFC 9068 token\n got %s\nwant %s", got, want)
			}
			// omitempty of the registered claims, as the library has it
			bare := Claims{UserID: tt.user}
			if got, want := ak.sign(&bare, nil), libraryToken(t, tt.kid, key, "", bare); got != want {
				t.Errorf("token without registered claims\n got %s\nwant %s", got, want)
			}
		})
	}
}

// A minted token of either dialect verifies with the published key and
// carries its claims (the Bearer check's parse).
func TestMintedTokensVerify(t *testing.T) {
	e := newEnv(t, 0)
	now := e.clock.now()
	raw, _, err := e.svc.mintStandard(now, accessGrant{clientID: e.app.ClientID, secretID: "s1", familyID: "cc-1",
		scopes: []string{"vso.work", "vso.profile"}, secretExpires: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.parse(raw, now)
	if err != nil {
		t.Fatalf("RFC 9068 token refused: %v", err)
	}
	if c.ClientID != e.app.ClientID || c.Subject != e.app.ClientID || c.Scope != "vso.work vso.profile" ||
		c.FamilyID != "cc-1" || !c.ExpiresAt.Equal(now.Add(time.Minute)) {
		t.Errorf("claims: %+v", c)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &standardClaims{})
	if err != nil || tok.Header["typ"] != TypeAccessTokenJWT || tok.Claims.(*standardClaims).ClientIDStd != e.app.ClientID ||
		tok.Claims.(*standardClaims).ScopeStd != "vso.work vso.profile" {
		t.Errorf("RFC 9068 header and claims: %v %v %v", err, tok.Header, tok.Claims)
	}
	raw, _, err = e.svc.mint(now, e.user.ID, e.authz.ID, e.app.ClientID, "s1", "f1", []string{"vso.work"}, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := e.svc.parse(raw, now); err != nil || c.UserID != e.user.ID || c.AuthorizationID != e.authz.ID {
		t.Errorf("dialect token: %v %+v", err, c)
	}
	// A flipped payload byte breaks the signature.
	parts := strings.Split(raw, ".")
	b := []byte(parts[1])
	b[5] ^= 1
	if _, err := e.svc.parse(parts[0]+"."+string(b)+"."+parts[2], now); err == nil {
		t.Error("a token with a changed payload verified")
	}
}

// The token response is what encoding/json makes of its struct tags.
func TestStandardTokenResponseJSON(t *testing.T) {
	for _, r := range []StandardTokenResponse{
		{AccessToken: "a.b.c", TokenType: "Bearer", ExpiresIn: 3600, Scope: "vso.profile"},
		{AccessToken: "a", TokenType: "Bearer", ExpiresIn: 0, RefreshToken: "r<&>", Scope: "openid vso.work", IDToken: "i.d.t"},
		{TokenType: "Bearer", ExpiresIn: -1, AuthorizationID: "not sent", ClientID: "not sent"},
		{AccessToken: "\u2028\"\\\x00é\xff", TokenType: "Bearer", ExpiresIn: 1 << 40},
	} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON\n got %s\nwant %s", got, want)
		}
	}
}

// appendJSONString escapes as encoding/json does, whatever the bytes.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"`, `\`, "<", "a>", "&b", "<>&", "\u2028", "x\u2029", "\x00", "\x1f\x7f", "\xff", "é日🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("%q: got %s, want %s", s, got[1:], want)
		}
	})
}
