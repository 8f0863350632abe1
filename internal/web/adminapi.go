package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
)

// The admin REST API for automation (ADMIN_API.md): apps, secrets,
// authorizations, users, personal access tokens, settings and policies
// under /_apis/oauthdesk/v1/, calling the same use cases as the
// dashboard. This file holds what every resource shares: the route
// table, authentication and role, JSON bodies, keyset pages and ETags.
// Errors become RFC 9457 problems in errorHandler (writeProblem).

// adminAPIBase is the admin REST API's path prefix.
const adminAPIBase = "/_apis/oauthdesk/v1"

// Scopes of the admin REST API (scopes.json): ScopeAdminAPI for every
// call, ScopeAdminAPIRead (which ScopeAdminAPI includes) for GETs.
const (
	ScopeAdminAPI     = "oauthdesk.admin"
	ScopeAdminAPIRead = "oauthdesk.read"
)

// AdminAPI holds the use cases the admin REST API calls, each through
// the small interface its handler file declares; they are the ones the
// dashboard calls (internal/admin, internal/pat). Users is required for
// the API (it bounds every call by the caller's role); a nil Users turns
// the whole API off, another nil field that resource's routes.
type AdminAPI struct {
	Apps           AdminAPIApps
	Secrets        AdminAPISecrets
	Authorizations AdminAPIAuthorizations
	Users          AdminAPIUsers
	Tokens         AdminAPITokens
	Settings       AdminAPISettings
	PATPolicy      AdminAPIPATPolicy
}

// adminRoute is one route of the admin REST API: Path is under
// adminAPIBase in Echo's syntax; Write routes need ScopeAdminAPI and the
// admin role, the others ScopeAdminAPIRead and the admin or auditor role.
type adminRoute struct {
	Method  string
	Path    string
	Write   bool
	Handler echo.HandlerFunc
}

// adminAPIRoutes is the admin REST API's route table (the OpenAPI
// document, adminapi_openapi.json, describes the same routes; a test
// holds them together).
func (s *Server) adminAPIRoutes() []adminRoute {
	a := s.cfg.AdminAPI
	var out []adminRoute
	if a.Apps != nil {
		out = append(out,
			adminRoute{http.MethodGet, "/apps", false, s.apiAppsList},
			adminRoute{http.MethodPost, "/apps", true, s.apiAppCreate},
			adminRoute{http.MethodGet, "/apps/:client_id", false, s.apiAppGet},
			adminRoute{http.MethodPatch, "/apps/:client_id", true, s.apiAppUpdate},
			adminRoute{http.MethodDelete, "/apps/:client_id", true, s.apiAppDelete})
		if a.Secrets != nil {
			out = append(out,
				adminRoute{http.MethodPost, "/apps/:client_id/secrets/:slot", true, s.apiSecretCreate},
				adminRoute{http.MethodPost, "/apps/:client_id/secrets/:slot/regenerate", true, s.apiSecretRegenerate},
				adminRoute{http.MethodDelete, "/apps/:client_id/secrets/:slot", true, s.apiSecretRetire})
		}
	}
	if a.Authorizations != nil {
		out = append(out,
			adminRoute{http.MethodGet, "/authorizations", false, s.apiAuthorizationsList},
			adminRoute{http.MethodPost, "/authorizations/:id/revoke", true, s.apiAuthorizationRevoke})
	}
	out = append(out,
		adminRoute{http.MethodGet, "/users", false, s.apiUsersList},
		adminRoute{http.MethodPost, "/users", true, s.apiUserCreate},
		adminRoute{http.MethodGet, "/users/:id", false, s.apiUserGet},
		adminRoute{http.MethodPatch, "/users/:id", true, s.apiUserUpdate})
	if a.Tokens != nil {
		out = append(out,
			adminRoute{http.MethodGet, "/tokens", false, s.apiTokensList},
			adminRoute{http.MethodPost, "/tokens/:id/revoke", true, s.apiTokenRevoke})
	}
	if a.Settings != nil {
		out = append(out,
			adminRoute{http.MethodGet, "/settings", false, s.apiSettingsGet},
			adminRoute{http.MethodPatch, "/settings", true, s.apiSettingsUpdate})
	}
	return out
}

