// Package keyseal encrypts secrets at rest — the access-token signing keys
// — with AES-256-GCM under a key-encryption key (KEK) kept in a file
// beside, not inside, the database: a copy of the database alone cannot
// sign anything. It is storage-neutral: the SQLite and PostgreSQL stores
// both keep only sealed blobs.
//
// The key file holds 32 random bytes, base64 (standard encoding) on one
// line. A sealed blob is "odk1" ‖ 12-byte nonce ‖ ciphertext+tag; the
// caller's label (the key id) is the additional authenticated data, so a
// blob cannot be moved to another row.
package keyseal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// magic prefixes every sealed blob (version 1).
var magic = []byte("odk1")

// ErrWrongKey is returned by Open when the blob was sealed under another
// key (or altered).
var ErrWrongKey = errors.New("the key-encryption key does not open this value")

// Sealer seals and opens blobs under one KEK.
type Sealer struct {
	aead cipher.AEAD
	path string
}

// New returns a Sealer over a 32-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("key-encryption key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Path returns the key file the Sealer was loaded from ("" for New).
func (s *Sealer) Path() string { return s.path }

// LoadFile reads the KEK from path, creating it (0600, 32 random bytes)
// when it does not exist; created reports that. Errors: Invalid when the
// file is not a key file or is readable or writable by group or others.
func LoadFile(path string) (s *Sealer, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := create(path); err != nil {
			return nil, false, err
		}
		created = true
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, false, apperr.Errorf(apperr.Invalid, "key file %s: %v", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, apperr.Errorf(apperr.Invalid, "key file %s: %v", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, false, apperr.Errorf(apperr.Invalid, "key file %s is accessible by group or others (mode %04o); run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, false, apperr.Errorf(apperr.Invalid, "key file %s does not hold a key (32 bytes, base64)", path)
	}
	s, err = New(key)
	if err != nil {
		return nil, false, err
	}
	s.path = path
	return s, created, nil
}

func create(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return apperr.Errorf(apperr.Invalid, "key file directory %q does not exist", dir)
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return apperr.Errorf(apperr.Invalid, "create key file %s: %v", path, err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	return nil
}

// Sealed reports whether blob is a sealed value (else it is legacy plain
// data).
func Sealed(blob []byte) bool { return bytes.HasPrefix(blob, magic) }

// Seal encrypts plain, binding it to label.
func (s *Sealer) Seal(plain []byte, label string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	out := append(append([]byte{}, magic...), nonce...)
	return s.aead.Seal(out, nonce, plain, []byte(label))
}

// Open decrypts a blob made by Seal with the same label. Errors:
// ErrWrongKey when it was sealed under another key, for another label, or
// altered; an error for a blob that is not sealed.
func (s *Sealer) Open(blob []byte, label string) ([]byte, error) {
	if !Sealed(blob) {
		return nil, errors.New("not a sealed value")
	}
	rest := blob[len(magic):]
	n := s.aead.NonceSize()
	if len(rest) < n+s.aead.Overhead() {
		return nil, ErrWrongKey
	}
	plain, err := s.aead.Open(nil, rest[:n], rest[n:], []byte(label))
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}
