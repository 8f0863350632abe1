package e2e

// End-to-end tests of the scope audit (issue "Scope audit", Done when):
// two apps and three users whose tokens call only some of the APIs; the
// pages (/admin/scopes, /admin/apps/{id}/scopes) and `oauthdesk report
// scopes` show exactly which scopes were used and the recommended minimal
// set; narrowing an app's registration takes effect on the very next
// request of an existing token, widening does not widen anything until the
// user consents again; and the read-only auditor role is refused every
// state-changing route.
//
// Helpers of this file are prefixed sa so that they cannot clash with the
// helpers of the other test files of the package.

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

const (
	saRootPassword = "correct horse battery"
	saPassword     = "a long member password"
	saTokenAdmin   = "/_apis/tokenadmin/authorizations"
	// saUsageWait bounds the wait for the server's usage flush (every 100 ms
	// in the test server).
	saUsageWait = 5 * time.Second
)

// saSignedIn adds a user and signs them in.
func saSignedIn(t *testing.T, ts *testServer, username string, role domain.Role, password string) (domain.User, *agent) {
	t.Helper()
	u := ts.addUser(t, username, role, password)
	a := ts.newAgent(t)
	a.signIn(username, password)
	return u, a
}

// saPair runs the flow for user and app with scopes and returns the pair.
func saPair(t *testing.T, ts *testServer, user *agent, app registeredApp, scopes, state string) lcPair {
	t.Helper()
	code := approve(t, user, app, scopes, state)
	r := postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL))
	if got, want := r.str("scope"), scopes+" "+scope.AuthorizationGrant; got != want {
		t.Errorf("token scope %q, want %q", got, want)
	}
	return lcPairOf(t, r)
}

// saCall calls GET path with token and checks the status; for a 403 it
// also checks the RFC 6750 insufficient_scope challenge naming required.
func saCall(t *testing.T, ts *testServer, path, token string, want int, required, what string) {
	t.Helper()
	status, h, body := callAPI(t, ts.URL, path, token)
	if status != want {
		t.Errorf("%s: GET %s answered %d %v, want %d", what, path, status, body, want)
		return
	}
	switch want {
	case http.StatusForbidden:
		if ch := h.Get("WWW-Authenticate"); !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="`+required+`"`) {
			t.Errorf("%s: 403 with WWW-Authenticate %q, want error=\"insufficient_scope\" and scope=%q", what, ch, required)
		}
	case http.StatusUnauthorized:
		if ch := h.Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_token"`) {
			t.Errorf("%s: 401 with WWW-Authenticate %q, want error=\"invalid_token\"", what, ch)
		}
	}
}

