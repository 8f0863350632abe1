package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/pat"
)

// Scopes the REST APIs require.
const (
	ScopeProfile             = "vso.profile"
	ScopeTokens              = "vso.tokens"
	ScopeTokenAdministration = "vso.tokenadministration"
)

// APIRoute is one REST API under /_apis/ and the scope it requires: the
// one place where an API declares its scope (the scope audit and the docs
// rely on it). AdminOnly APIs also need the token's user to be an admin;
// OwnerOrAdmin APIs (under /{client_id}) need an admin or an owner of
// that app — anyone else gets 404.
type APIRoute struct {
	Method       string
	Path         string // under /_apis
	Scope        string
	AdminOnly    bool
	Handler      echo.HandlerFunc `json:"-"`
	OwnerOrAdmin bool
}

// apiRoutes lists every REST API oauthdesk serves.
func (s *Server) apiRoutes() []APIRoute {
	return append([]APIRoute{
		{http.MethodGet, "/profile/profiles/me", ScopeProfile, false, s.profileMe, false},
		{http.MethodPost, "/delegatedauth/registrationsecret/:client_id", ScopeTokens, false, s.apiRegistrationSecret, true},
		{http.MethodPut, "/delegatedauth/registrationsecret/:client_id", ScopeTokens, false, s.apiRegistrationSecret, true},
		{http.MethodGet, "/tokenadmin/authorizations", ScopeTokenAdministration, true, s.apiListAuthorizations, false},
		{http.MethodPost, "/tokenadmin/revocations", ScopeTokenAdministration, true, s.apiRevokeAuthorizations, false},
	}, s.patRoutes()...)
}

// APIRoutes lists the REST APIs and their scopes (without handlers).
func (s *Server) APIRoutes() []APIRoute {
	out := s.apiRoutes()
	for i := range out {
		out[i].Handler = nil
	}
	return out
}

// requireAPI enforces r's scope (403 insufficient_scope) and, for
// admin-only APIs, the admin role (403); the token's user becomes the
// audit actor. Only an allowed call is recorded as a use of the scope.
func (s *Server) requireAPI(r APIRoute) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, _ := c.Get(ctxPrincipal).(oauth.Principal)
			if r.Scope != "" { // "": any valid credential (the PAT validation API)
				if err := s.oauth.Require(p, r.Scope); err != nil {
					return err
				}
			}
			if r.AdminOnly || r.OwnerOrAdmin {
				u, err := s.cfg.Users.User(c.Request().Context(), p.UserID)
				if err != nil {
					return err
				}
				if r.AdminOnly && u.Role != domain.RoleAdmin {
					return apperr.Errorf(apperr.Forbidden, "Only administrators may call this API.")
				}
				if r.OwnerOrAdmin && u.Role != domain.RoleAdmin {
					ok, err := s.cfg.Owners.IsOwner(c.Request().Context(), c.Param("client_id"), u.ID)
					if err != nil {
						return err
					}
					if !ok {
						return apperr.Errorf(apperr.NotFound, "No app you own is registered with client id %q.", c.Param("client_id"))
					}
				}
				req := c.Request()
				c.SetRequest(req.WithContext(audit.WithActor(req.Context(), audit.Actor{Name: u.Username, ID: u.ID, RemoteAddr: clientIP(c)})))
			}
			if r.Scope != "" {
				s.oauth.RecordUse(p, r.Scope)
			}
			return next(c)
		}
	}
}

// apiRegistrationSecret is POST|PUT
// /_apis/delegatedauth/registrationsecret/{client_id}?secretType=primary|alternative
// (PROTOCOL.md): POST creates the secret in an empty slot (409 when taken),
// PUT creates or regenerates it. Needs vso.tokens and an admin or an owner
// of the app (others get 404). Answers
// {"clientId","secretType","secret","expiresAt"} — the secret shown once.
func (s *Server) apiRegistrationSecret(c echo.Context) error {
	slot := c.QueryParam("secretType")
	if slot == "" {
		slot = domain.SlotPrimary
	}
	sec, err := s.cfg.Secrets.IssueSecret(c.Request().Context(), c.Param("client_id"), strings.ToLower(slot), c.Request().Method == http.MethodPut)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, map[string]any{"clientId": sec.ClientID, "secretType": sec.Slot, "secret": sec.Secret,
		"expiresAt": sec.ExpiresAt.Format(time.RFC3339), "regenerated": sec.Replaced})
}

// authorizationJSON is one authorization in the Token Administration API.
type authorizationJSON struct {
	AuthorizationID string   `json:"authorizationId"`
	UserID          string   `json:"userId"`
	Username        string   `json:"username"`
	ClientID        string   `json:"clientId"`
	AppName         string   `json:"appName"`
	Scopes          []string `json:"scopes"`
	RedirectURI     string   `json:"redirectUri"`
	ValidFrom       string   `json:"validFrom"`
	LastUsed        string   `json:"lastUsed,omitempty"`
	IsValid         bool     `json:"isValid"`
	RevokedAt       string   `json:"revokedAt,omitempty"`
	// State is the true state: active, needs_reauthorization or revoked;
	// IsValid is State == active.
	State string `json:"state"`
}

