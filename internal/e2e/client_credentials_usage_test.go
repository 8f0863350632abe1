package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthdesk/oauthdesk/internal/reports"
)

// The API calls of client_credentials tokens (the app's own grant, no
// user authorization) count in the app's per-scope usage like a user's:
// the app's scopes page shows the scope used and recommends it (on both
// databases: OAUTHDESK_E2E_DB=postgres).
func TestClientCredentialsCallsCountInScopeUsage(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t, "") // registers vso.work and vso.profile
	root := f.ts.newAgent(t)
	root.signIn("root", "root-password-1")

	before := saAppScopesPage(t, root, f.clientID)
	if len(before.Used) != 0 || len(before.Recommended) != 0 {
		t.Fatalf("before any call: used %+v, recommended %q; want none", before.Used, before.Recommended)
	}
	cc := clientcredentials.Config{ClientID: f.clientID, ClientSecret: f.secret, TokenURL: f.provider.Endpoint().TokenURL,
		Scopes: []string{"vso.profile"}}
	const calls = 3
	for i := range calls {
		tok, err := cc.Token(context.Background()) // a token per call: each is a token request too
		if err != nil {
			t.Fatal(err)
		}
		// Allowed (the scope check passes); the profile API then finds no
		// user behind an app's own token (404), as for any such token.
		if st, _, body := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", tok.AccessToken); st == http.StatusUnauthorized || st == http.StatusForbidden || st >= 500 {
			t.Fatalf("call %d with the app's token: %d %v", i, st, body)
		}
	}

	// The usage flush runs every 100 ms in the test server.
	want := []reports.UsedScope{{Scope: "vso.profile", SatisfiedBy: "vso.profile", Uses: calls}}
	var p saAppScopes
	for deadline := time.Now().Add(saUsageWait); ; time.Sleep(100 * time.Millisecond) {
		p = saAppScopesPage(t, root, f.clientID)
		if len(p.Used) > 0 && p.Used[0].Uses >= calls || time.Now().After(deadline) {
			break
		}
	}
	saWantUsed(t, "app scopes page after client_credentials calls", p.Used, want)
	saWantSet(t, "recommended", p.Recommended, []string{"vso.profile"})
	if !strings.Contains(p.Removable, "vso.work") || strings.Contains(p.Removable, "vso.profile") {
		t.Errorf("removable %q: want vso.work (never used) and not vso.profile (used)", p.Removable)
	}
	if !slices.Contains(p.Granted, "vso.profile") {
		t.Errorf("granted %q: want the app's own grant's vso.profile", p.Granted)
	}
}