// saWaitUsage waits until the app's scope audit counts want uses in all
// (the server flushes usage in batches).
func saWaitUsage(t *testing.T, ts *testServer, clientID string, want int64) reports.AppScopes {
	t.Helper()
	deadline := time.Now().Add(saUsageWait)
	for {
		rep, err := ts.App.Admin.AppScopeAudit(context.Background(), clientID, 90)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, u := range rep.Used {
			n += u.Uses
		}
		if n == want {
			return rep
		}
		if n > want || time.Now().After(deadline) {
			t.Fatalf("app %s: %d uses recorded after %s, want %d: %+v", clientID, n, saUsageWait, want, rep.Used)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// saInvRow is one row of /admin/scopes or of the JSON report, reduced to
// what the test compares.
type saInvRow struct {
	Scope          string
	High           bool
	Apps           []string // client ids
	Authorizations int
	Users          []string // user ids
	Uses           int64
	Unused         bool
}

func (r saInvRow) String() string {
	return fmt.Sprintf("%s high=%v apps=%q authorizations=%d users=%q uses=%d unused=%v", r.Scope, r.High, r.Apps, r.Authorizations, r.Users, r.Uses, r.Unused)
}

var (
	saScopeRowRE  = regexp.MustCompile(`^ data-scope="([^"]+)" data-unused="(true|false)"`)
	saAppLinkRE   = regexp.MustCompile(`href="/admin/apps/([^"/]+)/scopes"`)
	saUserLinkRE  = regexp.MustCompile(`href="/admin/users/([^"/]+)"`)
	saCodeRE      = regexp.MustCompile(`<code>([^<]+)</code>`)
	saUsedRowRE   = regexp.MustCompile(`(?s)<tr data-testid="used-row" data-scope="([^"]+)">(.*?)</tr>`)
	saNarrowRE    = regexp.MustCompile(`data-testid="narrow"`)
	saEditorRE    = regexp.MustCompile(`data-testid="scope-editor"`)
	saAlreadyMinR = regexp.MustCompile(`data-testid="already-minimal"`)
)

// saInventoryPage reads the rows of /admin/scopes?query.
func saInventoryPage(t *testing.T, a *agent, query string) []saInvRow {
	t.Helper()
	r := a.get("/admin/scopes?" + query)
	if r.Status != http.StatusOK {
		t.Fatalf("/admin/scopes?%s: status %d", query, r.Status)
	}
	var rows []saInvRow
	for i, chunk := range strings.Split(r.Body, `<tr data-testid="scope-row"`) {
		if i == 0 {
			continue
		}
		chunk, _, _ = strings.Cut(chunk, "</tr>")
		m := saScopeRowRE.FindStringSubmatch(chunk)
		if m == nil {
			t.Fatalf("/admin/scopes: scope row without data-scope/data-unused: %.300s", chunk)
		}
		row := saInvRow{Scope: m[1], Unused: m[2] == "true", High: strings.Contains(chunk, "badge high"), Apps: []string{}, Users: []string{}}
		for _, l := range saAppLinkRE.FindAllStringSubmatch(chunk, -1) {
			row.Apps = append(row.Apps, l[1])
		}
		for _, l := range saUserLinkRE.FindAllStringSubmatch(chunk, -1) {
			row.Users = append(row.Users, l[1])
		}
		n, _ := lcTestID(chunk, "scope-authorizations")
		row.Authorizations, _ = strconv.Atoi(n)
		u, _ := lcTestID(chunk, "scope-uses")
		row.Uses, _ = strconv.ParseInt(u, 10, 64)
		if strings.Contains(chunk, `data-testid="unused"`) != row.Unused {
			t.Errorf("/admin/scopes %s: data-unused=%v disagrees with the unused badge", row.Scope, row.Unused)
		}
		rows = append(rows, row)
	}
	return rows
}

// saReportRows converts report rows (JSON of the CLI) to saInvRow, each
// with every holder of its scope: the report lists a row's direct holders
// and names in through the wider scopes whose rows list the others.
func saReportRows(rows []reports.ScopeRow) []saInvRow {
	out := []saInvRow{}
	byScope := map[string]reports.ScopeRow{}
	for _, r := range rows {
		byScope[r.Scope] = r
	}
	for _, r := range rows {
		apps, users := map[string]bool{}, map[string]bool{}
		for _, w := range r.Through {
			for _, a := range byScope[w.Scope].Apps {
				apps[a.ClientID] = true
			}
			for _, u := range byScope[w.Scope].Users {
				users[u.ID] = true
			}
		}
		for _, a := range r.Apps {
			delete(apps, a.ClientID)
		}
		for _, u := range r.Users {
			delete(users, u.ID)
		}
		for id := range apps {
			r.Apps = append(r.Apps, reports.AppRef{ClientID: id})
		}
		for id := range users {
			r.Users = append(r.Users, reports.UserRef{ID: id})
		}
		x := saInvRow{Scope: r.Scope, High: r.HighPrivilege, Authorizations: r.Authorizations, Uses: r.Uses, Unused: r.Unused,
			Apps: []string{}, Users: []string{}}
		for _, a := range r.Apps {
			x.Apps = append(x.Apps, a.ClientID)
		}
		for _, u := range r.Users {
			x.Users = append(x.Users, u.ID)
		}
		out = append(out, x)
	}
	return out
}

// saSameRows compares inventory rows (apps and users as sets; user order
// is checked separately on the JSON report, which carries usernames).
func saSameRows(t *testing.T, what string, got, want []saInvRow) {
	t.Helper()
	norm := func(rows []saInvRow) []string {
		var out []string
		for _, r := range rows {
			r.Apps, r.Users = slices.Sorted(slices.Values(r.Apps)), slices.Sorted(slices.Values(r.Users))
			out = append(out, r.String())
		}
		return out
	}
	if g, w := norm(got), norm(want); !slices.Equal(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, strings.Join(g, "\n     "), strings.Join(w, "\n     "))
	}
}

// saAppScopes is what /admin/apps/{id}/scopes shows.
type saAppScopes struct {
	Registered, Granted, Recommended []string
	Used                             []reports.UsedScope // LastUsed not read
	Removable                        string
	NarrowLink, Editor, AlreadyMin   bool
	Body                             string
}

// saChips lists the scope ids shown in the element data-testid=id.
func saChips(body, id string) []string {
	re := regexp.MustCompile(`(?s)data-testid="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</(?:div|p)>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return nil
	}
	out := []string{}
	for _, c := range saCodeRE.FindAllStringSubmatch(m[1], -1) {
		out = append(out, c[1])
	}
	return out
}

func saAppScopesPage(t *testing.T, a *agent, clientID string) saAppScopes {
	t.Helper()
	r := a.get("/admin/apps/" + clientID + "/scopes")
	if r.Status != http.StatusOK {
		t.Fatalf("/admin/apps/%s/scopes: status %d\n%.500s", clientID, r.Status, r.Body)
	}
	p := saAppScopes{Registered: saChips(r.Body, "registered"), Granted: saChips(r.Body, "granted"),
		Recommended: saChips(r.Body, "recommended"), Used: []reports.UsedScope{}, Body: r.Body,
		NarrowLink: saNarrowRE.MatchString(r.Body), Editor: saEditorRE.MatchString(r.Body), AlreadyMin: saAlreadyMinR.MatchString(r.Body)}
	p.Removable, _ = lcTestID(r.Body, "removable")
	for _, m := range saUsedRowRE.FindAllStringSubmatch(r.Body, -1) {
		cells := lcCellRE.FindAllStringSubmatch(m[2], -1)
		if len(cells) != 4 {
			t.Fatalf("used row with %d cells: %s", len(cells), m[0])
		}
		n, _ := strconv.ParseInt(lcText(cells[2][1]), 10, 64)
		u := reports.UsedScope{Scope: lcText(cells[0][1]), SatisfiedBy: lcText(cells[1][1]), Uses: n}
		if u.Scope != m[1] {
			t.Errorf("used row data-scope=%q shows %q", m[1], u.Scope)
		}
		p.Used = append(p.Used, u)
	}
	return p
}

func saSet(s []string) []string { return slices.Sorted(slices.Values(s)) }

// saWantSet compares two scope lists as sets.
func saWantSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(saSet(got), saSet(want)) {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

// saWantUsed compares used rows (ignoring LastUsed).
func saWantUsed(t *testing.T, what string, got, want []reports.UsedScope) {
	t.Helper()
	strip := func(u []reports.UsedScope) []string {
		var out []string
		for _, x := range u {
			out = append(out, fmt.Sprintf("%s satisfied by %s ×%d", x.Scope, x.SatisfiedBy, x.Uses))
		}
		return out
	}
	if g, w := strip(got), strip(want); !slices.Equal(g, w) {
		t.Errorf("%s: used %q, want %q", what, g, w)
	}
}

// saRecommendation applies the rule of reports.ForApp to what was used:
// the smallest set of catalog scopes, within the registration, that
// satisfies every scope an API required.
func saRecommendation(registered []string, used []reports.UsedScope) []string {
	cat := scope.Default()
	var required []string
	for _, u := range used {
		required = append(required, u.Scope)
	}
	return cat.Minimal(cat.Intersect(required, registered))
}

// saPostScopes posts the scope editor of the app's scopes page.
func saPostScopes(t *testing.T, a *agent, clientID string, scopes ...string) response {
	t.Helper()
	path := "/admin/apps/" + clientID + "/scopes"
	r := a.postForm(path, url.Values{"_csrf": {a.csrf(path)}, "scopes": scopes})
	if r.Status != http.StatusSeeOther || r.Location() != path {
		t.Fatalf("POST %s %q: status %d, location %q; want 303 to the page\n%.500s", path, scopes, r.Status, r.Location(), r.Body)
	}
	return r
}

// saScopeEvents returns the app.scopes_change events of /admin/audit for
// clientID, oldest first, with their details decoded.
func saScopeEvents(t *testing.T, a *agent, clientID string) []map[string]any {
	t.Helper()
	rows, _, status := lcAudit(t, a, "action="+audit.ActionAppScopes+"&target_id="+clientID)
	if status != http.StatusOK {
		t.Fatalf("/admin/audit?action=%s: status %d", audit.ActionAppScopes, status)
	}
	var out []map[string]any
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		if r.Action != audit.ActionAppScopes || r.TargetType != audit.TargetApp || r.TargetID != clientID || r.Actor != "root" {
			t.Errorf("audit row %+v: want %s on app %s by root", r, audit.ActionAppScopes, clientID)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(r.Details), &d); err != nil {
			t.Fatalf("audit details %q: %v", r.Details, err)
		}
		out = append(out, d)
	}
	return out
}

func saStrings(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// saReport runs `oauthdesk report scopes` on the server's database while
// the server runs.
func saReport(t *testing.T, ts *testServer, args ...string) cliResult {
	t.Helper()
	return mustSucceed(t, oauthdesk(t, cliRun{}, append(append([]string{"report", "scopes"}, args...), "--db", ts.DBPath)...))
}

func TestScopeAuditEndToEnd(t *testing.T) {
	ts := newTestServer(t)
	root, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	carol, carolA := saSignedIn(t, ts, "carol", domain.RoleMember, saPassword)

	// App A: vso.work (includes vso.profile via vso.hooks_write → vso.hooks)
	// and vso.tokenadministration. App B: vso.code_write and vso.tokens.
	// The scopes the APIs require come from the one route table.
	required := map[string]string{}
	for _, r := range ts.App.Web.APIRoutes() {
		required[r.Method+" /_apis"+r.Path] = r.Scope
	}
	if required["GET /_apis/profile/profiles/me"] != "vso.profile" || required["GET "+saTokenAdmin] != "vso.tokenadministration" {
		t.Fatalf("API route table %v: want the profile API to require vso.profile and %s vso.tokenadministration", required, saTokenAdmin)
	}

	appA := registerThroughDashboard(t, rootA, "vso.work", "vso.tokenadministration")
	appB := registerThroughDashboard(t, rootA, "vso.code_write", "vso.tokens")

	bobTok := saPair(t, ts, bobA, appA, "vso.work", "bob-a")
	rootTok := saPair(t, ts, rootA, appA, "vso.work vso.tokenadministration", "root-a")
	carolTok := saPair(t, ts, carolA, appB, "vso.code_write vso.tokens", "carol-b")

	// Calls: profile via A by bob (twice) and root; token administration via
	// A by root only; via B one profile call by carol. vso.tokens is never
	// used. Refused calls record nothing.
	saCall(t, ts, profilePath, bobTok.Access, http.StatusOK, "", "bob profile via A")
	saCall(t, ts, profilePath, bobTok.Access, http.StatusOK, "", "bob profile via A again")
	saCall(t, ts, saTokenAdmin, bobTok.Access, http.StatusForbidden, "vso.tokenadministration", "bob token administration (not granted)")
	saCall(t, ts, profilePath, rootTok.Access, http.StatusOK, "", "root profile via A")
	saCall(t, ts, saTokenAdmin, rootTok.Access, http.StatusOK, "", "root token administration via A")
	saCall(t, ts, profilePath, carolTok.Access, http.StatusOK, "", "carol profile via B")

	repA := saWaitUsage(t, ts, appA.ClientID, 4)
	saWaitUsage(t, ts, appB.ClientID, 1)
	if t.Failed() {
		t.FailNow()
	}

	// What every surface must show.
	// Scopes held only through a wider one (vso.code through
	// vso.code_write; vso.hooks, vso.hooks_write and vso.profile through
	// vso.work and vso.code_write) have rows naming their holders, with no
	// direct authorizations.
	both := []string{appA.ClientID, appB.ClientID}
	everyone := []string{bob.ID, carol.ID, root.ID}
	wantInventory := []saInvRow{ // catalog order
		{Scope: "vso.code", Apps: []string{appB.ClientID}, Users: []string{carol.ID}, Unused: true},
		{Scope: "vso.code_write", High: true, Apps: []string{appB.ClientID}, Authorizations: 1, Users: []string{carol.ID}, Uses: 1},
		{Scope: "vso.hooks", Apps: both, Users: everyone, Unused: true},
		{Scope: "vso.hooks_write", Apps: both, Users: everyone, Unused: true},
		{Scope: "vso.tokens", High: true, Apps: []string{appB.ClientID}, Authorizations: 1, Users: []string{carol.ID}, Uses: 0, Unused: true},
		{Scope: "vso.tokenadministration", High: true, Apps: []string{appA.ClientID}, Authorizations: 1, Users: []string{root.ID}, Uses: 1},
		{Scope: "vso.profile", Apps: both, Users: everyone, Unused: true},
		{Scope: "vso.work", High: false, Apps: []string{appA.ClientID}, Authorizations: 2, Users: []string{bob.ID, root.ID}, Uses: 3},
	}
	var wantHigh []saInvRow
	for _, r := range wantInventory {
		if r.High {
			wantHigh = append(wantHigh, r)
		}
	}
	wantUsedA := []reports.UsedScope{
		{Scope: "vso.profile", SatisfiedBy: "vso.work", Uses: 3},
		{Scope: "vso.tokenadministration", SatisfiedBy: "vso.tokenadministration", Uses: 1},
	}
	wantUsedB := []reports.UsedScope{{Scope: "vso.profile", SatisfiedBy: "vso.code_write", Uses: 1}}
	// The rule: Minimal(Intersect(required, registered)).
	wantRecA := saRecommendation([]string{"vso.work", "vso.tokenadministration"}, wantUsedA)
	wantRecB := saRecommendation([]string{"vso.code_write", "vso.tokens"}, wantUsedB)
	if !slices.Equal(saSet(wantRecA), []string{"vso.profile", "vso.tokenadministration"}) || !slices.Equal(wantRecB, []string{"vso.profile"}) {
		t.Fatalf("the rule yields A %q, B %q; want A {vso.profile vso.tokenadministration}, B [vso.profile]", wantRecA, wantRecB)
	}

	t.Run("/admin/scopes shows who holds what and what is unused", func(t *testing.T) {
		a := rootA.lcFor(t)
		saSameRows(t, "/admin/scopes", saInventoryPage(t, a, ""), wantInventory)
		saSameRows(t, "/admin/scopes?high=1", saInventoryPage(t, a, "high=1"), wantHigh)
		saSameRows(t, "/admin/scopes?unused_days=1", saInventoryPage(t, a, "unused_days=1"), wantInventory)
		if r := a.get("/admin/scopes?unused_days=0"); r.Status != http.StatusBadRequest {
			t.Errorf("/admin/scopes?unused_days=0: status %d, want 400", r.Status)
		}
		// Click through: every app and user link of the page opens.
		page := a.get("/admin/scopes").Body
		for _, l := range saAppLinkRE.FindAllStringSubmatch(page, -1) {
			if r := a.get("/admin/apps/" + l[1] + "/scopes"); r.Status != http.StatusOK {
				t.Errorf("app link %s: status %d", l[1], r.Status)
			}
		}
		for _, l := range saUserLinkRE.FindAllStringSubmatch(page, -1) {
			r := a.get("/admin/users/" + l[1])
			if r.Status != http.StatusOK {
				t.Errorf("user link %s: status %d", l[1], r.Status)
			}
		}
		if r := a.get("/admin/users/" + bob.ID); !strings.Contains(r.Body, "(bob)") || !strings.Contains(r.Body, "vso.work") {
			t.Errorf("bob's page does not show his vso.work authorization")
		}
		// The page lists the APIs served here and the scope each requires.
		m := regexp.MustCompile(`(?s)<table data-testid="api-scopes">(.*?)</table>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatal("/admin/scopes has no api-scopes table")
		}
		apis := lcText(m[1])
		for api, sc := range required {
			if !strings.Contains(apis, api+" "+sc) {
				t.Errorf("the api-scopes table %q does not say %s requires %s", apis, api, sc)
			}
		}
	})

	t.Run("/admin/apps/{id}/scopes: registered, granted, used, recommended", func(t *testing.T) {
		a := rootA.lcFor(t)
		pa := saAppScopesPage(t, a, appA.ClientID)
		if !slices.Equal(pa.Registered, []string{"vso.work", "vso.tokenadministration"}) {
			t.Errorf("A registered %q", pa.Registered)
		}
		saWantSet(t, "A granted", pa.Granted, []string{"vso.work", "vso.tokenadministration"})
		saWantUsed(t, "A", pa.Used, wantUsedA)
		saWantSet(t, "A recommended", pa.Recommended, wantRecA)
		if pa.Removable != "vso.work" || !pa.NarrowLink || !pa.Editor {
			t.Errorf("A: removable %q, narrow link %v, editor %v; want vso.work, a narrow link and the editor", pa.Removable, pa.NarrowLink, pa.Editor)
		}
		// The service's own report agrees with the page (and with the rule).
		saWantUsed(t, "A (service)", repA.Used, wantUsedA)
		if !slices.Equal(repA.Recommended, wantRecA) || !slices.Equal(repA.Removable, []string{"vso.work"}) {
			t.Errorf("A (service): recommended %q removable %q", repA.Recommended, repA.Removable)
		}

		pb := saAppScopesPage(t, a, appB.ClientID)
		if !slices.Equal(pb.Registered, []string{"vso.code_write", "vso.tokens"}) {
			t.Errorf("B registered %q", pb.Registered)
		}
		saWantSet(t, "B granted", pb.Granted, []string{"vso.code_write", "vso.tokens"})
		saWantUsed(t, "B", pb.Used, wantUsedB)
		if !slices.Equal(pb.Recommended, wantRecB) || pb.Removable != "vso.code_write vso.tokens" || !pb.NarrowLink {
			t.Errorf("B: recommended %q removable %q narrow link %v; want [vso.profile], \"vso.code_write vso.tokens\", a link",
				pb.Recommended, pb.Removable, pb.NarrowLink)
		}
		// The high-privilege scopes are flagged where they appear.
		if !strings.Contains(pb.Body, `data-testid="high-privilege"`) {
			t.Error("B's scopes page does not flag its high-privilege scopes")
		}
	})

	t.Run("report scopes --format json|csv|table", func(t *testing.T) {
		r := saReport(t, ts, "--format", "json")
		var rows []reports.ScopeRow
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
			t.Fatalf("report is not JSON: %v\n%s", err, r)
		}
		saSameRows(t, "report --format json", saReportRows(rows), wantInventory)
		byScope := map[string]reports.ScopeRow{}
		for _, x := range rows {
			byScope[x.Scope] = x
		}
		if w := byScope["vso.work"]; len(w.Users) != 2 || w.Users[0].Username != "bob" || w.Users[1].Username != "root" ||
			w.Category != "Work Items" || w.LastUsed == nil || time.Since(*w.LastUsed) > time.Minute {
			t.Errorf("vso.work row %+v: want users bob, root (sorted), category Work Items, last used just now", w)
		}
		if w := byScope["vso.tokens"]; w.LastUsed != nil || !w.Unused || len(w.Apps) != 1 || w.Apps[0].Name != "Fabrikam Boards" {
			t.Errorf("vso.tokens row %+v: want never used, unused, app Fabrikam Boards", w)
		}
		var raw []map[string]any
		_ = json.Unmarshal([]byte(r.stdout), &raw)
		for _, x := range raw {
			for _, k := range []string{"scope", "name", "category", "high_privilege", "apps", "active_authorizations", "users", "uses", "unused"} {
				if _, ok := x[k]; !ok {
					t.Errorf("JSON row %v lacks %q", x["scope"], k)
				}
			}
		}

		r = saReport(t, ts, "--format", "json", "--high-privilege")
		rows = nil
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
			t.Fatalf("report --high-privilege is not JSON: %v\n%s", err, r)
		}
		saSameRows(t, "report --high-privilege", saReportRows(rows), wantHigh)

		r = saReport(t, ts, "--format", "json", "--unused-days", "1")
		rows = nil
		_ = json.Unmarshal([]byte(r.stdout), &rows)
		saSameRows(t, "report --unused-days 1", saReportRows(rows), wantInventory)

		r = saReport(t, ts, "--format", "csv")
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if err != nil {
			t.Fatalf("report is not CSV: %v\n%s", err, r)
		}
		if len(recs) != 1+len(wantInventory) || !slices.Equal(recs[0], []string{"scope", "name", "category", "high_privilege", "apps",
			"active_authorizations", "users", "uses", "last_used", "unused", "personal_access_tokens", "through"}) {
			t.Fatalf("CSV report:\n%s", r.stdout)
		}
		// A row's apps: those it lists, and those listed in the rows of
		// the wider scopes its through column names.
		appsCell := map[string]string{}
		for _, rec := range recs[1:] {
			appsCell[rec[0]] = rec[4]
		}
		for i, w := range wantInventory {
			rec := recs[i+1]
			apps := rec[4]
			for _, th := range strings.Split(rec[11], "; ") {
				if sc, _, ok := strings.Cut(th, " ("); ok {
					apps += "; " + appsCell[sc]
				}
			}
			if rec[0] != w.Scope || rec[3] != strconv.FormatBool(w.High) || rec[5] != strconv.Itoa(w.Authorizations) ||
				rec[7] != strconv.FormatInt(w.Uses, 10) || rec[9] != strconv.FormatBool(w.Unused) || !strings.Contains(apps, "("+w.Apps[0]+")") {
				t.Errorf("CSV row %q, want %s", rec, w)
			}
			if (rec[8] == "") != w.Unused {
				t.Errorf("CSV row %q: last_used %q for unused=%v", rec, rec[8], w.Unused)
			}
		}

		r = saReport(t, ts)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 1+len(wantInventory) || !strings.HasPrefix(lines[0], "SCOPE") || !strings.Contains(lines[0], "UNUSED") {
			t.Fatalf("table report (default format):\n%s", r.stdout)
		}
		for i, w := range wantInventory {
			if f := strings.Fields(lines[i+1]); len(f) == 0 || f[0] != w.Scope || strings.HasSuffix(lines[i+1], "unused") != w.Unused {
				t.Errorf("table row %q, want %s", lines[i+1], w)
			}
		}

		wantUsageError(t, oauthdesk(t, cliRun{}, "report", "scopes", "--format", "yaml", "--db", ts.DBPath), "--format")
		wantUsageError(t, oauthdesk(t, cliRun{}, "report", "scopes", "--unused-days", "0", "--db", ts.DBPath), "--unused-days")
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("narrow to recommended keeps what was used", func(t *testing.T) {
		a := rootA.lcFor(t)
		path := "/admin/apps/" + appA.ClientID + "/scopes/narrow"
		lcConfirmAndPost(t, a, path, "/admin/apps/"+appA.ClientID+"/scopes", "2 active authorizations of 2 users will be narrowed.")
		p := saAppScopesPage(t, a, appA.ClientID)
		saWantSet(t, "A registered after narrowing to recommended", p.Registered, wantRecA)
		saWantSet(t, "A granted after narrowing to recommended", p.Granted, []string{"vso.profile", "vso.tokenadministration"})
		if !p.AlreadyMin || p.NarrowLink {
			t.Errorf("after narrowing to recommended: already-minimal %v, narrow link %v; want true, false", p.AlreadyMin, p.NarrowLink)
		}
		if r := a.get(path); r.Status != http.StatusConflict {
			t.Errorf("GET %s with nothing left to drop: %d, want 409", path, r.Status)
		}
		// Nothing used was lost: the existing tokens still work.
		saCall(t, ts, saTokenAdmin, rootTok.Access, http.StatusOK, "", "root token administration after narrowing to recommended")
		saCall(t, ts, profilePath, rootTok.Access, http.StatusOK, "", "root profile after narrowing to recommended")
		saCall(t, ts, profilePath, bobTok.Access, http.StatusOK, "", "bob profile after narrowing to recommended")
		for _, z := range []string{bobTok.AuthzID, rootTok.AuthzID} {
			list, _, err := ts.App.Admin.Authorizations(context.Background(), domain.AuthorizationFilter{ID: z})
			if err != nil || len(list) != 1 || list[0].RevokedAt != nil || slices.Contains(list[0].Scopes, "vso.work") {
				t.Errorf("authorization %s after narrowing: %+v %v; want active without vso.work", z, list, err)
			}
		}
	})

	var refreshed lcPair
	t.Run("narrowing takes effect on the next request of an existing token", func(t *testing.T) {
		a := rootA.lcFor(t)
		saPostScopes(t, a, appA.ClientID, "vso.profile")
		// The very next call, with the token minted before the change.
		saCall(t, ts, saTokenAdmin, rootTok.Access, http.StatusForbidden, "vso.tokenadministration", "root's existing token after narrowing to vso.profile")
		saCall(t, ts, profilePath, rootTok.Access, http.StatusOK, "", "root's existing token, profile, after narrowing")
		saCall(t, ts, profilePath, bobTok.Access, http.StatusOK, "", "bob's existing token, profile, after narrowing")
		p := saAppScopesPage(t, a, appA.ClientID)
		if !slices.Equal(p.Registered, []string{"vso.profile"}) || !slices.Equal(p.Granted, []string{"vso.profile"}) {
			t.Errorf("after narrowing: registered %q, granted %q; want [vso.profile] both", p.Registered, p.Granted)
		}
		// A refresh yields a token without the removed scope.
		r := postToken(t, ts.URL, formType, refreshBody(appA.Secret, rootTok.Refresh, callbackURL))
		refreshed = lcPairOf(t, r)
		if got := r.str("scope"); got != "vso.profile "+scope.AuthorizationGrant {
			t.Errorf("refreshed scope %q, want \"vso.profile vso.authorization_grant\"", got)
		}
		saCall(t, ts, saTokenAdmin, refreshed.Access, http.StatusForbidden, "vso.tokenadministration", "refreshed token, token administration")
		saCall(t, ts, profilePath, refreshed.Access, http.StatusOK, "", "refreshed token, profile")
	})
	if refreshed.Access == "" {
		t.FailNow()
	}

	t.Run("widening does not widen existing authorizations or tokens", func(t *testing.T) {
		a := rootA.lcFor(t)
		saPostScopes(t, a, appA.ClientID, "vso.profile", "vso.tokenadministration")
		p := saAppScopesPage(t, a, appA.ClientID)
		if !slices.Equal(p.Registered, []string{"vso.profile", "vso.tokenadministration"}) || !slices.Equal(p.Granted, []string{"vso.profile"}) {
			t.Errorf("after widening: registered %q, granted %q; want [vso.profile vso.tokenadministration], [vso.profile]", p.Registered, p.Granted)
		}
		// PRODUCT BUG (see the report): the guard's ceiling for a narrowed app is
		// re-read from the current registration on every change, so widening
		// the registration lifts the ceiling and a token minted before the
		// narrowing (whose claims still carry vso.tokenadministration) regains
		// the removed scope although the authorization was not widened.
		status, _, body := callAPI(t, ts.URL, saTokenAdmin, rootTok.Access)
		if status != http.StatusForbidden {
			t.Errorf("BUG: after widening app A back to vso.tokenadministration, root's token minted BEFORE the narrowing answered %d "+
				"(listing %v authorizations) on %s, want 403 insufficient_scope: widening must not widen an existing token until the "+
				"user consents again (internal/oauth/guard.go sync: ceilings[clientID] is replaced by the widened registration)",
				status, body["count"], saTokenAdmin)
		}
		saCall(t, ts, saTokenAdmin, refreshed.Access, http.StatusForbidden, "vso.tokenadministration", "refreshed token after widening")
		// Refreshing again still yields only what the authorization holds.
		r := postToken(t, ts.URL, formType, refreshBody(appA.Secret, refreshed.Refresh, callbackURL))
		again := lcPairOf(t, r)
		if got := r.str("scope"); got != "vso.profile "+scope.AuthorizationGrant {
			t.Errorf("refresh after widening: scope %q, want \"vso.profile vso.authorization_grant\"", got)
		}
		saCall(t, ts, saTokenAdmin, again.Access, http.StatusForbidden, "vso.tokenadministration", "token refreshed after widening")

		// Consenting again widens the authorization, and the new token works.
		fresh := saPair(t, ts, rootA.lcFor(t), appA, "vso.tokenadministration", "root-again")
		if fresh.AuthzID != rootTok.AuthzID {
			t.Errorf("consenting again made authorization %s, want the existing %s widened", fresh.AuthzID, rootTok.AuthzID)
		}
		saCall(t, ts, saTokenAdmin, fresh.Access, http.StatusOK, "", "token after consenting again")
		p = saAppScopesPage(t, a, appA.ClientID)
		saWantSet(t, "granted after consenting again", p.Granted, []string{"vso.profile", "vso.tokenadministration"})
	})

	t.Run("scope changes are audit events with before and after", func(t *testing.T) {
		a := rootA.lcFor(t)
		ev := saScopeEvents(t, a, appA.ClientID)
		want := []struct {
			before, after     []string
			narrowed, widened bool
		}{
			{[]string{"vso.work", "vso.tokenadministration"}, wantRecA, true, false},
			{wantRecA, []string{"vso.profile"}, true, false},
			{[]string{"vso.profile"}, []string{"vso.profile", "vso.tokenadministration"}, false, true},
		}
		if len(ev) != len(want) {
			t.Fatalf("%d %s events for app A, want %d: %v", len(ev), audit.ActionAppScopes, len(want), ev)
		}
		for i, w := range want {
			e := ev[i]
			if !slices.Equal(saStrings(e["before"]), w.before) || !slices.Equal(saStrings(e["after"]), w.after) ||
				e["narrowed"] != w.narrowed || e["widened"] != w.widened {
				t.Errorf("event %d details %v, want before %q after %q narrowed %v widened %v", i+1, e, w.before, w.after, w.narrowed, w.widened)
			}
		}
		if ev[1]["narrowed_authorizations"] != float64(1) { // root's lost vso.tokenadministration; bob already had only vso.profile
			t.Errorf("narrowing to vso.profile: narrowed_authorizations %v, want 1", ev[1]["narrowed_authorizations"])
		}
		// The unfiltered action filter lists them too.
		rows, _, _ := lcAudit(t, a, "action="+audit.ActionAppScopes)
		if len(rows) != 3 {
			t.Errorf("/admin/audit?action=%s lists %d events, want 3", audit.ActionAppScopes, len(rows))
		}
	})

	t.Run("narrowing that leaves an authorization nothing revokes it", func(t *testing.T) {
		a := rootA.lcFor(t)
		saCall(t, ts, profilePath, carolTok.Access, http.StatusOK, "", "carol before")
		// vso.analytics includes nothing and is included by nothing carol holds.
		saPostScopes(t, a, appB.ClientID, "vso.analytics")
		saCall(t, ts, profilePath, carolTok.Access, http.StatusUnauthorized, "", "carol's token after app B was narrowed to vso.analytics")
		r := postToken(t, ts.URL, formType, refreshBody(appB.Secret, carolTok.Refresh, callbackURL))
		if r.Status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
			t.Errorf("carol's refresh after revocation: %d %v, want 400 invalid_grant", r.Status, r.Raw)
		}
		list, _, err := ts.App.Admin.Authorizations(context.Background(), domain.AuthorizationFilter{ID: carolTok.AuthzID})
		if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
			t.Errorf("carol's authorization: %+v %v, want revoked", list, err)
		}
		ev := saScopeEvents(t, a, appB.ClientID)
		if len(ev) != 1 || ev[0]["revoked_authorizations"] != float64(1) || !slices.Equal(saStrings(ev[0]["after"]), []string{"vso.analytics"}) {
			t.Errorf("app B scope events %v, want one with revoked_authorizations 1 and after [vso.analytics]", ev)
		}
		p := saAppScopesPage(t, a, appB.ClientID)
		if len(p.Granted) != 0 || len(p.Used) != 0 || len(p.Recommended) != 0 {
			t.Errorf("app B after revocation: granted %q used %v recommended %q; want nothing (usage of revoked authorizations is ignored)",
				p.Granted, p.Used, p.Recommended)
		}
		// The inventory no longer lists carol's scopes; vso.analytics is held by
		// the registration only, and unused.
		rows := saInventoryPage(t, a, "")
		var scopes []string
		for _, r := range rows {
			scopes = append(scopes, r.Scope)
			if r.Scope == "vso.analytics" && (!r.Unused || r.Authorizations != 0 || len(r.Users) != 0 || !slices.Equal(r.Apps, []string{appB.ClientID})) {
				t.Errorf("vso.analytics row %s", r)
			}
		}
		for _, gone := range []string{"vso.code_write", "vso.tokens"} {
			if slices.Contains(scopes, gone) {
				t.Errorf("/admin/scopes still lists %s after its only holders were revoked: %q", gone, scopes)
			}
		}
	})
}

