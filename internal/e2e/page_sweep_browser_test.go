package e2e

// The page sweep: every GET page of the router, as an admin and as a
// member, at a laptop's width (1400 × 900) and a phone's (400 × 800). On
// each page it checks what a person notices first: the page does not
// scroll sideways, nothing is written to the console as an error (no
// script error, no failed load such as a missing favicon, no CSP
// violation), every form control has a label, and the text boxes of a
// filter bar are wide enough to read (≥ 120 px), every link and button is
// in view (inside the window and not cut off by a box that clips or
// scrolls it, as a Reject button once was at 1400 px), at 400 px no
// table is wider than its box (it fits, or it is shown as cards), and a
// signed-in person can see which account is signed in. Each page is saved as a
// screenshot; the directory is printed when the sweep fails, or always
// with -v when OAUTHDESK_SCREENSHOT_DIR is set.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/federation"
	"github.com/oauthdesk/oauthdesk/internal/pat"
)

// sweepWidths are the viewports of the sweep.
var sweepWidths = []struct {
	name string
	w, h int64
}{{"laptop", 1400, 900}, {"phone", 400, 800}}

// sweepPage is one page of the sweep: the route it fills in and the URL.
type sweepPage struct {
	route string // "/admin/apps/:client_id"
	url   string // "/admin/apps/0b0…"
	// status is the HTTP status the page must answer with.
	status int
}

// sweepCheck is what the page script reports.
type sweepCheck struct {
	ScrollWidth int      `json:"scrollWidth"`
	InnerWidth  int      `json:"innerWidth"`
	Unlabelled  []string `json:"unlabelled"`
	Narrow      []string `json:"narrow"`
	CSP         []string `json:"csp"`
	Overflowing []string `json:"overflowing"`
	Clipped     []string `json:"clipped"`
	WideTables  []string `json:"wideTables"`
	AccountSeen bool     `json:"accountSeen"`
}

// sweepScript measures the page. A control is labelled when it has a
// <label> with text, aria-label, aria-labelledby or a title. A filter bar
// is a GET form (search, filters). Overflowing lists the widest elements
// that stick out of the viewport, to say what to fix.
const sweepScript = `(() => {
	const describe = el => el.tagName.toLowerCase() + (el.name ? '[name=' + el.name + ']' : '') + (el.id ? '#' + el.id : '') + (el.type ? '(' + el.type + ')' : '');
	const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
	const out = {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
		unlabelled: [], narrow: [], csp: window.__cspViolations || [], overflowing: []};
	const skip = ['hidden', 'submit', 'button', 'reset', 'image'];
	for (const el of document.querySelectorAll('input, select, textarea')) {
		if (skip.includes(el.type)) continue;
		const labelled = [...(el.labels || [])].some(l => l.textContent.trim() !== '') ||
			(el.getAttribute('aria-label') || '').trim() !== '' || !!el.getAttribute('aria-labelledby') || (el.title || '').trim() !== '';
		if (!labelled && !out.unlabelled.includes(describe(el))) out.unlabelled.push(describe(el));
	}
	for (const el of document.querySelectorAll('form[method="get" i] input, form[method="get" i] select')) {
		if (!['text', 'search', 'date', 'email', 'select-one'].includes(el.type) || !visible(el)) continue;
		const w = el.getBoundingClientRect().width;
		if (w < 120) out.narrow.push(describe(el) + ' is ' + Math.round(w) + ' px');
	}
	// Links and buttons: inside the window, and inside every ancestor box
	// that clips or scrolls sideways (a control past a scroll box's edge
	// is hidden until someone thinks of scrolling).
	const name = el => el.tagName.toLowerCase() + (el.dataset.testid ? '[' + el.dataset.testid + ']' : '') + ' "' + (el.textContent || el.value || '').trim().slice(0, 30) + '"';
	out.clipped = [];
	for (const el of document.querySelectorAll('a[href], button, [role="button"], input[type="submit"], summary')) {
		if (!visible(el) || el.closest('.skip-link, .visually-hidden') || getComputedStyle(el).visibility === 'hidden') continue;
		const r = el.getBoundingClientRect();
		if (r.width < 2 || r.height < 2) continue;
		if (r.left < -1 || r.right > out.innerWidth + 1) { out.clipped.push(name(el) + ' is outside the window (' + Math.round(r.left) + '..' + Math.round(r.right) + ')'); continue; }
		for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
			if (getComputedStyle(p).overflowX === 'visible') continue;
			const pr = p.getBoundingClientRect();
			if (r.right > pr.right + 1 || r.left < pr.left - 1) { out.clipped.push(name(el) + ' is cut off by ' + describe(p) + (p.className ? '.' + String(p.className).split(' ').join('.') : '')); break; }
		}
		if (out.clipped.length >= 8) break;
	}
	// On a phone every table fits its box (or is shown as cards).
	out.wideTables = [];
	if (out.innerWidth <= 500) {
		for (const tb of document.querySelectorAll('table')) {
			if (!visible(tb) || !tb.parentElement) continue;
			const w = tb.getBoundingClientRect().width, box = tb.parentElement.clientWidth;
			if (w > box + 1) out.wideTables.push('table' + (tb.dataset.testid ? '[' + tb.dataset.testid + ']' : '') + ' is ' + Math.round(w) + ' px in a ' + box + ' px box');
		}
	}
	// Which account is signed in shows without opening a menu.
	out.accountSeen = !document.querySelector('[data-testid="signout"]') || [...document.querySelectorAll('[data-testid="signed-in-as"], [data-testid="signed-in-as-compact"]')].some(el => {
		const r = el.getBoundingClientRect();
		return visible(el) && getComputedStyle(el).visibility !== 'hidden' && r.width > 0 && r.left >= 0 && r.right <= out.innerWidth + 1;
	});
	if (out.scrollWidth > out.innerWidth) {
		for (const el of document.body.querySelectorAll('*')) {
			const r = el.getBoundingClientRect();
			if (r.right > out.innerWidth + 1 && visible(el)) {
				let inScroller = false;
				for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
					const ov = getComputedStyle(p).overflowX;
					if (ov === 'auto' || ov === 'scroll' || ov === 'hidden') { inScroller = true; break; }
				}
				if (!inScroller) out.overflowing.push(describe(el) + (el.className ? '.' + String(el.className).split(' ').join('.') : '') + ' right=' + Math.round(r.right));
			}
			if (out.overflowing.length >= 8) break;
		}
	}
	return out;
})()`

