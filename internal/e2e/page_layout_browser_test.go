package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestPageLayoutBrowser checks what only a browser shows, on the sweep's
// data, at a laptop's and a phone's width: keyboard focus, tables that
// fit, the live search, copy buttons, chips, the audit filters, the scope
// picker and the phone menu.
func TestPageLayoutBrowser(t *testing.T) {
	requireChromium(t)
	f := newSweepFixture(t)
	ctx := newBrowserTimeout(t, 2*time.Minute)
	js := func(expr string) any {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, why(err))
		}
		return v
	}
	truthy := func(what, expr string) {
		t.Helper()
		if v, _ := js(expr).(bool); !v {
			t.Errorf("%s: %s is false", what, expr)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1400, 900)); err != nil {
		t.Fatal(err)
	}

	// The skip link is the first stop of the keyboard and shows when
	// focused; the focus ring on an outline button is visible.
	lbSignIn(t, ctx, f.ts, "root", lbRootPassword, "/admin/apps")
	navigate(t, ctx, f.ts.URL+"/admin")
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	truthy("skip link", `document.activeElement.dataset.testid === "skip-link" && document.activeElement.getBoundingClientRect().top >= 0`)

	// Apps at 1400 px: every column visible (the table does not scroll in
	// its box), callback URLs on one line, each high-privilege chip on the
	// line of its scope.
	navigate(t, ctx, f.ts.URL+"/admin/apps")
	if w := js(`(() => { const b = document.querySelector('[data-testid="apps-scroll"]'); return [b.scrollWidth, b.clientWidth]; })()`); w.([]any)[0].(float64) > w.([]any)[1].(float64) {
		t.Errorf("the apps table is %v px wide in its %v px box at 1400 px: a column is cut off", w.([]any)[0], w.([]any)[1])
	}
	truthy("callback URLs on one line", `[...document.querySelectorAll('td.url .truncate')].every(e => e.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(e).lineHeight || 20))`)
	truthy("chips beside their scope", `(() => { const chips = [...document.querySelectorAll('[data-testid="apps-table"] .scope:has([data-testid="high-privilege"])')];
		return chips.length > 0 && chips.every(s => Math.abs(s.querySelector('code').getBoundingClientRect().top - s.querySelector('mark').getBoundingClientRect().top) < 8); })()`)
	// The live search (htmx) keeps the order, and the tabs it redraws keep
	// the search text.
	navigate(t, ctx, f.ts.URL+"/admin/apps?sort=expiry")
	fill(t, ctx, `input[name="q"]`, "Tool 0")
	// Read the count in one step: htmx replaces the node while it swaps.
	waitUntil(t, ctx, "the live search shows its count", func() bool {
		v, _ := js(`(document.querySelector('[data-testid="result-count"]') || {textContent: ""}).textContent.includes("match “Tool 0”")`).(bool)
		return v
	})
	query := func() url.Values {
		u, err := url.Parse(currentURL(t, ctx))
		if err != nil {
			t.Fatal(err)
		}
		return u.Query()
	}
	if q := query(); q.Get("q") != "Tool 0" || q.Get("sort") != "expiry" {
		t.Errorf("after the live search the query is %v, want the search and the order", q)
	}
	clickAndWait(t, ctx, `[data-testid="filter-expired"]`)
	if q := query(); q.Get("q") != "Tool 0" || q.Get("state") != "expired" || q.Get("sort") != "expiry" {
		t.Errorf("the Expired tab after a live search opened %v, want the search and order kept", q)
	}
	if got := valueOf(t, ctx, `input[name="q"]`); got != "Tool 0" {
		t.Errorf("the search box holds %q after the tab", got)
	}

	// Outline buttons show a focus ring: tab to the first one, as a
	// keyboard user does.
	reached := false
	for range 40 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		if v, _ := js(`document.activeElement.matches('button.outline, [role="button"].outline')`).(bool); v {
			reached = true
			break
		}
	}
	if !reached {
		t.Error("no outline button reached with Tab")
	} else {
		truthy("focus ring", `(() => { const b = document.activeElement; const cs = getComputedStyle(b);
			return b.matches(':focus-visible') && cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2; })()`)
	}

	// Copy button of the client id: shown by the script, and it copies.
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: perm}, Setting: browser.PermissionSettingGranted, Origin: f.ts.URL}); err != nil {
			t.Fatalf("grant %s: %v", perm, err)
		}
	}
	navigate(t, ctx, f.ts.URL+"/admin/apps/"+f.app.ClientID)
	waitVisible(t, ctx, `[data-testid="copy-client-id"]`)
	click(t, ctx, `[data-testid="copy-client-id"]`)
	waitUntil(t, ctx, "the copy button says Copied", func() bool { return textOf(t, ctx, `[data-testid="copy-client-id"]`) == "Copied" })
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)); err != nil || got != f.app.ClientID {
		t.Errorf("the clipboard holds %q (err %v), want the client id %s", got, err, f.app.ClientID)
	}
	// Unset fields show a dash; times carry their zone.
	truthy("unset fields", `[...document.querySelectorAll('[data-testid="app-fields"] tr')].some(r => r.innerText.includes("Logo URL") && r.querySelector('[data-testid="unset"]').innerText === "—")`)
	truthy("registered time has its zone", `[...document.querySelectorAll('[data-testid="app-fields"] tr')].some(r => /Registered\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC/.test(r.innerText))`)

	// An expired secret offers Regenerate, not a staged rotation.
	navigate(t, ctx, f.ts.URL+"/admin/apps/"+f.expiredID)
	if countOf(t, ctx, `[data-testid="expiry-banner"][data-state="expired"] [data-testid="banner-regenerate"]`) != 1 ||
		countOf(t, ctx, `[data-testid="start-rotation"]`) != 0 {
		t.Error("the expired secret's banner does not offer Regenerate alone")
	}
	// An imported app's secret use is not tracked here.
	navigate(t, ctx, f.ts.URL+"/admin/apps/20000000-0000-4000-8000-000000000001?tab=secrets")
	if got := textOf(t, ctx, `[data-testid="secret-last-used"]`); got != "not tracked here" {
		t.Errorf("imported app last used %q", got)
	}
	if got := textOf(t, ctx, `[data-testid="secret-uses"]`); got != "not tracked here" {
		t.Errorf("imported app uses %q", got)
	}
	// Overview tiles say they count secrets.
	navigate(t, ctx, f.ts.URL+"/admin")
	for _, st := range []string{"ok", "expiring", "critical", "expired"} {
		if got := textOf(t, ctx, `[data-testid="count-`+st+`"] span`); got != "secrets "+st {
			t.Errorf("tile %s reads %q", st, got)
		}
	}
	// The user page: high-privilege chips and a Revoke per authorization.
	navigate(t, ctx, f.ts.URL+"/admin/users/"+f.bobID)
	if countOf(t, ctx, `[data-testid="user-authorizations"] [data-testid="high-privilege"]`) == 0 {
		t.Error("no high-privilege chip on the user page")
	}
	if n := countOf(t, ctx, `[data-testid="user-authorization-row"] [data-testid="revoke-authorization"]`); n != countOf(t, ctx, `[data-testid="user-authorization-row"]`) || n == 0 {
		t.Errorf("%d Revoke buttons on the user page", n)
	}
	// The audit log: labelled filters, details as key: value lines with the
	// JSON on demand, targets linked to their page.
	navigate(t, ctx, f.ts.URL+"/admin/audit?action=consent.grant&app="+f.app.ClientID)
	truthy("details as key: value", `[...document.querySelectorAll('[data-testid="audit-details"] .kv li')].some(li => li.innerText.startsWith("client_id: "))`)
	truthy("JSON on demand", `(() => { const d = document.querySelector('[data-testid="audit-details"] details'); return d && !d.open && d.querySelector('[data-testid="audit-json"]').textContent.startsWith("{"); })()`)
	href, _ := js(`document.querySelector('[data-testid="audit-target-link"]').getAttribute("href")`).(string)
	if !strings.HasPrefix(href, "/admin/apps/"+f.app.ClientID+"?tab=authorizations#authorization-") {
		t.Errorf("an authorization's target links to %q, want its row on the app page", href)
	}
	clickAndWait(t, ctx, `[data-testid="audit-target-link"]`)
	if !strings.Contains(currentURL(t, ctx), "/admin/apps/"+f.app.ClientID) || countOf(t, ctx, `tr:target`) != 1 {
		t.Errorf("the target link opened %s without its authorization row", currentURL(t, ctx))
	}
	// The scope picker's filter box narrows the list and opens the groups
	// that match; Enter does not submit the form.
	navigate(t, ctx, f.ts.URL+"/admin/apps/new")
	waitVisible(t, ctx, `[data-testid="scope-filter"]`)
	fill(t, ctx, `[data-testid="scope-filter"]`, "build\n")
	if strings.Contains(currentURL(t, ctx), "/admin/apps/") && !strings.HasSuffix(currentURL(t, ctx), "/admin/apps/new") {
		t.Errorf("Enter in the filter submitted the form: %s", currentURL(t, ctx))
	}
	truthy("filter shows only matches", `(() => { const opts = [...document.querySelectorAll('[data-scope-picker] .scope-option')];
		const shown = opts.filter(o => o.offsetParent !== null);
		return shown.length > 0 && shown.length < opts.length && shown.every(o => o.textContent.toLowerCase().includes("build") || o.closest("details").querySelector("summary").textContent.toLowerCase().includes("build")); })()`)

	// At a phone's width: the menu collapses behind its button, the chart
	// keeps legible labels.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(400, 800)); err != nil {
		t.Fatal(err)
	}
	navigate(t, ctx, f.ts.URL+"/admin")
	if countOf(t, ctx, `[data-testid="site-menu"]:not(.open)`) != 1 || js(`document.querySelector('[data-testid="site-menu"]').offsetParent === null`) != true {
		t.Error("the menu is open at 400 px before its button is pressed")
	}
	click(t, ctx, `[data-testid="nav-toggle"]`)
	waitVisible(t, ctx, `[data-testid="site-menu"] a[href="/admin/apps"]`)
	if got := js(`document.querySelector('[data-testid="nav-toggle"]').getAttribute("aria-expanded")`); got != "true" {
		t.Errorf("menu button aria-expanded %v after opening", got)
	}
	truthy("legible chart labels", `[...document.querySelectorAll('[data-testid="expiry-chart"] text.month')].every(e => e.getBoundingClientRect().height >= 9)`)
}
