package oauth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/keyseal"
)

// KeyStore is the storage of access-token signing keys. PrivateKey values
// are sealed blobs (package keyseal); UpdateSigningKey replaces one (to
// seal a legacy plain key).
type KeyStore interface {
	WriteTx(ctx context.Context, fn func(ctx context.Context) error) error
	SigningKeys(ctx context.Context) ([]domain.SigningKey, error)
	CreateSigningKey(ctx context.Context, k domain.SigningKey) error
	UpdateSigningKey(ctx context.Context, id string, privateKey []byte) error
	AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error)
}

// Key statuses (oauthdesk keys list).
const (
	KeySigning    = "signing"     // the newest key: signs new access tokens
	KeyVerifyOnly = "verify-only" // replaced; verifies the tokens it signed until they expired
	KeyRetired    = "retired"     // replaced longer ago than an access token lives: in no JWKS, verifies nothing
)

// RetireGrace is added to the access-token lifetime before a replaced key
// retires: other replicas pick up a new signing key within KeyReload.
const RetireGrace = 5 * time.Minute

// KeyReload is how often a running server re-reads the signing keys (to
// pick up `oauthdesk keys rotate`).
const KeyReload = 30 * time.Second

// KeyInfo describes one signing key.
type KeyInfo struct {
	ID        string    `json:"kid"`
	Alg       string    `json:"alg"`
	CreatedAt time.Time `json:"created"`
	Status    string    `json:"status"`
	// RetiresAt is when a verify-only key retires (zero otherwise).
	RetiresAt time.Time `json:"retires_at,omitzero"`
}

// KeyStatuses returns the status of each key (newest first, as stored):
// the newest signs; a replaced key verifies until ttl+RetireGrace after
// its successor was created, then is retired.
func KeyStatuses(keys []domain.SigningKey, now time.Time, ttl time.Duration) []KeyInfo {
	out := make([]KeyInfo, len(keys))
	for i, k := range keys {
		info := KeyInfo{ID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt, Status: KeySigning}
		if i > 0 {
			info.RetiresAt = keys[i-1].CreatedAt.Add(ttl + RetireGrace)
			info.Status = KeyVerifyOnly
			if !now.Before(info.RetiresAt) {
				info.Status, info.RetiresAt = KeyRetired, time.Time{}
			}
		}
		out[i] = info
	}
	return out
}

// KeySet holds the Ed25519 signing keys in memory: the newest signs, the
// verify-only ones verify. The Bearer check never reads the database for
// keys; Reload swaps in a fresh set atomically.
type KeySet struct {
	store  KeyStore
	sealer *keyseal.Sealer
	ttl    time.Duration
	state  atomic.Pointer[keyState]
}

type keyState struct {
	signID  string
	signKey ed25519.PrivateKey
	public  map[string]ed25519.PublicKey
	order   []string
}