// apiListAuthorizations is GET /_apis/tokenadmin/authorizations?userId=&
// clientId=&scope=&activeOnly=&$top=&continuationToken= (scope
// vso.tokenadministration, admins): {"count","value":[…],"continuationToken"}.
func (s *Server) apiListAuthorizations(c echo.Context) error {
	f := domain.AuthorizationFilter{UserID: c.QueryParam("userId"), ClientID: c.QueryParam("clientId"),
		Scope: c.QueryParam("scope"), After: c.QueryParam("continuationToken")}
	f.ActiveOnly, _ = strconv.ParseBool(c.QueryParam("activeOnly"))
	if v := c.QueryParam("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return apperr.Errorf(apperr.Invalid, "$top must be a number from 1 to 1000")
		}
		f.Limit = n
	}
	list, next, err := s.cfg.Authorizations.Authorizations(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]authorizationJSON, 0, len(list))
	for _, a := range list {
		j := authorizationJSON{AuthorizationID: a.ID, UserID: a.UserID, Username: a.Username, ClientID: a.ClientID,
			AppName: a.AppName, Scopes: a.Scopes, RedirectURI: a.RedirectURI, ValidFrom: a.GrantedAt.Format(time.RFC3339),
			IsValid: a.State == domain.AuthActive, State: a.State}
		if a.LastUsedAt != nil {
			j.LastUsed = a.LastUsedAt.Format(time.RFC3339)
		}
		if a.RevokedAt != nil {
			j.RevokedAt = a.RevokedAt.Format(time.RFC3339)
		}
		out = append(out, j)
	}
	body := map[string]any{"count": len(out), "value": out}
	if next != "" {
		body["continuationToken"] = next
		c.Response().Header().Set("X-MS-ContinuationToken", next)
	}
	return c.JSON(http.StatusOK, body)
}

// revocationRequest is the body of POST /_apis/tokenadmin/revocations: one
// authorization, or every authorization of a user and/or an app.
type revocationRequest struct {
	AuthorizationID string `json:"authorizationId"`
	UserID          string `json:"userId"`
	ClientID        string `json:"clientId"`
}

// apiRevokeAuthorizations is POST /_apis/tokenadmin/revocations (scope
// vso.tokenadministration, admins). The hosted service's body, an array
// [{"authorizationId": "…"}, …] (tokenAdmin.json 7.1
// TokenAdminRevocation; at most 1,000), revokes each personal access
// token or OAuth authorization named and answers 204. The object form
// {"authorizationId"} or {"userId", "clientId"} revokes OAuth
// authorizations and answers {"revoked": n}.
func (s *Server) apiRevokeAuthorizations(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
	if err != nil {
		return apperr.Errorf(apperr.Invalid, "The body could not be read.")
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		return s.apiRevokeList(c, trimmed)
	}
	var req revocationRequest
	if err := json.Unmarshal(body, &req); err != nil && len(bytes.TrimSpace(body)) > 0 {
		return apperr.Errorf(apperr.Invalid, "The body must be JSON: {\"authorizationId\"} or {\"userId\", \"clientId\"}.")
	}
	ctx := c.Request().Context()
	n := 0
	switch {
	case req.AuthorizationID != "":
		ok, err := s.cfg.Authorizations.RevokeAuthorization(ctx, req.AuthorizationID, "")
		if err != nil {
			return err
		}
		if ok {
			n = 1
		}
	default:
		var err error
		if n, err = s.cfg.Authorizations.RevokeAuthorizations(ctx, domain.AuthorizationFilter{UserID: req.UserID, ClientID: req.ClientID}); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, map[string]int{"revoked": n})
}

// apiRevokeList revokes the array form's entries: personal access tokens
// first, the rest as OAuth authorizations; unknown ids are ignored (the
// answer is 204 either way, as the service's).
func (s *Server) apiRevokeList(c echo.Context, body []byte) error {
	var list []revocationRequest
	if err := json.Unmarshal(body, &list); err != nil {
		return apperr.Errorf(apperr.Invalid, "The body must be JSON: [{\"authorizationId\": \"…\"}].")
	}
	if len(list) > 1000 {
		return apperr.Errorf(apperr.Invalid, "At most 1000 revocations per call.")
	}
	ctx := c.Request().Context()
	var ids []string
	for _, r := range list {
		if r.AuthorizationID == "" {
			return apperr.Errorf(apperr.Invalid, "Each entry needs an authorizationId.")
		}
		ids = append(ids, r.AuthorizationID)
	}
	patIDs := map[string]bool{}
	if s.pats != nil {
		for _, id := range ids {
			if _, err := s.cfg.PATAdmin.Get(ctx, id, ""); err == nil {
				patIDs[id] = true
			}
		}
		var list []string
		for id := range patIDs {
			list = append(list, id)
		}
		if len(list) > 0 {
			if _, err := s.cfg.PATAdmin.RevokeIDs(ctx, list, pat.ByAdmin); err != nil {
				return err
			}
		}
	}
	for _, id := range ids {
		if patIDs[id] {
			continue
		}
		if _, err := s.cfg.Authorizations.RevokeAuthorization(ctx, id, ""); err != nil && !apperr.Is(err, apperr.NotFound) && !apperr.Is(err, apperr.Invalid) {
			return err
		}
	}
	return c.NoContent(http.StatusNoContent)
}
