package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/pat"
)

// Scopes of the personal access token APIs.
const (
	ScopePATs       = "vso.pats"
	ScopePATsManage = "vso.pats_manage"
)

// PATRules is the Token Admin API's revocation rules (implemented by
// *pat.RuleService).
type PATRules interface {
	AddRule(ctx context.Context, scopes []string, createdBefore time.Time) (domain.RevocationRule, error)
}

// LeakedPATs is the leaked-token endpoint's use case: the secret
// scanner's token checked, the reported tokens revoked (implemented by
// *pat.LeakService).
type LeakedPATs interface {
	AuthenticateScanner(ctx context.Context, token string) (domain.ScannerToken, error)
	Leaked(ctx context.Context, scanner domain.ScannerToken, tokens []string) error
}

// patRoutes are the personal access token APIs (Lifecycle API, Token
// Admin API); none when the slice is not wired.
func (s *Server) patRoutes() []APIRoute {
	if s.pats == nil {
		return nil
	}
	return []APIRoute{
		{http.MethodGet, "/tokens/pats", ScopePATs, false, s.apiPATsGet, false},
		{http.MethodPost, "/tokens/pats", ScopePATsManage, false, s.apiPATsCreate, false},
		{http.MethodPut, "/tokens/pats", ScopePATsManage, false, s.apiPATsUpdate, false},
		{http.MethodDelete, "/tokens/pats", ScopePATsManage, false, s.apiPATsRevoke, false},
		{http.MethodGet, "/tokens/pats/validate", "", false, s.apiPATValidate, false},
		{http.MethodGet, "/tokenadmin/personalaccesstokens/:subjectDescriptor", ScopeTokenAdministration, true, s.apiTokenAdminPATs, false},
		{http.MethodPost, "/tokenadmin/revocationrules", ScopeTokenAdministration, true, s.apiRevocationRules, false},
	}
}

// patTokenJSON is tokens.json 7.1 PatToken. Token is set only in the
// answer that creates it.
type patTokenJSON struct {
	AuthorizationID string   `json:"authorizationId"`
	DisplayName     string   `json:"displayName"`
	Scope           string   `json:"scope"`
	TargetAccounts  []string `json:"targetAccounts"`
	ValidFrom       string   `json:"validFrom"`
	ValidTo         string   `json:"validTo"`
	Token           *string  `json:"token"`
}

func patJSON(p domain.PAT) patTokenJSON {
	return patTokenJSON{AuthorizationID: p.ID, DisplayName: p.Name, Scope: strings.Join(p.Scopes, " "), TargetAccounts: nil,
		ValidFrom: p.CreatedAt.Format(time.RFC3339), ValidTo: p.ExpiresAt.Format(time.RFC3339)}
}

// patResult writes tokens.json 7.1 PatTokenResult: {"patToken",
// "patTokenError"}; a refusal is 400 (or the error's status) with
// patToken null and the SessionTokenError name.
func patResult(c echo.Context, p *patTokenJSON, err error) error {
	if err != nil {
		name := pat.ErrorName(err)
		if name == "" {
			return err
		}
		status := http.StatusBadRequest
		switch apperr.ErrorCode(err) {
		case apperr.NotFound:
			status = http.StatusNotFound
		case apperr.Forbidden:
			status = http.StatusForbidden
		case apperr.Conflict:
			status = http.StatusConflict
		}
		return c.JSON(status, map[string]any{"patToken": nil, "patTokenError": name, "message": apperr.ErrorMessage(err)})
	}
	return c.JSON(http.StatusOK, map[string]any{"patToken": p, "patTokenError": "none"})
}

// patCaller is the user behind the Lifecycle API's caller: an OAuth access
// token's user. A personal access token may not manage tokens (the hosted
// service's rule): 403.
func (s *Server) patCaller(c echo.Context) (domain.User, error) {
	p, _ := c.Get(ctxPrincipal).(oauth.Principal)
	if p.PATID != "" {
		return domain.User{}, apperr.Errorf(apperr.Forbidden, "The personal access token APIs take an OAuth access token (vso.pats, vso.pats_manage), never a personal access token.")
	}
	return s.cfg.Users.User(c.Request().Context(), p.UserID)
}

