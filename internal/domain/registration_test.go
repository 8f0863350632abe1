package domain

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// urlOfLen returns an https callback URL of exactly n bytes.
func urlOfLen(t *testing.T, n int) string {
	t.Helper()
	const base = "https://a.com/"
	if n < len(base) {
		t.Fatalf("urlOfLen(%d): shorter than %q", n, base)
	}
	return base + strings.Repeat("a", n-len(base))
}

func TestValidateCallbackURL(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		ok      bool
		msgHave string // substring of the message when !ok; "" to skip
	}{
		// Accepted.
		{"plain", "https://fabrikam.azurewebsites.net/myapp/oauth-callback", true, ""},
		{"localhost bare", "https://localhost", true, ""},
		{"localhost port path", "https://localhost:5001/cb", true, ""},
		{"loopback ip", "https://127.0.0.1/cb", true, ""},
		{"ipv6 loopback", "https://[::1]:8443/cb", true, ""},
		{"port 1", "https://a.com:1/cb", true, ""},
		{"port 65535", "https://a.com:65535/cb", true, ""},
		{"query", "https://a.com/cb?tenant=x&mode=web", true, ""},
		{"empty query", "https://a.com/cb?", true, ""},
		{"query only", "https://a.com?x=1", true, ""},
		{"trailing slash", "https://a.com/", true, ""},
		{"punycode", "https://xn--bcher-kva.de/cb", true, ""},
		{"percent-encoded CRLF in path", "https://a.com/cb%0d%0aSet-Cookie:x=1", true, ""},
		{"percent-encoded in query", "https://a.com/cb?next=%2Fhome%20page", true, ""},
		{"dots inside segment", "https://a.com/v1.2/..cb/cb..", true, ""},
		{"exactly 500", urlOfLen(t, 500), true, ""},
		{"upper-case host", "https://Example.COM/CB", true, ""},

		// Scheme.
		{"empty", "", false, "required"},
		{"http", "http://a.com/cb", false, "https://localhost"},
		{"http localhost", "http://localhost:5000/cb", false, "must use https"},
		{"HTTP uppercase", "HTTP://a.com/cb", false, "must use https"},
		{"HTTPS uppercase", "HTTPS://a.com/cb", false, "lowercase"},
		{"Https mixed case", "Https://a.com/cb", false, "lowercase"},
		{"javascript", "javascript:alert(1)", false, "absolute https:// URL"},
		{"javascript with slashes", "javascript://a.com/%0aalert(1)", false, "absolute https:// URL"},
		{"data", "data:text/html,<script>alert(1)</script>", false, ""},
		{"data base64", "data:text/html;base64,PHNjcmlwdD4=", false, "absolute https:// URL"},
		{"ftp", "ftp://a.com/cb", false, "absolute https:// URL"},
		{"relative path", "/cb", false, "absolute https:// URL"},
		{"scheme relative", "//a.com/cb", false, "absolute https:// URL"},
		{"no scheme", "a.com/cb", false, "absolute https:// URL"},
		{"opaque https", "https:a.com/cb", false, "absolute https:// URL"},
		{"single slash", "https:/a.com/cb", false, "absolute https:// URL"},

		// Authority.
		{"userinfo", "https://user:pass@a.com/cb", false, "user name or password"},
		{"user only", "https://a.com@evil.com/cb", false, "user name or password"},
		{"empty userinfo", "https://@a.com/cb", false, "user name or password"},
		{"no host", "https:///path", false, "host"},
		{"only port", "https://:443/", false, "host"},
		{"port 0", "https://a.com:0/", false, "port"},
		{"port too big", "https://a.com:99999/", false, "port"},
		{"empty port", "https://a.com:/cb", false, "port"},
		{"empty port no path", "https://a.com:", false, "port"},
		{"leading zero port", "https://a.com:0443/", false, "port"},
		{"signed port", "https://a.com:+443/", false, "port"},
		{"named port", "https://a.com:https/", false, "port"},
		{"two colons", "https://a.com:443:443/", false, "port"},
		{"wildcard host", "https://*.a.com/cb", false, "wildcard"},
		{"wildcard only", "https://*/cb", false, "wildcard"},
		{"percent in host", "https://ex%61mple.com/cb", false, "host"},
		{"underscore host", "https://a_b.com/cb", false, "host"},
		{"trailing dot host", "https://a.com./cb", false, "host"},
		{"double dot host", "https://a..com/cb", false, "host"},
		{"hyphen label", "https://-a.com/cb", false, "host"},
		{"bang host", "https://a!b.com/cb", false, "host"},
		{"bad ipv4", "https://1.2.3.999/cb", false, "IPv4"},
		{"hex ipv4", "https://0x7f000001/cb", false, "IPv4"},
		{"decimal ipv4", "https://2130706433/cb", false, "IPv4"},
		{"ipv6 zone", "https://[fe80::1%25eth0]/cb", false, "IPv6"},
		{"ipv6 unclosed", "https://[::1/cb", false, "IPv6"},
		{"ipv4 in brackets", "https://[127.0.0.1]/cb", false, "IPv6"},

		// Fragment (RFC 6749 §3.1.2).
		{"fragment", "https://a.com/cb#frag", false, "fragment"},
		{"empty fragment", "https://a.com/cb#", false, "fragment"},
		{"fragment in query", "https://a.com/cb?x=#y", false, "fragment"},
		// Every problem at once.
		{"http and fragment", "http://a.com/cb#frag", false, "must use https|Also, it must not contain a fragment"},
		{"upper case and wildcard", "HTTPS://*.a.com/cb", false, "lowercase|Also, it must not contain a wildcard"},
		{"fragment and dot-dot", "https://a.com/../cb#x", false, "fragment|path segments"},

		// Characters.
		{"cyrillic look-alike", "https://ex\u0430mple.com/cb", false, "ASCII"},
		{"idn raw unicode", "https://bücher.de/cb", false, "punycode"},
		{"fullwidth slash", "https://a.com\uff0fcb", false, "ASCII"},
		{"invalid utf8", "https://a.com/\xff", false, "ASCII"},
		{"space in path", "https://a.com/c b", false, "spaces"},
		{"leading space", " https://a.com/cb", false, "spaces"},
		{"trailing space", "https://a.com/cb ", false, "spaces"},
		{"tab", "https://a.com/\tcb", false, "control"},
		{"raw CRLF", "https://a.com/cb\r\nSet-Cookie: x=1", false, "control"},
		{"raw LF", "https://a.com/cb\n", false, "control"},
		{"NUL", "https://a.com/cb\x00", false, "control"},
		{"DEL", "https://a.com/cb\x7f", false, "control"},
		{"backslash", "https://a.com\\@evil.com", false, "backslash"},
		{"backslash path", "https://a.com\\cb", false, "backslash"},
		{"angle brackets", "https://a.com/<script>", false, "percent-encode"},
		{"quote", "https://a.com/\"x", false, "percent-encode"},
		{"bad percent escape", "https://a.com/cb?x=%zz", false, "percent-escape"},
		{"truncated percent escape", "https://a.com/cb%2", false, "percent-escape"},

		// Length.
		{"501 chars", urlOfLen(t, 501), false, "at most 500"},
		{"very long", urlOfLen(t, 10000), false, "at most 500"},

		// Path traversal.
		{"dot-dot segment", "https://a.com/app/../admin", false, "path segments"},
		{"dot segment", "https://a.com/./cb", false, "path segments"},
		{"trailing dot-dot", "https://a.com/app/..", false, "path segments"},
		{"encoded dot-dot", "https://a.com/app/%2e%2e/admin", false, "path segments"},
		{"mixed encoded dot-dot", "https://a.com/app/.%2E/admin", false, "path segments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateCallbackURL(tt.raw)
			if got, want := err == nil, tt.ok; got != want {
				t.Fatalf("ValidateCallbackURL(%q) = %v; want ok=%v", tt.raw, err, want)
			}
			if tt.ok {
				return
			}
			var e *apperr.Error
			if !errors.As(err, &e) {
				t.Fatalf("ValidateCallbackURL(%q) error %T, want *apperr.Error", tt.raw, err)
			}
			if got, want := e.Code, apperr.Invalid; got != want {
				t.Errorf("code = %q, want %q", got, want)
			}
			if got, want := e.Fields[FieldCallbackURL], e.Message; got != want {
				t.Errorf("Fields[%q] = %q, want the message %q", FieldCallbackURL, got, want)
			}
			// One sentence per problem: the first names the field, the
			// next ones start "Also, it".
			for i, sentence := range strings.Split(e.Message, ". Also, it ") {
				if (i == 0 && !strings.HasPrefix(sentence, "Authorization callback URL ")) || strings.Count(sentence, ". ") > 0 {
					t.Errorf("message %q: sentence %q is not one problem", e.Message, sentence)
				}
			}
			if !strings.HasSuffix(e.Message, ".") {
				t.Errorf("message %q does not end a sentence", e.Message)
			}
			for _, want := range strings.Split(tt.msgHave, "|") {
				if !strings.Contains(e.Message, want) {
					t.Errorf("message = %q, want it to contain %q", e.Message, want)
				}
			}
		})
	}
}