// routeAdminAPI registers the admin REST API on e: the OpenAPI document
// without credentials, every other route behind the Bearer/PAT
// authentication of every /_apis route (revocation bites on the next
// request) and adminAPIAccess.
func (s *Server) routeAdminAPI(e *echo.Echo) {
	if s.cfg.AdminAPI.Users == nil {
		return
	}
	g := e.Group(adminAPIBase, noStore)
	g.GET("/openapi.json", s.adminAPIDocument)
	for _, r := range s.adminAPIRoutes() {
		g.Add(r.Method, r.Path, r.Handler, s.bearer, s.adminAPIAccess(r.Write))
	}
}

//go:embed adminapi_openapi.json
var adminAPIOpenAPI []byte

// AdminAPIOpenAPI returns the admin REST API's OpenAPI 3.1 document
// (JSON), as served at /_apis/oauthdesk/v1/openapi.json.
func AdminAPIOpenAPI() []byte { return bytes.Clone(adminAPIOpenAPI) }

// adminAPIDocument is GET /_apis/oauthdesk/v1/openapi.json: the OpenAPI
// 3.1 document of this API (public: it is the one in the repository).
func (s *Server) adminAPIDocument(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, adminAPIOpenAPI)
}

// adminAPIAccess checks the caller after authentication: the token must
// grant ScopeAdminAPI (writes) or ScopeAdminAPIRead (reads) — 403
// insufficient_scope otherwise — and the token's user must be an admin
// (writes) or an admin or auditor (reads): the user's role bounds the
// token, so an auditor's oauthdesk.admin token changes nothing (403).
// The token's user becomes the audit actor, marked as via the API.
func (s *Server) adminAPIAccess(write bool) echo.MiddlewareFunc {
	need := ScopeAdminAPIRead
	if write {
		need = ScopeAdminAPI
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, _ := c.Get(ctxPrincipal).(oauth.Principal)
			if err := s.oauth.Require(p, need); err != nil {
				return err
			}
			ctx := c.Request().Context()
			u, err := s.cfg.AdminAPI.Users.User(ctx, p.UserID)
			if err != nil {
				return err
			}
			switch {
			case write && u.Role != domain.RoleAdmin:
				return apperr.Errorf(apperr.Forbidden, "Your role (%s) does not allow changes through the admin API; only administrators make them.", u.Role)
			case u.Role != domain.RoleAdmin && u.Role != domain.RoleAuditor:
				return apperr.Errorf(apperr.Forbidden, "Your role (%s) does not allow the admin API; only administrators and auditors call it.", u.Role)
			}
			c.Set(ctxAPIUser, u)
			c.SetRequest(c.Request().WithContext(audit.WithActor(ctx, audit.Actor{Name: u.Username, ID: u.ID,
				RemoteAddr: clientIP(c), Via: audit.ViaAdminAPI})))
			s.oauth.RecordUse(p, need)
			return next(c)
		}
	}
}

// ctxAPIUser holds the admin API caller (domain.User).
const ctxAPIUser = "admin_api_user"

// apiCaller returns the admin API caller set by adminAPIAccess.
func apiCaller(c echo.Context) domain.User {
	u, _ := c.Get(ctxAPIUser).(domain.User)
	return u
}

