package oauth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/keyseal"
)

// checkpointType is the JWS "typ" of a signed audit checkpoint (RFC 8725
// §3.11: explicit typing, so that no access token passes for one).
const checkpointType = "audit-checkpoint+jwt"

type checkpointClaims struct {
	Seq  int64  `json:"seq"`
	Head string `json:"head"`
	jwt.RegisteredClaims
}

// SignCheckpoint signs cp with the Ed25519 key that signs access tokens,
// as a compact JWS (typ audit-checkpoint+jwt, claims seq, head, iat and
// iss = issuer). cp.At is kept to the second.
func (k *KeySet) SignCheckpoint(cp audit.Checkpoint, issuer string) (audit.CheckpointFile, error) {
	kid, priv := k.signing()
	cp.At = cp.At.UTC().Truncate(time.Second)
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, checkpointClaims{Seq: cp.Seq, Head: cp.Head,
		RegisteredClaims: jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(cp.At), Issuer: issuer}})
	t.Header["kid"] = kid
	t.Header["typ"] = checkpointType
	s, err := t.SignedString(priv)
	if err != nil {
		return audit.CheckpointFile{}, err
	}
	return audit.CheckpointFile{Checkpoint: cp, KeyID: kid, Alg: domain.AlgEdDSA, JWS: s}, nil
}

// VerifyCheckpoint checks the signature of a checkpoint file against the
// stored Ed25519 key its JWS names — whatever that key's status now: a
// checkpoint outlives key rotation — opened with sealer (a key the key
// file does not open verifies nothing), and returns the signed
// checkpoint. Errors: Invalid when the signature does not verify, the key
// is unknown, or the file's fields differ from the signed ones.
func VerifyCheckpoint(ctx context.Context, ks KeyStore, sealer *keyseal.Sealer, f audit.CheckpointFile) (audit.Checkpoint, error) {
	keys, err := ks.SigningKeys(ctx)
	if err != nil {
		return audit.Checkpoint{}, err
	}
	var claims checkpointClaims
	_, err = jwt.ParseWithClaims(f.JWS, &claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != checkpointType {
			return nil, errors.New("not an audit checkpoint (typ)")
		}
		kid, _ := t.Header["kid"].(string)
		for _, k := range keys {
			if k.ID == kid && k.Alg == domain.AlgEdDSA {
				priv, err := openKey(sealer, k)
				if err != nil {
					return nil, err
				}
				return priv.Public().(ed25519.PublicKey), nil
			}
		}
		return nil, errors.New("signed by an unknown key " + kid)
	}, jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}))
	if err != nil {
		return audit.Checkpoint{}, apperr.Errorf(apperr.Invalid, "the checkpoint's signature does not verify: %v", err)
	}
	cp := audit.Checkpoint{Seq: claims.Seq, Head: claims.Head}
	if claims.IssuedAt != nil {
		cp.At = claims.IssuedAt.UTC()
	}
	if f.Seq != cp.Seq || f.Head != cp.Head || !f.At.Equal(cp.At) {
		return cp, apperr.Errorf(apperr.Invalid, "the checkpoint's fields differ from what it signed (seq %d, head %s)", cp.Seq, cp.Head)
	}
	return cp, nil
}