func TestCallbackMatches(t *testing.T) {
	const reg = "https://app.example.com/oauth/callback?x=1"
	tests := []struct {
		name       string
		registered string
		given      string
		want       bool
	}{
		{"identical", reg, reg, true},
		{"identical localhost", "https://localhost:5001/cb", "https://localhost:5001/cb", true},
		{"host case", reg, "https://APP.example.com/oauth/callback?x=1", false},
		{"path case", reg, "https://app.example.com/OAuth/callback?x=1", false},
		{"scheme case", reg, "HTTPS://app.example.com/oauth/callback?x=1", false},
		{"trailing slash added", "https://a.com/cb", "https://a.com/cb/", false},
		{"trailing slash removed", "https://a.com/cb/", "https://a.com/cb", false},
		{"root slash removed", "https://a.com/", "https://a.com", false},
		{"query added", "https://a.com/cb", "https://a.com/cb?evil=1", false},
		{"query changed", reg, "https://app.example.com/oauth/callback?x=2", false},
		{"query removed", reg, "https://app.example.com/oauth/callback", false},
		{"percent-encoding variant", "https://a.com/my%20cb", "https://a.com/my%2520cb", false},
		{"percent-encoded letter", "https://a.com/cb", "https://a.com/%63b", false},
		{"hex case in escape", "https://a.com/a%2fb", "https://a.com/a%2Fb", false},
		{"default port added", "https://a.com/cb", "https://a.com:443/cb", false},
		{"http downgrade", "https://a.com/cb", "http://a.com/cb", false},
		{"prefix", "https://a.com/cb", "https://a.com/cb/../evil", false},
		{"surrounding space", "https://a.com/cb", " https://a.com/cb", false},
		{"fragment added", "https://a.com/cb", "https://a.com/cb#x", false},
		{"empty registered", "", "", false},
		{"empty given", "https://a.com/cb", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CallbackMatches(tt.registered, tt.given); got != tt.want {
				t.Errorf("CallbackMatches(%q, %q) = %v, want %v", tt.registered, tt.given, got, tt.want)
			}
		})
	}
}

