package web

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/views"
)

// OIDC is the standard (OpenID Connect / OAuth 2.1) side of the protocol
// (implemented by *oauth.Service). The server serves it when the OAuth it
// is given implements it.
type OIDC interface {
	Requirement(c oauth.Consent, signedIn bool, authTime time.Time) (oauth.AuthRequirement, error)
	StandardToken(ctx context.Context, req oauth.StandardTokenRequest) (oauth.StandardTokenResponse, error)
	UserInfo(ctx context.Context, header string) (map[string]any, error)
	RevokeToken(ctx context.Context, cc oauth.ClientCredentials, token string) error
	Introspect(ctx context.Context, cc oauth.ClientCredentials, token string) (oauth.Introspection, error)
	DeviceAuthorize(ctx context.Context, cc oauth.ClientCredentials, scope string) (oauth.DeviceAuthorization, error)
	CheckDevice(ctx context.Context, userCode string) (oauth.DeviceConsent, error)
	DecideDevice(ctx context.Context, userID, userCode string, accept bool, authTime time.Time) (oauth.DeviceConsent, error)
	EndSession(ctx context.Context, req oauth.EndSessionRequest) (string, error)
}

const (
	sessAuthTime     = "auth_time"      // Unix seconds of the session's sign-in (OIDC auth_time)
	ctxStandardToken = "standard_token" // errors answer with RFC 6749 §5.2 bodies only
	ctxBasicAuth     = "basic_auth"     // the client authenticated with HTTP Basic (401 carries WWW-Authenticate)
)

// standardFields are the standard flow's authorization parameters beside
// authorizeFields' (each refused when repeated).
var standardFields = []string{"response_mode", "nonce", "prompt", "max_age", "login_hint"}

// sessionAuthTime is when the signed-in user authenticated (zero when the
// session predates the record).
func (s *Server) sessionAuthTime(c echo.Context) time.Time {
	if n := s.sessions.GetInt64(c.Request().Context(), sessAuthTime); n > 0 {
		return time.Unix(n, 0)
	}
	return time.Time{}
}

// authorizeStandard continues a verified standard authorization request
// (GET, or POST with a form body: OIDC Core §3.1.2.1): prompt and max_age
// decide whether the user signs in (again), an existing consent that
// covers the scopes issues the code at once, else the consent page.
func (s *Server) authorizeStandard(c echo.Context, consent oauth.Consent) error {
	u, signedIn := currentUser(c)
	authTime := s.sessionAuthTime(c)
	need, err := s.oidc.Requirement(consent, signedIn, authTime)
	if err != nil {
		return err
	}
	req := consent.Request
	switch need {
	case oauth.AuthSignIn:
		if signedIn {
			// prompt=login or max_age: the user proves themselves again.
			if err := s.sessions.RenewToken(c.Request().Context()); err != nil {
				return err
			}
			s.sessions.Remove(c.Request().Context(), sessUserID)
		}
		q := authorizeQuery(req)
		q.Del("prompt") // the sign-in that follows is the one asked for
		target := "/signin?return_to=" + url.QueryEscape("/oauth2/authorize?"+q.Encode())
		if req.LoginHint != "" {
			target += "&login_hint=" + url.QueryEscape(req.LoginHint)
		}
		return c.Redirect(http.StatusFound, target)
	case oauth.AuthAutoIssue:
		req.AuthTime = authTime
		d, err := s.oauth.Decide(c.Request().Context(), u.ID, req, true)
		if err != nil {
			return err
		}
		return s.authorizationResponse(c, d)
	}
	return s.renderConsent(c, consent)
}

// authorizeQuery is a verified request as query parameters (to come back
// to it after signing in).
func authorizeQuery(req oauth.AuthorizeRequest) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"client_id": req.ClientID, "response_type": req.ResponseType, "state": req.State,
		"scope": req.Scope, "redirect_uri": req.RedirectURI, "code_challenge": req.CodeChallenge,
		"code_challenge_method": req.CodeChallengeMethod, "response_mode": req.ResponseMode, "nonce": req.Nonce,
		"prompt": req.Prompt, "max_age": req.MaxAge, "login_hint": req.LoginHint} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// authorizationResponse sends the user agent back to the client: a 302
// (response_mode=query) or an auto-submitting form (form_post).
func (s *Server) authorizationResponse(c echo.Context, d oauth.Decision) error {
	if d.ResponseMode == oauth.ResponseModeFormPost {
		return s.formPost(c, d.RedirectURI, d.Params)
	}
	return c.Redirect(http.StatusFound, d.Location)
}

// formPost renders the form_post response page.
func (s *Server) formPost(c echo.Context, action string, params map[string]string) error {
	p := views.FormPostPage{Action: action}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if params[k] != "" {
			p.Params = append(p.Params, views.HiddenField{Name: k, Value: params[k]})
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.FormPost(p))
}