// apiPATsGet is GET /_apis/tokens/pats (scope vso.pats): with
// ?authorizationId= one token as PatTokenResult; else PagedPatTokens
// {"continuationToken","patTokens"} filtered by displayFilterOption
// (active|revoked|expired|all, default active), sorted by sortByOption
// (displayName|displayDate|status) and isSortAscending, paged with $top
// (1-1000, default 100) and continuationToken.
func (s *Server) apiPATsGet(c echo.Context) error {
	u, err := s.patCaller(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if id := c.QueryParam("authorizationId"); id != "" {
		t, err := s.pats.Get(ctx, id, u.ID)
		if err != nil {
			return patResult(c, nil, err)
		}
		j := patJSON(t)
		return patResult(c, &j, nil)
	}
	f := domain.PATFilter{UserID: u.ID, After: c.QueryParam("continuationToken"), Limit: 100}
	switch v := strings.ToLower(c.QueryParam("displayFilterOption")); v {
	case "", "active":
		f.State = domain.PATActive
	case "revoked", "expired":
		f.State = v
	case "all":
	default:
		return apperr.Errorf(apperr.Invalid, "displayFilterOption must be active, revoked, expired or all")
	}
	switch v := strings.ToLower(c.QueryParam("sortByOption")); v {
	case "", "displaydate":
		f.Sort = "created"
	case "displayname":
		f.Sort = "name"
	case "status":
		f.Sort = "expires"
	default:
		return apperr.Errorf(apperr.Invalid, "sortByOption must be displayName, displayDate or status")
	}
	if v := c.QueryParam("isSortAscending"); v != "" {
		asc, err := strconv.ParseBool(v)
		if err != nil {
			return apperr.Errorf(apperr.Invalid, "isSortAscending must be true or false")
		}
		// The default directions: names ascending, dates descending.
		f.Asc = asc != (f.Sort == "name")
	}
	if v := c.QueryParam("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return apperr.Errorf(apperr.Invalid, "$top must be a number from 1 to 1000")
		}
		f.Limit = n
	}
	page, err := s.pats.List(ctx, f)
	if err != nil {
		return err
	}
	out := make([]patTokenJSON, 0, len(page.Tokens))
	for _, t := range page.Tokens {
		out = append(out, patJSON(t))
	}
	if page.Next != "" {
		c.Response().Header().Set("X-MS-ContinuationToken", page.Next)
	}
	return c.JSON(http.StatusOK, map[string]any{"continuationToken": page.Next, "patTokens": out})
}

// patRequestJSON is PatTokenCreateRequest / PatTokenUpdateRequest.
type patRequestJSON struct {
	AuthorizationID string `json:"authorizationId"`
	DisplayName     string `json:"displayName"`
	Scope           string `json:"scope"`
	ValidTo         string `json:"validTo"`
	AllOrgs         bool   `json:"allOrgs"` // accepted and ignored: one organization
}

func readPATRequest(c echo.Context) (patRequestJSON, pat.Request, error) {
	var j patRequestJSON
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, 64<<10))
	if err := dec.Decode(&j); err != nil {
		return j, pat.Request{}, apperr.Errorf(apperr.Invalid, "The body must be JSON: {\"displayName\", \"scope\", \"validTo\"}.")
	}
	req := pat.Request{Name: j.DisplayName}
	if j.Scope != "" {
		req.Scopes = strings.Fields(j.Scope)
	}
	if j.ValidTo != "" {
		t, err := time.Parse(time.RFC3339, j.ValidTo)
		if err != nil {
			return j, req, apperr.Errorf(apperr.Invalid, "validTo must be an RFC 3339 date-time such as 2027-03-31T00:00:00Z")
		}
		req.ExpiresAt = t
	}
	return j, req, nil
}

