package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// AdminAPISecrets is the client secrets' use cases the admin API calls —
// the ones the app page's secret buttons call (implemented by
// *admin.Service).
type AdminAPISecrets interface {
	IssueSecretIf(ctx context.Context, clientID, slot string, replace bool, check func(current domain.App) error) (admin.IssuedSecret, error)
	RetireSecretIf(ctx context.Context, clientID, slot string, check func(current domain.App) error) (domain.Secret, error)
}

// apiIssuedSecret is a new client secret, shown once.
type apiIssuedSecret struct {
	ClientID     string `json:"client_id"`
	Slot         string `json:"slot"`
	ClientSecret string `json:"client_secret"`
	ExpiresAt    string `json:"expires_at"`
	Regenerated  bool   `json:"regenerated"`
}

// apiSecretPrecondition is the If-Match (when sent) on the app that the
// secret use cases check inside their transaction, on the locked app.
func apiSecretPrecondition(c echo.Context) (func(current domain.App) error, error) {
	match, err := ifMatch(c, false)
	if err != nil || match == nil {
		return nil, err
	}
	return func(cur domain.App) error { return match(toAPIApp(cur)) }, nil
}

// apiSecretCreate is POST /apps/{client_id}/secrets/{slot}: a secret in
// an empty slot — alternative: a second secret beside the primary for a
// staged rotation; 409 when the slot is taken. Answers 201 with the
// secret, shown once.
func (s *Server) apiSecretCreate(c echo.Context) error {
	return s.apiIssueSecret(c, c.Param("slot"), false, http.StatusCreated)
}

// apiSecretRegenerate is POST /apps/{client_id}/secrets/{slot}/regenerate:
// a new secret in the slot; the old one and every token minted with it
// stop working on the next request. Answers 200 with the secret, shown
// once.
func (s *Server) apiSecretRegenerate(c echo.Context) error {
	return s.apiIssueSecret(c, c.Param("slot"), true, http.StatusOK)
}

func (s *Server) apiIssueSecret(c echo.Context, slot string, replace bool, status int) error {
	check, err := apiSecretPrecondition(c)
	if err != nil {
		return err
	}
	sec, err := s.cfg.AdminAPI.Secrets.IssueSecretIf(c.Request().Context(), c.Param("client_id"), slot, replace, check)
	if err != nil {
		return err
	}
	return c.JSON(status, apiIssuedSecret{ClientID: sec.ClientID, Slot: sec.Slot, ClientSecret: sec.Secret,
		ExpiresAt: apiTime(sec.ExpiresAt), Regenerated: sec.Replaced})
}

// apiSecretRetire is DELETE /apps/{client_id}/secrets/{slot}: retires
// the secret (its tokens die on the next request; retiring the primary
// promotes the alternative). Answers the retired secret's metadata.
func (s *Server) apiSecretRetire(c echo.Context) error {
	check, err := apiSecretPrecondition(c)
	if err != nil {
		return err
	}
	sec, err := s.cfg.AdminAPI.Secrets.RetireSecretIf(c.Request().Context(), c.Param("client_id"), c.Param("slot"), check)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPISecret(sec))
}
