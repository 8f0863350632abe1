package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/oauth"
)

// FuzzTokenRequestForm: whatever the Content-Type and body, the token
// request parser never panics; it either refuses with a 400 invalid_request
// *oauth.Error, or returns exactly the single values of the form.
func FuzzTokenRequestForm(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=odcs_x&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=odac_y&redirect_uri=https%3A%2F%2Fa.example%2Fcb")
	f.Add("application/x-www-form-urlencoded; charset=utf-8", "grant_type=refresh_token&assertion=a&assertion=b")
	f.Add("application/json", `{"grant_type":"refresh_token"}`)
	f.Add("application/x-www-form-urlencoded", "%zz=1&grant_type=%")
	f.Add("", "grant_type=x")
	f.Add("application/x-www-form-urlencoded", "code_verifier="+strings.Repeat("a", 200)+"&code_verifier=b")
	f.Fuzz(func(t *testing.T, ctype, body string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		req, err := parseTokenRequest(r)
		if err != nil {
			var oe *oauth.Error
			if !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Code != "invalid_request" {
				t.Fatalf("error %#v, want a 400 invalid_request *oauth.Error", err)
			}
			return
		}
		form, perr := url.ParseQuery(body)
		if perr != nil {
			t.Fatalf("accepted a body that is not a form: %q", body)
		}
		for f, got := range map[string]string{"grant_type": req.GrantType, "client_assertion_type": req.ClientAssertionType,
			"client_assertion": req.ClientAssertion, "assertion": req.Assertion, "redirect_uri": req.RedirectURI, "code_verifier": req.CodeVerifier} {
			if len(form[f]) > 1 {
				t.Fatalf("%s sent %d times was accepted", f, len(form[f]))
			}
			if got != form.Get(f) {
				t.Fatalf("%s = %q, want %q", f, got, form.Get(f))
			}
		}
	})
}

// FuzzAuthorizeQuery: the authorization request's query is read without
// panicking; a repeated parameter is always refused with the HTML page
// (never a redirect), and a single-valued query maps field by field.
func FuzzAuthorizeQuery(f *testing.F) {
	f.Add("client_id=00001111-aaaa-2222-bbbb-3333cccc4444&response_type=Assertion&state=s&scope=vso.work&redirect_uri=https://a.example/cb")
	f.Add("state=a&state=b")
	f.Add("code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
	f.Add("scope=vso.work%20vso.code&redirect_uri=https%3A%2F%2Fa.example%2Fcb%3Fx%3D1")
	f.Add("%zz&&&=;")
	f.Add("state=" + strings.Repeat("S", 3000))
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // Echo answers an unparsable query with what it could parse; nothing to check
		}
		rerr := repeatedParam(q)
		repeated := false
		for _, k := range authorizeFields {
			repeated = repeated || len(q[k]) > 1
		}
		if repeated {
			var pe *oauth.PageError
			if !errors.As(rerr, &pe) {
				t.Fatalf("repeated parameter in %q: %v, want *oauth.PageError", raw, rerr)
			}
			return
		}
		if rerr != nil {
			t.Fatalf("no parameter repeated in %q, yet %v", raw, rerr)
		}
		req := authorizeRequest(q.Get)
		if req.ClientID != q.Get("client_id") || req.State != q.Get("state") || req.RedirectURI != q.Get("redirect_uri") ||
			req.Scope != q.Get("scope") || req.CodeChallenge != q.Get("code_challenge") || req.CodeChallengeMethod != q.Get("code_challenge_method") {
			t.Fatalf("authorizeRequest(%q) = %+v", raw, req)
		}
	})
}
