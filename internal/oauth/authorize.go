package oauth

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// ConsentStore is what the authorization endpoint needs: the client, the
// user's authorization of it, and the code it issues, in one transaction.
type ConsentStore interface {
	WriteTx(ctx context.Context, fn func(ctx context.Context) error) error
	ClientByID(ctx context.Context, clientID string) (domain.App, error)
	ActiveAuthorization(ctx context.Context, userID, clientID string) (domain.Authorization, error)
	CreateAuthorization(ctx context.Context, a domain.Authorization) error
	UpdateAuthorizationGrant(ctx context.Context, id string, scopes []string, redirectURI string, at time.Time) error
	CreateCode(ctx context.Context, c domain.AuthCode) error
}

// ResponseTypeAssertion is the only response_type the web-server flow
// uses (seed 001, "Authorize your app").
const ResponseTypeAssertion = "Assertion"

// MaxStateLength is the longest state accepted (characters as bytes): the
// value is echoed on the approval page and in the redirect.
const MaxStateLength = 2048

// AuthorizeRequest holds the query of GET /oauth2/authorize (seed 001):
// client_id (a GUID), response_type=Assertion, state (any string, echoed
// back), scope (space-separated) and redirect_uri (the registered callback
// URL, exactly).
type AuthorizeRequest struct {
	ClientID     string
	ResponseType string
	State        string
	Scope        string
	RedirectURI  string
	// CodeChallenge and CodeChallengeMethod are PKCE (RFC 7636 §4.3):
	// optional unless the app requires PKCE; only S256 is accepted.
	CodeChallenge       string
	CodeChallengeMethod string
	// The standard flow's parameters (OIDC Core §3.1.2.1): response_mode
	// (query or form_post), nonce, prompt, max_age (seconds, as sent) and
	// login_hint. The dialect ignores them.
	ResponseMode string
	Nonce        string
	Prompt       string
	MaxAge       string
	LoginHint    string
	// AuthTime is when the signed-in user authenticated: set by the web
	// layer from the session, never from the request.
	AuthTime time.Time `json:"-"`
}

// PKCEMethodS256 is the only code_challenge_method accepted (RFC 9700
// §2.1.1: "plain" offers no protection against a leaked request).
const PKCEMethodS256 = "S256"

// ErrNameInvalidRequest is the error sent back to the callback for a bad
// PKCE parameter (RFC 7636 §4.4.1).
const ErrNameInvalidRequest = "invalid_request"

// checkPKCE validates the PKCE parameters of an authorization request:
// "" when fine, else the error description.
func checkPKCE(app domain.App, req AuthorizeRequest) string {
	if req.CodeChallenge == "" {
		if req.CodeChallengeMethod != "" {
			return "code_challenge_method was sent without code_challenge"
		}
		if app.RequirePKCE {
			return "this app requires PKCE: send code_challenge with code_challenge_method=S256"
		}
		return ""
	}
	if req.CodeChallengeMethod != PKCEMethodS256 {
		return "code_challenge_method must be S256 (plain is not accepted)"
	}
	if !ValidChallenge(req.CodeChallenge) {
		return "code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)"
	}
	return ""
}

// Consent is a verified authorization request: what the approval page
// shows (seed 001: company, app, description, links; every requested scope
// with its name and description).
type Consent struct {
	Request  AuthorizeRequest
	App      domain.App
	Scopes   []scope.Scope
	Existing *domain.Authorization // the user's active authorization, if any
	// Standard is set for a request of the standard flow (response_type
	// code); OIDCScopes then holds its OpenID Connect scopes (openid,
	// profile, email, offline_access), which Scopes leaves out.
	Standard   bool
	OIDCScopes []string
	// Covered: the user's active authorization already grants every
	// requested scope (the standard flow then skips the page unless
	// prompt=consent).
	Covered bool
}

