package oauth

import (
	"errors"
	"net/http"
)

// Standard token-endpoint errors (RFC 6749 §5.2): the body carries only
// error and error_description (the dialect's PascalCase duplicates are for
// the dialect). Standard is set on each, so the web layer writes them so.
var (
	ErrStdGrantTypeMissing     = stdErr("invalid_request", "grant_type is required", http.StatusBadRequest)
	ErrStdGrantTypeUnsupported = stdErr("unsupported_grant_type", "grant_type must be authorization_code, refresh_token, client_credentials or urn:ietf:params:oauth:grant-type:device_code (implicit and password are not offered)", http.StatusBadRequest)
	ErrStdClientMissing        = stdErr("invalid_client", "Client authentication is required: client_secret_basic, client_secret_post, or client_id alone for a public client", http.StatusUnauthorized)
	ErrStdClientFailed         = stdErr("invalid_client", "Client authentication failed", http.StatusUnauthorized)
	ErrStdClientMethods        = stdErr("invalid_request", "Use one client authentication method: HTTP Basic or client_secret in the body, not both", http.StatusBadRequest)
	ErrStdGrantNotAllowed      = stdErr("unauthorized_client", "The app is not registered for this grant type", http.StatusBadRequest)
	ErrStdCodeMissing          = stdErr("invalid_request", "code is required", http.StatusBadRequest)
	ErrStdRefreshMissing       = stdErr("invalid_request", "refresh_token is required", http.StatusBadRequest)
	ErrStdDeviceCodeMissing    = stdErr("invalid_request", "device_code is required", http.StatusBadRequest)
	ErrStdGrantOtherClient     = stdErr("invalid_grant", "The grant was issued to another client", http.StatusBadRequest)
	ErrStdScopeWiden           = stdErr("invalid_scope", "scope may only narrow the scopes originally granted", http.StatusBadRequest)
	ErrStdScopeNotRegistered   = stdErr("invalid_scope", "scope names a scope that is not registered for the app", http.StatusBadRequest)
	ErrStdAuthorizationPending = stdErr("authorization_pending", "The user has not yet approved the device", http.StatusBadRequest)
	ErrStdSlowDown             = stdErr("slow_down", "Polling too fast: wait the interval between requests", http.StatusBadRequest)
	ErrStdExpiredToken         = stdErr("expired_token", "The device code has expired: start again", http.StatusBadRequest)
	ErrStdAccessDenied         = stdErr("access_denied", "The user denied the device", http.StatusBadRequest)
)

func stdErr(code, desc string, status int) *Error {
	return &Error{Code: code, Description: desc, Status: status, Standard: true}
}

// standardError re-spells an error of the shared grant code (written in
// the dialect's terms) for a standard client: every failure of the
// presented grant is invalid_grant (RFC 6749 §5.2), a failed client
// authentication invalid_client; the description is kept.
func standardError(err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Standard {
		return err
	}
	out := *e
	out.Standard = true
	switch e {
	case ErrGrantExpired, ErrCodeReused, ErrRefreshReused, ErrRefreshUnknown, ErrRedirectURIMismatch,
		ErrAuthorizationGone, ErrSecretRetired, ErrPKCEFailed, ErrPKCEUnexpected, ErrGrantInvalid:
		out.Code, out.Status = "invalid_grant", http.StatusBadRequest
	case ErrSecretExpired, ErrClientFailed, ErrClientUnknown, ErrClientNotApproved, ErrSecretMissing:
		out.Code, out.Status = "invalid_client", http.StatusUnauthorized
	}
	return &out
}
