package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// AdminAPITokens is the personal access tokens' use cases the admin API
// calls — the ones /admin/tokens calls (implemented by *pat.TokenService).
type AdminAPITokens interface {
	List(ctx context.Context, f domain.PATFilter) (domain.PATPage, error)
	Revoke(ctx context.Context, id, ownerID string) (bool, error)
}

// apiToken is a personal access token's metadata (never the token).
type apiToken struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	UserID       string   `json:"user_id"`
	Username     string   `json:"username"`
	Scopes       []string `json:"scopes"`
	FullAccess   bool     `json:"full_access"`
	CreatedAt    string   `json:"created_at"`
	ExpiresAt    string   `json:"expires_at"`
	RevokedAt    *string  `json:"revoked_at"`
	RevokedBy    string   `json:"revoked_by,omitempty"`
	LastUsedAt   *string  `json:"last_used_at"`
	LastUsedAddr string   `json:"last_used_addr,omitempty"`
	// State is active, expired or revoked.
	State string `json:"state"`
}

// apiTokensList is GET /tokens?user_id=&q=&scope=&state=&expiring_days=&
// full=&unused=: /admin/tokens' filters, in keyset pages (limit, after).
func (s *Server) apiTokensList(c echo.Context) error {
	limit, after, err := apiPage(c)
	if err != nil {
		return err
	}
	f := domain.PATFilter{UserID: c.QueryParam("user_id"), Query: c.QueryParam("q"), Scope: c.QueryParam("scope"),
		State: c.QueryParam("state"), After: after, Limit: limit}
	switch f.State {
	case "", domain.PATActive, domain.PATExpired, domain.PATRevoked:
	default:
		return &apperr.Error{Code: apperr.Invalid, Message: "state must be active, expired or revoked",
			Fields: map[string]string{"state": "must be active, expired or revoked"}}
	}
	if v := c.QueryParam("expiring_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return &apperr.Error{Code: apperr.Invalid, Message: "expiring_days must be a number of days from 1 to 3650",
				Fields: map[string]string{"expiring_days": "must be a number from 1 to 3650"}}
		}
		f.ExpiringDays, f.Sort = n, "expires"
	}
	if f.FullAccess, err = apiBool(c, "full"); err != nil {
		return err
	}
	unused, err := apiBool(c, "unused")
	if err != nil {
		return err
	}
	if unused {
		f.UnusedDays = 90
	}
	page, err := s.cfg.AdminAPI.Tokens.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	now := s.now()
	items := make([]apiToken, 0, len(page.Tokens))
	for _, t := range page.Tokens {
		items = append(items, apiToken{ID: t.ID, Name: t.Name, UserID: t.UserID, Username: t.Username, Scopes: nonNil(t.Scopes),
			FullAccess: t.FullAccess(), CreatedAt: apiTime(t.CreatedAt), ExpiresAt: apiTime(t.ExpiresAt),
			RevokedAt: apiTimePtr(t.RevokedAt), RevokedBy: t.RevokedBy, LastUsedAt: apiTimePtr(t.LastUsedAt),
			LastUsedAddr: t.LastUsedAddr, State: t.State(now)})
	}
	return s.writeList(c, items, page.Next)
}

// apiTokenRevoke is POST /tokens/{id}/revoke: the token is refused from
// its next request on; its owner sees it revoked by an administrator.
// Answers {"id", "revoked"} (false: it was no longer live).
func (s *Server) apiTokenRevoke(c echo.Context) error {
	ok, err := s.cfg.AdminAPI.Tokens.Revoke(c.Request().Context(), c.Param("id"), "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "revoked": ok})
}
