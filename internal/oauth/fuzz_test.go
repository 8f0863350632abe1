package oauth

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzCheckAuthorize drives the authorization request check with
// arbitrary queries ("APP" stands for the registered client id, "CB" for
// its callback URL): it never panics and never fails internally; a state
// over MaxStateLength is never reflected; every redirect goes to the
// registered callback with the request's state; every accepted request
// names the registered callback and, with PKCE, a well-formed S256
// challenge.
func FuzzCheckAuthorize(f *testing.F) {
	for _, seed := range []string{
		"client_id=APP&response_type=Assertion&state=s&scope=vso.work&redirect_uri=CB",
		"client_id=APP&response_type=Assertion&state=s&scope=vso.work&redirect_uri=CB&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
		"client_id=APP&response_type=Assertion&scope=vso.work&redirect_uri=CB&code_challenge=abc&code_challenge_method=plain",
		"client_id=APP&response_type=code&scope=vso.work&redirect_uri=CB",
		"client_id=APP&response_type=Assertion&scope=vso.nope&redirect_uri=CB",
		"client_id=APP&response_type=Assertion&scope=vso.work&redirect_uri=https://evil.example/cb",
		"client_id=not-a-guid&redirect_uri=CB",
		"client_id=APP&response_type=Assertion&scope=vso.work&redirect_uri=CB&state=" + strings.Repeat("S", 2049),
		"",
	} {
		f.Add(seed)
	}
	e := newEnv(f, 0)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		raw = strings.ReplaceAll(strings.ReplaceAll(raw, "APP", e.app.ClientID), "CB", url.QueryEscape(testCallback))
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req := AuthorizeRequest{ClientID: q.Get("client_id"), ResponseType: q.Get("response_type"), State: q.Get("state"),
			Scope: q.Get("scope"), RedirectURI: q.Get("redirect_uri"), CodeChallenge: q.Get("code_challenge"),
			CodeChallengeMethod: q.Get("code_challenge_method")}
		c, err := e.svc.CheckAuthorize(ctx, e.user.ID, req)
		var pe *PageError
		var re *RedirectError
		switch {
		case err == nil:
			if c.Request.RedirectURI != testCallback {
				t.Fatalf("accepted redirect_uri %q", c.Request.RedirectURI)
			}
			if req.CodeChallenge != "" && (req.CodeChallengeMethod != PKCEMethodS256 || !ValidChallenge(req.CodeChallenge)) {
				t.Fatalf("accepted code_challenge %q method %q", req.CodeChallenge, req.CodeChallengeMethod)
			}
			if len(req.State) > MaxStateLength {
				t.Fatalf("accepted a state of %d bytes", len(req.State))
			}
		case errors.As(err, &pe):
			if len(req.State) > 16 && strings.Contains(pe.Message, req.State) {
				t.Fatalf("the page reflects the state")
			}
		case errors.As(err, &re):
			if len(req.State) > MaxStateLength {
				t.Fatalf("a %d-byte state was redirected", len(req.State))
			}
			u, perr := url.Parse(re.Location())
			if perr != nil || !strings.HasPrefix(re.Location(), testCallback) || u.Query().Get("state") != req.State {
				t.Fatalf("redirect %q: want the callback with the state", re.Location())
			}
		default:
			t.Fatalf("CheckAuthorize(%q): %v (%T), want nil, *PageError or *RedirectError", raw, err, err)
		}
	})
}

// FuzzParseAccessToken: the JWT parser of the Bearer check never panics,
// and accepts only tokens this server signed: a fuzzed token that verifies
// must carry exactly the minted claims (any change breaks the signature;
// only base64's unused trailing bits may differ).
func FuzzParseAccessToken(f *testing.F) {
	e := newEnv(f, 0)
	now := e.clock.now()
	tok, _, err := e.svc.mint(now, e.user.ID, e.authz.ID, e.app.ClientID, e.app.Secrets[0].ID, "fam", []string{"vso.work"}, now.Add(24*time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	for _, seed := range []string{tok, parts[0] + "." + parts[1] + ".", "e30.e30.", "a.b.c", "", strings.Repeat("A", 5000),
		`eyJhbGciOiJub25lIn0.eyJuYW1laWQiOiJ4In0.`, parts[0] + "." + parts[1] + "." + parts[2] + "x"} {
		f.Add(seed)
	}
	minted, err := e.svc.parse(tok, now)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := e.svc.parse(raw, now)
		if err != nil {
			return
		}
		if c.ID != minted.ID || c.UserID != minted.UserID || c.Scope != minted.Scope || c.AuthorizationID != minted.AuthorizationID ||
			!c.ExpiresAt.Equal(minted.ExpiresAt.Time) {
			t.Fatalf("accepted a token this server did not mint: %q (claims %+v)", raw, c)
		}
	})
}
