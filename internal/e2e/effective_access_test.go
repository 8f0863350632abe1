package e2e

import (
	"encoding/csv"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

var eaRowRE = regexp.MustCompile(`(?s)<tr data-testid="scope-(?:app|authorization)-row" data-(?:client|user)-id="([^"]+)">(.*?)</tr>`)

// eaHolders reads the rows of a scope's drill-down tab: key (client id
// or user id) → what the "Holds it" cell says.
func eaHolders(t *testing.T, a *agent, path string) map[string]string {
	t.Helper()
	r := a.get(path)
	if r.Status != http.StatusOK {
		t.Fatalf("%s: status %d", path, r.Status)
	}
	out := map[string]string{}
	for _, m := range eaRowRE.FindAllStringSubmatch(r.Body, -1) {
		holds, _ := lcTestID(m[2], "holds")
		out[m[1]] = holds
	}
	return out
}

// TestEffectiveScopeAccess: "who can write code?" is answered with every
// app and user holding vso.code_write, directly or through vso.code_full,
// on the scope's page, the inventory and the report alike.
func TestEffectiveScopeAccess(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	carol, carolA := saSignedIn(t, ts, "carol", domain.RoleMember, saPassword)
	dave, daveA := saSignedIn(t, ts, "dave", domain.RoleMember, saPassword)

	direct := registerThroughDashboard(t, rootA, "vso.code_write")
	full := registerThroughDashboard(t, rootA, "vso.code_full")
	saPair(t, ts, bobA, full, "vso.code_full", "bob-full")
	saPair(t, ts, carolA, direct, "vso.code_write", "carol-direct")
	// dave's code is presented twice: the chain is revoked, the consent
	// stands — he needs re-authorization, though the aggregates count him.
	daveCode := approve(t, daveA, direct, "vso.code_write", "dave-direct")
	if r := postToken(t, ts.URL, formType, codeBody(direct.Secret, daveCode, callbackURL)); r.Status != http.StatusOK {
		t.Fatalf("dave's code: %d %v", r.Status, r.Raw)
	}
	if r := postToken(t, ts.URL, formType, codeBody(direct.Secret, daveCode, callbackURL)); r.Status != http.StatusBadRequest {
		t.Fatalf("dave's reused code: %d %v, want 400", r.Status, r.Raw)
	}

	apps := eaHolders(t, rootA, "/admin/scopes/vso.code_write")
	if len(apps) != 2 || apps[direct.ClientID] != "directly" || apps[full.ClientID] != "via vso.code_full" {
		t.Errorf("apps holding vso.code_write: %v, want %s directly and %s via vso.code_full", apps, direct.ClientID, full.ClientID)
	}
	auths := eaHolders(t, rootA, "/admin/scopes/vso.code_write?tab=authorizations")
	if len(auths) != 3 || auths[bob.ID] != "via vso.code_full" || auths[carol.ID] != "directly" || auths[dave.ID] != "directly" {
		t.Errorf("users holding vso.code_write: %v, want bob via vso.code_full, carol and dave directly", auths)
	}
	// The Authorizations tab shows each row's true state.
	states := eaStates(t, rootA, "/admin/scopes/vso.code_write?tab=authorizations")
	if states[bob.ID] != domain.AuthActive || states[carol.ID] != domain.AuthActive || states[dave.ID] != domain.AuthNeedsReauthorization {
		t.Errorf("states on the Authorizations tab: %v, want bob and carol active, dave %s", states, domain.AuthNeedsReauthorization)
	}
	page := rootA.get("/admin/scopes/vso.code_write").Body
	// The Apps tab counts the true active authorizations (carol's only),
	// as the app's page does.
	if m := regexp.MustCompile(`(?s)data-client-id="` + direct.ClientID + `".*?data-testid="scope-app-active">(\d+)<`).FindStringSubmatch(page); m == nil || m[1] != "1" {
		t.Errorf("the Apps tab's active authorizations of the direct app: %v, want 1 (dave needs re-authorization)", m)
	}
	// The aggregates count consents not revoked, and say so: never "active".
	if got, _ := lcTestID(page, "scope-through"); got != "through vso.code_full: 1 app, 1 authorization" {
		t.Errorf("the scope page says %q about vso.code_full, want 1 app, 1 authorization", got)
	}
	if got, _ := lcTestID(page, "scope-counts"); !strings.HasPrefix(got, "Registered directly by 1 app · granted directly by 2 authorizations") {
		t.Errorf("scope counts %q", got)
	}
	if got, _ := lcTestID(page, "authorizations-legend"); !strings.Contains(got, "consents not revoked") || !strings.Contains(got, "need re-authorization") {
		t.Errorf("the scope page's legend %q does not say what it counts", got)
	}
	// A scope only held through a wider one has a page too.
	if apps := eaHolders(t, rootA, "/admin/scopes/vso.code_manage"); len(apps) != 1 || apps[full.ClientID] != "via vso.code_full" {
		t.Errorf("apps holding vso.code_manage: %v, want only %s via vso.code_full", apps, full.ClientID)
	}

	// The inventory: the scope name is a link; exactly three users are
	// named without "and more".
	inv := rootA.get("/admin/scopes").Body
	row := eaInventoryRow(t, inv, "vso.code_write")
	if !strings.Contains(row, `href="/admin/scopes/vso.code_write" data-testid="scope-link"`) {
		t.Error("the scope name in the inventory is not a link to its page")
	}
	for _, u := range []domain.User{bob, carol, dave} {
		if !strings.Contains(row, `href="/admin/users/`+u.ID+`"`) {
			t.Errorf("the vso.code_write row does not name %s", u.Username)
		}
	}
	if strings.Contains(row, `data-testid="scope-all-users"`) {
		t.Error(`exactly three users and the row still says "and more"`)
	}
	if !strings.Contains(row, `(via vso.code_full)`) {
		t.Error("the vso.code_write row does not mark bob (via vso.code_full)")
	}
	// The authorizations column: direct, and via the wider scope; a scope
	// held only through a wider one does not read as "nobody".
	for scope, want := range map[string]string{"vso.code_write": "2 direct · 1 via vso.code_full", "vso.code_manage": "0 direct · 1 via vso.code_full"} {
		r := eaInventoryRow(t, inv, scope)
		n, _ := lcTestID(r, "scope-authorizations")
		via, _ := lcTestID(r, "scope-authorizations-via")
		if got := n + " direct " + via; !strings.Contains(r, "</a> direct") || got != want {
			t.Errorf("inventory %s authorizations %q, want %q", scope, got, want)
		}
	}
	if strings.Contains(inv, "Active authorizations") || strings.Contains(inv, "active authorization") {
		t.Error(`the inventory calls its counts of consents "active"`)
	}
	if got, _ := lcTestID(inv, "authorizations-legend"); !strings.Contains(got, "consents not revoked") {
		t.Errorf("the inventory's legend %q does not say what it counts", got)
	}
	// A fourth user: now there is more than the preview.
	_, eveA := saSignedIn(t, ts, "eve", domain.RoleMember, saPassword)
	saPair(t, ts, eveA, direct, "vso.code_write", "eve-direct")
	if row := eaInventoryRow(t, rootA.get("/admin/scopes").Body, "vso.code_write"); !strings.Contains(row, `data-testid="scope-all-users"`) {
		t.Error(`four users and the row does not offer "and more"`)
	}

	// The report uses the same definition: the vso.code_write row names
	// its direct holders (carol, dave, eve and the direct app) and says it
	// is also held through vso.code_full, whose row names bob and the
	// other app.
	r := saReport(t, ts, "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, r.stdout)
	}
	rows := map[string][]string{}
	for _, rec := range recs[1:] {
		rows[rec[0]] = rec
	}
	write, fullRow := rows["vso.code_write"], rows["vso.code_full"]
	if write == nil || fullRow == nil {
		t.Fatalf("report lacks the vso.code_write or vso.code_full row:\n%s", r.stdout)
	}
	if got, want := write[6], "carol dave eve"; got != want {
		t.Errorf("report vso.code_write users %q, want %q (direct holders)", got, want)
	}
	if !strings.Contains(write[4], "("+direct.ClientID+")") || strings.Contains(write[4], full.ClientID) {
		t.Errorf("report vso.code_write apps %q, want only the direct app %s", write[4], direct.ClientID)
	}
	if !strings.HasPrefix(write[11], "vso.code_full (1 apps, 1 active authorizations)") {
		t.Errorf("report vso.code_write through %q, want vso.code_full (1 apps, 1 active authorizations)", write[11])
	}
	if fullRow[6] != "bob" || !strings.Contains(fullRow[4], "("+full.ClientID+")") {
		t.Errorf("report vso.code_full row names users %q, apps %q; want bob and %s", fullRow[6], fullRow[4], full.ClientID)
	}
	// vso.code_manage is held only through vso.code_full.
	if m := rows["vso.code_manage"]; m == nil || m[4] != "" || m[6] != "" || !strings.HasPrefix(m[11], "vso.code_full (") {
		t.Errorf("report vso.code_manage row %q, want no direct holder and through vso.code_full", m)
	}
}

var eaStateRE = regexp.MustCompile(`data-testid="auth-state" data-state="([a-z_]+)"`)

// eaStates reads the state badge of each row of a scope's Authorizations
// tab: user id → state.
func eaStates(t *testing.T, a *agent, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range eaRowRE.FindAllStringSubmatch(a.get(path).Body, -1) {
		if s := eaStateRE.FindStringSubmatch(m[2]); s != nil {
			out[m[1]] = s[1]
		}
	}
	return out
}

func eaInventoryRow(t *testing.T, body, scope string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `data-scope="`+scope+`"`)
	if !ok {
		t.Fatalf("no inventory row for %s", scope)
	}
	row, _, _ := strings.Cut(rest, "</tr>")
	return row
}

