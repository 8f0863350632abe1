package domain

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// FuzzValidateCallbackURL checks that ValidateCallbackURL never panics, that
// every rejection is an apperr.Invalid error, and that whatever it accepts
// is a short absolute https URL with an ASCII host, no user info and no
// fragment (RFC 6749 §3.1.2, seed 001).
func FuzzValidateCallbackURL(f *testing.F) {
	for _, s := range []string{
		"https://localhost", "https://localhost:5001/cb", "https://127.0.0.1/cb", "https://[::1]:8443/cb",
		"https://a.com/cb?x=1&y=%20", "https://xn--bcher-kva.de/cb", "http://a.com/cb", "HTTPS://a.com/",
		"javascript:alert(1)", "data:text/html,x", "https://user:pass@a.com/", "https://a.com/cb#",
		"https://ex\u0430mple.com/", "https://bücher.de/", "https://a.com\\@evil.com", "https:///path",
		"https://:443/", "https://a.com:0/", "https://a.com:99999/", "https://a.com:/cb", "https://*.a.com/",
		"https://a.com/../x", "https://a.com/%2e%2e/x", "https://a.com/cb\r\n", "https://a.com/cb%0d%0a",
		"https://[fe80::1%25eth0]/", "https://0x7f000001/", "https://a.com/" + strings.Repeat("a", 486),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := ValidateCallbackURL(raw)
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Code != apperr.Invalid || e.Message == "" {
				t.Fatalf("ValidateCallbackURL(%q) = %#v, want a non-empty apperr.Invalid", raw, err)
			}
			return
		}
		if len(raw) > MaxURLLen {
			t.Fatalf("accepted %q of %d bytes", raw, len(raw))
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("accepted %q, but url.Parse fails: %v", raw, perr)
		}
		if u.Scheme != "https" || !strings.HasPrefix(raw, "https://") {
			t.Fatalf("accepted %q with scheme %q", raw, u.Scheme)
		}
		if u.User != nil {
			t.Fatalf("accepted %q with user info %q", raw, u.User)
		}
		if u.Fragment != "" || strings.Contains(raw, "#") {
			t.Fatalf("accepted %q with a fragment", raw)
		}
		if u.Hostname() == "" {
			t.Fatalf("accepted %q without a host", raw)
		}
		for i := 0; i < len(raw); i++ {
			if c := raw[i]; c <= ' ' || c >= 0x7f || c == '\\' {
				t.Fatalf("accepted %q with byte %#x", raw, c)
			}
		}
		for i := 0; i < len(u.Host); i++ {
			if c := u.Host[i]; c >= 0x80 || c == '*' || c == '%' {
				t.Fatalf("accepted %q with host %q", raw, u.Host)
			}
		}
		if !CallbackMatches(raw, raw) {
			t.Fatalf("CallbackMatches(%q, itself) = false", raw)
		}
	})
}
