package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// tabState is what the owner's app page says about its tabs.
type tabState struct {
	Selected    []string `json:"selected"`    // ids of tabs with aria-selected=true
	Visible     []string `json:"visible"`     // ids of tab panels not hidden
	Focused     string   `json:"focused"`     // id of the focused element
	SecretsSeen bool     `json:"secretsSeen"` // the Secrets tab is inside the window without scrolling
	Search      string   `json:"search"`      // location.search
	Tabs        int      `json:"tabs"`
}

const tabStateScript = `(() => {
	const r = document.querySelector('#tab-secrets').getBoundingClientRect();
	return {
		selected: [...document.querySelectorAll('[role="tab"][aria-selected="true"]')].map(t => t.id),
		visible: [...document.querySelectorAll('[role="tabpanel"]')].filter(p => !p.hidden && p.offsetHeight > 0).map(p => p.id),
		focused: document.activeElement ? document.activeElement.id : '',
		secretsSeen: r.top >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth && window.scrollY === 0,
		search: location.search,
		tabs: document.querySelectorAll('[role="tablist"] [role="tab"]').length,
	};
})()`

// TestOwnerAppTabs: the owner's app page is a tablist (Overview, Secrets,
// Authorizations, Owners, Settings, Activity) with one panel shown; the
// Secrets tab is in view without scrolling at 1400 and 400 px; clicking
// a tab shows its panel in place and arrow keys, Home and End move
// between tabs; without a script ?tab=secrets shows the secrets.
func TestOwnerAppTabs(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "bob", domain.RoleMember, lbBobPassword)
	res, err := ts.App.Admin.RegisterApp(context.Background(), "bob", domain.Registration{Name: "Bob's Board", Company: "Bob & Co.",
		AppURL: "https://bob.example", CallbackURL: callbackURL, Scopes: []string{"vso.work"}})
	if err != nil {
		t.Fatal(err)
	}
	page := "/profile/apps/" + res.App.ClientID

	// Without a script: the server shows the chosen panel, the others hidden.
	bob := ts.newAgent(t)
	bob.signIn("bob", lbBobPassword)
	body := bob.get(page + "?tab=secrets").Body
	if !strings.Contains(body, `role="tabpanel" id="panel-secrets" aria-labelledby="tab-secrets" tabindex="0" data-testid="panel-secrets"`) ||
		!strings.Contains(body, `id="panel-overview" aria-labelledby="tab-overview" tabindex="0" hidden`) {
		t.Errorf("?tab=secrets does not show the secrets panel alone: %.300s", lcRow(body, `role="tabpanel"`))
	}
	if !strings.Contains(body, `id="tab-secrets" href="`+page+`?tab=secrets" aria-selected="true"`) {
		t.Error("the Secrets tab is not marked selected on ?tab=secrets")
	}
	if r := bob.get(page + "?tab=nonsense"); !strings.Contains(r.Body, `id="panel-overview" aria-labelledby="tab-overview" tabindex="0" data-testid`) {
		t.Error("an unknown tab does not fall back to the overview")
	}

	ctx := newBrowser(t)
	lbSignIn(t, ctx, ts, "bob", lbBobPassword, page)
	state := func() tabState {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[tabState](tabStateScript))
		if err != nil {
			t.Fatal(why(err))
		}
		return s
	}
	for _, w := range sweepWidths {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w.w, w.h)); err != nil {
			t.Fatal(err)
		}
		navigate(t, ctx, ts.URL+page)
		s := state()
		if s.Tabs != 6 || strings.Join(s.Selected, ",") != "tab-overview" || strings.Join(s.Visible, ",") != "panel-overview" {
			t.Errorf("at %d px: %d tabs, selected %v, visible %v; want 6, the overview", w.w, s.Tabs, s.Selected, s.Visible)
		}
		if !s.SecretsSeen {
			t.Errorf("at %d px the Secrets tab is not in view without scrolling", w.w)
		}
		screenshot(t, ctx, "owner-tabs-"+w.name+".png")
		click(t, ctx, `#tab-secrets`)
		s = state()
		if strings.Join(s.Selected, ",") != "tab-secrets" || strings.Join(s.Visible, ",") != "panel-secrets" || s.Search != "?tab=secrets" {
			t.Errorf("at %d px after clicking Secrets: selected %v, visible %v, search %q", w.w, s.Selected, s.Visible, s.Search)
		}
		waitVisible(t, ctx, `[data-testid="secret-row"][data-slot="primary"]`)
		screenshot(t, ctx, "owner-tabs-secrets-"+w.name+".png")
	}
	// Keyboard: from Secrets, → selects Authorizations, End reaches
	// Activity (a link: focused, not selected), Home the overview.
	press := func(key string) tabState {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.KeyEvent(key)); err != nil {
			t.Fatal(err)
		}
		return state()
	}
	if err := chromedp.Do(ctx, chromedp.Focus(`#tab-secrets`)); err != nil {
		t.Fatal(err)
	}
	if s := press(kb.ArrowRight); s.Focused != "tab-authorizations" || strings.Join(s.Visible, ",") != "panel-authorizations" {
		t.Errorf("→ from Secrets: focus %q, visible %v", s.Focused, s.Visible)
	}
	if s := press(kb.End); s.Focused != "tab-activity" || strings.Join(s.Visible, ",") != "panel-authorizations" {
		t.Errorf("End: focus %q, visible %v; want Activity focused, the authorizations still shown", s.Focused, s.Visible)
	}
	if s := press(kb.Home); s.Focused != "tab-overview" || strings.Join(s.Visible, ",") != "panel-overview" {
		t.Errorf("Home: focus %q, visible %v", s.Focused, s.Visible)
	}
	if s := press(kb.ArrowLeft); s.Focused != "tab-activity" {
		t.Errorf("← from Overview: focus %q, want Activity (it wraps)", s.Focused)
	}
	// Enter on Activity opens the app's activity.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	waitVisible(t, ctx, `body`)
	if u := currentURL(t, ctx); !strings.HasSuffix(u, page+"/activity") {
		t.Errorf("Enter on Activity went to %s", u)
	}
	// The activity page keeps the tabs, Activity chosen; Secrets goes back.
	waitVisible(t, ctx, `[data-testid="activity-heading"]`)
	if s := state(); strings.Join(s.Selected, ",") != "tab-activity" || s.Tabs != 6 {
		t.Errorf("the activity page's tabs: %d, selected %v", s.Tabs, s.Selected)
	}
	screenshot(t, ctx, "owner-tabs-activity.png")
	if status := clickAndWait(t, ctx, `#tab-secrets`); status != 200 {
		t.Fatalf("Secrets from the activity page: %d", status)
	}
	if u := currentURL(t, ctx); !strings.HasSuffix(u, page+"?tab=secrets") {
		t.Errorf("Secrets from the activity page went to %s", u)
	}
	if s := state(); strings.Join(s.Visible, ",") != "panel-secrets" {
		t.Errorf("after coming back: visible %v", s.Visible)
	}
}

