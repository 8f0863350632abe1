package oauth

import (
	"net/http"
)

// Error is a token-endpoint error (RFC 6749 §5.2) with the code and text
// the Azure DevOps service uses (shared/spec/PROTOCOL.md, "Token errors")
// and the HTTP status to answer with: 401 for client authentication
// failures, 500 for server_error, 400 otherwise.
type Error struct {
	Code        string // invalid_request, invalid_client, unauthorized_client, invalid_grant, unsupported_grant_type, server_error
	Description string
	Status      int
	// Standard: an error of the standard token endpoint (RFC 6749 §5.2
	// body only, no PascalCase duplicates).
	Standard bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func newErr(code, desc string, status int) *Error {
	return &Error{Code: code, Description: desc, Status: status}
}

// Token-endpoint errors, one per case of PROTOCOL.md plus the few cases it
// does not list (unsupported grant type, missing assertion, wrong
// client_assertion_type).
var (
	ErrGrantTypeMissing     = newErr("invalid_request", "grant_type must be provided", http.StatusBadRequest)
	ErrGrantTypeUnsupported = newErr("unsupported_grant_type", "grant_type must be urn:ietf:params:oauth:grant-type:jwt-bearer or refresh_token", http.StatusBadRequest)
	ErrAssertionTypeInvalid = newErr("invalid_request", "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer", http.StatusBadRequest)
	ErrAssertionMissing     = newErr("invalid_request", "assertion must be provided: the authorization code, or the refresh token for grant_type=refresh_token", http.StatusBadRequest)
	ErrRedirectURIMissing   = newErr("invalid_request", "A redirect URI must be provided", http.StatusBadRequest)
	ErrRedirectURIMismatch  = newErr("invalid_request", "The given redirect_url was not valid", http.StatusBadRequest)
	ErrGrantExpired         = newErr("invalid_request", "The authorization grant has expired.", http.StatusBadRequest)
	ErrCodeReused           = newErr("invalid_request", "An access token has already been issued", http.StatusBadRequest)
	ErrRefreshReused        = newErr("invalid_request", "The access token has already been refreshed", http.StatusBadRequest)
	ErrRefreshUnknown       = newErr("invalid_request", "The given refresh token is invalid", http.StatusBadRequest)
	ErrSecretExpired        = newErr("invalid_request", "Client secret is expired.", http.StatusBadRequest)
	ErrSecretMissing        = newErr("invalid_client", "A client secret must be provided", http.StatusUnauthorized)
	ErrClientUnknown        = newErr("invalid_client", "The client is not valid", http.StatusUnauthorized)
	ErrClientFailed         = newErr("unauthorized_client", "Client failed validation", http.StatusUnauthorized)
	ErrClientNotApproved    = newErr("invalid_client", "The app is waiting for an administrator's approval", http.StatusUnauthorized)
	ErrGrantInvalid         = newErr("invalid_grant", "The provided authorization grant failed verification", http.StatusBadRequest)
	ErrAuthorizationGone    = newErr("invalid_grant", "No authorization grant was found", http.StatusBadRequest)
	ErrSecretRetired        = newErr("invalid_grant", "The grant was issued under a client secret that has since been regenerated or retired", http.StatusBadRequest)
	ErrPKCEFailed           = newErr("invalid_grant", "The code_verifier does not match the code_challenge of the authorization request", http.StatusBadRequest)
	ErrPKCEUnexpected       = newErr("invalid_grant", "A code_verifier was sent but the authorization request had no code_challenge", http.StatusBadRequest)
	ErrServer               = newErr("server_error", "An internal server error occurred", http.StatusInternalServerError)
)

// Authorization-endpoint error names sent back to the callback as
// ?error=<Name> (PROTOCOL.md, "Authorize errors").
const (
	ErrNameResponseTypeRequired     = "ResponseTypeRequired"
	ErrNameResponseTypeNotSupported = "ResponseTypeNotSupported"
	ErrNameScopeRequired            = "ScopeRequired"
	ErrNameInvalidScope             = "InvalidScope"
	ErrNameAccessDenied             = "AccessDenied"
)

// PageError is an authorization request that must not be redirected
// because the client or its redirect URI cannot be trusted: the user gets
// an HTML 400 page with Message (seed 001: "a 400 error page is displayed").
type PageError struct{ Message string }

func (e *PageError) Error() string { return e.Message }

// RedirectError is an authorization request error found after the redirect
// URI was verified: the user agent goes back to RedirectURI with
// ?error=Name&state=State (RFC 6749 §4.1.2.1).
type RedirectError struct {
	Name        string
	Description string
	RedirectURI string
	State       string
	Issuer      string // iss of the response (RFC 9207); "" leaves it out
	// Standard marks an error of the standard flow: it carries
	// error_description, and ResponseMode form_post is posted, not
	// redirected.
	Standard     bool
	ResponseMode string
}

func (e *RedirectError) Error() string { return e.Name + ": " + e.Description }

// Location returns the callback URL carrying the error and state.
func (e *RedirectError) Location() string {
	if e.Standard {
		return withQuery(e.RedirectURI, "error", e.Name, "error_description", e.Description, "state", e.State, "iss", e.Issuer)
	}
	return withQuery(e.RedirectURI, "error", e.Name, "state", e.State, "iss", e.Issuer)
}

// Params returns the response parameters (for form_post); empty values
// are left out.
func (e *RedirectError) Params() map[string]string {
	out := map[string]string{"error": e.Name, "error_description": e.Description, "state": e.State, "iss": e.Issuer}
	for k, v := range out {
		if v == "" {
			delete(out, k)
		}
	}
	return out
}

// BearerError is a rejected Bearer request (RFC 6750 §3.1). Code is
// "invalid_token" (401) or "insufficient_scope" (403); empty Code means no
// credentials were sent (401 without an error attribute).
type BearerError struct {
	Code        string
	Description string
	Scope       string // the required scope, for insufficient_scope
}

func (e *BearerError) Error() string { return e.Code + ": " + e.Description }

// Status returns the HTTP status for e.
func (e *BearerError) Status() int {
	if e.Code == "insufficient_scope" {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

// PolicyError is a valid access token refused because the organization
// turned "Third-party application access via OAuth" off: every REST call
// answers 401 with the service's TF400813 body (seed 001 FAQ, PROTOCOL.md
// "Using tokens").
type PolicyError struct{ UserID string }

func (e *PolicyError) Error() string {
	return "TF400813: The user '" + e.UserID + "' is not authorized to access this resource."
}