// apiPATsCreate is POST /_apis/tokens/pats (scope vso.pats_manage): body
// PatTokenCreateRequest {"displayName","scope","validTo","allOrgs"};
// answers PatTokenResult with the token (shown once). validTo defaults to
// 30 days. Refusals: 400 with patTokenError (fullScopePatPolicyViolation,
// patLifespanPolicyViolation, invalidScope, …), 403 accessDenied.
func (s *Server) apiPATsCreate(c echo.Context) error {
	u, err := s.patCaller(c)
	if err != nil {
		return err
	}
	_, req, err := readPATRequest(c)
	if err != nil {
		return err
	}
	if req.ExpiresAt.IsZero() {
		req.ExpiresAt = s.now().AddDate(0, 0, 30).Truncate(time.Second)
	}
	created, err := s.pats.Create(c.Request().Context(), u, req)
	if err != nil {
		return patResult(c, nil, err)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	j := patJSON(created.PAT)
	j.Token = &created.Token
	return patResult(c, &j, nil)
}

// apiPATsUpdate is PUT /_apis/tokens/pats (scope vso.pats_manage): body
// PatTokenUpdateRequest {"authorizationId","displayName","scope",
// "validTo"}; absent fields stay. Answers PatTokenResult.
func (s *Server) apiPATsUpdate(c echo.Context) error {
	u, err := s.patCaller(c)
	if err != nil {
		return err
	}
	j, req, err := readPATRequest(c)
	if err != nil {
		return err
	}
	if j.AuthorizationID == "" {
		return patResult(c, nil, pat.Refusal("invalidAuthorizationId", "authorizationId is required."))
	}
	t, err := s.pats.Update(c.Request().Context(), j.AuthorizationID, u.ID, req)
	if err != nil {
		return patResult(c, nil, err)
	}
	out := patJSON(t)
	return patResult(c, &out, nil)
}

// apiPATsRevoke is DELETE /_apis/tokens/pats?authorizationId= (scope
// vso.pats_manage): 204; 404 when the caller has no such token.
func (s *Server) apiPATsRevoke(c echo.Context) error {
	u, err := s.patCaller(c)
	if err != nil {
		return err
	}
	if _, err := s.pats.Revoke(c.Request().Context(), c.QueryParam("authorizationId"), u.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiPATValidate is GET /_apis/tokens/pats/validate: a resource server
// presents a personal access token (Bearer or Basic) and learns whether
// it is active and for whom: {"active": true, "authorizationId",
// "userId", "username", "scope", "validTo"}; an invalid token gets the
// Bearer check's 401.
func (s *Server) apiPATValidate(c echo.Context) error {
	p, _ := c.Get(ctxPrincipal).(oauth.Principal)
	if p.PATID == "" {
		return apperr.Errorf(apperr.Invalid, "Present a personal access token to validate.")
	}
	u, err := s.cfg.Users.User(c.Request().Context(), p.UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"active": true, "authorizationId": p.PATID, "userId": u.ID, "username": u.Username,
		"scope": strings.Join(p.Scopes, " "), "validTo": p.ExpiresAt.Format(time.RFC3339)})
}

// sessionTokenJSON is tokenAdmin.json 7.1 SessionToken (the fields that
// apply).
type sessionTokenJSON struct {
	AuthorizationID string   `json:"authorizationId"`
	ClientID        string   `json:"clientId"`
	DisplayName     string   `json:"displayName"`
	Scope           string   `json:"scope"`
	TargetAccounts  []string `json:"targetAccounts"`
	UserID          string   `json:"userId"`
	ValidFrom       string   `json:"validFrom"`
	ValidTo         string   `json:"validTo"`
	IsValid         bool     `json:"isValid"`
	IsPublic        bool     `json:"isPublic"`
	Token           *string  `json:"token"`
}

// SubjectDescriptor is the subject descriptor of a user, as the Token
// Admin API names users ("odu." + base64url of the user id).
func SubjectDescriptor(userID string) string { return domain.SubjectDescriptor(userID) }

// apiTokenAdminPATs is GET /_apis/tokenadmin/personalaccesstokens/
// {subjectDescriptor}?pageSize=&continuationToken= (scope
// vso.tokenadministration, admins): the user's tokens as
// TokenAdminPagedSessionTokens {"value","continuationToken"}. The user id
// is accepted in place of the descriptor.
func (s *Server) apiTokenAdminPATs(c echo.Context) error {
	id := domain.ParseSubjectDescriptor(c.Param("subjectDescriptor"))
	ctx := c.Request().Context()
	if _, err := s.cfg.Users.User(ctx, id); err != nil {
		return apperr.Errorf(apperr.NotFound, "No user has the subject descriptor %q.", c.Param("subjectDescriptor"))
	}
	f := domain.PATFilter{UserID: id, After: c.QueryParam("continuationToken"), Limit: 100}
	if v := c.QueryParam("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return apperr.Errorf(apperr.Invalid, "pageSize must be a number from 1 to 1000")
		}
		f.Limit = n
	}
	page, err := s.cfg.PATAdmin.List(ctx, f)
	if err != nil {
		return err
	}
	now := s.now()
	out := make([]sessionTokenJSON, 0, len(page.Tokens))
	for _, t := range page.Tokens {
		out = append(out, sessionTokenJSON{AuthorizationID: t.ID, ClientID: "00000000-0000-0000-0000-000000000000", DisplayName: t.Name,
			Scope: strings.Join(t.Scopes, " "), UserID: t.UserID, ValidFrom: t.CreatedAt.Format(time.RFC3339),
			ValidTo: t.ExpiresAt.Format(time.RFC3339), IsValid: t.State(now) == domain.PATActive})
	}
	body := map[string]any{"value": out, "count": len(out)}
	if page.Next != "" {
		body["continuationToken"] = page.Next
		c.Response().Header().Set("X-MS-ContinuationToken", page.Next)
	}
	return c.JSON(http.StatusOK, body)
}

// apiRevocationRules is POST /_apis/tokenadmin/revocationrules (scope
// vso.tokenadministration, admins): body {"scopes": "vso.code vso.build",
// "createdBefore": RFC 3339 (default now)}; 204. Every token issued at or
// before createdBefore carrying one of the scopes — personal access
// tokens, OAuth access and refresh tokens — is refused from the next
// request on.
func (s *Server) apiRevocationRules(c echo.Context) error {
	var j struct {
		Scopes        string `json:"scopes"`
		CreatedBefore string `json:"createdBefore"`
	}
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 64<<10)).Decode(&j); err != nil {
		return apperr.Errorf(apperr.Invalid, "The body must be JSON: {\"scopes\": \"vso.code vso.build\", \"createdBefore\": \"2026-12-01T00:00:00Z\"}.")
	}
	var before time.Time
	if j.CreatedBefore != "" {
		t, err := time.Parse(time.RFC3339, j.CreatedBefore)
		if err != nil {
			return apperr.Errorf(apperr.Invalid, "createdBefore must be an RFC 3339 date-time")
		}
		before = t
	}
	if _, err := s.cfg.PATRules.AddRule(c.Request().Context(), strings.Fields(j.Scopes), before); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// leakedBody is the body of POST /_apis/tokens/pats/leaked.
