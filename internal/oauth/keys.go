package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/keyseal"
)

// KeyAlgs are the JWS algorithms the server keeps a signing key for:
// EdDSA (Ed25519) signs access tokens (both dialects) and, on request,
// ID tokens; RS256 (RSA 2048, OIDC Core §15.1's mandatory algorithm) and
// ES256 (P-256) sign ID tokens.
var KeyAlgs = []string{domain.AlgEdDSA, domain.AlgRS256, domain.AlgES256}

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

// KeyStatuses returns the status of each key (newest first, as stored).
// Each algorithm has its own line of keys: the newest key of an
// algorithm signs; a replaced key verifies until ttl+RetireGrace after
// its successor of the same algorithm was created, then is retired.
func KeyStatuses(keys []domain.SigningKey, now time.Time, ttl time.Duration) []KeyInfo {
	out := make([]KeyInfo, len(keys))
	newer := map[string]time.Time{} // alg → creation of the next newer key
	for i, k := range keys {
		info := KeyInfo{ID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt, Status: KeySigning}
		if succ, ok := newer[k.Alg]; ok {
			info.RetiresAt = succ.Add(ttl + RetireGrace)
			info.Status = KeyVerifyOnly
			if !now.Before(info.RetiresAt) {
				info.Status, info.RetiresAt = KeyRetired, time.Time{}
			}
		}
		newer[k.Alg] = k.CreatedAt
		out[i] = info
	}
	return out
}

// KeySet holds the signing keys in memory: per algorithm the newest
// signs, the verify-only ones verify. The Bearer check never reads the
// database for keys; Reload swaps in a fresh set atomically.
type KeySet struct {
	store  KeyStore
	sealer *keyseal.Sealer
	ttl    time.Duration
	state  atomic.Pointer[keyState]
}

type keyState struct {
	sign   map[string]signingKey // alg → the key that signs
	public map[string]publicKey  // kid → key
	order  []string
	access accessKey // the EdDSA signing key with its JOSE headers, encoded once
}

type signingKey struct {
	kid    string
	signer crypto.Signer
}

type publicKey struct {
	alg string
	key crypto.PublicKey
}

