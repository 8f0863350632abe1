package domain

import (
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

func TestRedirectURIMatches(t *testing.T) {
	r := Registration{CallbackURL: "https://app.example/cb", RedirectURIs: []string{"http://127.0.0.1/cb", "http://[::1]/native"}}
	for _, tc := range []struct {
		given string
		want  bool
	}{
		{"https://app.example/cb", true},
		{"https://app.example/cb/", false},
		{"https://APP.example/cb", false},
		{"http://127.0.0.1/cb", true},
		{"http://127.0.0.1:53124/cb", true},
		{"http://127.0.0.1:53124/other", false},
		{"http://localhost:53124/cb", false},
		{"http://[::1]:8080/native", true},
		{"http://127.0.0.1:53124/cb?x=1", false},
		{"", false},
	} {
		if got := r.RedirectURIMatches(tc.given); got != tc.want {
			t.Errorf("RedirectURIMatches(%q) = %v, want %v", tc.given, got, tc.want)
		}
	}
}

func TestValidateClientFields(t *testing.T) {
	base := Registration{Name: "A", Company: "C", AppURL: "https://a.example", CallbackURL: "https://a.example/cb", Scopes: []string{"vso.profile"}}
	for _, tc := range []struct {
		name  string
		mod   func(*Registration)
		field string // "" = valid
	}{
		{"defaults", func(*Registration) {}, ""},
		{"standard and dialect", func(r *Registration) {
			r.GrantTypes = []string{GrantAuthorizationCode, GrantDialect, GrantRefreshToken}
		}, ""},
		{"unknown grant", func(r *Registration) { r.GrantTypes = []string{"password"} }, FieldGrantTypes},
		{"no grant", func(r *Registration) { r.GrantTypes = []string{""} }, FieldGrantTypes},
		{"public with dialect", func(r *Registration) { r.ClientType = ClientPublic }, FieldGrantTypes},
		{"public code", func(r *Registration) {
			r.ClientType, r.GrantTypes = ClientPublic, []string{GrantAuthorizationCode, GrantRefreshToken}
		}, ""},
		{"public client credentials", func(r *Registration) {
			r.ClientType, r.GrantTypes = ClientPublic, []string{GrantClientCredentials}
		}, FieldGrantTypes},
		{"refresh alone", func(r *Registration) { r.GrantTypes = []string{GrantRefreshToken} }, FieldGrantTypes},
		{"bad type", func(r *Registration) { r.ClientType = "secret" }, FieldClientType},
		{"bad alg", func(r *Registration) { r.IDTokenAlg = "HS256" }, FieldIDTokenAlg},
		{"loopback redirect", func(r *Registration) { r.RedirectURIs = []string{"http://127.0.0.1/cb"} }, ""},
		{"http redirect", func(r *Registration) { r.RedirectURIs = []string{"http://app.example/cb"} }, FieldRedirectURIs},
		{"fragment redirect", func(r *Registration) { r.RedirectURIs = []string{"https://app.example/cb#x"} }, FieldRedirectURIs},
		{"http logout", func(r *Registration) { r.PostLogoutRedirectURIs = []string{"http://app.example/"} }, FieldPostLogoutRedirectURIs},
		{"loopback first without dialect", func(r *Registration) {
			r.CallbackURL, r.GrantTypes = "http://127.0.0.1/cb", []string{GrantAuthorizationCode}
		}, ""},
		{"loopback first with dialect", func(r *Registration) { r.CallbackURL = "http://127.0.0.1/cb" }, FieldCallbackURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.mod(&r)
			_, err := ValidateRegistration(r)
			got := apperr.FieldErrors(err)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if got[tc.field] == "" {
				t.Fatalf("got %v, want an error at %s", err, tc.field)
			}
		})
	}
}
