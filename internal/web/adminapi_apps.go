package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// AdminAPIApps is the app registrations' use cases the admin API calls —
// the ones /admin/apps calls (implemented by *admin.Service).
type AdminAPIApps interface {
	ListApps(ctx context.Context, f domain.AppFilter) (domain.AppPage, error)
	App(ctx context.Context, clientID string) (admin.AppDetail, error)
	RegisterApp(ctx context.Context, ownerUsername string, reg domain.Registration) (admin.RegisteredApp, error)
	EditApp(ctx context.Context, clientID string, edit func(current domain.App) (domain.Registration, error)) (admin.AppEdit, error)
	DeleteAppIf(ctx context.Context, clientID string, check func(current domain.App) error) (int, error)
}

// apiApp is an app registration in the admin API (ADMIN_API.md, App).
// Field names are the registration form's, so that a refused field's
// problem pointer names the body's field.
type apiApp struct {
	ClientID               string          `json:"client_id"`
	Name                   string          `json:"name"`
	Company                string          `json:"company"`
	Description            string          `json:"description"`
	CompanyURL             string          `json:"company_url"`
	AppURL                 string          `json:"app_url"`
	CallbackURL            string          `json:"callback_url"`
	LogoURL                string          `json:"logo_url"`
	TermsURL               string          `json:"terms_url"`
	PrivacyURL             string          `json:"privacy_url"`
	Scopes                 []string        `json:"scopes"`
	RequirePKCE            bool            `json:"require_pkce"`
	ClientType             string          `json:"client_type"`
	GrantTypes             []string        `json:"grant_types"`
	RedirectURIs           []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs []string        `json:"post_logout_redirect_uris"`
	IDTokenAlg             string          `json:"id_token_alg"`
	JWKS                   json.RawMessage `json:"jwks"`
	Owner                  apiOwner        `json:"owner"`
	Status                 string          `json:"status"`
	ReviewNote             string          `json:"review_note,omitempty"`
	External               bool            `json:"external"`
	CreatedAt              string          `json:"created_at"`
	DeletedAt              *string         `json:"deleted_at"`
	Secrets                []apiSecret     `json:"secrets"`
	// ActiveAuthorizations is filled by listings only.
	ActiveAuthorizations *int64 `json:"active_authorizations,omitempty"`
}

// apiOwner is an app's (first) owner.
type apiOwner struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// apiSecret is a client secret's metadata (never its value).
type apiSecret struct {
	ID         string  `json:"id"`
	Slot       string  `json:"slot"`
	CreatedAt  string  `json:"created_at"`
	ExpiresAt  string  `json:"expires_at"`
	LastUsedAt *string `json:"last_used_at"`
	UseCount   int64   `json:"use_count"`
	RetiredAt  *string `json:"retired_at,omitempty"`
}

