package web

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/views"
)

// authorizeFields are the parameters of an authorization request.
var authorizeFields = []string{"client_id", "response_type", "state", "scope", "redirect_uri", "code_challenge", "code_challenge_method"}

// repeatedParam refuses an authorization request that names a parameter
// more than once (RFC 6749 §3.1: "Request and response parameters MUST
// NOT be included more than once") with the HTML 400 page: which value
// to trust cannot be known, so nothing is redirected.
func repeatedParam(v url.Values) error {
	for _, f := range append(authorizeFields, standardFields...) {
		if len(v[f]) > 1 {
			return &oauth.PageError{Message: "The parameter " + f + " was given more than once. The app that sent you here must send each parameter once."}
		}
	}
	return nil
}

func authorizeRequest(get func(string) string) oauth.AuthorizeRequest {
	return oauth.AuthorizeRequest{
		ClientID: get("client_id"), ResponseType: get("response_type"), State: get("state"),
		Scope: get("scope"), RedirectURI: get("redirect_uri"),
		CodeChallenge: get("code_challenge"), CodeChallengeMethod: get("code_challenge_method"),
		ResponseMode: get("response_mode"), Nonce: get("nonce"), Prompt: get("prompt"), MaxAge: get("max_age"),
		LoginHint: get("login_hint"),
	}
}

// authorize is GET /oauth2/authorize (seed 001 step 2). The request is
// verified before anything else, so a broken request never asks anyone to
// sign in; then a visitor who is not signed in goes to /signin and comes
// back here; then the approval page is shown.
func (s *Server) authorize(c echo.Context) error {
	if err := repeatedParam(c.QueryParams()); err != nil {
		return err
	}
	req := authorizeRequest(c.QueryParam)
	u, signedIn := currentUser(c)
	consent, err := s.oauth.CheckAuthorize(c.Request().Context(), u.ID, req)
	if err != nil {
		return err
	}
	if consent.Standard {
		return s.authorizeStandard(c, consent)
	}
	if !signedIn {
		return c.Redirect(http.StatusFound, "/signin?return_to="+url.QueryEscape(c.Request().URL.RequestURI()))
	}
	return s.renderConsent(c, consent)
}

// authorizeFormPost is POST /oauth2/authorize carrying an authorization
// request as a form (OIDC Core §3.1.2.1): the GET's checks and answers.
func (s *Server) authorizeFormPost(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return apperr.Errorf(apperr.Invalid, "The form could not be read.")
	}
	if err := repeatedParam(form); err != nil {
		return err
	}
	u, _ := currentUser(c)
	consent, err := s.oauth.CheckAuthorize(c.Request().Context(), u.ID, authorizeRequest(form.Get))
	if err != nil {
		return err
	}
	if !consent.Standard {
		return &oauth.PageError{Message: "The Azure DevOps flow's authorization request is a GET. The app that sent you here must use a link."}
	}
	return s.authorizeStandard(c, consent)
}

func (s *Server) renderConsent(c echo.Context, consent oauth.Consent) error {
	app := consent.App
	p := views.ConsentPage{
		Nav: s.nav(c, ""), AppName: app.Name, Company: app.Company, Description: app.Description,
		LogoURL: app.LogoURL, CompanyURL: app.CompanyURL, AppURL: app.AppURL, TermsURL: app.TermsURL,
		PrivacyURL: app.PrivacyURL, ClientID: consent.Request.ClientID, ResponseType: consent.Request.ResponseType,
		State: consent.Request.State, Scope: consent.Request.Scope, RedirectURI: consent.Request.RedirectURI,
		CodeChallenge: consent.Request.CodeChallenge, CodeChallengeMethod: consent.Request.CodeChallengeMethod,
	}
	if cb, err := url.Parse(app.CallbackURL); err == nil {
		p.CallbackHost = cb.Host
	}
	if consent.Standard {
		if cb, err := url.Parse(consent.Request.RedirectURI); err == nil {
			p.CallbackHost = cb.Host
		}
		for _, o := range consent.OIDCScopes {
			p.Scopes = append(p.Scopes, oidcScopeViews[o])
		}
		for k, v := range map[string]string{"nonce": consent.Request.Nonce, "response_mode": consent.Request.ResponseMode} {
			if v != "" {
				p.Extra = append(p.Extra, views.HiddenField{Name: k, Value: v})
			}
		}
	}
	for _, sc := range consent.Scopes {
		v := scopeView(sc)
		v.Description = sc.UserDescription() // no catalog notes for the person consenting
		p.Scopes = append(p.Scopes, v)
	}
	if consent.Existing != nil {
		p.AuthorizedSince = consent.Existing.GrantedAt.Format("2006-01-02")
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.Consent(p))
}

