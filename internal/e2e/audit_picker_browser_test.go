package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAuditPickerShowsNames: in Chromium, picking an app and a user by
// name in the audit log's pickers filters by their ids (the address holds
// only ids) while the boxes and the filter chips show the names, never
// the raw ids.
func TestAuditPickerShowsNames(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	priya := e.member(t, "priya")
	const name = "Zephyr Reports"
	app := registerOwn(t, priya.a, name, "vso.work")
	ctx := newBrowser(t)
	lbSignIn(t, ctx, e.ts, "root", lcRootPassword, "/admin/audit")

	pick := func(box, list, typed, want string) {
		t.Helper()
		fill(t, ctx, `[data-testid="`+box+`"]`, typed)
		waitUntil(t, ctx, "the picker offers "+want, func() bool {
			return countOf(t, ctx, `#`+list+` option[data-id="`+want+`"]`) == 1
		})
		// Choosing the option, as a person does from the list: the box
		// gets the option's value and the page an input event.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
			const box = document.querySelector('[data-testid="`+box+`"]');
			box.value = document.querySelector('#`+list+` option[data-id="`+want+`"]').value;
			box.dispatchEvent(new Event("input", {bubbles: true}));
			return true;
		})()`)); err != nil {
			t.Fatalf("pick %s: %v", want, err)
		}
	}
	pick("audit-app", "audit-app-options", "Zeph", app.ClientID)
	if v := valueOf(t, ctx, `[data-testid="audit-app"]`); !strings.HasPrefix(v, name) {
		t.Errorf("the app box shows %q after picking, want the name", v)
	}
	pick("audit-user", "audit-user-options", priya.Username[:4], priya.ID)
	clickAndWait(t, ctx, `[data-testid="audit-filter"]`)

	u, err := url.Parse(currentURL(t, ctx))
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("app") != app.ClientID || q.Get("user") != priya.ID || q.Has("app_q") || q.Has("user_q") {
		t.Errorf("the filter's address %s: want app=%s and user=%s only", u.RawQuery, app.ClientID, priya.ID)
	}
	if v := valueOf(t, ctx, `[data-testid="audit-app"]`); v != name {
		t.Errorf("after filtering the app box shows %q, want %q", v, name)
	}
	if v := valueOf(t, ctx, `[data-testid="audit-user"]`); v != priya.Username {
		t.Errorf("after filtering the user box shows %q, want %q", v, priya.Username)
	}
	if c := textOf(t, ctx, `[data-testid="audit-chip-app"]`); !strings.Contains(c, name) || strings.Contains(c, app.ClientID) {
		t.Errorf("the app filter chip says %q, want the name", c)
	}
	if c := textOf(t, ctx, `[data-testid="audit-chip-user"]`); !strings.Contains(c, priya.Username) || strings.Contains(c, priya.ID) {
		t.Errorf("the user filter chip says %q, want the username", c)
	}
	if n := countOf(t, ctx, `tr[data-action="app.register"]`); n != 1 {
		t.Errorf("%d app.register rows for priya's app, want 1", n)
	}
	screenshot(t, ctx, "audit_picker_1400.png")
}
