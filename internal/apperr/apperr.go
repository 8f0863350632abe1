// Package apperr defines the application's error codes and the Error value
// that carries them from the domain to the edges (HTTP, CLI).
//
// Errors are mapped to an HTTP status or an exit code in exactly one place
// per edge (internal/web and internal/cli); everything below the edge only
// says what kind of failure happened. Modelled on benbjohnson/wtf error.go.
package apperr

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error class.
type Code string

// Error codes. Only Internal errors are logged; the message of every other
// code is safe to show to the person who caused it.
const (
	Invalid      Code = "invalid"      // bad input; 400 / exit 2
	NotFound     Code = "not_found"    // 404 / exit 2
	Conflict     Code = "conflict"     // 409 / exit 2
	Unauthorized Code = "unauthorized" // 401
	Forbidden    Code = "forbidden"    // 403
	Unavailable  Code = "unavailable"  // 503 with Retry-After: busy, try again shortly
	// PreconditionFailed: the request's If-Match names another version of
	// the resource than the current one (RFC 9110 §13.1.1); 412.
	PreconditionFailed Code = "precondition_failed"
	// PreconditionRequired: an update came without the If-Match it needs
	// (RFC 6585 §3); 428.
	PreconditionRequired Code = "precondition_required"
	Internal             Code = "internal" // 500 / exit 1
)

// Error is an application error: a Code plus a message a person can act on.
// Fields, when set, carries per-field messages for forms (field name →
// message), e.g. from registration validation.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, Internal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the human message of the first *Error in err's
// chain, or "Internal error." for any other error, so that internal details
// never reach a user.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// FieldErrors returns the per-field messages of the first *Error in err's
// chain, or nil.
func FieldErrors(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && ErrorCode(err) == code }