// CheckAuthorize verifies an authorization request (RFC 6749 §4.1.1,
// §3.1.2.4, PROTOCOL.md "Authorize errors"). userID may be empty (not
// signed in yet).
//
// Errors: *PageError when the client_id is missing, malformed, unknown or
// deleted, when the app is waiting for approval or was rejected, when the
// app cannot mint tokens here, or when redirect_uri is
// missing or not exactly the registered callback URL — these must never
// redirect; *RedirectError (ResponseTypeRequired, ResponseTypeNotSupported,
// ScopeRequired, InvalidScope) once the redirect URI is known good; other
// errors are internal.
func (s *Service) CheckAuthorize(ctx context.Context, userID string, req AuthorizeRequest) (Consent, error) {
	app, err := s.authorizeClient(ctx, req)
	if err != nil {
		return Consent{}, err
	}
	if standardRequest(app, req) {
		return s.checkCodeRequest(ctx, userID, app, req)
	}
	return s.checkDialectRequest(ctx, userID, app, req)
}

// authorizeClient runs the checks every authorization request starts
// with: the state's length, the client_id, the app's existence and
// review status. Errors: *PageError; internal errors.
func (s *Service) authorizeClient(ctx context.Context, req AuthorizeRequest) (domain.App, error) {
	if len(req.State) > MaxStateLength {
		// Never reflected: not on the page, not in a redirect.
		return domain.App{}, &PageError{Message: "The state parameter is longer than 2048 characters. The app that sent you here must send a shorter one."}
	}
	if req.ClientID == "" {
		return domain.App{}, &PageError{Message: "The request has no client_id. The app that sent you here must pass the app ID it was registered with."}
	}
	id, err := uuid.Parse(req.ClientID)
	if err != nil || len(req.ClientID) != 36 {
		return domain.App{}, &PageError{Message: "The client_id is not a valid app ID (a GUID such as 00001111-aaaa-2222-bbbb-3333cccc4444)."}
	}
	app, err := s.consents.ClientByID(ctx, id.String())
	if apperr.Is(err, apperr.NotFound) || (err == nil && app.DeletedAt != nil) {
		return domain.App{}, &PageError{Message: "No app is registered with this client_id. It may have been deleted."}
	}
	if err != nil {
		return domain.App{}, err
	}
	switch app.Status {
	case domain.AppPending:
		return domain.App{}, &PageError{Message: "This app is waiting for an administrator's approval. It cannot be authorized until then."}
	case domain.AppRejected:
		return domain.App{}, &PageError{Message: "An administrator did not approve this app, so it cannot be authorized."}
	}
	return app, nil
}

// checkDialectRequest is the Azure DevOps dialect's authorization request
// (response_type=Assertion; PROTOCOL.md), after authorizeClient.
func (s *Service) checkDialectRequest(ctx context.Context, userID string, app domain.App, req AuthorizeRequest) (Consent, error) {
	if req.RedirectURI == "" {
		return Consent{}, &PageError{Message: "The request has no redirect_uri. It must be the callback URL registered for " + app.Name + "."}
	}
	if !domain.CallbackMatches(app.CallbackURL, req.RedirectURI) {
		return Consent{}, &PageError{Message: "The redirect_uri does not exactly match the callback URL registered for " + app.Name + ", so you were not sent back to it."}
	}
	if app.External {
		return Consent{}, &PageError{Message: app.Name + " was recorded from another system and has no client secret here, so it cannot be authorized here yet. Ask its administrator to issue one."}
	}
	if len(app.Secrets) == 0 {
		return Consent{}, &PageError{Message: app.Name + " has no client secret here, so it cannot be authorized yet. Ask its administrator to issue one."}
	}
	redirect := func(name, desc string) error {
		return &RedirectError{Name: name, Description: desc, RedirectURI: app.CallbackURL, State: req.State, Issuer: s.cfg.Issuer}
	}
	switch {
	case req.ResponseType == "":
		return Consent{}, redirect(ErrNameResponseTypeRequired, "response_type is required")
	case req.ResponseType != ResponseTypeAssertion:
		return Consent{}, redirect(ErrNameResponseTypeNotSupported, "response_type must be Assertion")
	case strings.TrimSpace(req.Scope) == "":
		return Consent{}, redirect(ErrNameScopeRequired, "scope is required")
	}
	if msg := checkPKCE(app, req); msg != "" {
		return Consent{}, redirect(ErrNameInvalidRequest, msg)
	}
	requested, err := s.scopes.Parse(req.Scope)
	if err != nil {
		return Consent{}, redirect(ErrNameInvalidScope, apperr.ErrorMessage(err))
	}
	if missing := s.scopes.Covers(app.Scopes, requested); len(missing) > 0 {
		return Consent{}, redirect(ErrNameInvalidScope, "scope "+strings.Join(missing, " ")+" is not registered for the app")
	}
	c := Consent{Request: req, App: app}
	c.Request.ClientID = app.ClientID
	c.Request.Scope = strings.Join(requested, " ")
	for _, id := range requested {
		sc, _ := s.scopes.Lookup(id)
		c.Scopes = append(c.Scopes, sc)
	}
	if userID != "" {
		a, err := s.consents.ActiveAuthorization(ctx, userID, app.ClientID)
		switch {
		case err == nil:
			c.Existing = &a
		case !apperr.Is(err, apperr.NotFound):
			return Consent{}, err
		}
	}
	return c, nil
}

