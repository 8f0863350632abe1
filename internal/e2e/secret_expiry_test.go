package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// An expired client secret fails at the token endpoint with the service's
// text (PROTOCOL.md: invalid_request "Client secret is expired.") for both
// grants, and every access token minted with it stops with it: no token
// outlives its secret.
func TestExpiredSecret(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "correct horse battery")
	ts.addUser(t, "bob", domain.RoleMember, "bob's long password")
	admin := ts.newAgent(t)
	admin.signIn("root", "correct horse battery")
	app := registerThroughDashboard(t, admin, "vso.work")
	member := ts.newAgent(t)
	member.signIn("bob", "bob's long password")
	pair := postToken(t, ts.URL, formType, codeBody(app.Secret, approve(t, member, app, "vso.work", "e1"), callbackURL))
	wantTokens(t, pair)
	pendingCode := approve(t, member, app, "vso.work", "e2")

	// The secret expires in 90 seconds: a token minted now ends with it.
	db, err := ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	soon := time.Now().UTC().Add(90 * time.Second)
	if _, err := db.Exec(`UPDATE client_secrets SET expires_at = ? WHERE client_id = ? AND retired_at IS NULL`, soon, app.ClientID); err != nil {
		t.Fatal(err)
	}
	// A write from outside the server, as another process's: the server
	// sees it within the documented bound.
	waitOtherProcess()
	short := postToken(t, ts.URL, formType, refreshBody(app.Secret, pair.str("refresh_token"), callbackURL))
	if short.Status != http.StatusOK {
		t.Fatalf("refresh before expiry: %d %v", short.Status, short.Raw)
	}
	if got, err := strconv.Atoi(short.str("expires_in")); err != nil || got > 89 || got < 60 {
		t.Errorf("expires_in = %q, want at most 89 seconds: a token never outlives its secret", short.str("expires_in"))
	}

	// Now it has expired.
	if _, err := db.Exec(`UPDATE client_secrets SET expires_at = ? WHERE client_id = ? AND retired_at IS NULL`, time.Now().UTC().Add(-time.Second), app.ClientID); err != nil {
		t.Fatal(err)
	}
	waitOtherProcess()
	wantTokenError(t, postToken(t, ts.URL, formType, codeBody(app.Secret, pendingCode, callbackURL)),
		http.StatusBadRequest, "invalid_request", "Client secret is expired.")
	wantTokenError(t, postToken(t, ts.URL, formType, refreshBody(app.Secret, short.str("refresh_token"), callbackURL)),
		http.StatusBadRequest, "invalid_request", "Client secret is expired.")
	// The app page shows the secret as expired.
	if r := admin.get("/admin/apps/" + app.ClientID); !strings.Contains(r.Body, `data-state="expired"`) {
		t.Error("the app page does not show the secret as expired")
	}
	// Sign-in attempts are in the audit log too.
	events, _, err := ts.App.Admin.AuditEvents(t.Context(), audit.Filter{Action: audit.ActionSignIn})
	if err != nil || len(events) < 2 {
		t.Errorf("sign-in events: %d, %v", len(events), err)
	}
}