// LoadKeys loads the signing keys and opens them with sealer, generating
// (in one write transaction) a key for every algorithm of KeyAlgs the
// database has none of, and sealing any legacy plain key in place. ttl is
// the access-token lifetime (retirement). Errors: Invalid when sealer
// does not open the stored keys (a wrong key file: no key is generated
// then); storage errors.
func LoadKeys(ctx context.Context, ks KeyStore, sealer *keyseal.Sealer, now time.Time, ttl time.Duration) (*KeySet, error) {
	err := ks.WriteTx(ctx, func(ctx context.Context) error {
		keys, err := ks.SigningKeys(ctx)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, k := range keys {
			have[k.Alg] = true
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
		if len(keys) > 0 {
			// Never add keys beside ones this key file cannot open.
			if _, err := openKey(sealer, keys[0]); err != nil {
				return err
			}
		}
		for _, alg := range KeyAlgs {
			if !have[alg] {
				if _, err := newKey(ctx, ks, sealer, now, alg); err != nil {
					return err
				}
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

// generate makes a private key for alg: Ed25519, RSA 2048 or P-256.
func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case domain.AlgEdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case domain.AlgRS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	case domain.AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, apperr.Errorf(apperr.Invalid, "unknown key algorithm %q: use EdDSA, RS256 or ES256", alg)
}

func newKey(ctx context.Context, ks KeyStore, sealer *keyseal.Sealer, now time.Time, alg string) (domain.SigningKey, error) {
	priv, err := generate(alg)
	if err != nil {
		return domain.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return domain.SigningKey{}, err
	}
	id := uuid.NewString()
	k := domain.SigningKey{ID: id, Alg: alg, PrivateKey: sealer.Seal(der, id), CreatedAt: now}
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
	st := &keyState{sign: map[string]signingKey{}, public: map[string]publicKey{}}
	for i, info := range KeyStatuses(keys, now, k.ttl) {
		if info.Status == KeyRetired {
			continue
		}
		priv, err := openKey(k.sealer, keys[i])
		if err != nil {
			return err
		}
		if info.Status == KeySigning {
			st.sign[info.Alg] = signingKey{kid: info.ID, signer: priv}
		}
		st.public[info.ID] = publicKey{alg: info.Alg, key: priv.Public()}
		st.order = append(st.order, info.ID)
	}
	ed, ok := st.sign[domain.AlgEdDSA]
	if !ok {
		return errors.New("signing keys: no Ed25519 key stored")
	}
	st.access = newAccessKey(ed.kid, ed.signer.(ed25519.PrivateKey))
	k.state.Store(st)
	return nil
}

func openKey(sealer *keyseal.Sealer, k domain.SigningKey) (crypto.Signer, error) {
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
	var ok bool
	switch k.Alg {
	case domain.AlgEdDSA:
		_, ok = p.(ed25519.PrivateKey)
	case domain.AlgRS256:
		_, ok = p.(*rsa.PrivateKey)
	case domain.AlgES256:
		_, ok = p.(*ecdsa.PrivateKey)
	}
	if !ok {
		return nil, fmt.Errorf("signing key %s: not a %s key", k.ID, k.Alg)
	}
	return p.(crypto.Signer), nil
}

// ListKeys returns every stored key with its status. Errors: storage.
func ListKeys(ctx context.Context, ks KeyStore, now time.Time, ttl time.Duration) ([]KeyInfo, error) {
	keys, err := ks.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	return KeyStatuses(keys, now, ttl), nil
}

// RotateKey makes a new signing key for alg (one of KeyAlgs; "" is every
// algorithm), sealed with sealer, and records signing_key.rotate in the
// audit log for each, in one transaction. The previous key of each
// algorithm becomes verify-only. Running servers pick them up within
// KeyReload. Returns the new keys. Errors: Invalid when sealer does not
// open the stored keys (so a wrong key file never adds a key) or for an
// unknown alg; storage.
func RotateKey(ctx context.Context, ks KeyStore, sealer *keyseal.Sealer, now time.Time, alg string) ([]KeyInfo, error) {
	algs := KeyAlgs
	if alg != "" {
		if !slices.Contains(KeyAlgs, alg) {
			return nil, apperr.Errorf(apperr.Invalid, "unknown key algorithm %q: use EdDSA, RS256 or ES256", alg)
		}
		algs = []string{alg}
	}
	var out []KeyInfo
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
		for _, a := range algs {
			k, err := newKey(ctx, ks, sealer, now, a)
			if err != nil {
				return err
			}
			prev := ""
			for _, old := range keys {
				if old.Alg == a {
					prev = old.ID
					break
				}
			}
			if _, err = ks.AppendAudit(ctx, audit.New(ctx, now, audit.ActionKeyRotate, audit.TargetSigningKey, k.ID,
				map[string]any{"previous_kid": prev, "alg": a})); err != nil {
				return err
			}
			out = append(out, KeyInfo{ID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt, Status: KeySigning})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// signing returns the Ed25519 key that signs new access tokens.
func (k *KeySet) signing() (string, ed25519.PrivateKey) {
	a := k.state.Load().access
	return a.kid, a.key
}

// accessSigning returns the Ed25519 key that signs new access tokens with
// its encoded JOSE headers.
func (k *KeySet) accessSigning() *accessKey { return &k.state.Load().access }

// signer returns the key that signs with alg and its JWS method.
func (k *KeySet) signer(alg string) (string, crypto.Signer, jwt.SigningMethod, bool) {
	sk, ok := k.state.Load().sign[alg]
	if !ok {
		return "", nil, nil, false
	}
	return sk.kid, sk.signer, jwt.GetSigningMethod(alg), true
}

// verifier returns the Ed25519 public key of kid if it still verifies
// (access tokens are EdDSA only).
func (k *KeySet) verifier(kid string) (ed25519.PublicKey, bool) {
	pk, ok := k.state.Load().public[kid]
	if !ok || pk.alg != domain.AlgEdDSA {
		return nil, false
	}
	return pk.key.(ed25519.PublicKey), true
}

// publicKey returns the public key of kid and its algorithm, if it still
// verifies (any algorithm).
func (k *KeySet) publicKey(kid string) (crypto.PublicKey, string, bool) {
	pk, ok := k.state.Load().public[kid]
	return pk.key, pk.alg, ok
}

// JWKS returns the public keys that verify (signing and verify-only) as a
// JWK Set (RFC 7517 §5), each with kid, alg and use "sig".
func (k *KeySet) JWKS() jose.JSONWebKeySet {
	st := k.state.Load()
	out := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(st.order))}
	for _, id := range st.order {
		pk := st.public[id]
		out.Keys = append(out.Keys, jose.JSONWebKey{Key: pk.key, KeyID: id, Algorithm: pk.alg, Use: "sig"})
	}
	return out
}

// Algs returns the algorithms that currently have a signing key.
func (k *KeySet) Algs() []string {
	st := k.state.Load()
	var out []string
	for _, a := range KeyAlgs {
		if _, ok := st.sign[a]; ok {
			out = append(out, a)
		}
	}
	return out
}
