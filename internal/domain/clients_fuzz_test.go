package domain

import (
	"net/url"
	"testing"
)

// FuzzRedirectURIMatches checks the standard flow's redirect URI match:
// it never panics; a registered URI matches itself; anything else that
// matches is a loopback URI differing from a registered loopback URI
// only in its port (RFC 8252 §7.3), never another host, scheme, path or
// query, and never one with user info or a fragment.
func FuzzRedirectURIMatches(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1/cb", "http://127.0.0.1:1234/cb", "http://[::1]:99/cb", "http://127.0.0.1.evil.example/cb",
		"http://127.0.0.1:1234/cb?x", "http://u@127.0.0.1:1/cb", "http://127.0.0.1:1/cb#f", "https://app.example/cb", "HTTP://127.0.0.1/cb",
		"http://127.0.0.1:1234/CB", "http://localhost:1234/cb", "http://127.0.0.1:/cb", "http://[::1]/cb"} {
		f.Add(s)
	}
	r := Registration{CallbackURL: "https://app.example/cb", RedirectURIs: []string{"http://127.0.0.1/cb", "http://[::1]/cb"}}
	f.Fuzz(func(t *testing.T, given string) {
		if !r.RedirectURIMatches(given) {
			return
		}
		for _, reg := range r.AllRedirectURIs() {
			if reg == given {
				return
			}
		}
		u, err := url.Parse(given)
		if err != nil || u.Scheme != "http" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1") || u.Path != "/cb" ||
			u.RawQuery != "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("RedirectURIMatches(%q) = true", given)
		}
	})
}

// FuzzParseGrantTypes checks that ParseGrantTypes never panics and
// returns only known grant types.
func FuzzParseGrantTypes(f *testing.F) {
	for _, s := range []string{"authorization_code refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer,client_credentials", "password", "", " , "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gs, err := ParseGrantTypes(s)
		if err != nil {
			return
		}
		for _, g := range gs {
			known := false
			for _, k := range AllGrantTypes {
				known = known || g == k
			}
			if !known {
				t.Fatalf("ParseGrantTypes(%q) returned %q", s, g)
			}
		}
	})
}