// Decision is the outcome of the approval page: where to send the user
// agent (the callback with ?code=…&state=… or ?error=AccessDenied&state=…).
type Decision struct {
	Location string
	// ResponseMode, RedirectURI and Params: for the standard flow's
	// response_mode=form_post, the page posts Params to RedirectURI.
	ResponseMode    string
	RedirectURI     string
	Params          map[string]string
	Approved        bool
	AuthorizationID string
	ClientID        string
	Scopes          []string
}

// Decide records the user's answer on the approval page. The request is
// verified again (hidden form fields are not trusted). On accept, in one
// transaction: the user's active authorization for the app is created or
// widened to include the requested scopes, and a single-use authorization
// code valid for CodeTTL is issued; the code's value exists only in the
// returned Location. On deny, no code is issued (RFC 6749 §4.1.2.1).
//
// Errors: those of CheckAuthorize; internal errors.
func (s *Service) Decide(ctx context.Context, userID string, req AuthorizeRequest, accept bool) (Decision, error) {
	c, err := s.CheckAuthorize(ctx, userID, req)
	if err != nil {
		return Decision{}, err
	}
	if c.Standard {
		return s.decideCode(ctx, userID, c, accept)
	}
	requested := strings.Fields(c.Request.Scope)
	d := Decision{ClientID: c.App.ClientID, Scopes: requested}
	now := s.now()
	if !accept {
		d.Location = (&RedirectError{Name: ErrNameAccessDenied, RedirectURI: c.App.CallbackURL, State: req.State, Issuer: s.cfg.Issuer}).Location()
		err := s.record(ctx, now, audit.ActionConsentDeny, audit.TargetApp, c.App.ClientID, map[string]any{"user_id": userID, "scopes": requested})
		return d, err
	}
	code := secret.New(secret.PrefixCode)
	primary, _ := c.App.PrimarySecret()
	err = s.consents.WriteTx(ctx, func(ctx context.Context) error {
		a, err := s.consents.ActiveAuthorization(ctx, userID, c.App.ClientID)
		before := a.Scopes
		switch {
		case apperr.Is(err, apperr.NotFound):
			a = domain.Authorization{ID: uuid.NewString(), UserID: userID, ClientID: c.App.ClientID,
				Scopes: requested, RedirectURI: c.App.CallbackURL, GrantedAt: now}
			if err := s.consents.CreateAuthorization(ctx, a); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			granted := s.scopes.Minimal(append(append([]string{}, a.Scopes...), requested...))
			if err := s.consents.UpdateAuthorizationGrant(ctx, a.ID, granted, c.App.CallbackURL, now); err != nil {
				return err
			}
		}
		d.AuthorizationID = a.ID
		if err := s.record(ctx, now, audit.ActionConsentGrant, audit.TargetAuthorization, a.ID, map[string]any{
			"user_id": userID, "client_id": c.App.ClientID, "scopes_requested": requested, "scopes_before": before,
		}); err != nil {
			return err
		}
		return s.consents.CreateCode(ctx, domain.AuthCode{
			ID: uuid.NewString(), Hash: secret.Hash(code), AuthorizationID: a.ID, ClientID: c.App.ClientID,
			UserID: userID, SecretID: primary.ID, Scopes: requested, RedirectURI: c.App.CallbackURL,
			CodeChallenge: req.CodeChallenge, CreatedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL),
		})
	})
	if err != nil {
		return Decision{}, err
	}
	d.Approved = true
	// iss (RFC 9207 §2) lets a client that talks to several servers tell
	// whose response this is.
	d.Location = withQuery(c.App.CallbackURL, "code", code, "state", req.State, "iss", s.cfg.Issuer)
	return d, nil
}