// decodeJSON reads the request body as one JSON value into v, refusing
// unknown fields, wrong types and trailing data with a 400 problem whose
// detail says where (and, for a field, a pointer to it). An empty body is
// refused too.
func decodeJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return apperr.Errorf(apperr.Invalid, "The body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.Errorf(apperr.Invalid, "The body is empty; send a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		return apperr.Errorf(apperr.Invalid, "The body has data after its JSON value; send one JSON object.")
	}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syn):
		return apperr.Errorf(apperr.Invalid, "The body is not valid JSON: %s (at byte %d).", syn.Error(), syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		msg := typ.Field + " must be " + jsonKind(typ.Type.Kind().String())
		return &apperr.Error{Code: apperr.Invalid, Message: "The body is not valid: " + msg + ".",
			Fields: map[string]string{strings.ReplaceAll(typ.Field, ".", "/"): msg}}
	case errors.As(err, &typ):
		return apperr.Errorf(apperr.Invalid, "The body must be a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.Errorf(apperr.Invalid, "The body is not valid JSON: it ends early.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &apperr.Error{Code: apperr.Invalid, Message: "The body has an unknown field " + strconv.Quote(name) + ".",
			Fields: map[string]string{name: "unknown field"}}
	}
	return apperr.Errorf(apperr.Invalid, "The body is not valid JSON.")
}

// jsonKind names a Go kind as a JSON type.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "a number"
}

// apiPage reads the keyset page parameters limit (1 to 200, default 50)
// and after (the cursor of a previous page's next link).
func apiPage(c echo.Context) (limit int, after string, err error) {
	limit = 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return 0, "", &apperr.Error{Code: apperr.Invalid, Message: "limit must be a number from 1 to 200",
				Fields: map[string]string{"limit": "must be a number from 1 to 200"}}
		}
		limit = n
	}
	return limit, c.QueryParam("after"), nil
}

// writeList answers one page of items; next is the store's cursor ("":
// last page). The next link is the request's own address with after set
// to the cursor, so it keeps every filter.
func (s *Server) writeList(c echo.Context, items any, next string) error {
	body := map[string]any{"items": items}
	if next != "" {
		q := c.QueryParams()
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("after", next)
		link := strings.TrimSuffix(s.cfg.BaseURL, "/") + c.Request().URL.Path + "?" + v.Encode()
		body["next"] = link
		c.Response().Header().Set("Link", "<"+link+`>; rel="next"`)
	}
	return c.JSON(http.StatusOK, body)
}

// etagOf returns the strong entity tag of a resource's representation v
// (a hash of its JSON) and that JSON.
func etagOf(v any) (string, []byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`, b, nil
}

// writeResource answers v with status and its ETag (RFC 9110 §8.8.3).
func writeResource(c echo.Context, status int, v any) error {
	tag, b, err := etagOf(v)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", tag)
	return c.JSONBlob(status, b)
}

// ifMatch reads the request's If-Match (RFC 9110 §13.1.1) and returns the
// precondition a change's use case runs inside its write transaction, on
// the resource as it is there (locked): match(current) compares the ETag
// of current's representation with the header's tags ("*" or a list;
// weak tags never match). match is nil when there is nothing to compare
// (no header, not required; or "*"). Errors: PreconditionRequired (428)
// when required and absent; match returns PreconditionFailed (412) on a
// mismatch, which aborts the change with nothing written.
func ifMatch(c echo.Context, required bool) (match func(current any) error, err error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" {
		if required {
			return nil, apperr.Errorf(apperr.PreconditionRequired, "This update needs an If-Match header with the ETag of a GET of the resource, so that it cannot overwrite a change you have not seen.")
		}
		return nil, nil
	}
	if h == "*" {
		return nil, nil
	}
	return func(current any) error {
		tag, _, err := etagOf(current)
		if err != nil {
			return err
		}
		for _, t := range strings.Split(h, ",") {
			if strings.TrimSpace(t) == tag {
				return nil
			}
		}
		return apperr.Errorf(apperr.PreconditionFailed, "The resource changed since the ETag in If-Match (it is now %s); GET it again and repeat the change if it still applies.", tag)
	}, nil
}

// apiTime formats t for the API: RFC 3339 in UTC, whole seconds.
func apiTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// apiTimePtr is apiTime of *t, nil for nil.
func apiTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := apiTime(*t)
	return &s
}

// apiBool reads a boolean query parameter ("", true/false, 1/0).
func apiBool(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &apperr.Error{Code: apperr.Invalid, Message: name + " must be true or false",
			Fields: map[string]string{name: "must be true or false"}}
	}
	return b, nil
}
