package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodesAndMessages(t *testing.T) {
	inv := Errorf(Invalid, "name %q is too long", "x")
	wrapped := fmt.Errorf("saving: %w", inv)
	plain := errors.New("disk on fire: /var/lib/secret")
	tests := []struct {
		name     string
		err      error
		wantCode Code
		wantMsg  string
	}{
		{"nil", nil, "", ""},
		{"direct", inv, Invalid, `name "x" is too long`},
		{"wrapped", wrapped, Invalid, `name "x" is too long`},
		{"unavailable", Errorf(Unavailable, "busy"), Unavailable, "busy"},
		{"foreign error is internal and hidden", plain, Internal, "Internal error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if got := ErrorMessage(tt.err); got != tt.wantMsg {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.wantMsg)
			}
		})
	}
	if !Is(wrapped, Invalid) || Is(wrapped, NotFound) || Is(nil, Internal) {
		t.Errorf("Is answers wrongly")
	}
	if inv.Error() != `invalid: name "x" is too long` {
		t.Errorf("Error() = %q", inv.Error())
	}
}

func TestFieldErrors(t *testing.T) {
	e := &Error{Code: Invalid, Message: "bad", Fields: map[string]string{"name": "required"}}
	if got := FieldErrors(fmt.Errorf("x: %w", e)); got["name"] != "required" {
		t.Errorf("FieldErrors = %v", got)
	}
	if FieldErrors(errors.New("plain")) != nil {
		t.Errorf("FieldErrors of a plain error is not nil")
	}
}