func goodRegistration() Registration {
	return Registration{
		Name:        "Fabrikam Boards",
		Company:     "Fabrikam, Inc.",
		Description: "Shows your work items.\nAnd your builds.",
		CompanyURL:  "https://fabrikam.com",
		AppURL:      "https://boards.fabrikam.com/",
		CallbackURL: "https://boards.fabrikam.com/oauth/callback",
		LogoURL:     "https://fabrikam.com/logo.png",
		TermsURL:    "https://fabrikam.com/terms",
		PrivacyURL:  "http://fabrikam.com/privacy#section-2",
		Scopes:      []string{"vso.work", "vso.code"},
	}
}

func TestRegistrationNormalize(t *testing.T) {
	in := Registration{
		Name: "  App \t", Company: "\nCo ", Description: "  line one\nline two  ",
		CompanyURL: " https://c.com ", AppURL: "\thttps://a.com\t", CallbackURL: " https://a.com/cb\n",
		LogoURL: " https://a.com/l.png ", TermsURL: " https://a.com/t ", PrivacyURL: "\u00a0https://a.com/p\u00a0",
		Scopes: []string{" vso.code ", "vso.code"},
	}
	got := in.Normalize()
	want := Registration{
		Name: "App", Company: "Co", Description: "line one\nline two",
		CompanyURL: "https://c.com", AppURL: "https://a.com", CallbackURL: "https://a.com/cb",
		LogoURL: "https://a.com/l.png", TermsURL: "https://a.com/t", PrivacyURL: "https://a.com/p",
		Scopes: []string{" vso.code ", "vso.code"},
	}
	if !registrationsEqual(got, want) {
		t.Errorf("Normalize() = %#v\nwant %#v", got, want)
	}
	if in.Name != "  App \t" {
		t.Errorf("Normalize modified its receiver: Name = %q", in.Name)
	}
}

