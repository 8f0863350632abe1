package web

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/keyseal"
)

// The client secret shown once. It must survive the redirect to the app
// page whichever replica serves it, and a restart, yet never sit anywhere
// in the clear: the session (stored in the database, shared by replicas)
// holds it sealed with AES-256-GCM under a fresh random key that only the
// browser holds, in a short-lived HttpOnly cookie. Neither the database
// nor the cookie alone reveals the secret. The sealed value expires after
// revealTTL and is removed from the session when shown.

const (
	revealCookie = "oauthdesk_reveal"
	revealTTL    = 10 * time.Minute
)

type revealPayload struct {
	ClientID string    `json:"c"`
	Slot     string    `json:"s"`
	Secret   string    `json:"v"`
	Expires  time.Time `json:"e"`
}

// revealSecret seals secret into the session and hands its key to the
// browser, for one showing on the app page of clientID.
func (s *Server) revealSecret(c echo.Context, clientID, slot, secret string) {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go ≥ 1.24)
	b, _ := json.Marshal(revealPayload{ClientID: clientID, Slot: slot, Secret: secret, Expires: s.now().Add(revealTTL)})
	sealed, err := revealSeal(key, b)
	if err != nil {
		s.log.Error("seal the new client secret", "err", err)
		return
	}
	s.sessions.Put(c.Request().Context(), sessReveal, base64.RawStdEncoding.EncodeToString(sealed))
	c.SetCookie(&http.Cookie{Name: revealCookie, Value: base64.RawURLEncoding.EncodeToString(key), Path: "/",
		MaxAge: int(revealTTL.Seconds()), HttpOnly: true, Secure: secureBase(s.cfg.BaseURL), SameSite: http.SameSiteLaxMode})
}

// takeReveal returns the sealed secret of clientID once ("" when there is
// none, it expired, or the browser lacks the key), removing it from the
// session and the key from the browser.
func (s *Server) takeReveal(c echo.Context, clientID string) (slot, secret string) {
	ctx := c.Request().Context()
	v := s.sessions.GetString(ctx, sessReveal)
	if v == "" {
		return "", ""
	}
	ck, err := c.Cookie(revealCookie)
	if err != nil {
		return "", ""
	}
	key, err1 := base64.RawURLEncoding.DecodeString(ck.Value)
	sealed, err2 := base64.RawStdEncoding.DecodeString(v)
	if err1 != nil || err2 != nil {
		return "", ""
	}
	b, err := revealOpen(key, sealed)
	var p revealPayload
	if err != nil || json.Unmarshal(b, &p) != nil || p.ClientID != clientID {
		return "", ""
	}
	s.sessions.Remove(ctx, sessReveal)
	c.SetCookie(&http.Cookie{Name: revealCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: secureBase(s.cfg.BaseURL), SameSite: http.SameSiteLaxMode})
	if s.now().After(p.Expires) {
		return "", ""
	}
	return p.Slot, p.Secret
}

// revealLabel binds a sealed reveal to its use (keyseal's associated data).
const revealLabel = "oauthdesk reveal"

// revealSeal encrypts b under key (32 bytes; AES-256-GCM through keyseal,
// random nonce). Errors: a key of another length.
func revealSeal(key, b []byte) ([]byte, error) {
	sl, err := keyseal.New(key)
	if err != nil {
		return nil, err
	}
	return sl.Seal(b, revealLabel), nil
}

// revealOpen decrypts what revealSeal sealed. Errors: a wrong key or a
// tampered or truncated value.
func revealOpen(key, sealed []byte) ([]byte, error) {
	sl, err := keyseal.New(key)
	if err != nil {
		return nil, err
	}
	return sl.Open(sealed, revealLabel)
}
