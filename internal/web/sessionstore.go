package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/alexedwards/scs/v2"
)

// hashedSessions is an scs store that keeps sessions under the SHA-256 of
// their token: a copy of the sessions table holds no token a browser could
// present. It wraps whatever store the server was given.
type hashedSessions struct{ inner scs.Store }

var _ scs.CtxStore = hashedSessions{}

// HashSessionTokens wraps s so that it only ever sees hex SHA-256 digests
// of session tokens.
func HashSessionTokens(s scs.Store) scs.Store { return hashedSessions{inner: s} }

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (h hashedSessions) Find(token string) ([]byte, bool, error) {
	return h.FindCtx(context.Background(), token)
}

func (h hashedSessions) Commit(token string, b []byte, expiry time.Time) error {
	return h.CommitCtx(context.Background(), token, b, expiry)
}

func (h hashedSessions) Delete(token string) error { return h.DeleteCtx(context.Background(), token) }

// FindCtx implements scs.CtxStore.
func (h hashedSessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if c, ok := h.inner.(scs.CtxStore); ok {
		return c.FindCtx(ctx, sessionKey(token))
	}
	return h.inner.Find(sessionKey(token))
}

// CommitCtx implements scs.CtxStore.
func (h hashedSessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if c, ok := h.inner.(scs.CtxStore); ok {
		return c.CommitCtx(ctx, sessionKey(token), b, expiry)
	}
	return h.inner.Commit(sessionKey(token), b, expiry)
}

// DeleteCtx implements scs.CtxStore.
func (h hashedSessions) DeleteCtx(ctx context.Context, token string) error {
	if c, ok := h.inner.(scs.CtxStore); ok {
		return c.DeleteCtx(ctx, sessionKey(token))
	}
	return h.inner.Delete(sessionKey(token))
}
