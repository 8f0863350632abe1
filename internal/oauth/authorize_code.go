package oauth

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// The standard authorization code flow (RFC 6749 §4.1, RFC 7636, RFC
// 9700, OIDC Core §3.1) on the dialect's consent page and authorization
// records.

// ResponseTypeCode is the standard flow's response_type.
const ResponseTypeCode = "code"

// Response modes (OAuth 2.0 Multiple Response Types §2.1, Form Post
// Response Mode §2).
const (
	ResponseModeQuery    = "query"
	ResponseModeFormPost = "form_post"
)

// Prompt values (OIDC Core §3.1.2.1).
const (
	PromptNone    = "none"
	PromptLogin   = "login"
	PromptConsent = "consent"
)

// MaxNonceLength bounds the nonce (bytes): it is stored with the code and
// echoed in the ID token.
const MaxNonceLength = 512

// Standard authorization error codes (RFC 6749 §4.1.2.1, OIDC Core
// §3.1.2.6).
const (
	ErrCodeInvalidRequest          = "invalid_request"
	ErrCodeUnauthorizedClient      = "unauthorized_client"
	ErrCodeAccessDenied            = "access_denied"
	ErrCodeUnsupportedResponseType = "unsupported_response_type"
	ErrCodeInvalidScope            = "invalid_scope"
	ErrCodeLoginRequired           = "login_required"
	ErrCodeConsentRequired         = "consent_required"
)

// standardRequest tells a standard-flow request from a dialect one. An
// app without the dialect gets the standard flow's answers; an app
// without the code grant the dialect's. For an app with both, a request
// is standard when its response_type is not Assertion and it is a request
// OAuth 2.1 accepts: it carries PKCE, or it is an OpenID Connect request
// (openid in scope, OAuth 2.1 §7.5.1); anything else keeps the dialect's
// answers exactly (ResponseTypeNotSupported at the callback).
func standardRequest(app domain.App, req AuthorizeRequest) bool {
	if !app.AllowsGrant(domain.GrantAuthorizationCode) || req.ResponseType == ResponseTypeAssertion {
		return false
	}
	if !app.AllowsGrant(domain.GrantDialect) {
		return true
	}
	return req.ResponseType != "" && (req.CodeChallenge != "" || hasOpenID(req.Scope))
}

func hasOpenID(scope string) bool { return slices.Contains(strings.Fields(scope), ScopeOpenID) }