// oidcScopeViews describes the OpenID Connect scopes on the consent page.
var oidcScopeViews = map[string]views.ScopeView{
	oauth.ScopeOpenID:        {ID: oauth.ScopeOpenID, Name: "Sign you in", Description: "Learn who you are (your user id).", Category: "OpenID Connect"},
	oauth.ScopeProfile:       {ID: oauth.ScopeProfile, Name: "Your name and username", Description: "Read your display name and username.", Category: "OpenID Connect"},
	oauth.ScopeEmail:         {ID: oauth.ScopeEmail, Name: "Your e-mail address", Description: "Read your e-mail address.", Category: "OpenID Connect"},
	oauth.ScopeOfflineAccess: {ID: oauth.ScopeOfflineAccess, Name: "Stay connected", Description: "Keep access while you are away (a refresh token).", Category: "OpenID Connect"},
}

// standardTokenGrants are the grant types only the standard token
// endpoint serves.
var standardTokenGrants = []string{domain.GrantAuthorizationCode, domain.GrantClientCredentials, domain.GrantDeviceCode}

// isDialectTokenRequest tells the dialect's token body (seed 001:
// client_assertion_type, client_assertion, assertion; grant_type
// jwt-bearer or refresh_token) from a standard one, so the dialect keeps
// every answer it gave before. It dispatches on grant_type: a standard
// grant (or refresh_token carrying refresh_token and no assertion, as
// the dialect's refresh carries the token in assertion) is standard even
// with client_assertion_type — that is private_key_jwt (RFC 7523 §2.2).
func isDialectTokenRequest(form url.Values) bool {
	gt := form.Get("grant_type")
	if slices.Contains(standardTokenGrants, gt) {
		return false
	}
	if gt == domain.GrantRefreshToken && form.Has("refresh_token") && !form.Has("assertion") {
		return false
	}
	return gt == domain.GrantDialect || form.Has("assertion") || form.Has("client_assertion_type") || form.Has("client_assertion")
}

var standardTokenFields = []string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope",
	"client_id", "client_secret", "device_code", "token", "token_type_hint", "client_assertion_type", "client_assertion"}

// readStandardForm reads a standard endpoint's form body (the URL's query
// component is allowed and ignored, RFC 6749 §3.2) and the client's
// credentials from HTTP Basic (RFC 6749 §2.3.1: form-urlencoded) or the
// body. Errors: *oauth.Error invalid_request (Standard).
func readStandardForm(c echo.Context) (url.Values, oauth.ClientCredentials, error) {
	r := c.Request()
	bad := func(desc string) error {
		return &oauth.Error{Code: "invalid_request", Description: desc, Status: http.StatusBadRequest, Standard: true}
	}
	if !formBody(r) {
		return nil, oauth.ClientCredentials{}, bad("Content-Type must be application/x-www-form-urlencoded")
	}
	if err := readPostForm(r); err != nil {
		return nil, oauth.ClientCredentials{}, bad("The request body is not a valid form")
	}
	form := r.PostForm
	for _, f := range standardTokenFields {
		if len(form[f]) > 1 {
			return nil, oauth.ClientCredentials{}, bad(f + " must be sent only once")
		}
	}
	cc := oauth.ClientCredentials{ClientID: form.Get("client_id"), ClientSecret: form.Get("client_secret"), Method: oauth.AuthMethodPost}
	if id, sec, ok := r.BasicAuth(); ok {
		c.Set(ctxBasicAuth, true)
		if form.Has("client_secret") || form.Has("client_assertion") {
			return nil, cc, oauth.ErrStdClientMethods
		}
		uid, err1 := url.QueryUnescape(id)
		usec, err2 := url.QueryUnescape(sec)
		if err1 != nil || err2 != nil {
			return nil, cc, oauth.ErrStdClientFailed
		}
		if cc.ClientID != "" && cc.ClientID != uid {
			return nil, cc, bad("client_id in the body differs from the one in the Authorization header")
		}
		cc = oauth.ClientCredentials{ClientID: uid, ClientSecret: usec, Method: oauth.AuthMethodBasic}
	} else if form.Has("client_assertion_type") || form.Has("client_assertion") {
		// private_key_jwt (RFC 7523 §2.2): one method only
		if cc.ClientSecret != "" {
			return nil, cc, oauth.ErrStdClientMethods
		}
		if form.Get("client_assertion_type") != oauth.ClientAssertionType || form.Get("client_assertion") == "" {
			return nil, cc, bad("client_assertion_type must be " + oauth.ClientAssertionType + " with a client_assertion")
		}
		sub := oauth.AssertionClientID(form.Get("client_assertion"))
		if cc.ClientID != "" && sub != "" && cc.ClientID != sub {
			return nil, cc, oauth.ErrStdClientFailed
		}
		cc = oauth.ClientCredentials{ClientID: cmp.Or(cc.ClientID, sub), Method: oauth.AuthMethodPrivateKeyJWT, Assertion: form.Get("client_assertion")}
	} else if cc.ClientSecret == "" {
		cc.Method = oauth.AuthMethodNone
	}
	return form, cc, nil
}