// TestAdminAppTabs: the administrator's app page has the owner's tabs
// (Overview, Secrets, Authorizations, Owners, Settings, Activity) with
// one panel shown, the Secrets tab in view without scrolling at 1400 and
// 400 px, panels switched in place, ?tab= without a script; an auditor
// gets the same tabs but Settings.
func TestAdminAppTabs(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, lbRootPassword)
	ts.addUser(t, "bob", domain.RoleMember, lbBobPassword)
	ts.addUser(t, "audrey", domain.RoleAuditor, lbBobPassword)
	res, err := ts.App.Admin.RegisterApp(context.Background(), "bob", domain.Registration{Name: "Bob's Board", Company: "Bob & Co.",
		AppURL: "https://bob.example", CallbackURL: callbackURL, Scopes: []string{"vso.work"}})
	if err != nil {
		t.Fatal(err)
	}
	page := "/admin/apps/" + res.App.ClientID

	root := ts.newAgent(t)
	root.signIn("root", lbRootPassword)
	body := root.get(page + "?tab=settings").Body
	if !strings.Contains(body, `role="tabpanel" id="panel-settings" aria-labelledby="tab-settings" tabindex="0" data-testid="panel-settings"`) ||
		!strings.Contains(body, `id="panel-secrets" aria-labelledby="tab-secrets" tabindex="0" hidden`) ||
		!strings.Contains(body, `data-testid="delete-app"`) || !strings.Contains(body, `action="`+page+`/edit"`) {
		t.Errorf("?tab=settings does not show the settings panel (the edit form, Delete) alone: %.300s", lcRow(body, `role="tabpanel"`))
	}
	audrey := ts.newAgent(t)
	audrey.signIn("audrey", lbBobPassword)
	body = audrey.get(page + "?tab=owners").Body
	if strings.Contains(body, `id="tab-settings"`) || !strings.Contains(body, `data-testid="owner-list-row" data-username="bob"`) ||
		strings.Contains(body, `data-testid="admin-add-owner-form"`) {
		t.Error("the auditor's page: want no Settings tab, the owners read only")
	}

	ctx := newBrowser(t)
	lbSignIn(t, ctx, ts, "root", lbRootPassword, page)
	state := func() tabState {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[tabState](tabStateScript))
		if err != nil {
			t.Fatal(why(err))
		}
		return s
	}
	for _, w := range sweepWidths {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w.w, w.h)); err != nil {
			t.Fatal(err)
		}
		navigate(t, ctx, ts.URL+page)
		s := state()
		if s.Tabs != 6 || strings.Join(s.Selected, ",") != "tab-overview" || strings.Join(s.Visible, ",") != "panel-overview" {
			t.Errorf("at %d px: %d tabs, selected %v, visible %v; want 6, the overview", w.w, s.Tabs, s.Selected, s.Visible)
		}
		if !s.SecretsSeen {
			t.Errorf("at %d px the Secrets tab is not in view without scrolling", w.w)
		}
		if wide, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.scrollingElement.scrollWidth > window.innerWidth`)); wide {
			t.Errorf("at %d px the app page scrolls sideways", w.w)
		}
		screenshot(t, ctx, "admin-tabs-"+w.name+".png")
		for _, key := range []string{"secrets", "owners", "settings"} {
			click(t, ctx, `#tab-`+key)
			s = state()
			if strings.Join(s.Selected, ",") != "tab-"+key || strings.Join(s.Visible, ",") != "panel-"+key || s.Search != "?tab="+key {
				t.Errorf("at %d px after clicking %s: selected %v, visible %v, search %q", w.w, key, s.Selected, s.Visible, s.Search)
			}
		}
		click(t, ctx, `#tab-secrets`)
		waitVisible(t, ctx, `[data-testid="secret-row"][data-slot="primary"] [data-testid="regenerate-primary"]`)
		screenshot(t, ctx, "admin-tabs-secrets-"+w.name+".png")
	}
	// Activity is a page of its own that keeps the tabs.
	if status := clickAndWait(t, ctx, `#tab-activity`); status != 200 {
		t.Fatalf("Activity: %d", status)
	}
	waitVisible(t, ctx, `[data-testid="activity-heading"]`)
	if s := state(); strings.Join(s.Selected, ",") != "tab-activity" || s.Tabs != 6 {
		t.Errorf("the activity page's tabs: %d, selected %v", s.Tabs, s.Selected)
	}
}
