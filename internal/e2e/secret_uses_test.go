package e2e

import (
	"database/sql"
	"net/http"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/server"
)

// TestSecretUsesBatched: a client secret's use count and last use are
// counted in memory and written with the batched usage, not by every
// token request. What the app page shows catches up within the flush
// interval; what is still in memory when the server stops is written by
// the shutdown flush. (On both databases: OAUTHDESK_E2E_DB=postgres.)
func TestSecretUsesBatched(t *testing.T) {
	t.Parallel()
	t.Run("visible after the flush interval", func(t *testing.T) {
		t.Parallel()
		e := lcNewEnv(t) // flushes every 100 ms
		admin := e.admin.lcFor(t)
		bob := e.member(t, "bob")
		app := registerThroughDashboard(t, admin, lcScope)
		p := e.pair(t, bob.a, app, app.Secret) // one use: the code exchange
		for range 3 {
			p = lcPairOf(t, e.refresh(t, app.Secret, p.Refresh))
		}
		start := time.Now()
		page := lcAppPageWhen(t, admin, app.ClientID, func(page string) bool {
			v, _ := lcTestID(lcRow(page, `data-slot="primary"`), "secret-uses")
			return v == "4"
		})
		row := lcRow(page, `data-slot="primary"`)
		if v, _ := lcTestID(row, "secret-uses"); v != "4" {
			t.Fatalf("secret uses on the app page %q after %s, want 4 (one code exchange, three refreshes)", v, time.Since(start).Round(time.Millisecond))
		}
		if v, _ := lcTestID(row, "secret-last-used"); v == "never" || v == "" {
			t.Errorf("secret last used %q, want today", v)
		}
		// A failed request (wrong secret) counts nothing.
		wantTokenError(t, e.refresh(t, "wrong-"+app.Secret, p.Refresh), http.StatusUnauthorized, "unauthorized_client", "Client failed validation")
		time.Sleep(300 * time.Millisecond) // three flush intervals
		if v, _ := lcTestID(lcRow(lcAppPage(t, admin, app.ClientID), `data-slot="primary"`), "secret-uses"); v != "4" {
			t.Errorf("secret uses %q after a refused request, want still 4", v)
		}
	})
	t.Run("written by the shutdown flush", func(t *testing.T) {
		t.Parallel()
		e := lcNewEnvWith(t, func(c *server.Config) { c.UsageFlush = time.Hour }) // no periodic flush during the test
		bob := e.member(t, "bob")
		app := registerThroughDashboard(t, e.admin.lcFor(t), lcScope)
		p := e.pair(t, bob.a, app, app.Secret)
		for range 4 {
			p = lcPairOf(t, e.refresh(t, app.Secret, p.Refresh))
		}
		raw, err := e.ts.openRaw()
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		uses := func() (int64, bool) {
			var n int64
			var last sql.NullString
			if err := raw.QueryRow(`SELECT use_count, CAST(last_used_at AS TEXT) FROM client_secrets WHERE id = ?`, p.SecretID).Scan(&n, &last); err != nil {
				t.Fatal(err)
			}
			return n, last.Valid
		}
		if n, _ := uses(); n != 0 {
			t.Errorf("use count %d in the database before any flush, want 0 (the token endpoint must not write it per request)", n)
		}
		e.ts.Stop()
		if n, used := uses(); n != 5 || !used {
			t.Errorf("after shutdown: use count %d, last used set %v; want 5 and set (the shutdown flush)", n, used)
		}
	})
}
