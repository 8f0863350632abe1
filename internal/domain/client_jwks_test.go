package domain

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func jwksJSON(t *testing.T, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseClientJWKS(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	rsaSmall, _ := rsa.GenerateKey(rand.Reader, 1024)
	many := make([]jose.JSONWebKey, MaxJWKSKeys+1)
	for i := range many {
		many[i] = jose.JSONWebKey{Key: &ec.PublicKey}
	}
	for _, tc := range []struct {
		name, jwks, want string // want: "" or a fragment of the message
	}{
		{"EC public key", jwksJSON(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "a", Use: "sig"}), ""},
		{"Ed25519 public key", jwksJSON(t, jose.JSONWebKey{Key: edPub, KeyID: "b"}), ""},
		{"private EC key", jwksJSON(t, jose.JSONWebKey{Key: ec, KeyID: "a"}), "private key"},
		{"private Ed25519 key", jwksJSON(t, jose.JSONWebKey{Key: edPriv}), "private key"},
		{"symmetric key", jwksJSON(t, jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef")}), "private key"},
		{"encryption key", jwksJSON(t, jose.JSONWebKey{Key: &ec.PublicKey, Use: "enc"}), "signatures"},
		{"short RSA key", jwksJSON(t, jose.JSONWebKey{Key: &rsaSmall.PublicKey}), "2048"},
		{"no keys", `{"keys":[]}`, "1 to 10"},
		{"too many keys", jwksJSON(t, many...), "1 to 10"},
		{"not JSON", `{"keys":`, "not a valid"},
		{"a single JWK, not a set", jwksJSON(t, jose.JSONWebKey{Key: &ec.PublicKey})[8:], "not a valid"},
		{"too large", `{"keys":[],"x":"` + strings.Repeat("a", MaxJWKSBytes) + `"}`, "too large"},
	} {
		_, msg := ParseClientJWKS(tc.jwks)
		if (tc.want == "") != (msg == "") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: message %q, want %q", tc.name, msg, tc.want)
		}
	}
	// Through the registration: a public client cannot have one; "none" is accepted.
	reg := Registration{Name: "A", Company: "C", AppURL: "https://a.example", CallbackURL: "https://a.example/cb", ClientType: ClientPublic,
		GrantTypes: []string{GrantAuthorizationCode}, JWKS: jwksJSON(t, jose.JSONWebKey{Key: &ec.PublicKey})}
	if _, bad := validateClientFields(reg); bad[FieldJWKS] == "" {
		t.Error("a public client with a JWKS: accepted")
	}
	reg.JWKS = JWKSNone
	if _, bad := validateClientFields(reg); bad[FieldJWKS] != "" {
		t.Errorf("JWKS none: %q", bad[FieldJWKS])
	}
}

func FuzzParseClientJWKS(f *testing.F) {
	f.Add(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)
	f.Add(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`)
	f.Add(`{"keys":[]}`)
	f.Fuzz(func(t *testing.T, s string) {
		set, msg := ParseClientJWKS(s) // never panics
		if msg == "" {
			for _, k := range set.Keys {
				if !k.IsPublic() {
					t.Fatalf("accepted a non-public key: %s", s)
				}
			}
		}
	})
}