// checkCodeRequest verifies a standard authorization request after
// authorizeClient. Errors: *PageError while the redirect URI is not
// verified (missing, not registered); then *RedirectError (Standard) sent
// to it with state and iss.
func (s *Service) checkCodeRequest(ctx context.Context, userID string, app domain.App, req AuthorizeRequest) (Consent, error) {
	if req.RedirectURI == "" {
		return Consent{}, &PageError{Message: "The request has no redirect_uri. It must be one of the redirect URIs registered for " + app.Name + "."}
	}
	if !app.RedirectURIMatches(req.RedirectURI) {
		return Consent{}, &PageError{Message: "The redirect_uri is not one of the redirect URIs registered for " + app.Name + ", so you were not sent back to it."}
	}
	if app.External {
		return Consent{}, &PageError{Message: app.Name + " was recorded from another system and has no client secret here, so it cannot be authorized here yet. Ask its administrator to issue one."}
	}
	if !app.Public() && len(app.Secrets) == 0 {
		return Consent{}, &PageError{Message: app.Name + " has no client secret here, so it cannot be authorized yet. Ask its administrator to issue one."}
	}
	mode := req.ResponseMode
	if mode != ResponseModeFormPost {
		mode = ResponseModeQuery
	}
	redirect := func(code, desc string) error {
		return &RedirectError{Name: code, Description: desc, RedirectURI: req.RedirectURI, State: req.State,
			Issuer: s.cfg.Issuer, Standard: true, ResponseMode: mode}
	}
	switch {
	case req.ResponseMode != "" && req.ResponseMode != ResponseModeQuery && req.ResponseMode != ResponseModeFormPost:
		return Consent{}, redirect(ErrCodeInvalidRequest, "response_mode must be query or form_post")
	case req.ResponseType == "":
		return Consent{}, redirect(ErrCodeInvalidRequest, "response_type is required")
	case req.ResponseType != ResponseTypeCode:
		return Consent{}, redirect(ErrCodeUnsupportedResponseType, "response_type must be code (the implicit and hybrid flows are not offered)")
	case len(req.Nonce) > MaxNonceLength:
		return Consent{}, redirect(ErrCodeInvalidRequest, "nonce must be at most 512 characters")
	}
	if p := strings.Fields(req.Prompt); len(p) > 1 && slices.Contains(p, PromptNone) {
		return Consent{}, redirect(ErrCodeInvalidRequest, "prompt=none cannot be combined with other values")
	}
	if req.MaxAge != "" {
		if n, err := strconv.ParseInt(req.MaxAge, 10, 64); err != nil || n < 0 {
			return Consent{}, redirect(ErrCodeInvalidRequest, "max_age must be a number of seconds")
		}
	}
	// PKCE: S256 only; required of public clients (RFC 9700 §2.1.1) and
	// of apps that ask for it.
	switch {
	case req.CodeChallenge == "" && app.Public():
		return Consent{}, redirect(ErrCodeInvalidRequest, "a public client must send code_challenge with code_challenge_method=S256")
	case req.CodeChallenge == "" && !hasOpenID(req.Scope):
		// OAuth 2.1 §4.1.1: PKCE, or an OpenID Connect request's nonce.
		return Consent{}, redirect(ErrCodeInvalidRequest, "code_challenge is required (S256), unless the request is an OpenID Connect request (scope openid)")
	}
	if msg := checkPKCE(app, req); msg != "" {
		return Consent{}, redirect(ErrCodeInvalidRequest, msg)
	}
	if strings.TrimSpace(req.Scope) == "" {
		return Consent{}, redirect(ErrCodeInvalidScope, "scope is required")
	}
	oidc, catalog, err := splitStandardScopes(s.scopes, req.Scope)
	if err != nil {
		return Consent{}, redirect(ErrCodeInvalidScope, apperr.ErrorMessage(err))
	}
	if missing := s.scopes.Covers(app.Scopes, catalog); len(missing) > 0 {
		return Consent{}, redirect(ErrCodeInvalidScope, "scope "+strings.Join(missing, " ")+" is not registered for the app")
	}
	if !app.AllowsGrant(domain.GrantRefreshToken) {
		// OIDC Core §11: offline_access is ignored when it cannot be honoured.
		oidc = slices.DeleteFunc(oidc, func(s string) bool { return s == ScopeOfflineAccess })
	}
	if len(oidc)+len(catalog) == 0 {
		return Consent{}, redirect(ErrCodeInvalidScope, "no scope left to grant")
	}
	c := Consent{Request: req, App: app, Standard: true, OIDCScopes: oidc}
	c.Request.ClientID = app.ClientID
	c.Request.ResponseMode = mode
	c.Request.Scope = strings.Join(append(append([]string{}, oidc...), catalog...), " ")
	for _, id := range catalog {
		sc, _ := s.scopes.Lookup(id)
		c.Scopes = append(c.Scopes, sc)
	}
	if userID != "" {
		a, err := s.consents.ActiveAuthorization(ctx, userID, app.ClientID)
		switch {
		case err == nil:
			c.Existing = &a
			c.Covered = len(s.scopes.Covers(a.Scopes, catalog)) == 0
			for _, o := range oidc {
				if !slices.Contains(a.Scopes, o) {
					c.Covered = false
				}
			}
		case !apperr.Is(err, apperr.NotFound):
			return Consent{}, err
		}
	}
	return c, nil
}

// AuthRequirement is what a standard request needs of the user agent
// before a code can be issued.
type AuthRequirement int

const (
	AuthOK        AuthRequirement = iota // issue a code (or show the page)
	AuthSignIn                           // the user must sign in (again)
	AuthShowPage                         // show the consent page
	AuthAutoIssue                        // consent exists: issue a code without the page
)

// Requirement decides, for a verified standard request c, what happens
// next given whether the user is signed in and when they authenticated
// (OIDC Core §3.1.2.1 prompt and max_age). Errors: *RedirectError
// login_required / consent_required for prompt=none.
func (s *Service) Requirement(c Consent, signedIn bool, authTime time.Time) (AuthRequirement, error) {
	req := c.Request
	prompts := strings.Fields(req.Prompt)
	redirect := func(code, desc string) error {
		return &RedirectError{Name: code, Description: desc, RedirectURI: req.RedirectURI, State: req.State,
			Issuer: s.cfg.Issuer, Standard: true, ResponseMode: req.ResponseMode}
	}
	none := slices.Contains(prompts, PromptNone)
	stale := false
	if req.MaxAge != "" && signedIn {
		n, _ := strconv.ParseInt(req.MaxAge, 10, 64)
		stale = authTime.IsZero() || s.now().Sub(authTime) > time.Duration(n)*time.Second
	}
	switch {
	case !signedIn && none:
		return 0, redirect(ErrCodeLoginRequired, "the user is not signed in")
	case stale && none:
		return 0, redirect(ErrCodeLoginRequired, "the user signed in longer ago than max_age")
	case !signedIn || stale:
		return AuthSignIn, nil
	case slices.Contains(prompts, PromptLogin) && s.now().Sub(authTime) > time.Minute:
		// prompt=login: a sign-in within the last minute is the one it asked for.
		return AuthSignIn, nil
	}
	switch {
	case c.Covered && !slices.Contains(prompts, PromptConsent):
		return AuthAutoIssue, nil
	case none:
		return 0, redirect(ErrCodeConsentRequired, "the user has not approved these scopes")
	}
	return AuthShowPage, nil
}

