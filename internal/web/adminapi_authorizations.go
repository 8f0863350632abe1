package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// AdminAPIAuthorizations is the authorizations' use cases the admin API
// calls — the ones the app and user pages call (implemented by
// *admin.Service).
type AdminAPIAuthorizations interface {
	Authorizations(ctx context.Context, f domain.AuthorizationFilter) ([]domain.Authorization, string, error)
	RevokeAuthorization(ctx context.Context, id, ownerID string) (bool, error)
}

// apiAuthorization is one user's grant to one app.
type apiAuthorization struct {
	ID          string   `json:"id"`
	UserID      string   `json:"user_id"`
	Username    string   `json:"username"`
	ClientID    string   `json:"client_id"`
	AppName     string   `json:"app_name"`
	Scopes      []string `json:"scopes"`
	RedirectURI string   `json:"redirect_uri"`
	GrantedAt   string   `json:"granted_at"`
	LastUsedAt  *string  `json:"last_used_at"`
	RevokedAt   *string  `json:"revoked_at"`
	// State is active, needs_reauthorization or revoked.
	State string `json:"state"`
}

// apiAuthorizationsList is GET /authorizations?user_id=&client_id=&
// scope=&active=&app=&user=: authorizations in keyset pages (limit, after).
func (s *Server) apiAuthorizationsList(c echo.Context) error {
	limit, after, err := apiPage(c)
	if err != nil {
		return err
	}
	active, err := apiBool(c, "active")
	if err != nil {
		return err
	}
	f := domain.AuthorizationFilter{UserID: c.QueryParam("user_id"), ClientID: c.QueryParam("client_id"),
		Scope: c.QueryParam("scope"), AppQuery: c.QueryParam("app"), UserQuery: c.QueryParam("user"),
		ActiveOnly: active, After: after, Limit: limit, Now: s.now()}
	list, next, err := s.cfg.AdminAPI.Authorizations.Authorizations(c.Request().Context(), f)
	if err != nil {
		return err
	}
	items := make([]apiAuthorization, 0, len(list))
	for _, a := range list {
		items = append(items, apiAuthorization{ID: a.ID, UserID: a.UserID, Username: a.Username, ClientID: a.ClientID,
			AppName: a.AppName, Scopes: nonNil(a.Scopes), RedirectURI: a.RedirectURI, GrantedAt: apiTime(a.GrantedAt),
			LastUsedAt: apiTimePtr(a.LastUsedAt), RevokedAt: apiTimePtr(a.RevokedAt), State: a.State})
	}
	return s.writeList(c, items, next)
}

// apiAuthorizationRevoke is POST /authorizations/{id}/revoke: its access
// and refresh tokens are refused from the next request on. Answers
// {"id", "revoked"} (false: it was already revoked).
func (s *Server) apiAuthorizationRevoke(c echo.Context) error {
	ok, err := s.cfg.AdminAPI.Authorizations.RevokeAuthorization(c.Request().Context(), c.Param("id"), "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "revoked": ok})
}
