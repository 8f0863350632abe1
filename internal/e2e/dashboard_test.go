package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// TestImportReportsEveryProblemAtOnce: one upload names every bad row and
// every reason of a row, those of the row itself and those against the
// database (an owner that is not a user) alike, so a person fixes the file
// in one round; nothing is written.
func TestImportReportsEveryProblemAtOnce(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, lbRootPassword)
	admin := ts.newAgent(t)
	admin.signIn("root", lbRootPassword)
	file := "client_id,name,company,callback_url,scopes,secret_created_at,owner\n" +
		"30000000-0000-4000-8000-000000000001,Good Row,Contoso,https://contoso.example/cb,vso.work,2024-01-01,root\n" +
		"30000000-0000-4000-8000-000000000002,Bad Date,Contoso,https://contoso.example/cb,vso.work,yesterday,root\n" +
		"30000000-0000-4000-8000-000000000003,Nobody Owns,Contoso,https://contoso.example/cb,vso.work,2024-01-01,nobody\n" +
		"30000000-0000-4000-8000-000000000004,Both Wrong,Contoso,https://contoso.example/cb,vso.nope,2024-01-01,ghost\n"
	r := admin.postFile("/admin/apps/import", "file", "inventory.csv", []byte(file), url.Values{"_csrf": {admin.csrf("/admin/apps/import")}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("preview of a bad file: status %d, want 422: %.400s", r.Status, r.Body)
	}
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`data-testid="import-problem" data-line="(\d+)">([^<]*)<`).FindAllStringSubmatch(r.Body, -1) {
		got[m[1]] = htmlUnescape(m[2])
	}
	want := map[string][]string{
		"3": {"secret_created_at"},
		"4": {`owner "nobody" is not a user`},
		"5": {"vso.nope", `owner "ghost" is not a user`},
	}
	if len(got) != len(want) {
		t.Errorf("problems on lines %v, want lines 3, 4 and 5", got)
	}
	for line, words := range want {
		for _, w := range words {
			if !strings.Contains(got[line], w) {
				t.Errorf("line %s: %q lacks %q", line, got[line], w)
			}
		}
	}
	if list := admin.get("/admin/apps?q=Good+Row"); strings.Contains(list.Body, `data-testid="app-row"`) {
		t.Error("a rejected file imported its good row")
	}
}

// TestRegistrationMessages: "not a url" in a website says what a URL is,
// and a callback with two problems names both, in the form and in one
// round.
func TestRegistrationMessages(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, lbRootPassword)
	admin := ts.newAgent(t)
	admin.signIn("root", lbRootPassword)
	r := admin.postForm("/admin/apps", url.Values{"_csrf": {admin.csrf("/admin/apps/new")}, "name": {"A"}, "company": {"C"},
		"app_url": {"not a url"}, "callback_url": {"http://a.example/cb#frag"}, "scopes": {"vso.work"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", r.Status)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`data-testid="error-` + name + `">([^<]*)<`).FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("no message at %s", name)
		}
		return htmlUnescape(m[1])
	}
	if got := field("app_url"); got != "Application website must be an absolute https:// URL, like https://example.com." {
		t.Errorf("app_url message %q", got)
	}
	cb := field("callback_url")
	for _, w := range []string{"must use https, not http", "Also, it must not contain a fragment"} {
		if !strings.Contains(cb, w) {
			t.Errorf("callback_url message %q lacks %q", cb, w)
		}
	}
}

