package oauth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// KeyStore is the storage of access-token signing keys.
type KeyStore interface {
	WriteTx(ctx context.Context, fn func(ctx context.Context) error) error
	SigningKeys(ctx context.Context) ([]domain.SigningKey, error)
	CreateSigningKey(ctx context.Context, k domain.SigningKey) error
}

// KeySet holds the Ed25519 signing keys in memory: the newest signs, all
// verify. Loaded once at start; the Bearer check never reads the database
// for keys.
type KeySet struct {
	signID  string
	signKey ed25519.PrivateKey
	public  map[string]ed25519.PublicKey
	order   []string
}

// LoadKeys loads the signing keys, generating the first one (in one write
// transaction) when the database has none. Errors: storage errors, or a
// key that does not parse.
func LoadKeys(ctx context.Context, ks KeyStore, now time.Time) (*KeySet, error) {
	var keys []domain.SigningKey
	err := ks.WriteTx(ctx, func(ctx context.Context) error {
		var err error
		if keys, err = ks.SigningKeys(ctx); err != nil || len(keys) > 0 {
			return err
		}
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return err
		}
		k := domain.SigningKey{ID: uuid.NewString(), Alg: "EdDSA", PrivateKey: der, CreatedAt: now}
		keys = []domain.SigningKey{k}
		return ks.CreateSigningKey(ctx, k)
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	set := &KeySet{public: map[string]ed25519.PublicKey{}}
	for i, k := range keys {
		p, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
		}
		priv, ok := p.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("signing key %s: not Ed25519", k.ID)
		}
		if i == 0 {
			set.signID, set.signKey = k.ID, priv
		}
		set.public[k.ID] = priv.Public().(ed25519.PublicKey)
		set.order = append(set.order, k.ID)
	}
	return set, nil
}

// JWK is one public key in a JSON Web Key Set (RFC 8037 §2: OKP/Ed25519).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS returns the public keys as a JWK Set ({"keys": [...]}, RFC 7517 §5).
func (k *KeySet) JWKS() map[string][]JWK {
	out := make([]JWK, 0, len(k.order))
	for _, id := range k.order {
		out = append(out, JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.public[id]),
			Kid: id, Alg: "EdDSA", Use: "sig"})
	}
	return map[string][]JWK{"keys": out}
}
