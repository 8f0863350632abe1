package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// In a real browser: login_hint fills in the sign-in form, the consent
// page is the dialect's, and response_mode=form_post posts the code to
// the client by the page's script (CSP allows only scripts from /assets).
func TestOIDCFormPostInBrowser(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	ts.addUser(t, "alice", domain.RoleMember, "alice-password-1")
	got := make(chan url.Values, 1)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/cb" && r.ParseForm() == nil {
			select {
			case got <- r.PostForm:
			default:
			}
		}
		_, _ = w.Write([]byte(`<!doctype html><p id="rp">signed in at the client</p>`))
	}))
	defer rp.Close()
	res, err := ts.App.Admin.RegisterApp(context.Background(), "root", domain.Registration{
		Name: "Contoso SPA", Company: "Contoso", AppURL: "https://rp.example", CallbackURL: "http://127.0.0.1/cb",
		Scopes: []string{"vso.work"}, ClientType: domain.ClientPublic, GrantTypes: []string{domain.GrantAuthorizationCode, domain.GrantRefreshToken},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: res.App.ClientID, RedirectURL: rp.URL + "/cb", Scopes: []string{"openid", "vso.work"},
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/oauth2/authorize"}}
	authURL := cfg.AuthCodeURL("st-b", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("nonce", "n-b"),
		oauth2.SetAuthURLParam("response_mode", "form_post"), oauth2.SetAuthURLParam("login_hint", "alice"))

	b := newBrowser(t)
	navigate(t, b, authURL)
	if v := valueOf(t, b, `input[name="username"]`); v != "alice" {
		t.Errorf("login_hint: the username field holds %q, want alice", v)
	}
	fill(t, b, `input[name="password"]`, "alice-password-1")
	clickAndWait(t, b, `[data-testid="signin-submit"]`)
	waitVisible(t, b, `[data-testid="consent"]`)
	click(t, b, `[data-testid="accept"]`)
	select {
	case form := <-got:
		if form.Get("code") == "" || form.Get("state") != "st-b" || form.Get("iss") != ts.URL {
			t.Errorf("the client received %v; want code, state=st-b and iss=%s", form, ts.URL)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the form_post page did not post to the client (now at %s)", currentURL(t, b))
	}
	if txt := textOf(t, b, "#rp"); txt != "signed in at the client" {
		t.Errorf("the browser shows %q after the form post", txt)
	}
}