// TestSignedInSignin: a signed-in user who opens /signin goes to their
// start page (or to return_to), not to a second sign-in form.
func TestSignedInSignin(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, lbRootPassword)
	ts.addUser(t, "bob", domain.RoleMember, lbBobPassword)
	for _, c := range []struct{ user, pass, path, want string }{
		{"root", lbRootPassword, "/signin", "/admin"},
		{"bob", lbBobPassword, "/signin", "/"},
		{"bob", lbBobPassword, "/signin?return_to=%2Fprofile%2Fauthorizations", "/profile/authorizations"},
		{"bob", lbBobPassword, "/signin?return_to=https%3A%2F%2Fevil.example%2F", "/"},
	} {
		a := ts.newAgent(t)
		a.signIn(c.user, c.pass)
		r := a.get(c.path)
		if r.Status != http.StatusFound || r.Location() != c.want {
			t.Errorf("%s signed in, GET %s: %d → %q, want 302 → %q", c.user, c.path, r.Status, r.Location(), c.want)
		}
	}
	if r := ts.newAgent(t).get("/signin"); r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="signin-submit"`) {
		t.Errorf("signed out, /signin: status %d, want the form", r.Status)
	}
}

// TestAppsSortKeyset walks every order of /admin/apps page by page, both
// ways, and checks that the pages hold every app once, in order; that the
// result count is the total; that tabs and pages keep the search text; and
// that the expiring and critical tabs are ordered by expiry.
func TestAppsSortKeyset(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, lbRootPassword)
	ts.addUser(t, "bob", domain.RoleMember, lbBobPassword)
	admin := ts.newAgent(t)
	admin.signIn("root", lbRootPassword)
	ctx := context.Background()
	db, err := ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	const n = 57 // three pages of 25
	var ids []string
	for i := range n {
		res, err := ts.App.Admin.RegisterApp(ctx, "root", domain.Registration{Name: fmt.Sprintf("Tool %02d", (i*37)%n), Company: "Contoso",
			AppURL: "https://contoso.example", CallbackURL: callbackURL, Scopes: []string{"vso.work"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.App.ClientID)
		// Ages spread over five years; some share a day (ties broken by id).
		ageSecret(t, db, res.App.ClientID, now.AddDate(0, -(i%20)*3, -(i%7)))
	}
	// Active authorizations: bob authorizes two apps.
	bob := ts.newAgent(t)
	bob.signIn("bob", lbBobPassword)
	for _, id := range ids[:2] {
		decide(t, bob, authorizeURL(id, "vso.work", "s", callbackURL), "accept")
	}

	rowRE := regexp.MustCompile(`data-testid="app-row" data-client-id="([^"]+)"`)
	cell := func(body, id, testid string) string {
		i := strings.Index(body, `data-client-id="`+id+`"`)
		rest := body[i:]
		m := regexp.MustCompile(`data-testid="` + testid + `"[^>]*>([^<]*)<`).FindStringSubmatch(rest)
		if m == nil {
			return ""
		}
		return strings.TrimSpace(m[1])
	}
	nextRE := regexp.MustCompile(`href="([^"]+)" data-testid="next-page"`)
	prevRE := regexp.MustCompile(`href="([^"]+)" data-testid="prev-page"`)
	walk := func(start string) ([]string, []string, string) {
		var all, keys []string
		page := admin.get(start)
		first := page.Body
		seen := 0
		for {
			if page.Status != http.StatusOK {
				t.Fatalf("%s: status %d", start, page.Status)
			}
			for _, m := range rowRE.FindAllStringSubmatch(page.Body, -1) {
				all = append(all, m[1])
			}
			m := nextRE.FindStringSubmatch(page.Body)
			if m == nil {
				break
			}
			if seen++; seen > 10 {
				t.Fatal("more than 10 pages")
			}
			page = admin.get(htmlUnescape(m[1]))
		}
		// Back from the last page to the first.
		last := page
		for {
			m := prevRE.FindStringSubmatch(last.Body)
			if m == nil {
				break
			}
			last = admin.get(htmlUnescape(m[1]))
			var back []string
			for _, r := range rowRE.FindAllStringSubmatch(last.Body, -1) {
				back = append(back, r[1])
			}
			keys = append(back, keys...)
		}
		return all, keys, first
	}
	for _, sortQ := range []string{"sort=name", "sort=expiry", "sort=age&dir=desc", "sort=authorizations", "sort=name&dir=desc"} {
		all, back, first := walk("/admin/apps?" + sortQ)
		if len(all) != n {
			t.Errorf("%s: %d rows over the pages, want %d", sortQ, len(all), n)
		}
		uniq := map[string]bool{}
		for _, id := range all {
			uniq[id] = true
		}
		if len(uniq) != n {
			t.Errorf("%s: %d distinct apps over the pages, want %d (a row repeated or lost)", sortQ, len(uniq), n)
		}
		// Going back from the last page gives the pages before it, in the
		// same order.
		if got, want := strings.Join(back, " "), strings.Join(all[:len(back)], " "); got != want || len(back) != n-(n%25) {
			t.Errorf("%s: walking back gives %d rows in another order", sortQ, len(back))
		}
		if !strings.Contains(first, fmt.Sprintf(`data-testid="result-count" aria-live="polite">%d apps`, n)) {
			t.Errorf("%s: no result count of %d", sortQ, n)
		}
	}
	// The orders themselves, from the first page's cells.
	ordered := func(q, testid string, cmp func(a, b string) bool) {
		body := admin.get("/admin/apps?" + q).Body
		var prev string
		for i, m := range rowRE.FindAllStringSubmatch(body, -1) {
			v := cell(body, m[1], testid)
			if i > 0 && cmp(v, prev) {
				t.Errorf("%s: %q comes after %q", q, v, prev)
			}
			prev = v
		}
	}
	ordered("sort=name", "app-name", func(a, b string) bool { return strings.ToLower(a) < strings.ToLower(b) })
	ordered("sort=expiry", "secret-expires", func(a, b string) bool { return a < b })
	ordered("sort=expiry&dir=desc", "secret-expires", func(a, b string) bool { return a > b })
	ordered("sort=authorizations", "active-authorizations", func(a, b string) bool { return a > b }) // most first
	if body := admin.get("/admin/apps?sort=authorizations").Body; cell(body, ids[0], "active-authorizations") != "1" {
		t.Errorf("the app bob authorized shows %q active authorizations first, want 1", cell(body, ids[0], "active-authorizations"))
	}
	// Expiring and critical tabs sort by expiry.
	ageSecret(t, db, ids[10], now.AddDate(-5, 0, 20)) // critical
	ageSecret(t, db, ids[11], now.AddDate(-5, 0, 5))  // critical, sooner
	body := admin.get("/admin/apps?state=critical").Body
	rows := rowRE.FindAllStringSubmatch(body, -1)
	if len(rows) != 2 || rows[0][1] != ids[11] || rows[1][1] != ids[10] {
		t.Errorf("critical tab lists %v, want the sooner expiry first", rows)
	}
	// Tabs and sort links keep the search text.
	body = admin.get("/admin/apps?q=Tool+0&sort=expiry").Body
	for _, tab := range []string{"all", "expiring", "critical", "expired"} {
		m := regexp.MustCompile(`href="([^"]*)"[^>]*data-testid="filter-` + tab + `"`).FindStringSubmatch(body)
		if m == nil || !strings.Contains(htmlUnescape(m[1]), "q=Tool+0") || !strings.Contains(htmlUnescape(m[1]), "sort=expiry") {
			t.Errorf("tab %s links to %v, want it to keep q and sort", tab, m)
		}
	}
	if !strings.Contains(body, `data-testid="result-count" aria-live="polite">10 apps match “Tool 0”`) {
		t.Errorf("search count: %s", regexp.MustCompile(`data-testid="result-count"[^<]*`).FindString(body))
	}
	// A bad sort or cursor is a 400 a person can act on.
	for _, q := range []string{"sort=secret", "dir=up", "sort=expiry&after=bm9wZQ"} {
		if r := admin.get("/admin/apps?" + q); r.Status != http.StatusBadRequest {
			t.Errorf("/admin/apps?%s: status %d, want 400", q, r.Status)
		}
	}
}

// TestDashboardAssets: the favicon, the script and the stylesheet are
// served from /assets with their types; the pages link the favicon.
func TestDashboardAssets(t *testing.T) {
	ts := newTestServer(t)
	a := ts.newAgent(t)
	for path, ctype := range map[string]string{"/assets/favicon.svg": "image/svg+xml", "/assets/app.js": "javascript", "/assets/app.css": "text/css"} {
		if r := a.get(path); r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %s", path, r.Status, r.Header.Get("Content-Type"))
		}
	}
	if r := a.get("/signin"); !strings.Contains(r.Body, `rel="icon" href="/assets/favicon.svg"`) || !strings.Contains(r.Body, `class="skip-link"`) {
		t.Error("the sign-in page links no favicon or has no skip link")
	}
}