// decide is POST /oauth2/authorize: the approval page's answer, with
// decision=accept or decision=deny (and the CSRF token, checked by the
// middleware). Both answers are 302 to the callback.
func (s *Server) decide(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return apperr.Errorf(apperr.Invalid, "The form could not be read.")
	}
	if err := repeatedParam(form); err != nil {
		return err
	}
	req := authorizeRequest(c.FormValue)
	u, ok := currentUser(c)
	if !ok {
		q := url.Values{"client_id": {req.ClientID}, "response_type": {req.ResponseType}, "state": {req.State},
			"scope": {req.Scope}, "redirect_uri": {req.RedirectURI}}
		if req.CodeChallenge != "" || req.CodeChallengeMethod != "" {
			q.Set("code_challenge", req.CodeChallenge)
			q.Set("code_challenge_method", req.CodeChallengeMethod)
		}
		for k, v := range map[string]string{"nonce": req.Nonce, "response_mode": req.ResponseMode} {
			if v != "" {
				q.Set(k, v)
			}
		}
		return c.Redirect(http.StatusSeeOther, "/signin?return_to="+url.QueryEscape("/oauth2/authorize?"+q.Encode()))
	}
	req.AuthTime = s.sessionAuthTime(c)
	var accept bool
	switch c.FormValue("decision") {
	case "accept":
		accept = true
	case "deny":
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "Choose Accept or Deny on the approval page.")
	}
	d, err := s.oauth.Decide(c.Request().Context(), u.ID, req, accept)
	if err != nil {
		return err
	}
	s.log.Info("consent", "user_id", u.ID, "client_id", d.ClientID, "approved", d.Approved, "scopes", strings.Join(d.Scopes, " "))
	return s.authorizationResponse(c, d)
}

var tokenFields = []string{"grant_type", "client_assertion_type", "client_assertion", "assertion", "redirect_uri", "code_verifier"}

// parseTokenRequest reads a token request: an
// application/x-www-form-urlencoded body (RFC 6749 §4.1.3) in which no
// parameter appears twice (§3.2). Errors: *oauth.Error invalid_request
// (400) naming what is wrong.
func parseTokenRequest(r *http.Request) (oauth.TokenRequest, error) {
	if !formBody(r) {
		return oauth.TokenRequest{}, &oauth.Error{Code: "invalid_request", Status: http.StatusBadRequest,
			Description: "Content-Type must be application/x-www-form-urlencoded"}
	}
	if err := r.ParseForm(); err != nil {
		return oauth.TokenRequest{}, &oauth.Error{Code: "invalid_request", Status: http.StatusBadRequest, Description: "The request body is not a valid form"}
	}
	for _, f := range tokenFields {
		if len(r.PostForm[f]) > 1 {
			return oauth.TokenRequest{}, &oauth.Error{Code: "invalid_request", Status: http.StatusBadRequest, Description: f + " must be sent only once"}
		}
	}
	return oauth.TokenRequest{
		GrantType: r.PostForm.Get("grant_type"), ClientAssertionType: r.PostForm.Get("client_assertion_type"),
		ClientAssertion: r.PostForm.Get("client_assertion"), Assertion: r.PostForm.Get("assertion"),
		RedirectURI: r.PostForm.Get("redirect_uri"), CodeVerifier: r.PostForm.Get("code_verifier"),
	}, nil
}