// cspListener records CSP violations of the page (it runs before the
// page's own scripts, outside the page's CSP).
const cspListener = `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));`

// sweepFixture is a server with data on every page: apps in every expiry
// state, an imported app, users of each role, authorizations, audit events.
type sweepFixture struct {
	ts                *testServer
	app, bobApp       registeredApp
	authzID, bobAuthz string
	expiredID         string // an app whose primary secret expired about 7 months ago
	bobID, adminID    string
	daveID            string // co-owns the admin's app
	pendingID         string // bob's app waiting for approval
	bobInvitation     string // root's invitation to bob to co-own the admin's app
	bobPAT, adminPAT  string // a personal access token id of each
}

func newSweepFixture(t *testing.T) *sweepFixture {
	t.Helper()
	ts := newTestServer(t)
	f := &sweepFixture{ts: ts}
	f.adminID = ts.addUser(t, "root", domain.RoleAdmin, lbRootPassword).ID
	f.bobID = ts.addUser(t, "bob", domain.RoleMember, lbBobPassword).ID
	ts.addUser(t, "carol", domain.RoleAuditor, "carol's long password")
	for _, n := range []string{"dave", "erin", "frank"} {
		ts.addUser(t, n, domain.RoleMember, n+"'s long password")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	adminHTTP := ts.newAgent(t)
	adminHTTP.signIn("root", lbRootPassword)
	f.app = registerThroughDashboard(t, adminHTTP, "vso.work", "vso.code_write", "vso.tokens", "vso.build_execute", "vso.profile")
	for i := range 30 {
		reg := domain.Registration{Name: fmt.Sprintf("Contoso Tool %02d with a rather long name", i), Company: "Contoso Ltd.",
			AppURL: "https://contoso.example/tools", Description: "A tool.",
			CallbackURL: fmt.Sprintf("https://contoso.example/tools/%02d/oauth/callback/handler?tenant=contoso-production", i),
			Scopes:      []string{"vso.work", "vso.code", "vso.build", "vso.release_manage"}[:1+i%4]}
		if _, err := ts.App.Admin.RegisterApp(ctx, "root", reg); err != nil {
			t.Fatal(err)
		}
	}
	// Secrets in every state: expired, critical, expiring (the rest ok).
	db, err := ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	first, err := ts.App.Admin.ListApps(ctx, domain.AppFilter{Query: "Contoso Tool", Limit: 3})
	if err != nil || len(first.Apps) != 3 {
		t.Fatalf("list the first apps: %v (%d)", err, len(first.Apps))
	}
	var ids []string
	for _, a := range first.Apps {
		ids = append(ids, a.ClientID)
	}
	ageSecret(t, db, ids[0], now.AddDate(-5, -7, 0))
	f.expiredID = ids[0]
	ageSecret(t, db, ids[1], now.AddDate(-5, 0, 10))
	ageSecret(t, db, ids[2], now.AddDate(-4, -11, 0))
	// An imported (external) app.
	recs, err := ts.App.Admin.ParseImport([]byte("client_id,name,company,callback_url,scopes,secret_created_at\n" +
		"20000000-0000-4000-8000-000000000001,Imported Wiki,Northwind,https://northwind.example/cb,vso.wiki,2022-03-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.App.Admin.Import(ctx, recs, "root"); err != nil {
		t.Fatal(err)
	}
	// Bob owns an app, and authorizes the admin's app.
	res, err := ts.App.Admin.RegisterApp(ctx, "bob", domain.Registration{Name: "Bob's Board", Company: "Bob & Co.",
		AppURL: "https://bob.example", CallbackURL: callbackURL, Scopes: []string{"vso.work"}})
	if err != nil {
		t.Fatal(err)
	}
	f.bobApp = registeredApp{ClientID: res.App.ClientID, Secret: res.ClientSecret}
	bobHTTP := ts.newAgent(t)
	bobHTTP.signIn("bob", lbBobPassword)
	lbTokenPair(t, ts, bobHTTP, f.app, f.app.Secret, "vso.work vso.code_write vso.tokens")
	for _, n := range []string{"dave", "erin"} {
		u := ts.newAgent(t)
		u.signIn(n, n+"'s long password")
		lbTokenPair(t, ts, u, f.app, f.app.Secret, "vso.work")
	}
	// Bob's change of his app waits for review (the approval queue's diff).
	if err := ts.App.Admin.SetRegistrationPolicy(ctx, domain.PolicyApproval); err != nil {
		t.Fatal(err)
	}
	bobUser, err := ts.App.Admin.User(ctx, f.bobID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.NewChangeReview(ts.App.Admin, ts.App.DB).EditOwnApp(ctx, bobUser, f.bobApp.ClientID, domain.Registration{
		Name: "Bob's Board Pro", Company: "Bob & Co.", AppURL: "https://bob.example", CallbackURL: "https://bob.example/a-much-longer/oauth-callback",
		Scopes: []string{"vso.work", "vso.code"}}); err != nil {
		t.Fatal(err)
	}
	// Bob's new app with a high-privilege scope waits for approval (the
	// overview's queue, whose Reject button was once cut off).
	if pending, err := ts.App.Admin.RegisterOwnApp(ctx, bobUser, domain.Registration{Name: "Bob's Code Pusher", Company: "Bob & Co.",
		AppURL: "https://bob.example/pusher", CallbackURL: "https://bob.example/pusher/oauth/callback/with/a/long/path?tenant=bob",
		Scopes: []string{"vso.code_write", "vso.build_execute"}}); err != nil {
		t.Fatal(err)
	} else {
		f.pendingID = pending.App.ClientID
	}
	// Dave co-owns the admin's app (the owner removal confirmations).
	dave, err := ts.App.Admin.AddOwner(ctx, f.app.ClientID, "dave")
	if err != nil {
		t.Fatal(err)
	}
	f.daveID = dave.ID
	if err := ts.App.Admin.SetRegistrationPolicy(ctx, domain.PolicyMembers); err != nil {
		t.Fatal(err)
	}
	// Open invitations: on the admin's app page (as typed) and on bob's
	// /profile/apps (Accept / Decline).
	rootUser, err := ts.App.Admin.UserByUsername(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bob", "someone.who-may-not-exist"} {
		inv, err := admin.NewInvitations(ts.App.Admin, ts.App.DB).Invite(ctx, f.app.ClientID, rootUser, name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "bob" {
			f.bobInvitation = inv.ID
		}
	}
	// A directory connector (never reached: the pages only list it).
	if _, err := ts.App.Federation.AddConnector(ctx, federation.NewConnector{Name: "corp", Secret: "bind-password",
		Config: connector.Config{Type: domain.ConnectorLDAP, URL: "ldaps://127.0.0.1:1", BindDN: "cn=svc,dc=example,dc=com",
			UserBase: "ou=people,dc=example,dc=com", GroupBase: "ou=groups,dc=example,dc=com",
			RoleMap: map[string]string{"oauthdesk-admins": "admin"}}}); err != nil {
		t.Fatal(err)
	}
	// A personal access token of each (the token pages).
	for _, u := range []struct {
		id  string
		dst *string
	}{{f.bobID, &f.bobPAT}, {f.adminID, &f.adminPAT}} {
		owner, err := ts.App.Admin.User(ctx, u.id)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ts.App.PATs.Create(ctx, owner, pat.Request{Name: "Nightly build script for the release pipeline",
			Scopes: []string{"vso.work", "vso.code_write"}, ExpiresAt: now.AddDate(0, 0, 30)})
		if err != nil {
			t.Fatal(err)
		}
		*u.dst = c.PAT.ID
	}
	authz, _, err := ts.App.Admin.Authorizations(ctx, domain.AuthorizationFilter{ClientID: f.app.ClientID})
	if err != nil || len(authz) == 0 {
		t.Fatalf("authorizations of the app: %v (%d)", err, len(authz))
	}
	for _, z := range authz {
		if z.UserID == f.bobID {
			f.bobAuthz = z.ID
		}
		f.authzID = z.ID
	}
	return f
}

// sweepRoutes maps every GET route of the router to the page that the
// admin and the member see, or to "" for routes that are not pages. A
// route missing here fails the sweep: a new page must be added.
func (f *sweepFixture) sweepRoutes() map[string]func(role domain.Role) (string, int) {
	admin := func(path string) func(domain.Role) (string, int) {
		return func(r domain.Role) (string, int) {
			if r == domain.RoleAdmin {
				return path, http.StatusOK
			}
			return "", 0
		}
	}
	both := func(path string) func(domain.Role) (string, int) {
		return func(domain.Role) (string, int) { return path, http.StatusOK }
	}
	none := func(domain.Role) (string, int) { return "", 0 }
	// own is a page of the app the role's user owns: root registered the
	// admin's app, bob his own.
	own := func(suffix string) func(domain.Role) (string, int) {
		return func(r domain.Role) (string, int) {
			if r == domain.RoleMember {
				return "/profile/apps/" + f.bobApp.ClientID + suffix, http.StatusOK
			}
			return "/profile/apps/" + f.app.ClientID + suffix, http.StatusOK
		}
	}
	ownPAT := func(suffix string) func(domain.Role) (string, int) {
		return func(r domain.Role) (string, int) {
			if r == domain.RoleMember {
				return "/profile/tokens/" + f.bobPAT + suffix, http.StatusOK
			}
			return "/profile/tokens/" + f.adminPAT + suffix, http.StatusOK
		}
	}
	app := "/admin/apps/" + f.app.ClientID
	return map[string]func(domain.Role) (string, int){
		// Not pages.
		"/.well-known/jwks.json": none, "/healthz": none, "/readyz": none, "/metrics": none, "/assets/*": none,
		"/admin/audit/export":               none,
		"/.well-known/openid-configuration": none, "/.well-known/oauth-authorization-server": none, "/oauth2/userinfo": none,
		// OpenID Connect pages.
		"/device":        both("/device"),
		"/oauth2/logout": both("/oauth2/logout"), // the confirmation; nothing is signed out by a GET without id_token_hint
		// Pages.
		"/":        both("/"),
		"/signin":  none, // visited signed out, and checked to redirect when signed in
		"/signout": both("/signout"),
		"/oauth2/authorize": func(r domain.Role) (string, int) {
			if r == domain.RoleMember {
				return authorizeURL(f.bobApp.ClientID, "vso.work", "sweep", callbackURL), http.StatusOK
			}
			return "", 0
		},
		"/profile/authorizations": both("/profile/authorizations"),
		"/profile/authorizations/:id/revoke": func(r domain.Role) (string, int) {
			if r == domain.RoleMember {
				return "/profile/authorizations/" + f.bobAuthz + "/revoke", http.StatusOK
			}
			return "", 0
		},
		"/admin": func(r domain.Role) (string, int) {
			if r == domain.RoleMember {
				return "/admin", http.StatusForbidden
			}
			return "/admin", http.StatusOK
		},
		"/admin/apps":            admin("/admin/apps"),
		"/admin/apps/new":        admin("/admin/apps/new"),
		"/admin/apps/import":     admin("/admin/apps/import"),
		"/admin/apps/:client_id": admin(app),
		"/admin/apps/:client_id/secrets/:slot/regenerate": admin(app + "/secrets/primary/regenerate"),
		"/admin/apps/:client_id/secrets/:slot/retire":     admin(app + "/secrets/primary/retire"),
		"/admin/apps/:client_id/revoke":                   admin(app + "/revoke"),
		"/admin/apps/:client_id/delete":                   admin(app + "/delete"),
		"/admin/apps/:client_id/scopes":                   admin(app + "/scopes"),
		"/admin/apps/:client_id/scopes/narrow":            admin(app + "/scopes/narrow"),
		"/admin/authorizations/:id/revoke":                admin("/admin/authorizations/" + f.authzID + "/revoke"),
		"/admin/scopes":                                   admin("/admin/scopes"),
		"/admin/scopes/:scope":                            admin("/admin/scopes/vso.work"),
		"/admin/users":                                    admin("/admin/users"),
		"/admin/users/:id":                                admin("/admin/users/" + f.bobID),
		"/admin/users/:id/revoke":                         admin("/admin/users/" + f.bobID + "/revoke"),
		"/admin/settings":                                 admin("/admin/settings"),
		"/admin/settings/connectors":                      admin("/admin/settings/connectors"),
		"/admin/settings/connectors/:name/remove":         admin("/admin/settings/connectors/corp/remove"),
		"/signin/:name":                                   none, // a redirect upstream, or the sign-in page signed out
		"/signin/:name/callback":                          none, // the upstream's redirect back
		"/admin/reports":                                  admin("/admin/reports"),
		"/admin/audit":                                    admin("/admin/audit"),
		"/admin/audit/pick":                               none, // a <datalist> fragment for htmx
		"/admin/apps/:client_id/activity":                 admin(app + "/activity"),
		"/admin/users/:id/activity":                       admin("/admin/users/" + f.bobID + "/activity"),
		"/admin/users/new":                                admin("/admin/users/new"),
		"/profile/apps/:client_id/activity":               own("/activity"),
		"/admin/settings/third-party-oauth":               admin("/admin/settings/third-party-oauth?value=off"),
		// The owner's pages: each role visits an app it owns.
		"/profile/apps":                                     both("/profile/apps"),
		"/profile/apps/new":                                 both("/profile/apps/new"),
		"/profile/password":                                 both("/profile/password"),
		"/profile/apps/:client_id":                          own(""),
		"/profile/apps/:client_id/edit":                     own("/edit"),
		"/profile/apps/:client_id/secrets/:slot/regenerate": own("/secrets/primary/regenerate"),
		"/profile/apps/:client_id/secrets/:slot/retire":     own("/secrets/primary/retire"),
		"/profile/apps/:client_id/delete":                   own("/delete"),
		"/admin/apps/:client_id/edit":                       admin(app + "/edit"),
		"/admin/apps/:client_id/reject":                     admin(app + "/reject"),
		"/admin/changes":                                    admin("/admin/changes"),
		"/admin/apps/:client_id/change/reject":              admin("/admin/apps/" + f.bobApp.ClientID + "/change/reject"),
		"/admin/users/:id/disable":                          admin("/admin/users/" + f.bobID + "/disable"),
		"/admin/users/:id/reset-password":                   admin("/admin/users/" + f.bobID + "/reset-password"),
		"/admin/users/:id/delete":                           admin("/admin/users/" + f.bobID + "/delete"),
		// Personal access tokens: each role's own, and the admin's list.
		"/profile/tokens":            both("/profile/tokens"),
		"/profile/tokens/:id/edit":   ownPAT("/edit"),
		"/profile/tokens/:id/revoke": ownPAT("/revoke"),
		"/admin/tokens":              admin("/admin/tokens"),
		"/admin/tokens/revoke":       admin("/admin/tokens/revoke?mode=all&filter=owner%3Dbob"),
		"/admin/tokens/:id/revoke":   admin("/admin/tokens/" + f.bobPAT + "/revoke"),
		// The confirmations of the policy switches and one-click changes.
		"/admin/settings/app-registration":                admin("/admin/settings/app-registration?policy=approval"),
		"/admin/settings/secret-lifetime":                 admin("/admin/settings/secret-lifetime?days=365"),
		"/admin/settings/pat-policy":                      admin("/admin/settings/pat-policy?max_lifespan=90&full_scope_deny=1"),
		"/admin/settings/pat-violations/revoke":           admin("/admin/settings/pat-violations/revoke"),
		"/admin/settings/local-signin":                    admin("/admin/settings/local-signin?value=admins-only"),
		"/admin/users/:id/role":                           admin("/admin/users/" + f.bobID + "/role?role=admin"),
		"/admin/users/:id/enable":                         admin("/admin/users/" + f.bobID + "/enable"),
		"/admin/apps/:client_id/approve":                  admin("/admin/apps/" + f.pendingID + "/approve?return=overview"),
		"/admin/apps/:client_id/owners/:user_id/remove":   admin(app + "/owners/" + f.daveID + "/remove"),
		"/admin/reports/run":                              admin("/admin/reports/run"),
		"/admin/apps/:client_id/change/approve":           admin("/admin/apps/" + f.bobApp.ClientID + "/change/approve?return=queue"),
		"/admin/apps/:client_id/client-credentials":       admin(app + "/client-credentials?enabled=on"),
		"/admin/apps/:client_id/client-grants/:id/revoke": admin(app + "/client-grants/cc-00000000-0000-0000-0000-000000000000/revoke"),
		"/profile/apps/:client_id/client-credentials":     own("/client-credentials?enabled=off"),
		"/profile/apps/:client_id/hand-over": func(r domain.Role) (string, int) {
			if r == domain.RoleMember { // bob's app has no co-owner: sent back with the reason
				return "/profile/apps/" + f.bobApp.ClientID + "/hand-over?username=carol", http.StatusOK
			}
			return "/profile/apps/" + f.app.ClientID + "/hand-over?username=dave", http.StatusOK
		},
		"/profile/apps/:client_id/client-grants/:id/revoke": own("/client-grants/cc-00000000-0000-0000-0000-000000000000/revoke"),
		// The confirmations of an alternative secret, a new owner (the
		// admin adds one; an owner invites), an invitation's cancel,
		// accept and decline, a change's withdrawal, the token allowlist
		// and the token notices (none here: sent to the tokens page).
		"/admin/apps/:client_id/secrets/alternative":   admin(app + "/secrets/alternative"),
		"/profile/apps/:client_id/secrets/alternative": own("/secrets/alternative"),
		"/admin/apps/:client_id/owners":                admin(app + "/owners?username=erin"),
		"/profile/apps/:client_id/owners":              own("/owners?username=erin"),
		"/profile/apps/:client_id/invitations/:id/cancel": func(r domain.Role) (string, int) {
			if r == domain.RoleAdmin {
				return "/profile/apps/" + f.app.ClientID + "/invitations/" + f.bobInvitation + "/cancel", http.StatusOK
			}
			return "", 0
		},
		"/profile/invitations/:id/accept": func(r domain.Role) (string, int) {
			if r == domain.RoleMember {
				return "/profile/invitations/" + f.bobInvitation + "/accept", http.StatusOK
			}
			return "", 0
		},
		"/profile/invitations/:id/decline": func(r domain.Role) (string, int) {
			if r == domain.RoleMember {
				return "/profile/invitations/" + f.bobInvitation + "/decline", http.StatusOK
			}
			return "", 0
		},
		"/profile/apps/:client_id/change/withdraw": own("/change/withdraw"), // bob's change waits; root's app has none
		"/admin/settings/pat-allowlist":            admin("/admin/settings/pat-allowlist?username=bob&action=add"),
		"/profile/notices/dismiss":                 both("/profile/notices/dismiss"),
		"/profile/apps/:client_id/owners/:user_id/remove": func(r domain.Role) (string, int) {
			if r == domain.RoleMember { // bob alone owns his app: sent back to it with the reason
				return "/profile/apps/" + f.bobApp.ClientID + "/owners/" + f.bobID + "/remove", http.StatusOK
			}
			return "/profile/apps/" + f.app.ClientID + "/owners/" + f.daveID + "/remove", http.StatusOK
		},
	}
}

// sweepStates are further states of pages the sweep visits, by a name
// (a route and what differs): the owner's app page on each tab, the
// second page of the app list.
func (f *sweepFixture) sweepStates(t *testing.T) map[string]func(role domain.Role) (string, int) {
	t.Helper()
	out := map[string]func(domain.Role) (string, int){}
	for _, tab := range []string{"secrets", "authorizations", "owners", "settings"} {
		out["/profile/apps/:client_id?tab="+tab] = func(r domain.Role) (string, int) {
			if r == domain.RoleMember {
				return "/profile/apps/" + f.bobApp.ClientID + "?tab=" + tab, http.StatusOK
			}
			return "/profile/apps/" + f.app.ClientID + "?tab=" + tab, http.StatusOK
		}
	}
	first, err := f.ts.App.Admin.ListApps(context.Background(), domain.AppFilter{Limit: 25})
	if err != nil || first.Next == "" {
		t.Fatalf("the fixture's apps fill no second page: %v", err)
	}
	out["/admin/apps?after= (page 2)"] = func(r domain.Role) (string, int) {
		if r == domain.RoleAdmin {
			return "/admin/apps?after=" + first.Next + "&from=26", http.StatusOK
		}
		return "", 0
	}
	return out
}

// TestPageSweep is the browser sweep: every GET page, two roles,
// two widths.
func TestPageSweep(t *testing.T) {
	requireChromium(t)
	f := newSweepFixture(t)
	routes := f.sweepRoutes()
	// OAUTHDESK_SWEEP_ONLY (a regular expression over routes) visits only
	// the routes it matches, to look at a few pages while working on them.
	only, err := regexp.Compile(os.Getenv("OAUTHDESK_SWEEP_ONLY"))
	if err != nil {
		t.Fatalf("OAUTHDESK_SWEEP_ONLY: %v", err)
	}
	pages := map[domain.Role][]sweepPage{}
	for _, r := range f.ts.App.Web.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if method != http.MethodGet || strings.HasPrefix(path, "/_apis/") {
			continue
		}
		fill, ok := routes[path]
		if !ok {
			t.Errorf("new page GET %s: add it to the page sweep (sweepRoutes), with the URL each role visits", path)
			continue
		}
		if !only.MatchString(path) {
			continue
		}
		for _, role := range []domain.Role{domain.RoleAdmin, domain.RoleMember} {
			if u, status := fill(role); u != "" {
				pages[role] = append(pages[role], sweepPage{route: path, url: u, status: status})
			}
		}
	}
	// States of pages beyond their first view (another tab, a later
	// page), visited like the routes.
	for state, fill := range f.sweepStates(t) {
		if !only.MatchString(state) {
			continue
		}
		for _, role := range []domain.Role{domain.RoleAdmin, domain.RoleMember} {
			if u, status := fill(role); u != "" {
				pages[role] = append(pages[role], sweepPage{route: state, url: u, status: status})
			}
		}
	}
	for _, role := range []domain.Role{domain.RoleAdmin, domain.RoleMember} {
		sort.Slice(pages[role], func(i, j int) bool { return pages[role][i].route < pages[role][j].route })
	}

	dir := os.Getenv("OAUTHDESK_SCREENSHOT_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "oauthdesk-sweep-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if !t.Failed() {
				os.RemoveAll(dir)
			}
		})
	} else {
		dir = filepath.Join(dir, "sweep")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screenshots of every page of the sweep: %s", dir)
		}
	})

	users := []struct {
		role               domain.Role
		username, password string
		start              string
	}{
		{domain.RoleAdmin, "root", lbRootPassword, "/admin"},
		{domain.RoleMember, "bob", lbBobPassword, "/"},
	}
	for _, u := range users {
		t.Run(string(u.role), func(t *testing.T) {
			ctx := newBrowserTimeout(t, 4*time.Minute)
			con := watchConsole(t, ctx)
			visit := func(w struct {
				name string
				w, h int64
			}, p sweepPage, name string) {
				t.Helper()
				con.reset()
				resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(f.ts.URL+p.url))
				if err != nil {
					t.Fatalf("%s at %s: %v", p.url, w.name, why(err))
				}
				if resp != nil && p.status != 0 && int(resp.Status) != p.status {
					t.Errorf("%s (%s) as %s: status %d, want %d", p.url, p.route, u.role, resp.Status, p.status)
				}
				check, err := chromedp.Run(ctx, chromedp.Evaluate[sweepCheck](sweepScript))
				if err != nil {
					t.Fatalf("measure %s: %v", p.url, why(err))
				}
				shot := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.png", u.role, w.name, name))
				if _, err := saveScreenshot(t, ctx, shot); err != nil {
					t.Errorf("screenshot of %s: %v", p.url, err)
				}
				where := fmt.Sprintf("%s at %d px as %s (%s)", p.route, w.w, u.role, shot)
				if check.ScrollWidth > check.InnerWidth {
					t.Errorf("%s scrolls sideways: %d px wide in a %d px window; sticking out: %q", where, check.ScrollWidth, check.InnerWidth, check.Overflowing)
				}
				for _, c := range check.Unlabelled {
					t.Errorf("%s: form control %s has no label", where, c)
				}
				for _, c := range check.Narrow {
					t.Errorf("%s: filter field %s, narrower than 120 px", where, c)
				}
				for _, c := range check.CSP {
					t.Errorf("%s: CSP violation: %s", where, c)
				}
				for _, c := range check.Clipped {
					t.Errorf("%s: %s", where, c)
				}
				for _, c := range check.WideTables {
					t.Errorf("%s: %s: it must fit or become cards", where, c)
				}
				if !check.AccountSeen {
					t.Errorf("%s: the signed-in account is not visible", where)
				}
				for _, m := range con.errors() {
					// A page that answers an error status logs that it did.
					if p.status >= 400 && strings.Contains(m, fmt.Sprintf("status of %d", p.status)) && strings.HasSuffix(m, f.ts.URL+p.url) {
						continue
					}
					t.Errorf("%s: console error: %s", where, m)
				}
			}
			for _, w := range sweepWidths {
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(w.w, w.h)); err != nil {
					t.Fatal(err)
				}
				// Signed out: the sign-in page.
				visit(w, sweepPage{route: "/signin", url: "/signin", status: http.StatusOK}, "signin")
			}
			lbSignIn(t, ctx, f.ts, u.username, u.password, u.start)
			// Signed in, /signin goes to the start page.
			navigate(t, ctx, f.ts.URL+"/signin")
			if got := currentURL(t, ctx); got != f.ts.URL+u.start {
				t.Errorf("signed in as %s, /signin shows %s; want the start page %s", u.role, got, u.start)
			}
			for _, w := range sweepWidths {
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(w.w, w.h)); err != nil {
					t.Fatal(err)
				}
				for _, p := range pages[u.role] {
					visit(w, p, shotName(p.route))
				}
			}
		})
	}
}

