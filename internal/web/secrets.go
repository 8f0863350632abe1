package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// Secrets is the client secrets slice (implemented by
// *admin.SecretService).
type Secrets interface {
	IssueSecret(ctx context.Context, clientID, slot string, replace bool) (admin.IssuedSecret, error)
	RetireSecret(ctx context.Context, clientID, slot string) (domain.Secret, error)
	SecretUse(ctx context.Context, app domain.App) (map[string]string, error)
	SecretUseOf(ctx context.Context, app domain.App, authorizationIDs []string) (map[string]string, error)
}

// slotSecret returns the app's active secret in the route's slot.
func slotSecret(c echo.Context, app domain.App) (string, error) {
	slot, err := slotParam(c)
	if err != nil {
		return "", err
	}
	for _, sec := range app.Secrets {
		if sec.Slot == slot {
			return slot, nil
		}
	}
	return "", apperr.Errorf(apperr.NotFound, "%s has no %s client secret.", app.Name, slot)
}

func slotParam(c echo.Context) (string, error) {
	slot := c.Param("slot")
	if slot != domain.SlotPrimary && slot != domain.SlotAlternative {
		return "", apperr.Errorf(apperr.NotFound, "There is no %q secret slot; use primary or alternative.", slot)
	}
	return slot, nil
}

// secretImpact returns the route's active app and secret slot, and how many
// active authorizations last refreshed with that secret.
func (s *Server) secretImpact(c echo.Context) (domain.App, string, int64, error) {
	app, err := s.appFor(c)
	if err != nil {
		return app, "", 0, err
	}
	slot, err := slotSecret(c, app)
	if err != nil {
		return app, "", 0, err
	}
	use, err := s.cfg.Secrets.SecretUse(c.Request().Context(), app)
	if err != nil {
		return app, "", 0, err
	}
	var n int64
	for _, sl := range use {
		if sl == slot {
			n++
		}
	}
	return app, slot, n, nil
}

// secretRegenerateConfirm explains what regenerating does before it is done.
func (s *Server) secretRegenerateConfirm(c echo.Context) error {
	app, slot, n, err := s.secretImpact(c)
	if err != nil {
		return err
	}
	return s.confirm(c, views.ConfirmPage{
		Title:   "Regenerate the " + slot + " secret of " + app.Name + "?",
		Message: "A new secret is shown once. The current " + slot + " secret stops working now, and every access and refresh token minted with it stops working on its next request. For zero downtime, add an alternative secret instead and retire this one once the app uses the new one.",
		Impact:  []string{plural(n, "active authorization last refreshed", "active authorizations last refreshed") + " with this secret and will have to authorize again."},
		Action:  c.Request().URL.Path, Button: "Regenerate secret", Danger: true, Cancel: appBase(c, app.ClientID),
	})
}

// secretRegenerate is POST …/secrets/:slot/regenerate.
func (s *Server) secretRegenerate(c echo.Context) error {
	slot, err := slotParam(c)
	if err != nil {
		return err
	}
	sec, err := s.cfg.Secrets.IssueSecret(c.Request().Context(), c.Param("client_id"), slot, true)
	if err != nil {
		return err
	}
	s.revealSecret(c, sec.ClientID, slot, sec.Secret)
	return c.Redirect(http.StatusSeeOther, appBase(c, sec.ClientID))
}

// secretAlternativeConfirm is GET …/secrets/alternative: what a second
// secret means (two valid secrets until one is retired; shown once)
// before it is issued.
func (s *Server) secretAlternativeConfirm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	base := appBase(c, app.ClientID)
	back := base + "?tab=secrets"
	for _, sec := range app.Secrets {
		if sec.Slot == domain.SlotAlternative {
			return s.flashTo(c, back, app.Name+" already has an alternative secret: retire one of its two secrets before adding another.")
		}
	}
	p := views.ConfirmPage{Title: "Add an alternative secret to " + app.Name + "?",
		Message: "A second client secret is issued and shown once: copy it then. The app will have two valid secrets until you retire one; the primary secret keeps working, so nothing stops.",
		Impact: []string{"Deploy the new secret to the app, watch its first use appear beside it, then retire the primary: the alternative becomes primary.",
			"Until then anyone holding either secret can get tokens for " + app.Name + "."},
		Action: base + "/secrets/alternative", Button: "Add alternative secret", Cancel: back}
	if ownerPage(c) {
		p.Active = "myapps"
	}
	return s.confirm(c, p)
}

// secretAddAlternative is POST …/secrets/alternative (after its
// confirmation): the first step of a staged rotation.
func (s *Server) secretAddAlternative(c echo.Context) error {
	sec, err := s.cfg.Secrets.IssueSecret(c.Request().Context(), c.Param("client_id"), domain.SlotAlternative, false)
	if err != nil {
		return err
	}
	s.revealSecret(c, sec.ClientID, domain.SlotAlternative, sec.Secret)
	return c.Redirect(http.StatusSeeOther, appBase(c, sec.ClientID))
}

func (s *Server) secretRetireConfirm(c echo.Context) error {
	app, slot, n, err := s.secretImpact(c)
	if err != nil {
		return err
	}
	msg := "The " + slot + " secret stops working now, with every token minted with it."
	hasAlt := false
	for _, sec := range app.Secrets {
		hasAlt = hasAlt || sec.Slot == domain.SlotAlternative
	}
	if slot == domain.SlotPrimary && hasAlt {
		msg += " The alternative secret becomes the primary."
	}
	if len(app.Secrets) == 1 {
		msg += " It is the app's only secret: the app cannot get tokens until a new one is issued."
	}
	var lines []string
	switch {
	case n > 0:
		lines = append(lines, plural(n, "active authorization still refreshes", "active authorizations still refresh")+" with this secret and will have to authorize again.")
	case len(app.Secrets) == 1:
		lines = append(lines, "No active authorization refreshes with this secret, but the app gets no new tokens until it has a new secret.")
	default:
		lines = append(lines, "No active authorization refreshes with this secret: the other secret keeps the app working.")
	}
	return s.confirm(c, views.ConfirmPage{Title: "Retire the " + slot + " secret of " + app.Name + "?", Message: msg,
		Impact: lines, Action: c.Request().URL.Path, Button: "Retire secret", Danger: true, Cancel: appBase(c, app.ClientID)})
}

func (s *Server) secretRetire(c echo.Context) error {
	slot, err := slotParam(c)
	if err != nil {
		return err
	}
	if _, err := s.cfg.Secrets.RetireSecret(c.Request().Context(), c.Param("client_id"), slot); err != nil {
		return err
	}
	return s.flashTo(c, appBase(c, c.Param("client_id")), "The "+slot+" secret was retired.")
}