// saRequest is one state-changing request of the auditor test.
type saRequest struct {
	method, path string
	form         url.Values
}

// saSend sends rq as a form with a valid CSRF token of a's session.
func saSend(t *testing.T, a *agent, rq saRequest) response {
	t.Helper()
	form := url.Values{}
	for k, v := range rq.form {
		form[k] = v
	}
	form.Set("_csrf", a.csrf("/admin/apps"))
	req, err := http.NewRequest(rq.method, a.url(rq.path), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", formType)
	return a.do(req)
}

// saSnapshot describes everything the auditor must not be able to change:
// the apps (registration, scopes, secrets, deletion), the authorizations,
// the users and the settings.
func saSnapshot(t *testing.T, ts *testServer) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	page, err := ts.App.Admin.ListApps(ctx, domain.AppFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, listed := range page.Apps {
		d, err := ts.App.Admin.App(ctx, listed.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		a := d.App
		fmt.Fprintf(&b, "app %s %q scopes=%q deleted=%v callback=%s\n", a.ClientID, a.Name, a.Scopes, a.DeletedAt != nil, a.CallbackURL)
		for _, s := range a.Secrets {
			fmt.Fprintf(&b, "  secret %s %s %x expires=%s retired=%v\n", s.ID, s.Slot, s.Hash, s.ExpiresAt.UTC().Format(time.RFC3339), s.RetiredAt != nil)
		}
		for _, z := range d.Authorizations {
			fmt.Fprintf(&b, "  authorization %s user=%s scopes=%q revoked=%v\n", z.ID, z.UserID, z.Scopes, z.RevokedAt != nil)
		}
	}
	userPage, err := ts.App.Admin.Users(ctx, domain.UserFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	users := userPage.Users
	sort.Slice(users, func(i, j int) bool { return users[i].Username < users[j].Username })
	for _, u := range users {
		fmt.Fprintf(&b, "user %s %s %s rev=%d active=%d\n", u.ID, u.Username, u.Role, u.Revision, u.ActiveAuthorizations)
	}
	on, err := ts.App.Admin.ThirdPartyOAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	life, err := ts.App.Admin.SecretLifetime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "third-party OAuth %v, secret lifetime %s\n", on, life)
	return b.String()
}

// saLastSeq is the sequence number of the newest audit event.
func saLastSeq(t *testing.T, ts *testServer) int64 {
	t.Helper()
	ev, _, err := ts.App.Admin.AuditEvents(context.Background(), audit.Filter{Limit: 1})
	if err != nil || len(ev) == 0 {
		t.Fatalf("audit log: %v %v", ev, err)
	}
	return ev[0].Seq
}

func TestAuditorCannotChangeAnything(t *testing.T) {
	ts := newTestServer(t)
	root, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	const audPassword = "an auditor's long password"
	aud, audA := saSignedIn(t, ts, "audrey", domain.RoleAuditor, audPassword)

	// X holds the administration scopes and both secret slots; Y has only a
	// primary secret (so that adding an alternative one is possible).
	appX := registerThroughDashboard(t, rootA, "vso.work", "vso.tokens", "vso.tokenadministration")
	appY := registerThroughDashboard(t, rootA, "vso.work")
	if r := rootA.postForm("/admin/apps/"+appX.ClientID+"/secrets/alternative", url.Values{"_csrf": {rootA.csrf("/admin/apps/" + appX.ClientID)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("add an alternative secret to X: status %d", r.Status)
	}
	bobTok := saPair(t, ts, bobA, appX, "vso.work", "bob-x")
	saCall(t, ts, profilePath, bobTok.Access, http.StatusOK, "", "bob profile")
	saWaitUsage(t, ts, appX.ClientID, 1) // so that X has a narrower recommendation to apply
	audTok := saPair(t, ts, audA, appX, "vso.tokens vso.tokenadministration", "aud-x")
	rootTok := saPair(t, ts, rootA, appX, "vso.tokens vso.tokenadministration", "root-x")
	saCall(t, ts, saTokenAdmin, rootTok.Access, http.StatusOK, "", "control: root's token on the token administration API")
	// The auditor's personal access token for the admin REST API, with the
	// scope that allows changes: the auditor role still bounds it.
	audAdminAPI, r := patCreate(t, audA, url.Values{"name": {"auditor automation"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"oauthdesk.admin"}})
	if audAdminAPI == "" {
		t.Fatalf("the auditor's admin API token: %d %s", r.Status, lcText(r.Body))
	}

	before := saSnapshot(t, ts)
	seq := saLastSeq(t, ts)

	// A second session of the auditor, signed in after the snapshot: its
	// session.signin is the only audit event the test allows.
	auditor := ts.newAgent(t)
	auditor.signIn(aud.Username, audPassword)

	ids := map[string]string{":client_id": appX.ClientID, ":id": "", ":slot": domain.SlotPrimary}
	fill := func(pattern string, subst map[string]string) string {
		out := pattern
		for k, v := range subst {
			out = strings.ReplaceAll(out, k, v)
		}
		return out
	}
	with := func(pattern string, kv ...string) string {
		m := map[string]string{}
		for k, v := range ids {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return fill(pattern, m)
	}

	// Every GET page of /admin: views the auditor sees (200, or the
	// redirect of /admin), and pages that only lead to a change (403).
	viewPages := map[string][]string{
		"/admin":                          {"/admin"},
		"/admin/apps":                     {"/admin/apps"},
		"/admin/apps/:client_id":          {with("/admin/apps/:client_id"), with("/admin/apps/:client_id", ":client_id", appY.ClientID)},
		"/admin/scopes":                   {"/admin/scopes", "/admin/scopes?high=1&unused_days=30"},
		"/admin/scopes/:scope":            {"/admin/scopes/vso.work", "/admin/scopes/vso.work?tab=authorizations"},
		"/admin/apps/:client_id/scopes":   {with("/admin/apps/:client_id/scopes"), with("/admin/apps/:client_id/scopes", ":client_id", appY.ClientID)},
		"/admin/users":                    {"/admin/users"},
		"/admin/users/:id":                {with("/admin/users/:id", ":id", bob.ID), with("/admin/users/:id", ":id", aud.ID), with("/admin/users/:id", ":id", root.ID)},
		"/admin/settings":                 {"/admin/settings"},
		"/admin/audit":                    {"/admin/audit", "/admin/audit?action=" + audit.ActionAppScopes},
		"/admin/audit/export":             {"/admin/audit/export?format=csv", "/admin/audit/export?format=jsonl"},
		"/admin/reports":                  {"/admin/reports"},
		"/admin/tokens":                   {"/admin/tokens", "/admin/tokens?state=active&full=1&owner=bob"},
		"/admin/changes":                  {"/admin/changes"},
		"/admin/settings/connectors":      {"/admin/settings/connectors"},
		"/admin/apps/:client_id/activity": {with("/admin/apps/:client_id/activity")},
		"/admin/users/:id/activity":       {with("/admin/users/:id/activity", ":id", bob.ID)},
		"/admin/audit/pick":               {"/admin/audit/pick?kind=app&app=Fabrikam", "/admin/audit/pick?kind=user&user=bob"},
	}
	// Any token id: the role check answers before the handler looks.
	const anyPAT = "00000000-0000-4000-8000-0000000000aa"
	managePages := map[string][]string{
		"/admin/apps/new":    {"/admin/apps/new"},
		"/admin/apps/import": {"/admin/apps/import"},
		"/admin/apps/:client_id/secrets/:slot/regenerate": {with("/admin/apps/:client_id/secrets/:slot/regenerate"),
			with("/admin/apps/:client_id/secrets/:slot/regenerate", ":slot", domain.SlotAlternative)},
		"/admin/apps/:client_id/secrets/:slot/retire": {with("/admin/apps/:client_id/secrets/:slot/retire"),
			with("/admin/apps/:client_id/secrets/:slot/retire", ":slot", domain.SlotAlternative)},
		"/admin/apps/:client_id/revoke":           {with("/admin/apps/:client_id/revoke")},
		"/admin/apps/:client_id/delete":           {with("/admin/apps/:client_id/delete")},
		"/admin/authorizations/:id/revoke":        {with("/admin/authorizations/:id/revoke", ":id", bobTok.AuthzID)},
		"/admin/apps/:client_id/scopes/narrow":    {with("/admin/apps/:client_id/scopes/narrow")},
		"/admin/users/:id/revoke":                 {with("/admin/users/:id/revoke", ":id", bob.ID)},
		"/admin/apps/:client_id/edit":             {with("/admin/apps/:client_id/edit")},
		"/admin/apps/:client_id/reject":           {with("/admin/apps/:client_id/reject")},
		"/admin/users/:id/disable":                {with("/admin/users/:id/disable", ":id", bob.ID)},
		"/admin/users/:id/reset-password":         {with("/admin/users/:id/reset-password", ":id", bob.ID)},
		"/admin/users/:id/delete":                 {with("/admin/users/:id/delete", ":id", bob.ID)},
		"/admin/tokens/revoke":                    {"/admin/tokens/revoke?mode=all&filter=owner%3Dbob"},
		"/admin/tokens/:id/revoke":                {"/admin/tokens/" + anyPAT + "/revoke"},
		"/admin/apps/:client_id/change/reject":    {with("/admin/apps/:client_id/change/reject")},
		"/admin/settings/connectors/:name/remove": {"/admin/settings/connectors/corp/remove"},
		"/admin/users/new":                        {"/admin/users/new"},
		"/admin/settings/third-party-oauth":       {"/admin/settings/third-party-oauth?value=off"},
		// The confirmations of the policy switches and one-click changes.
		"/admin/settings/app-registration":                {"/admin/settings/app-registration?policy=approval"},
		"/admin/settings/secret-lifetime":                 {"/admin/settings/secret-lifetime?days=30"},
		"/admin/settings/pat-policy":                      {"/admin/settings/pat-policy?max_lifespan=7&full_scope_deny=1"},
		"/admin/settings/pat-violations/revoke":           {"/admin/settings/pat-violations/revoke"},
		"/admin/settings/local-signin":                    {"/admin/settings/local-signin?value=admins-only"},
		"/admin/users/:id/role":                           {with("/admin/users/:id/role", ":id", bob.ID) + "?role=admin"},
		"/admin/users/:id/enable":                         {with("/admin/users/:id/enable", ":id", bob.ID)},
		"/admin/apps/:client_id/approve":                  {with("/admin/apps/:client_id/approve")},
		"/admin/apps/:client_id/owners/:user_id/remove":   {with("/admin/apps/:client_id/owners/:user_id/remove", ":user_id", root.ID)},
		"/admin/reports/run":                              {"/admin/reports/run"},
		"/admin/apps/:client_id/change/approve":           {with("/admin/apps/:client_id/change/approve")},
		"/admin/apps/:client_id/client-credentials":       {with("/admin/apps/:client_id/client-credentials") + "?enabled=off"},
		"/admin/apps/:client_id/client-grants/:id/revoke": {with("/admin/apps/:client_id/client-grants/:id/revoke", ":id", "cc-00000000-0000-0000-0000-000000000000")},
		"/admin/apps/:client_id/secrets/alternative":      {with("/admin/apps/:client_id/secrets/alternative", ":client_id", appY.ClientID)},
		"/admin/apps/:client_id/owners":                   {with("/admin/apps/:client_id/owners") + "?username=bob"},
		"/admin/settings/pat-allowlist":                   {"/admin/settings/pat-allowlist?username=bob&action=add"},
	}

	// Every state-changing route of /admin, filled in with a form that an
	// admin's request would succeed with.
	registration := url.Values{"name": {"Auditor's own app"}, "company": {"Audit Co."}, "description": {"Should never exist."},
		"company_url": {"https://audit.example"}, "app_url": {"https://audit.example/app"}, "callback_url": {callbackURL},
		"terms_url": {"https://audit.example/terms"}, "privacy_url": {"https://audit.example/privacy"}, "scopes": {"vso.work"}}
	changes := map[string][]saRequest{
		"POST /admin/apps": {{path: "/admin/apps", form: registration}},
		"POST /admin/apps/:client_id/secrets/:slot/regenerate": {
			{path: with("/admin/apps/:client_id/secrets/:slot/regenerate")},
			{path: with("/admin/apps/:client_id/secrets/:slot/regenerate", ":slot", domain.SlotAlternative)}},
		"POST /admin/apps/:client_id/secrets/alternative": {{path: with("/admin/apps/:client_id/secrets/alternative", ":client_id", appY.ClientID)}},
		"POST /admin/apps/:client_id/secrets/:slot/retire": {
			{path: with("/admin/apps/:client_id/secrets/:slot/retire")},
			{path: with("/admin/apps/:client_id/secrets/:slot/retire", ":slot", domain.SlotAlternative)}},
		"POST /admin/apps/:client_id/revoke":                   {{path: with("/admin/apps/:client_id/revoke")}},
		"POST /admin/apps/:client_id/client-grants/:id/revoke": {{path: with("/admin/apps/:client_id/client-grants/:id/revoke", ":id", "cc-00000000-0000-0000-0000-000000000000")}},
		"POST /admin/apps/:client_id/client-credentials":       {{path: with("/admin/apps/:client_id/client-credentials"), form: url.Values{"enabled": {"off"}}}},
		"POST /admin/apps/:client_id/delete": {
			{path: with("/admin/apps/:client_id/delete"), form: url.Values{"confirm": {"Fabrikam Boards"}}},
			{path: with("/admin/apps/:client_id/delete", ":client_id", appY.ClientID), form: url.Values{"confirm": {"Fabrikam Boards"}}}},
		"POST /admin/authorizations/:id/revoke": {
			{path: with("/admin/authorizations/:id/revoke", ":id", bobTok.AuthzID)},
			{path: with("/admin/authorizations/:id/revoke", ":id", audTok.AuthzID)}},
		"POST /admin/apps/:client_id/scopes": {
			{path: with("/admin/apps/:client_id/scopes"), form: url.Values{"scopes": {"vso.profile"}}},
			{path: with("/admin/apps/:client_id/scopes"), form: url.Values{"scopes": {"vso.work", "vso.tokens", "vso.tokenadministration", "vso.build"}}}},
		"POST /admin/apps/:client_id/scopes/narrow": {{path: with("/admin/apps/:client_id/scopes/narrow")}},
		"POST /admin/users/:id/revoke": {
			{path: with("/admin/users/:id/revoke", ":id", bob.ID)},
			{path: with("/admin/users/:id/revoke", ":id", aud.ID)}},
		"POST /admin/settings/third-party-oauth": {{path: "/admin/settings/third-party-oauth", form: url.Values{"value": {"off"}}}},
		"POST /admin/settings/secret-lifetime":   {{path: "/admin/settings/secret-lifetime", form: url.Values{"days": {"30"}}}},
		"POST /admin/settings/app-registration":  {{path: "/admin/settings/app-registration", form: url.Values{"policy": {"approval"}}}},
		"POST /admin/apps/:client_id/edit":       {{path: with("/admin/apps/:client_id/edit", ":client_id", appY.ClientID), form: registration}},
		"POST /admin/apps/:client_id/approve":    {{path: with("/admin/apps/:client_id/approve")}},
		"POST /admin/apps/:client_id/reject":     {{path: with("/admin/apps/:client_id/reject"), form: url.Values{"reason": {"no"}}}},
		"POST /admin/users/:id/role":             {{path: with("/admin/users/:id/role", ":id", bob.ID), form: url.Values{"role": {"auditor"}}}},
		"POST /admin/users/:id/disable":          {{path: with("/admin/users/:id/disable", ":id", bob.ID)}},
		"POST /admin/users/:id/enable":           {{path: with("/admin/users/:id/enable", ":id", bob.ID)}},
		"POST /admin/users/:id/reset-password":   {{path: with("/admin/users/:id/reset-password", ":id", bob.ID)}},
		"POST /admin/users/:id/delete":           {{path: with("/admin/users/:id/delete", ":id", bob.ID)}},
		// The upload answers a preview (200) and writes nothing; the
		// confirmation imports. Both are admin-only.
		"POST /admin/apps/import":                    {{path: "/admin/apps/import", form: url.Values{"file": {"x"}}}},
		"POST /admin/reports/run":                    {{path: "/admin/reports/run"}},
		"POST /admin/tokens/:id/revoke":              {{path: "/admin/tokens/" + anyPAT + "/revoke"}},
		"POST /admin/tokens/revoke":                  {{path: "/admin/tokens/revoke", form: url.Values{"mode": {"all"}, "filter": {"owner=bob"}}}},
		"POST /admin/settings/pat-policy":            {{path: "/admin/settings/pat-policy", form: url.Values{"max_lifespan": {"7"}, "full_scope_deny": {"1"}}}},
		"POST /admin/settings/pat-allowlist":         {{path: "/admin/settings/pat-allowlist", form: url.Values{"username": {"bob"}, "action": {"add"}}}},
		"POST /admin/settings/pat-violations/revoke": {{path: "/admin/settings/pat-violations/revoke"}},
		"POST /admin/apps/:client_id/change/approve": {{path: with("/admin/apps/:client_id/change/approve")}},
		"POST /admin/apps/:client_id/change/reject":  {{path: with("/admin/apps/:client_id/change/reject"), form: url.Values{"reason": {"no"}}}},
		"POST /admin/settings/connectors": {{path: "/admin/settings/connectors", form: url.Values{"name": {"corp"}, "type": {"oidc"},
			"issuer": {"https://login.example"}, "client_id": {"oauthdesk"}, "secret": {"s3cret"}, "default_role": {"member"}}}},
		"POST /admin/settings/connectors/:name/test":         {{path: "/admin/settings/connectors/corp/test"}},
		"POST /admin/settings/connectors/:name/remove":       {{path: "/admin/settings/connectors/corp/remove"}},
		"POST /admin/settings/local-signin":                  {{path: "/admin/settings/local-signin", form: url.Values{"value": {"admins-only"}}}},
		"POST /admin/users/new":                              {{path: "/admin/users/new", form: url.Values{"username": {"newbie"}, "role": {"member"}}}},
		"POST /admin/apps/:client_id/owners":                 {{path: with("/admin/apps/:client_id/owners"), form: url.Values{"username": {"bob"}}}},
		"POST /admin/apps/:client_id/owners/:user_id/remove": {{path: with("/admin/apps/:client_id/owners/:user_id/remove", ":user_id", root.ID)}},
		"POST /admin/apps/import/confirm": {{path: "/admin/apps/import/confirm", form: url.Values{"filename": {"audit.csv"},
			"data": {base64.StdEncoding.EncodeToString([]byte("client_id,name,company,callback_url,scopes,secret_created_at\n" +
				"40000000-0000-4000-8000-000000000001,Imported By Auditor,Audit Co.,https://audit.example/cb,vso.work,2024-01-01\n"))}}}},
	}

	// The auditor's requests are checked against the routes the server
	// actually has: a route the test cannot fill in fails the test.
	seenGET, seenChange := map[string]bool{}, map[string]bool{}
	for _, route := range ts.App.Web.Routes() {
		method, path, _ := strings.Cut(route, " ")
		if path != "/admin" && !strings.HasPrefix(path, "/admin/") {
			continue
		}
		switch method {
		case http.MethodGet:
			if viewPages[path] == nil && managePages[path] == nil {
				t.Errorf("new admin page GET %s: teach TestAuditorCannotChangeAnything whether an auditor may see it (viewPages) or not (managePages)", path)
			}
			seenGET[path] = true
		case http.MethodHead, http.MethodOptions, "echo_route_not_found":
			// Not state-changing (echo's catch-all of a group answers 404).
		default:
			key := method + " " + path
			if changes[key] == nil {
				t.Errorf("new state-changing admin route %s: teach TestAuditorCannotChangeAnything how to fill it in (changes), so that auditors are checked against it", key)
				continue
			}
			seenChange[key] = true
			for i := range changes[key] {
				changes[key][i].method = method
			}
		}
	}
	for p := range viewPages {
		if !seenGET[p] {
			t.Errorf("GET %s is no longer a route; update the test", p)
		}
	}
	for p := range managePages {
		if !seenGET[p] {
			t.Errorf("GET %s is no longer a route; update the test", p)
		}
	}
	for k := range changes {
		if !seenChange[k] {
			t.Errorf("%s is no longer a route; update the test", k)
		}
	}
	if len(seenChange) < 12 {
		t.Errorf("only %d state-changing admin routes found in %q", len(seenChange), ts.App.Web.Routes())
	}

	t.Run("the auditor sees every admin page", func(t *testing.T) {
		a := auditor.lcFor(t)
		for _, pattern := range slices.Sorted(maps.Keys(viewPages)) {
			for _, p := range viewPages[pattern] {
				r := a.get(p)
				want := http.StatusOK // /admin is the overview page
				if r.Status != want {
					t.Errorf("auditor GET %s: %d, want %d\n%.300s", p, r.Status, want, r.Body)
				}
			}
		}
		// Read-only: no editor, no narrow button, but the recommendation shows.
		p := saAppScopesPage(t, a, appX.ClientID)
		if p.Editor || p.NarrowLink || len(p.Recommended) == 0 {
			t.Errorf("auditor's app scopes page: editor %v, narrow link %v, recommended %q; want no controls and a recommendation",
				p.Editor, p.NarrowLink, p.Recommended)
		}
		if r := a.get("/admin/apps/" + appX.ClientID); strings.Contains(r.Body, "/secrets/primary/regenerate") || strings.Contains(r.Body, "/delete\"") {
			t.Error("the auditor's app page offers management links")
		}
	})

	t.Run("pages that lead to a change are refused", func(t *testing.T) {
		a := auditor.lcFor(t)
		for _, list := range managePages {
			for _, p := range list {
				if r := a.get(p); r.Status != http.StatusForbidden {
					t.Errorf("auditor GET %s: %d, want 403", p, r.Status)
				}
			}
		}
	})

	t.Run("every state-changing admin route answers 403 with a valid CSRF token", func(t *testing.T) {
		a := auditor.lcFor(t)
		for _, key := range slices.Sorted(maps.Keys(changes)) {
			for _, rq := range changes[key] {
				if rq.method == "" {
					continue // not a route (reported above)
				}
				if strings.Contains(rq.path, ":") {
					t.Errorf("%s: %s still has a route parameter", key, rq.path)
					continue
				}
				r := saSend(t, a, rq)
				if r.Status != http.StatusForbidden {
					t.Errorf("auditor %s %s: %d, want 403\n%.300s", rq.method, rq.path, r.Status, r.Body)
					continue
				}
				// Refused for the role, not for the CSRF token.
				if !strings.Contains(r.Body, "Your role (auditor) does not allow") || strings.Contains(r.Body, "The form expired") {
					t.Errorf("auditor %s %s: 403 for another reason than the role:\n%.500s", rq.method, rq.path, lcText(r.Body))
				}
			}
		}
	})

	t.Run("the auditor's token is refused by every admin-only API", func(t *testing.T) {
		// Every admin-only API of the route table, called with the auditor's
		// token, which holds the scope it requires.
		held := []string{"vso.tokens", "vso.tokenadministration"}
		n := 0
		for _, r := range ts.App.Web.APIRoutes() {
			if !r.AdminOnly && !r.OwnerOrAdmin {
				continue
			}
			n++
			if !scope.Default().Satisfies(held, r.Scope) {
				t.Errorf("admin-only API %s %s requires %s: register app X with it and let the auditor hold it in this test", r.Method, r.Path, r.Scope)
				continue
			}
			path := "/_apis" + strings.NewReplacer(":client_id", appY.ClientID, ":subjectDescriptor", bob.ID).Replace(r.Path)
			if strings.Contains(path, ":") {
				t.Errorf("admin-only API %s %s: teach the test its route parameters", r.Method, r.Path)
				continue
			}
			var body any
			if r.Method != http.MethodGet {
				body = map[string]string{"userId": bob.ID, "clientId": appX.ClientID}
				path += "?secretType=alternative"
			}
			status, resp := lcAPI(t, ts, r.Method, path, audTok.Access, body)
			if r.OwnerOrAdmin {
				// Owners may call it for their own apps; the auditor owns
				// none, so it learns nothing: 404.
				if status != http.StatusNotFound {
					t.Errorf("auditor's token: %s %s answered %d %v, want 404 (not an owner)", r.Method, path, status, resp)
				}
				continue
			}
			if status != http.StatusForbidden || resp["message"] != "Only administrators may call this API." {
				t.Errorf("auditor's token: %s %s answered %d %v, want 403 \"Only administrators may call this API.\"", r.Method, path, status, resp)
			}
		}
		if n < 4 {
			t.Errorf("only %d admin-only APIs in the route table %+v", n, ts.App.Web.APIRoutes())
		}
		status, resp := lcAPI(t, ts, http.MethodPost, "/_apis/tokenadmin/revocations", audTok.Access, map[string]string{"authorizationId": bobTok.AuthzID})
		if status != http.StatusForbidden {
			t.Errorf("auditor's token revoking bob's authorization: %d %v, want 403", status, resp)
		}
	})

	t.Run("the auditor's admin API token reads everything and changes nothing", func(t *testing.T) {
		// Every route of the admin REST API (/_apis/oauthdesk/v1/), called
		// with the auditor's token carrying oauthdesk.admin: reads answer
		// 200, changes a 403 problem for the role. TestAdminAPI makes each
		// change as an admin (the control).
		const base = "/_apis/oauthdesk/v1"
		reads := map[string]string{"/openapi.json": "/openapi.json", "/apps": "/apps?state=expiring&sort=name",
			"/apps/:client_id": "/apps/" + appX.ClientID, "/authorizations": "/authorizations?user_id=" + bob.ID,
			"/users": "/users?q=bob", "/users/:id": "/users/" + bob.ID, "/tokens": "/tokens?state=active", "/settings": "/settings"}
		type apiChange struct {
			path string
			body any
		}
		writes := map[string]apiChange{
			"POST /apps": {"/apps", map[string]any{"name": "Auditor's own app", "company": "Audit Co.", "description": "Should never exist.",
				"company_url": "https://audit.example", "app_url": "https://audit.example/app", "callback_url": callbackURL,
				"terms_url": "https://audit.example/terms", "privacy_url": "https://audit.example/privacy", "scopes": []string{"vso.work"}}},
			"PATCH /apps/:client_id":                         {"/apps/" + appX.ClientID, map[string]any{"description": "Changed by the auditor."}},
			"DELETE /apps/:client_id":                        {"/apps/" + appY.ClientID, nil},
			"POST /apps/:client_id/secrets/:slot":            {"/apps/" + appY.ClientID + "/secrets/alternative", nil},
			"POST /apps/:client_id/secrets/:slot/regenerate": {"/apps/" + appX.ClientID + "/secrets/primary/regenerate", nil},
			"DELETE /apps/:client_id/secrets/:slot":          {"/apps/" + appX.ClientID + "/secrets/alternative", nil},
			"POST /authorizations/:id/revoke":                {"/authorizations/" + bobTok.AuthzID + "/revoke", nil},
			"POST /users":                                    {"/users", map[string]any{"username": "newbie"}},
			"PATCH /users/:id":                               {"/users/" + bob.ID, map[string]any{"role": "auditor"}},
			"POST /tokens/:id/revoke":                        {"/tokens/" + anyPAT + "/revoke", nil},
			"PATCH /settings":                                {"/settings", map[string]any{"third_party_oauth": false}},
		}
		seen := map[string]bool{}
		for _, route := range ts.App.Web.Routes() {
			method, path, _ := strings.Cut(route, " ")
			if !strings.HasPrefix(path, base+"/") || method == "echo_route_not_found" {
				continue
			}
			path = strings.TrimPrefix(path, base)
			key := method + " " + path
			seen[key] = true
			if method == http.MethodGet {
				p, ok := reads[path]
				if !ok {
					t.Errorf("new admin API read %s: teach this test to call it", key)
					continue
				}
				if status, body := patCall(t, ts, method, base+p, "Bearer "+audAdminAPI, nil); status != http.StatusOK {
					t.Errorf("auditor %s %s: %d %v, want 200", method, p, status, body)
				}
				continue
			}
			w, ok := writes[key]
			if !ok {
				t.Errorf("new admin API change %s: teach this test how to fill it in, so that auditors are checked against it", key)
				continue
			}
			status, body := patCall(t, ts, method, base+w.path, "Bearer "+audAdminAPI, w.body)
			detail, _ := body["detail"].(string)
			if status != http.StatusForbidden || body["type"] != "urn:oauthdesk:problem:forbidden" || !strings.Contains(detail, "Your role (auditor)") {
				t.Errorf("auditor %s %s: %d %v, want a 403 problem for the role", method, w.path, status, body)
			}
		}
		for p := range reads {
			if !seen["GET "+p] {
				t.Errorf("GET %s is no longer an admin API route; update the test", p)
			}
		}
		for k := range writes {
			if !seen[k] {
				t.Errorf("%s is no longer an admin API route; update the test", k)
			}
		}
	})

	// Nothing changed.
	if after := saSnapshot(t, ts); after != before {
		t.Errorf("the auditor changed something:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	ev, _, err := ts.App.Admin.AuditEvents(context.Background(), audit.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, e := range ev {
		if e.Seq > seq {
			added = append(added, e.Actor+" "+e.Action)
		}
	}
	if !slices.Equal(added, []string{"audrey " + audit.ActionSignIn}) {
		t.Errorf("new audit events %q, want only the auditor's sign-in", added)
	}
	saCall(t, ts, profilePath, bobTok.Access, http.StatusOK, "", "bob's token after the auditor's attempts")
	saCall(t, ts, saTokenAdmin, rootTok.Access, http.StatusOK, "", "root's token after the auditor's attempts")

	// Control: the same requests (the first of each route) succeed for an
	// admin, so the 403s above were the role check and not a broken form.
	// Ordered so that each one still applies; this changes everything.
	t.Run("control: an admin's identical requests succeed", func(t *testing.T) {
		a := rootA.lcFor(t)
		order := []string{
			"POST /admin/settings/secret-lifetime",
			"POST /admin/settings/third-party-oauth",
			"POST /admin/settings/app-registration",
			"POST /admin/settings/local-signin",
			"POST /admin/settings/pat-policy",
			"POST /admin/settings/pat-allowlist",
			"POST /admin/settings/pat-violations/revoke",
			"POST /admin/tokens/revoke",
			"POST /admin/apps",
			"POST /admin/apps/:client_id/edit",
			"POST /admin/apps/:client_id/client-credentials",
			"POST /admin/apps/:client_id/client-grants/:id/revoke",
			"POST /admin/apps/:client_id/secrets/alternative",
			"POST /admin/apps/:client_id/secrets/:slot/regenerate",
			"POST /admin/apps/:client_id/secrets/:slot/retire",
			"POST /admin/apps/:client_id/scopes/narrow",
			"POST /admin/apps/:client_id/scopes",
			"POST /admin/authorizations/:id/revoke",
			"POST /admin/users/:id/revoke",
			"POST /admin/users/:id/role",
			"POST /admin/users/:id/disable",
			"POST /admin/users/:id/enable",
			"POST /admin/users/:id/delete",
			"POST /admin/apps/:client_id/revoke",
			"POST /admin/apps/:client_id/delete",
			"POST /admin/apps/import/confirm",
		}
		// Not in the control: the upload writes nothing and answers 200 with
		// a preview (TestImportInventory); this server has no report sink,
		// so running the report answers 409 (TestScheduledReports runs it).
		// Approve and reject need a pending app and reset-password answers
		// 200 with the one-time password (TestOwners* run them for admins).
		noControl := []string{"POST /admin/apps/import", "POST /admin/reports/run", "POST /admin/apps/:client_id/approve",
			"POST /admin/apps/:client_id/reject", "POST /admin/users/:id/reset-password",
			// A made-up token id answers 404 (TestPATAdmin revokes real ones).
			"POST /admin/tokens/:id/revoke",
			// A pending change to approve or reject (TestPendingChange* run
			// them for admins); a connector needs a provider to discover
			// and test (TestOIDCUpstream, TestLDAPDirectory); adding a user
			// answers 200 with the one-time password (TestAddUserInTheUI);
			// admins' owner changes run in TestAdminManagesOwners.
			"POST /admin/apps/:client_id/change/approve", "POST /admin/apps/:client_id/change/reject",
			"POST /admin/settings/connectors", "POST /admin/settings/connectors/:name/test",
			"POST /admin/settings/connectors/:name/remove", "POST /admin/users/new",
			"POST /admin/apps/:client_id/owners", "POST /admin/apps/:client_id/owners/:user_id/remove"}
		for k := range changes {
			if !slices.Contains(order, k) && !slices.Contains(noControl, k) {
				t.Errorf("%s has no place in the control's order", k)
			}
		}
		for _, key := range order {
			if len(changes[key]) == 0 || changes[key][0].method == "" {
				continue
			}
			rq := changes[key][0]
			if r := saSend(t, a, rq); r.Status != http.StatusSeeOther {
				t.Errorf("admin %s %s: %d, want 303\n%.300s", rq.method, rq.path, r.Status, lcText(r.Body))
			}
		}
		if after := saSnapshot(t, ts); after == before {
			t.Error("the admin's requests changed nothing either")
		}
	})
}