// formBody reports whether r's body is application/x-www-form-urlencoded
// (RFC 6749 §4.1.3), parameters allowed. The bare type, what clients
// send, is recognized without parsing; anything else goes through
// mime.ParseMediaType.
func formBody(r *http.Request) bool {
	ct := r.Header.Get(echo.HeaderContentType)
	if strings.EqualFold(ct, echo.MIMEApplicationForm) {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == echo.MIMEApplicationForm
}

// readPostForm fills r.PostForm from a form body, as r.ParseForm does,
// without also building r.Form from it and the URL's query (the token
// endpoint reads the body only; a later ParseForm still builds r.Form).
// The body is bounded by the BodyLimit middleware. Errors: an unreadable
// body or a malformed form.
func readPostForm(r *http.Request) error {
	if r.PostForm != nil {
		return nil
	}
	if r.Body == nil {
		r.PostForm = url.Values{}
		return nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		r.PostForm = url.Values{}
		return err
	}
	r.PostForm, err = url.ParseQuery(string(b))
	return err
}

// token is POST /oauth2/token (seed 001 steps 3 and 5). The body must be
// application/x-www-form-urlencoded; a parameter sent twice is rejected
// (RFC 6749 §3.2). Success and error bodies carry Cache-Control: no-store.
func (s *Server) token(c echo.Context) error {
	c.Set(ctxTokenEndpoint, true)
	r := c.Request()
	if s.oidc != nil {
		if formBody(r) {
			if err := readPostForm(r); err == nil && !isDialectTokenRequest(r.PostForm) {
				return s.standardToken(c)
			}
		}
	}
	req, err := parseTokenRequest(r)
	if err != nil {
		return err
	}
	resp, err := s.oauth.Token(r.Context(), req)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("Pragma", "no-cache")
	return c.JSON(http.StatusOK, resp)
}

// jwks is GET /.well-known/jwks.json: the public keys of access tokens.
func (s *Server) jwks(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
	return c.JSON(http.StatusOK, s.oauth.Keys().JWKS())
}

const (
	ctxPrincipal     = "principal"
	ctxTokenEndpoint = "token_endpoint" // errors answer as the token endpoint's (also on POST /oauth2/authorize)
)

// bearer authenticates REST API calls with an access token (RFC 6750).
func (s *Server) bearer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.oauth.Authenticate(c.Request().Context(), c.Request().Header.Get(echo.HeaderAuthorization))
		if err != nil {
			return err
		}
		c.Set(ctxPrincipal, p)
		if p.PATID != "" && s.patUsage != nil {
			s.patUsage.RecordPAT(p.PATID, s.now(), clientIP(c))
		}
		return next(c)
	}
}

// authorizePost is POST /oauth2/authorize, dispatched on what the body
// is: a form with grant_type is a token request (the Azure DevOps provider
// of @auth/core posts the seed's token body here), served exactly as
// /oauth2/token with no session and no CSRF token; a form with
// response_type and neither decision nor _csrf is an authorization
// request sent as a form (OIDC Core §3.1.2.1), served as the GET with the
// session but without CSRF; every other POST is the approval form
// (decide, behind the browser chain).
func (s *Server) authorizePost(decide, authorizeForm echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err == nil && mt == echo.MIMEApplicationForm {
			if err := r.ParseForm(); err == nil {
				f := r.PostForm
				switch {
				case f.Get("grant_type") != "":
					return s.limitToken(s.token)(c)
				case s.oidc != nil && f.Has("response_type") && !f.Has("decision") && !f.Has("_csrf"):
					return authorizeForm(c)
				}
			}
		}
		return decide(c)
	}
}