var eaImpliedRE = regexp.MustCompile(`data-testid="implied-scope" data-scope="([^"]+)">[^<]*</a> <span class="muted">([^<]*)</span>`)

// TestUserPageEffectiveScopes: the user page lists, under each grant, the
// scopes it holds through a wider scope it was granted ("vso.code_write
// via vso.code_full"), and each of them lists the user on the scope's
// page as holding it through that scope: one definition for both.
func TestUserPageEffectiveScopes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	carol, carolA := saSignedIn(t, ts, "carol", domain.RoleMember, saPassword)
	full := registerThroughDashboard(t, rootA, "vso.code_full", "vso.work")
	saPair(t, ts, bobA, full, "vso.code_full", "bob-full")
	saPair(t, ts, carolA, full, "vso.work", "carol-work")

	implied := map[string]string{}
	for _, m := range eaImpliedRE.FindAllStringSubmatch(rootA.get("/admin/users/"+bob.ID).Body, -1) {
		implied[m[1]] = m[2]
	}
	if implied["vso.code_write"] != "via vso.code_full" || implied["vso.code"] != "via vso.code_full" {
		t.Fatalf("bob's implied scopes: %v, want vso.code_write and vso.code via vso.code_full", implied)
	}
	if _, ok := implied["vso.code_full"]; ok {
		t.Error("the granted scope itself is listed as implied")
	}
	for id, via := range implied {
		if got := eaHolders(t, rootA, "/admin/scopes/"+id+"?tab=authorizations")[bob.ID]; got != via {
			t.Errorf("/admin/scopes/%s says bob holds it %q; the user page says %q", id, got, via)
		}
	}
	if body := rootA.get("/admin/users/" + carol.ID).Body; strings.Contains(body, `data-testid="implied-scopes"`) && strings.Contains(body, "vso.code") {
		t.Error("carol, granted vso.work only, is shown holding code scopes")
	}
}