type leakedBody struct {
	Tokens []string `json:"tokens"`
}

// apiPATsLeaked is POST /_apis/tokens/pats/leaked, the endpoint a secret
// scanner calls with its scanner token as Bearer: body {"tokens": [...]}
// (at most 1,000 strings of at most 1,024 bytes); answers 202
// {"received": N} whatever the strings were, so the answer never tells
// whether one was a token. Each live personal access token among them is
// revoked at once and its owner told.
func (s *Server) apiPATsLeaked(c echo.Context) error {
	ctx := c.Request().Context()
	scheme, raw, _ := strings.Cut(strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization)), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return &oauth.BearerError{Description: "A scanner token is required (Authorization: Bearer odscan_…)."}
	}
	sc, err := s.cfg.LeakedPATs.AuthenticateScanner(ctx, strings.TrimSpace(raw))
	if err != nil {
		if apperr.ErrorCode(err) == apperr.Unauthorized {
			return &oauth.BearerError{Code: "invalid_token", Description: "The scanner token is not valid."}
		}
		return err
	}
	var body leakedBody
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 1<<20)).Decode(&body); err != nil {
		return apperr.Errorf(apperr.Invalid, "The body must be JSON: {\"tokens\": [\"…\"]}.")
	}
	if len(body.Tokens) > pat.MaxLeaked {
		return apperr.Errorf(apperr.Invalid, "At most %d strings per report.", pat.MaxLeaked)
	}
	for _, t := range body.Tokens {
		if len(t) > 1024 {
			return apperr.Errorf(apperr.Invalid, "Each string is at most 1024 bytes.")
		}
	}
	if err := s.cfg.LeakedPATs.Leaked(ctx, sc, body.Tokens); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"received": len(body.Tokens)})
}

// apiAuth is the authentication of API r: the Bearer check, or — for the
// Lifecycle API, which the hosted service lets its own web pages call —
// a dashboard session when no Authorization header is sent (the browser
// chain: session, CSRF on POST/PUT/DELETE via X-CSRF-Token, signed-in
// user). A session caller acts with vso.pats_manage on their own tokens.
func (s *Server) apiAuth(r APIRoute) echo.MiddlewareFunc {
	if s.pats == nil || r.Path != "/tokens/pats" {
		return s.bearer
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		bearer := s.bearer(next)
		session := func(c echo.Context) error {
			u, ok := currentUser(c)
			if !ok {
				return &oauth.BearerError{Description: "Bearer access token or a dashboard session required"}
			}
			c.Set(ctxPrincipal, oauth.Principal{UserID: u.ID, Scopes: []string{ScopePATsManage}})
			return next(c)
		}
		for i := len(s.browserChain) - 1; i >= 0; i-- {
			session = s.browserChain[i](session)
		}
		return func(c echo.Context) error {
			if c.Request().Header.Get(echo.HeaderAuthorization) == "" {
				if _, err := c.Cookie("oauthdesk_session"); err == nil {
					return session(c)
				}
			}
			return bearer(c)
		}
	}
}
