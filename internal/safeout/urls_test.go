package safeout

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.example/services/T0/B0/XXXX", "https://hooks.example/…"},
		{"https://bot:s3cret@hooks.example:8443/t/abc?k=v", "https://hooks.example:8443/…"},
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9000"},
		{"https://hooks.example/?token=abc", "https://hooks.example/…"},
		{"https://hooks.example#frag", "https://hooks.example/…"},
		{"HTTPS://user@hooks.example/x", "https://hooks.example/…"},
		{"not a url", "(unreadable URL)"},
		{"", "(unreadable URL)"},
		{"https://[::1]:8080/token", "https://[::1]:8080/…"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactSinkName(t *testing.T) {
	if got := RedactSinkName("webhook:https://u:p@h.example/tok"); got != "webhook:https://h.example/…" {
		t.Errorf("webhook sink: %q", got)
	}
	for _, n := range []string{"dir:/var/reports", "email:a@example.com"} {
		if got := RedactSinkName(n); got != n {
			t.Errorf("RedactSinkName(%q) = %q", n, got)
		}
	}
}

func TestRedactURLError(t *testing.T) {
	err := RedactURLError(&url.Error{Op: "Post", URL: "https://u:***@h.example/path/tok", Err: errors.New("connection refused")})
	if s := err.Error(); strings.Contains(s, "tok") || strings.Contains(s, "u:") || !strings.Contains(s, "connection refused") {
		t.Errorf("redacted error %q", s)
	}
	plain := errors.New("webhook answered 500")
	if RedactURLError(plain) != plain {
		t.Error("a non-URL error changed")
	}
}

// FuzzRedactURL: whatever the input, the redacted form never carries the
// URL's password, username, path beyond "/", query or fragment.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://u:p@h.example/t/abc?k=v#f", "http://127.0.0.1:9000", "not a url", "https://[::1]:8080/x", "https://h/%2e%2e/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := RedactURL(raw)
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Scheme == "" || u.Host == "" {
			if got != "(unreadable URL)" {
				t.Fatalf("RedactURL(%q) = %q for an unreadable URL", raw, got)
			}
			return
		}
		rest, ok := strings.CutPrefix(got, strings.ToLower(u.Scheme)+"://"+u.Host)
		if !ok || (rest != "" && rest != "/…") {
			t.Fatalf("RedactURL(%q) = %q: want scheme://host and at most /…", raw, got)
		}
	})
}