// standardToken is the standard side of POST /oauth2/token.
func (s *Server) standardToken(c echo.Context) error {
	c.Set(ctxStandardToken, true)
	form, cc, err := readStandardForm(c)
	if err != nil {
		return err
	}
	resp, err := s.oidc.StandardToken(c.Request().Context(), oauth.StandardTokenRequest{
		GrantType: form.Get("grant_type"), Client: cc, Code: form.Get("code"), RedirectURI: form.Get("redirect_uri"),
		CodeVerifier: form.Get("code_verifier"), RefreshToken: form.Get("refresh_token"), Scope: form.Get("scope"),
		DeviceCode: form.Get("device_code"),
	})
	if err != nil {
		return err
	}
	noStoreJSON(c)
	// The body c.JSON would write (encoding/json and its newline),
	// appended without reflection: this is the token endpoint's hot path.
	n := len(resp.AccessToken) + len(resp.RefreshToken) + len(resp.IDToken) + len(resp.Scope) + 128
	return c.JSONBlob(http.StatusOK, append(resp.AppendJSON(make([]byte, 0, n)), '\n'))
}

func noStoreJSON(c echo.Context) {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("Pragma", "no-cache")
}

// userinfo is GET|POST /oauth2/userinfo (OIDC Core §5.3).
func (s *Server) userinfo(c echo.Context) error {
	claims, err := s.oidc.UserInfo(c.Request().Context(), c.Request().Header.Get(echo.HeaderAuthorization))
	if err != nil {
		return err
	}
	noStoreJSON(c)
	return c.JSON(http.StatusOK, claims)
}

// revoke is POST /oauth2/revoke (RFC 7009): 200 with an empty body for
// every token the client may name, its own or not, known or not.
func (s *Server) revoke(c echo.Context) error {
	c.Set(ctxStandardToken, true)
	form, cc, err := readStandardForm(c)
	if err != nil {
		return err
	}
	if err := s.oidc.RevokeToken(c.Request().Context(), cc, form.Get("token")); err != nil {
		return err
	}
	noStoreJSON(c)
	return c.NoContent(http.StatusOK)
}

// introspect is POST /oauth2/introspect (RFC 7662).
func (s *Server) introspect(c echo.Context) error {
	c.Set(ctxStandardToken, true)
	form, cc, err := readStandardForm(c)
	if err != nil {
		return err
	}
	in, err := s.oidc.Introspect(c.Request().Context(), cc, form.Get("token"))
	if err != nil {
		return err
	}
	noStoreJSON(c)
	return c.JSON(http.StatusOK, in)
}

// deviceAuthorization is POST /oauth2/device_authorization (RFC 8628
// §3.1).
func (s *Server) deviceAuthorization(c echo.Context) error {
	c.Set(ctxStandardToken, true)
	form, cc, err := readStandardForm(c)
	if err != nil {
		return err
	}
	da, err := s.oidc.DeviceAuthorize(c.Request().Context(), cc, form.Get("scope"))
	if err != nil {
		return err
	}
	noStoreJSON(c)
	return c.JSON(http.StatusOK, da)
}

// devicePage is GET /device (RFC 8628 §3.3): the user-code form, filled
// from ?user_code= (verification_uri_complete). Signed-out users sign in
// first.
func (s *Server) devicePage(c echo.Context) error {
	if _, ok := currentUser(c); !ok {
		return c.Redirect(http.StatusFound, "/signin?return_to="+url.QueryEscape(c.Request().URL.RequestURI()))
	}
	return render(c, http.StatusOK, views.Device(views.DevicePage{Nav: s.nav(c, ""), UserCode: c.QueryParam("user_code")}))
}

// deviceCheck is POST /device: the typed user code; a good one shows the
// consent page, which posts to /device/decide.
func (s *Server) deviceCheck(c echo.Context) error {
	if _, ok := currentUser(c); !ok {
		return c.Redirect(http.StatusSeeOther, "/signin?return_to=/device")
	}
	code := strings.TrimSpace(c.FormValue("user_code"))
	dc, err := s.oidc.CheckDevice(c.Request().Context(), code)
	if apperr.Is(err, apperr.Invalid) {
		return render(c, http.StatusBadRequest, views.Device(views.DevicePage{Nav: s.nav(c, ""), UserCode: code, Error: apperr.ErrorMessage(err)}))
	}
	if err != nil {
		return err
	}
	app := dc.App
	p := views.ConsentPage{Nav: s.nav(c, ""), AppName: app.Name, Company: app.Company, Description: app.Description,
		LogoURL: app.LogoURL, CompanyURL: app.CompanyURL, AppURL: app.AppURL, TermsURL: app.TermsURL, PrivacyURL: app.PrivacyURL,
		ClientID: app.ClientID, CallbackHost: "your device", Action: "/device/decide", Extra: []views.HiddenField{{Name: "user_code", Value: code}}}
	p.Scopes = s.consentScopes(dc.Scopes)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.Consent(p))
}