// shotName turns a route into a file name: /admin/apps/:client_id →
// admin_apps_client_id.
func shotName(route string) string {
	s := strings.Trim(strings.NewReplacer("/", "_", ":", "", "*", "", "?", "_", "=", "-", " ", "", "(", "", ")", "").Replace(route), "_")
	if s == "" {
		return "home"
	}
	return s
}

// consoleWatch collects the console errors of a tab: script errors,
// uncaught exceptions and browser log errors (failed loads, CSP).
type consoleWatch struct {
	mu   sync.Mutex
	msgs []string
}

func watchConsole(t *testing.T, ctx context.Context) *consoleWatch {
	t.Helper()
	w := &consoleWatch{}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener}); err != nil {
		t.Fatalf("install the CSP listener: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				msg = "console.error: " + strings.Join(parts, " ")
			}
		case *runtime.EventExceptionThrown:
			if e.ExceptionDetails != nil {
				msg = "exception: " + e.ExceptionDetails.Text
				if e.ExceptionDetails.Exception != nil {
					msg += " " + e.ExceptionDetails.Exception.Description
				}
			}
		case *log.EventEntryAdded:
			if e.Entry != nil && e.Entry.Level == log.EntryLevelError {
				msg = string(e.Entry.Source) + ": " + e.Entry.Text + " " + e.Entry.URL
			}
		}
		if msg != "" {
			w.mu.Lock()
			w.msgs = append(w.msgs, msg)
			w.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *consoleWatch) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = nil
}

func (w *consoleWatch) errors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}