func toAPISecret(sec domain.Secret) apiSecret {
	return apiSecret{ID: sec.ID, Slot: sec.Slot, CreatedAt: apiTime(sec.CreatedAt), ExpiresAt: apiTime(sec.ExpiresAt),
		LastUsedAt: apiTimePtr(sec.LastUsedAt), UseCount: sec.UseCount, RetiredAt: apiTimePtr(sec.RetiredAt)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toAPIApp(a domain.App) apiApp {
	out := apiApp{ClientID: a.ClientID, Name: a.Name, Company: a.Company, Description: a.Description,
		CompanyURL: a.CompanyURL, AppURL: a.AppURL, CallbackURL: a.CallbackURL, LogoURL: a.LogoURL,
		TermsURL: a.TermsURL, PrivacyURL: a.PrivacyURL, Scopes: nonNil(a.Scopes), RequirePKCE: a.RequirePKCE,
		ClientType: a.EffectiveClientType(), GrantTypes: nonNil(a.EffectiveGrantTypes()),
		RedirectURIs: nonNil(a.RedirectURIs), PostLogoutRedirectURIs: nonNil(a.PostLogoutRedirectURIs),
		IDTokenAlg: a.EffectiveIDTokenAlg(), JWKS: json.RawMessage("null"),
		Owner: apiOwner{ID: a.OwnerID, Username: a.OwnerUsername}, Status: a.Status, ReviewNote: a.ReviewNote,
		External: a.External, CreatedAt: apiTime(a.CreatedAt), DeletedAt: apiTimePtr(a.DeletedAt), Secrets: []apiSecret{}}
	if j := a.StoredJWKS(); j != "" && json.Valid([]byte(j)) {
		out.JWKS = json.RawMessage(j)
	}
	for _, sec := range a.Secrets {
		out.Secrets = append(out.Secrets, toAPISecret(sec))
	}
	return out
}

// apiAppInput is the body of POST /apps and PATCH /apps/{client_id}: a
// field left out keeps its value (PATCH) or its default (POST); jwks null
// removes the registered key set.
type apiAppInput struct {
	Name                   *string         `json:"name"`
	Company                *string         `json:"company"`
	Description            *string         `json:"description"`
	CompanyURL             *string         `json:"company_url"`
	AppURL                 *string         `json:"app_url"`
	CallbackURL            *string         `json:"callback_url"`
	LogoURL                *string         `json:"logo_url"`
	TermsURL               *string         `json:"terms_url"`
	PrivacyURL             *string         `json:"privacy_url"`
	Scopes                 *[]string       `json:"scopes"`
	RequirePKCE            *bool           `json:"require_pkce"`
	ClientType             *string         `json:"client_type"`
	GrantTypes             *[]string       `json:"grant_types"`
	RedirectURIs           *[]string       `json:"redirect_uris"`
	PostLogoutRedirectURIs *[]string       `json:"post_logout_redirect_uris"`
	IDTokenAlg             *string         `json:"id_token_alg"`
	JWKS                   json.RawMessage `json:"jwks"`
	// Owner is the owner's username (POST only; default: the caller).
	Owner *string `json:"owner"`
}

// apply overlays the given fields on reg. Errors: Invalid for a jwks that
// is not an object.
func (in apiAppInput) apply(reg *domain.Registration) error {
	for _, f := range []struct {
		dst *string
		src *string
	}{{&reg.Name, in.Name}, {&reg.Company, in.Company}, {&reg.Description, in.Description},
		{&reg.CompanyURL, in.CompanyURL}, {&reg.AppURL, in.AppURL}, {&reg.CallbackURL, in.CallbackURL},
		{&reg.LogoURL, in.LogoURL}, {&reg.TermsURL, in.TermsURL}, {&reg.PrivacyURL, in.PrivacyURL},
		{&reg.ClientType, in.ClientType}, {&reg.IDTokenAlg, in.IDTokenAlg}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	for _, f := range []struct {
		dst *[]string
		src *[]string
	}{{&reg.Scopes, in.Scopes}, {&reg.GrantTypes, in.GrantTypes}, {&reg.RedirectURIs, in.RedirectURIs},
		{&reg.PostLogoutRedirectURIs, in.PostLogoutRedirectURIs}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if in.RequirePKCE != nil {
		reg.RequirePKCE = *in.RequirePKCE
	}
	reg.JWKS = "" // on updates: unchanged
	switch j := string(in.JWKS); {
	case j == "":
	case j == "null":
		reg.JWKS = domain.JWKSNone
	case len(in.JWKS) > 0 && in.JWKS[0] == '{':
		reg.JWKS = j
	default:
		return &apperr.Error{Code: apperr.Invalid, Message: "jwks must be a JSON Web Key Set object or null",
			Fields: map[string]string{domain.FieldJWKS: "must be a JSON Web Key Set object or null"}}
	}
	return nil
}

// apiAppsList is GET /apps: the dashboard's app listing and filters
// (state=expiring|critical|expired|pending, deleted, q, sort, dir) plus
// owner_id, in keyset pages (limit, after).
func (s *Server) apiAppsList(c echo.Context) error {
	q := url.Values{}
	for _, k := range []string{"state", "q", "sort", "dir"} {
		q.Set(k, c.QueryParam(k))
	}
	deleted, err := apiBool(c, "deleted")
	if err != nil {
		return err
	}
	if deleted {
		q.Set("deleted", "1")
	}
	aq, err := parseAppsQuery(q)
	if err != nil {
		return err
	}
	limit, after, err := apiPage(c)
	if err != nil {
		return err
	}
	f := s.appFilter(aq, s.now())
	f.After, f.Limit, f.OwnerID = after, limit, c.QueryParam("owner_id")
	page, err := s.cfg.AdminAPI.Apps.ListApps(c.Request().Context(), f)
	if err != nil {
		return err
	}
	items := make([]apiApp, 0, len(page.Apps))
	for _, a := range page.Apps {
		j := toAPIApp(a)
		n := a.ActiveAuthorizations
		j.ActiveAuthorizations = &n
		items = append(items, j)
	}
	return s.writeList(c, items, page.Next)
}

// apiAppCurrent returns the app as GET /apps/{client_id} shows it.
func (s *Server) apiAppCurrent(c echo.Context) (domain.App, apiApp, error) {
	d, err := s.cfg.AdminAPI.Apps.App(c.Request().Context(), c.Param("client_id"))
	if err != nil {
		return domain.App{}, apiApp{}, err
	}
	return d.App, toAPIApp(d.App), nil
}

// apiAppGet is GET /apps/{client_id}: the app with its ETag.
func (s *Server) apiAppGet(c echo.Context) error {
	_, j, err := s.apiAppCurrent(c)
	if err != nil {
		return err
	}
	return writeResource(c, http.StatusOK, j)
}

// apiAppCreate is POST /apps: registers an app (the registration form's
// validation; the owner is the caller unless owner names another user)
// and answers 201 {"app", "client_secret"} — the secret shown once.
func (s *Server) apiAppCreate(c echo.Context) error {
	var in apiAppInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	var reg domain.Registration
	if err := in.apply(&reg); err != nil {
		return err
	}
	if reg.JWKS == domain.JWKSNone {
		reg.JWKS = ""
	}
	newRegistrationDefaults(&reg)
	owner := apiCaller(c).Username
	if in.Owner != nil {
		owner = *in.Owner
	}
	res, err := s.cfg.AdminAPI.Apps.RegisterApp(c.Request().Context(), owner, reg)
	if err != nil {
		return err
	}
	d, err := s.cfg.AdminAPI.Apps.App(c.Request().Context(), res.App.ClientID)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, adminAPIBase+"/apps/"+res.App.ClientID)
	return c.JSON(http.StatusCreated, map[string]any{"app": toAPIApp(d.App), "client_secret": res.ClientSecret})
}

// apiAppUpdate is PATCH /apps/{client_id} with If-Match (required): the
// given fields replace the registration's (JSON merge), validated and
// applied exactly as the dashboard's edit form; answers the app and its
// new ETag. The If-Match comparison and the merge run inside the edit's
// transaction on the locked app (admin.EditApp): of two PATCHes sent with
// the same ETag, one applies and the other gets 412.
func (s *Server) apiAppUpdate(c echo.Context) error {
	var in apiAppInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Owner != nil {
		return &apperr.Error{Code: apperr.Invalid, Message: "owner cannot change here; owners change on the app's owners page",
			Fields: map[string]string{"owner": "cannot change through PATCH"}}
	}
	match, err := ifMatch(c, true)
	if err != nil {
		return err
	}
	edit := func(cur domain.App) (domain.Registration, error) {
		if match != nil {
			if err := match(toAPIApp(cur)); err != nil {
				return domain.Registration{}, err
			}
		}
		reg := cur.Registration
		return reg, in.apply(&reg)
	}
	if _, err := s.cfg.AdminAPI.Apps.EditApp(c.Request().Context(), c.Param("client_id"), edit); err != nil {
		return err
	}
	_, j, err := s.apiAppCurrent(c)
	if err != nil {
		return err
	}
	return writeResource(c, http.StatusOK, j)
}

// apiAppDelete is DELETE /apps/{client_id} (If-Match checked when sent,
// inside the deletion's transaction): the dashboard's deletion — every
// authorization revoked, the secrets retired, the record kept for the
// audit log. Answers {"client_id", "revoked_authorizations"}.
func (s *Server) apiAppDelete(c echo.Context) error {
	match, err := ifMatch(c, false)
	if err != nil {
		return err
	}
	clientID := ""
	check := func(cur domain.App) error {
		clientID = cur.ClientID
		if match == nil {
			return nil
		}
		return match(toAPIApp(cur))
	}
	n, err := s.cfg.AdminAPI.Apps.DeleteAppIf(c.Request().Context(), c.Param("client_id"), check)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"client_id": clientID, "revoked_authorizations": n})
}