// deviceDecide is POST /device/decide: accept or deny for the user code.
func (s *Server) deviceDecide(c echo.Context) error {
	u, ok := currentUser(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/signin?return_to=/device")
	}
	var accept bool
	switch c.FormValue("decision") {
	case "accept":
		accept = true
	case "deny":
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "Choose Accept or Deny on the approval page.")
	}
	code := strings.TrimSpace(c.FormValue("user_code"))
	dc, err := s.oidc.DecideDevice(c.Request().Context(), u.ID, code, accept, s.sessionAuthTime(c))
	if apperr.Is(err, apperr.Invalid) {
		return render(c, http.StatusBadRequest, views.Device(views.DevicePage{Nav: s.nav(c, ""), Error: apperr.ErrorMessage(err)}))
	}
	if err != nil {
		return err
	}
	done := "You denied " + dc.App.Name + ". Your device will say so; you can close this page."
	if accept {
		done = dc.App.Name + " is connected. Return to your device: it continues on its own."
	}
	s.log.Info("device consent", "user_id", u.ID, "client_id", dc.App.ClientID, "approved", accept)
	return render(c, http.StatusOK, views.Device(views.DevicePage{Nav: s.nav(c, ""), Done: done}))
}

// consentScopes are the view models of a list of granted scopes, OpenID
// Connect scopes first.
func (s *Server) consentScopes(ids []string) []views.ScopeView {
	var out []views.ScopeView
	for _, id := range ids {
		if v, ok := oidcScopeViews[id]; ok {
			out = append(out, v)
		}
	}
	for _, id := range ids {
		if sc, ok := s.scopes.Lookup(id); ok {
			out = append(out, scopeView(sc))
		}
	}
	return out
}

// endSession is GET /oauth2/logout (OpenID Connect RP-Initiated Logout
// 1.0): with a valid id_token_hint the user is signed out at once and sent
// to the registered post_logout_redirect_uri; without one the user
// confirms first (a cross-site link alone must not sign anyone out).
func (s *Server) endSession(c echo.Context) error {
	req := oauth.EndSessionRequest{IDTokenHint: c.QueryParam("id_token_hint"), ClientID: c.QueryParam("client_id"),
		PostLogoutRedirectURI: c.QueryParam("post_logout_redirect_uri"), State: c.QueryParam("state")}
	target, err := s.oidc.EndSession(c.Request().Context(), req)
	if err != nil {
		return err
	}
	if req.IDTokenHint == "" {
		if _, ok := currentUser(c); ok {
			var hidden []views.HiddenField
			for k, v := range map[string]string{"client_id": req.ClientID, "post_logout_redirect_uri": req.PostLogoutRedirectURI, "state": req.State} {
				if v != "" {
					hidden = append(hidden, views.HiddenField{Name: k, Value: v})
				}
			}
			sort.Slice(hidden, func(i, j int) bool { return hidden[i].Name < hidden[j].Name })
			return render(c, http.StatusOK, views.SignedOut(views.SignedOutPage{Nav: s.nav(c, ""), Confirm: true, Hidden: hidden}))
		}
	}
	return s.finishEndSession(c, target)
}

// endSessionConfirm is POST /oauth2/logout: the confirmation form.
func (s *Server) endSessionConfirm(c echo.Context) error {
	target, err := s.oidc.EndSession(c.Request().Context(), oauth.EndSessionRequest{ClientID: c.FormValue("client_id"),
		PostLogoutRedirectURI: c.FormValue("post_logout_redirect_uri"), State: c.FormValue("state")})
	if err != nil {
		return err
	}
	return s.finishEndSession(c, target)
}

func (s *Server) finishEndSession(c echo.Context, target string) error {
	ctx := c.Request().Context()
	if u, ok := currentUser(c); ok {
		if err := s.cfg.SignIn.RecordSignOut(ctx, u); err != nil {
			return err
		}
		if err := s.sessions.Destroy(ctx); err != nil {
			return err
		}
	}
	if target != "" {
		return c.Redirect(http.StatusFound, target)
	}
	return render(c, http.StatusOK, views.SignedOut(views.SignedOutPage{Nav: views.Nav{}, Message: "You are signed out of oauthdesk."}))
}
