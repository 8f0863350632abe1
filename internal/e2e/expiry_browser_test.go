package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// TestBrowserExpiryOverview looks, in Chromium, at the overview's counts
// and SVG chart and follows the expiring filter of /admin/apps.
func TestBrowserExpiryOverview(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "correct horse battery")
	admin := ts.newAgent(t)
	admin.signIn("root", "correct horse battery")
	db, err := ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	ids := map[string]string{}
	for name, created := range map[string]time.Time{
		"Steady App":   now.AddDate(-1, 0, 0),
		"Soon Expires": now.AddDate(-4, -10, 0),
		"Nearly Gone":  now.AddDate(-5, 0, 0).Add(5 * 24 * time.Hour),
	} {
		r := admin.postForm("/admin/apps", url.Values{"_csrf": {admin.csrf("/admin/apps/new")}, "name": {name}, "company": {"Contoso"},
			"app_url": {"https://contoso.example"}, "callback_url": {"https://contoso.example/cb"}, "scopes": {"vso.work"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("register %s: %d", name, r.Status)
		}
		ids[name] = strings.TrimPrefix(r.Location(), "/admin/apps/")
		ageSecret(t, db, ids[name], created)
	}

	b := newBrowser(t)
	navigate(t, b, ts.URL+"/signin")
	fill(t, b, `input[name="username"]`, "root")
	fill(t, b, `input[name="password"]`, "correct horse battery")
	clickAndWait(t, b, `[data-testid="signin-submit"]`)
	navigate(t, b, ts.URL+"/admin")
	waitVisible(t, b, `[data-testid="expiry-chart"]`)
	for state, want := range map[string]string{"ok": "1", "expiring": "1", "critical": "1", "expired": "0"} {
		got := textOf(t, b, `[data-testid="count-`+state+`"] strong`)
		if got != want {
			t.Errorf("overview %s count %q, want %q", state, got, want)
		}
	}
	if n := countOf(t, b, `[data-testid="chart-bar"]`); n != 24 {
		t.Errorf("chart has %d month bars, want 24", n)
	}
	if n := countOf(t, b, `[data-testid="expiry-chart"] rect`); n != 2 {
		t.Errorf("chart draws %d bars with expiries, want 2 (the expiring and the critical secret)", n)
	}
	if n := countOf(t, b, `[data-testid="next-row"]`); n != 3 {
		t.Errorf("next to expire lists %d secrets, want 3", n)
	}
	if got := textOf(t, b, `[data-testid="next-row"]:first-child td:first-child`); got != "Nearly Gone" {
		t.Errorf("the next secret to expire is %q, want Nearly Gone", got)
	}
	screenshot(t, b, "expiry-overview.png")

	// The expiring card leads to the filtered listing.
	clickAndWait(t, b, `[data-testid="count-expiring"]`)
	if u := currentURL(t, b); !strings.HasSuffix(u, "/admin/apps?state=expiring") {
		t.Errorf("the expiring card leads to %s", u)
	}
	if n := countOf(t, b, `[data-testid="app-row"]`); n != 1 {
		t.Errorf("expiring filter shows %d apps, want 1", n)
	}
	if got := textOf(t, b, `[data-testid="app-row"] [data-testid="app-name"]`); got != "Soon Expires" {
		t.Errorf("expiring filter shows %q", got)
	}
	if got := textOf(t, b, `[data-testid="app-row"] [data-testid="secret-state"]`); !strings.HasPrefix(got, "expires in") {
		t.Errorf("badge %q", got)
	}
	clickAndWait(t, b, `[data-testid="filter-critical"]`)
	if got := textOf(t, b, `[data-testid="app-row"] [data-testid="app-name"]`); got != "Nearly Gone" {
		t.Errorf("critical filter shows %q", got)
	}
	screenshot(t, b, "expiry-filter.png")
}