func registrationsEqual(a, b Registration) bool {
	as, bs := a.Scopes, b.Scopes
	a.Scopes, b.Scopes = nil, nil
	return reflect.DeepEqual(a, b) && slices.Equal(as, bs)
}

func TestValidateRegistrationGood(t *testing.T) {
	tests := []struct {
		name string
		in   func(r *Registration)
		want func(r *Registration)
	}{
		{"as is", func(r *Registration) {}, func(r *Registration) {}},
		{
			"trimmed",
			func(r *Registration) {
				r.Name = "  " + r.Name + "\n"
				r.CallbackURL = " " + r.CallbackURL + " "
				r.Description = "\n" + r.Description + "\n\n"
			},
			func(r *Registration) {},
		},
		{
			"scopes deduplicated",
			func(r *Registration) { r.Scopes = []string{"vso.work", "vso.code", "vso.work", "vso.code"} },
			func(r *Registration) { r.Scopes = []string{"vso.work", "vso.code"} },
		},
		{
			"optional fields empty",
			func(r *Registration) {
				r.Description, r.CompanyURL, r.LogoURL, r.TermsURL, r.PrivacyURL = "", "", "", "", ""
			},
			func(r *Registration) {
				r.Description, r.CompanyURL, r.LogoURL, r.TermsURL, r.PrivacyURL = "", "", "", "", ""
			},
		},
		{
			"optional fields blank",
			func(r *Registration) { r.Description, r.CompanyURL, r.LogoURL = "  ", "\t", " \n " },
			func(r *Registration) { r.Description, r.CompanyURL, r.LogoURL = "", "", "" },
		},
		{
			"localhost callback",
			func(r *Registration) { r.CallbackURL = "https://localhost:5001/signin-oidc" },
			func(r *Registration) { r.CallbackURL = "https://localhost:5001/signin-oidc" },
		},
		{
			"128 runes of é",
			func(r *Registration) { r.Name, r.Company = strings.Repeat("é", 128), strings.Repeat("é", 128) },
			func(r *Registration) { r.Name, r.Company = strings.Repeat("é", 128), strings.Repeat("é", 128) },
		},
		{
			"1024 rune description",
			func(r *Registration) { r.Description = strings.Repeat("ü", 1024) },
			func(r *Registration) { r.Description = strings.Repeat("ü", 1024) },
		},
		{
			"unicode and emoji names",
			func(r *Registration) { r.Name, r.Company = "Доска 👩‍💻", "株式会社ファブリカム" },
			func(r *Registration) { r.Name, r.Company = "Доска 👩‍💻", "株式会社ファブリカム" },
		},
		{
			"description with tabs",
			func(r *Registration) { r.Description = "a\tb\r\nc" },
			func(r *Registration) { r.Description = "a\tb\r\nc" },
		},
		{
			"url limits exactly 500",
			func(r *Registration) {
				u := "https://a.com/" + strings.Repeat("x", 486)
				r.AppURL, r.TermsURL, r.LogoURL = u, u, u
			},
			func(r *Registration) {
				u := "https://a.com/" + strings.Repeat("x", 486)
				r.AppURL, r.TermsURL, r.LogoURL = u, u, u
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goodRegistration()
			tt.in(&in)
			want := goodRegistration()
			tt.want(&want)
			got, err := ValidateRegistration(in)
			if err != nil {
				t.Fatalf("ValidateRegistration() error = %v (fields %v)", err, apperr.FieldErrors(err))
			}
			if !registrationsEqual(got, want) {
				t.Errorf("ValidateRegistration() = %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestValidateRegistrationBad(t *testing.T) {
	long := "https://a.com/" + strings.Repeat("x", 487) // 501 chars
	tests := []struct {
		name   string
		mod    func(r *Registration)
		fields []string // every key expected in Fields
	}{
		{"company missing", func(r *Registration) { r.Company = "" }, []string{FieldCompany}},
		{"company blank", func(r *Registration) { r.Company = " \t " }, []string{FieldCompany}},
		{"company 129 runes", func(r *Registration) { r.Company = strings.Repeat("é", 129) }, []string{FieldCompany}},
		{"company newline", func(r *Registration) { r.Company = "Fabrikam\nInc" }, []string{FieldCompany}},
		{"company invalid utf8", func(r *Registration) { r.Company = "Fab\xffrikam" }, []string{FieldCompany}},
		{"name missing", func(r *Registration) { r.Name = "" }, []string{FieldName}},
		{"name 129 runes", func(r *Registration) { r.Name = strings.Repeat("é", 129) }, []string{FieldName}},
		{"name 129 ascii", func(r *Registration) { r.Name = strings.Repeat("a", 129) }, []string{FieldName}},
		{"name NUL", func(r *Registration) { r.Name = "App\x00" }, []string{FieldName}},
		{"name C1 control", func(r *Registration) { r.Name = "App\u0085x" }, []string{FieldName}},
		{"name bidi override", func(r *Registration) { r.Name = "App\u202egpj.exe" }, []string{FieldName}},
		{"name line separator", func(r *Registration) { r.Name = "App\u2028Other" }, []string{FieldName}},
		{"description 1025 runes", func(r *Registration) { r.Description = strings.Repeat("ü", 1025) }, []string{FieldDescription}},
		{"description NUL", func(r *Registration) { r.Description = "a\x00b" }, []string{FieldDescription}},
		{"description escape", func(r *Registration) { r.Description = "a\x1b[31mb" }, []string{FieldDescription}},
		{"app url missing", func(r *Registration) { r.AppURL = "" }, []string{FieldAppURL}},
		{"app url not a url", func(r *Registration) { r.AppURL = "not a url" }, []string{FieldAppURL}},
		{"app url javascript", func(r *Registration) { r.AppURL = "javascript:alert(1)" }, []string{FieldAppURL}},
		{"app url javascript slashes", func(r *Registration) { r.AppURL = "javascript://a.com/%0aalert(1)" }, []string{FieldAppURL}},
		{"app url data", func(r *Registration) { r.AppURL = "data:text/html,hi" }, []string{FieldAppURL}},
		{"app url relative", func(r *Registration) { r.AppURL = "/home" }, []string{FieldAppURL}},
		{"app url scheme relative", func(r *Registration) { r.AppURL = "//a.com" }, []string{FieldAppURL}},
		{"app url no host", func(r *Registration) { r.AppURL = "https:///x" }, []string{FieldAppURL}},
		{"app url userinfo", func(r *Registration) { r.AppURL = "https://microsoft.com@evil.com" }, []string{FieldAppURL}},
		{"app url ftp", func(r *Registration) { r.AppURL = "ftp://a.com" }, []string{FieldAppURL}},
		{"app url too long", func(r *Registration) { r.AppURL = long }, []string{FieldAppURL}},
		{"app url unicode host", func(r *Registration) { r.AppURL = "https://ex\u0430mple.com" }, []string{FieldAppURL}},
		{"app url space", func(r *Registration) { r.AppURL = "https://a.com/a b" }, []string{FieldAppURL}},
		{"company url javascript", func(r *Registration) { r.CompanyURL = "javascript:alert(1)" }, []string{FieldCompanyURL}},
		{"company url control", func(r *Registration) { r.CompanyURL = "https://a.com/\x01" }, []string{FieldCompanyURL}},
		{"company url bad port", func(r *Registration) { r.CompanyURL = "https://a.com:99999" }, []string{FieldCompanyURL}},
		{"company url percent host", func(r *Registration) { r.CompanyURL = "https://ex%61mple.com" }, []string{FieldCompanyURL}},
		{"terms url relative", func(r *Registration) { r.TermsURL = "terms.html" }, []string{FieldTermsURL}},
		{"terms url too long", func(r *Registration) { r.TermsURL = long }, []string{FieldTermsURL}},
		{"privacy url data", func(r *Registration) { r.PrivacyURL = "data:,x" }, []string{FieldPrivacyURL}},
		{"privacy url mailto", func(r *Registration) { r.PrivacyURL = "mailto:privacy@a.com" }, []string{FieldPrivacyURL}},
		{"logo url http", func(r *Registration) { r.LogoURL = "http://a.com/logo.png" }, []string{FieldLogoURL}},
		{"logo url data", func(r *Registration) { r.LogoURL = "data:image/png;base64,AAAA" }, []string{FieldLogoURL}},
		{"logo url too long", func(r *Registration) { r.LogoURL = long }, []string{FieldLogoURL}},
		{"callback missing", func(r *Registration) { r.CallbackURL = "" }, []string{FieldCallbackURL}},
		{"callback http", func(r *Registration) { r.CallbackURL = "http://a.com/cb" }, []string{FieldCallbackURL}},
		{"callback fragment", func(r *Registration) { r.CallbackURL = "https://a.com/cb#" }, []string{FieldCallbackURL}},
		{"scopes nil", func(r *Registration) { r.Scopes = nil }, []string{FieldScopes}},
		{"scopes empty", func(r *Registration) { r.Scopes = []string{} }, []string{FieldScopes}},
		{"scope unknown", func(r *Registration) { r.Scopes = []string{"vso.code", "vso.nope"} }, []string{FieldScopes}},
		{"scope wrong case", func(r *Registration) { r.Scopes = []string{"VSO.CODE"} }, []string{FieldScopes}},
		{"scope marker", func(r *Registration) { r.Scopes = []string{"vso.authorization_grant"} }, []string{FieldScopes}},
		{"scope empty string", func(r *Registration) { r.Scopes = []string{""} }, []string{FieldScopes}},
		{"scope with space", func(r *Registration) { r.Scopes = []string{"vso.code vso.work"} }, []string{FieldScopes}},
		{
			"everything wrong",
			func(r *Registration) {
				*r = Registration{
					Description: strings.Repeat("x", 1025),
					CompanyURL:  "javascript:x", LogoURL: "http://a.com/l.png", TermsURL: "x", PrivacyURL: "data:,",
				}
			},
			[]string{
				FieldCompany, FieldName, FieldDescription, FieldCompanyURL, FieldAppURL,
				FieldCallbackURL, FieldLogoURL, FieldTermsURL, FieldPrivacyURL, FieldScopes,
			},
		},
		{
			"two bad fields",
			func(r *Registration) { r.Name = ""; r.CallbackURL = "http://a.com/cb" },
			[]string{FieldName, FieldCallbackURL},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goodRegistration()
			tt.mod(&in)
			got, err := ValidateRegistration(in)
			if err == nil {
				t.Fatalf("ValidateRegistration() = %#v, nil; want an error on %v", got, tt.fields)
			}
			var e *apperr.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v, want *apperr.Error", err, err)
			}
			if got, want := e.Code, apperr.Invalid; got != want {
				t.Errorf("code = %q, want %q", got, want)
			}
			gotKeys := slices.Sorted(maps.Keys(e.Fields))
			wantKeys := slices.Sorted(slices.Values(tt.fields))
			if !slices.Equal(gotKeys, wantKeys) {
				t.Errorf("field keys = %v, want %v (fields %v)", gotKeys, wantKeys, e.Fields)
			}
			// The top-level message is the first bad field's message, in
			// form order (tt.fields lists them in that order).
			if got, want := e.Message, e.Fields[tt.fields[0]]; got != want {
				t.Errorf("message = %q, want first field's message %q", got, want)
			}
			for k, msg := range e.Fields {
				if msg == "" || !strings.HasSuffix(msg, ".") {
					t.Errorf("Fields[%q] = %q, want one sentence ending in a period", k, msg)
				}
			}
			if !registrationsEqual(got, in.Normalize()) {
				t.Errorf("returned %#v, want the normalized input", got)
			}
		})
	}
}

func TestValidateRegistrationLengthMessage(t *testing.T) {
	r := goodRegistration()
	r.Name = strings.Repeat("é", 129)
	_, err := ValidateRegistration(r)
	if got, want := apperr.FieldErrors(err)[FieldName], "Application name must be at most 128 characters (it has 129)."; got != want {
		t.Errorf("Fields[name] = %q, want %q", got, want)
	}
}

func TestParseWarnDays(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		ok   bool
	}{
		{"90,30,7", []int{90, 30, 7}, true},
		{"90", []int{90, 30}, true},
		{"20", []int{20, 20}, true},
		{" 60 , 14 ", []int{60, 14}, true},
		{"30,90", nil, false},
		{"90,90", nil, false},
		{"", nil, false},
		{"ninety", nil, false},
		{"0", nil, false},
		{"90,-1", nil, false},
	} {
		got, err := ParseWarnDays(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseWarnDays(%q) error %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && !slices.Equal(got.Days(), tc.want) {
			t.Errorf("ParseWarnDays(%q) = %v, want %v", tc.in, got.Days(), tc.want)
		}
	}
}

// TestLinkMessages: a value that is not a URL at all says what a URL is
// (not which character is wrong), and every problem of a link shows at once.
func TestLinkMessages(t *testing.T) {
	base := Registration{Name: "A", Company: "C", AppURL: "https://a.com", CallbackURL: "https://a.com/cb", Scopes: []string{"vso.work"}}
	tests := []struct {
		name  string
		edit  func(*Registration)
		field string
		want  []string
		not   string
	}{
		{"not a url", func(r *Registration) { r.AppURL = "not a url" }, FieldAppURL,
			[]string{"Application website must be an absolute https:// URL, like https://example.com."}, "spaces"},
		{"bare host", func(r *Registration) { r.CompanyURL = "example.com" }, FieldCompanyURL,
			[]string{"Company website must be an absolute https:// URL"}, ""},
		{"logo http", func(r *Registration) { r.LogoURL = "http://a.com/l.png" }, FieldLogoURL, []string{"Logo URL must use https."}, ""},
		{"space and user", func(r *Registration) { r.TermsURL = "https://u@a.com/t c" }, FieldTermsURL,
			[]string{"Terms of service URL must not contain spaces", "Also, it must not contain a user name or password."}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.edit(&r)
			_, err := ValidateRegistration(r)
			got := apperr.FieldErrors(err)[tt.field]
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s message %q, want it to contain %q", tt.field, got, w)
				}
			}
			if tt.not != "" && strings.Contains(got, tt.not) {
				t.Errorf("%s message %q mentions %q", tt.field, got, tt.not)
			}
		})
	}
}