// decideCode records the user's answer to a standard request (see
// Decide): on accept, the authorization is created or widened and a code
// carrying the nonce, auth_time and PKCE challenge is issued for the
// redirect URI of the request, in one transaction.
func (s *Service) decideCode(ctx context.Context, userID string, c Consent, accept bool) (Decision, error) {
	req := c.Request
	requested := strings.Fields(req.Scope)
	d := Decision{ClientID: c.App.ClientID, Scopes: requested, ResponseMode: req.ResponseMode, RedirectURI: req.RedirectURI}
	now := s.now()
	if !accept {
		e := &RedirectError{Name: ErrCodeAccessDenied, Description: "the user denied the request", RedirectURI: req.RedirectURI,
			State: req.State, Issuer: s.cfg.Issuer, Standard: true, ResponseMode: req.ResponseMode}
		d.Location, d.Params = e.Location(), e.Params()
		err := s.record(ctx, now, audit.ActionConsentDeny, audit.TargetApp, c.App.ClientID, map[string]any{"user_id": userID, "scopes": requested})
		return d, err
	}
	code := secret.New(secret.PrefixCode)
	secretID := ""
	if primary, ok := c.App.PrimarySecret(); ok {
		secretID = primary.ID
	}
	authTime := req.AuthTime
	if authTime.IsZero() {
		authTime = now
	}
	err := s.consents.WriteTx(ctx, func(ctx context.Context) error {
		authzID, err := s.grantAuthorization(ctx, userID, c.App.ClientID, requested, req.RedirectURI, now)
		if err != nil {
			return err
		}
		d.AuthorizationID = authzID
		return s.consents.CreateCode(ctx, domain.AuthCode{
			ID: uuid.NewString(), Hash: secret.Hash(code), AuthorizationID: authzID, ClientID: c.App.ClientID,
			UserID: userID, SecretID: secretID, Scopes: requested, RedirectURI: req.RedirectURI,
			CodeChallenge: req.CodeChallenge, CreatedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL),
			Flow: domain.FlowStandard, Nonce: req.Nonce, AuthTime: &authTime,
		})
	})
	if err != nil {
		return Decision{}, err
	}
	d.Approved = true
	d.Params = map[string]string{"code": code, "state": req.State, "iss": s.cfg.Issuer}
	d.Location = withQuery(req.RedirectURI, "code", code, "state", req.State, "iss", s.cfg.Issuer)
	return d, nil
}

// grantAuthorization creates the user's active authorization of the app
// with scopes, or widens the existing one to include them (one consent
// across both dialects), and records consent.grant. Runs inside the
// caller's transaction. Returns the authorization's id.
func (s *Service) grantAuthorization(ctx context.Context, userID, clientID string, requested []string, redirectURI string, now time.Time) (string, error) {
	a, err := s.consents.ActiveAuthorization(ctx, userID, clientID)
	before := a.Scopes
	switch {
	case apperr.Is(err, apperr.NotFound):
		a = domain.Authorization{ID: uuid.NewString(), UserID: userID, ClientID: clientID,
			Scopes: requested, RedirectURI: redirectURI, GrantedAt: now}
		if err := s.consents.CreateAuthorization(ctx, a); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	default:
		granted := s.scopes.Minimal(append(append([]string{}, a.Scopes...), requested...))
		if err := s.consents.UpdateAuthorizationGrant(ctx, a.ID, granted, a.RedirectURI, now); err != nil {
			return "", err
		}
	}
	return a.ID, s.record(ctx, now, audit.ActionConsentGrant, audit.TargetAuthorization, a.ID, map[string]any{
		"user_id": userID, "client_id": clientID, "scopes_requested": requested, "scopes_before": before,
	})
}