// LoadKeys loads the signing keys and opens them with sealer, generating
// the first one (in one write transaction) when the database has none,
// and sealing any legacy plain key in place. ttl is the access-token
// lifetime (retirement). Errors: Invalid when sealer does not open the
// stored keys (a wrong key file: no key is generated then); storage
// errors.
func LoadKeys(ctx context.Context, ks KeyStore, sealer *keyseal.Sealer, now time.Time, ttl time.Duration) (*KeySet, error) {
	err := ks.WriteTx(ctx, func(ctx context.Context) error {
		keys, err := ks.SigningKeys(ctx)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			_, err := newKey(ctx, ks, sealer, now)
			return err
		}
		for _, k := range keys {
			if keyseal.Sealed(k.PrivateKey) {
				continue
			}
			if _, err := x509.ParsePKCS8PrivateKey(k.PrivateKey); err != nil {
				return fmt.Errorf("signing key %s: %w", k.ID, err)
			}
			if err := ks.UpdateSigningKey(ctx, k.ID, sealer.Seal(k.PrivateKey, k.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	set := &KeySet{store: ks, sealer: sealer, ttl: ttl}
	if err := set.Reload(ctx, now); err != nil {
		return nil, err
	}
	return set, nil
}

func newKey(ctx context.Context, ks KeyStore, sealer *keyseal.Sealer, now time.Time) (domain.SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return domain.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return domain.SigningKey{}, err
	}
	id := uuid.NewString()
	k := domain.SigningKey{ID: id, Alg: "EdDSA", PrivateKey: sealer.Seal(der, id), CreatedAt: now}
	return k, ks.CreateSigningKey(ctx, k)
}

// Reload re-reads the keys and swaps them in: retired keys drop out of
// JWKS and stop verifying, a rotated key starts signing.
func (k *KeySet) Reload(ctx context.Context, now time.Time) error {
	keys, err := k.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	if len(keys) == 0 {
		return errors.New("signing keys: none stored")
	}
	st := &keyState{public: map[string]ed25519.PublicKey{}}
	for i, info := range KeyStatuses(keys, now, k.ttl) {
		if info.Status == KeyRetired {
			continue
		}
		priv, err := openKey(k.sealer, keys[i])
		if err != nil {
			return err
		}
		if i == 0 {
			st.signID, st.signKey = info.ID, priv
		}
		st.public[info.ID] = priv.Public().(ed25519.PublicKey)
		st.order = append(st.order, info.ID)
	}
	k.state.Store(st)
	return nil
}

func openKey(sealer *keyseal.Sealer, k domain.SigningKey) (ed25519.PrivateKey, error) {
	der := k.PrivateKey
	if keyseal.Sealed(der) {
		var err error
		if der, err = sealer.Open(der, k.ID); err != nil {
			return nil, apperr.Errorf(apperr.Invalid, "the key file %s does not open this database's signing keys: start with the key file that was created with this database (restore both from the same backup)", sealer.Path())
		}
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	priv, ok := p.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not Ed25519", k.ID)
	}
	return priv, nil
}

// ListKeys returns every stored key with its status. Errors: storage.
func ListKeys(ctx context.Context, ks KeyStore, now time.Time, ttl time.Duration) ([]KeyInfo, error) {
	keys, err := ks.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	return KeyStatuses(keys, now, ttl), nil
}

// RotateKey makes a new signing key (sealed with sealer) and records
// signing_key.rotate in the audit log, in one transaction. The previous
// key becomes verify-only. Running servers pick it up within KeyReload.
// Errors: Invalid when sealer does not open the stored keys (so a wrong
// key file never adds a key); storage.
func RotateKey(ctx context.Context, ks KeyStore, sealer *keyseal.Sealer, now time.Time) (KeyInfo, error) {
	var k domain.SigningKey
	err := ks.WriteTx(ctx, func(ctx context.Context) error {
		keys, err := ks.SigningKeys(ctx)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if _, err := openKey(sealer, keys[0]); err != nil {
				return err
			}
		}
		if k, err = newKey(ctx, ks, sealer, now); err != nil {
			return err
		}
		prev := ""
		if len(keys) > 0 {
			prev = keys[0].ID
		}
		_, err = ks.AppendAudit(ctx, audit.New(ctx, now, audit.ActionKeyRotate, audit.TargetSigningKey, k.ID, map[string]any{"previous_kid": prev}))
		return err
	})
	if err != nil {
		return KeyInfo{}, err
	}
	return KeyInfo{ID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt, Status: KeySigning}, nil
}

// signing returns the key that signs new tokens.
func (k *KeySet) signing() (string, ed25519.PrivateKey) {
	st := k.state.Load()
	return st.signID, st.signKey
}

// verifier returns the public key of kid if it still verifies.
func (k *KeySet) verifier(kid string) (ed25519.PublicKey, bool) {
	pub, ok := k.state.Load().public[kid]
	return pub, ok
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

// JWKS returns the public keys that verify (signing and verify-only) as a
// JWK Set ({"keys": [...]}, RFC 7517 §5).
func (k *KeySet) JWKS() map[string][]JWK {
	st := k.state.Load()
	out := make([]JWK, 0, len(st.order))
	for _, id := range st.order {
		out = append(out, JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(st.public[id]),
			Kid: id, Alg: "EdDSA", Use: "sig"})
	}
	return map[string][]JWK{"keys": out}
}
