package e2e

// End-to-end tests of the lifecycle of an app's access (issue "Lifecycle",
// Done when): secret regeneration and staged rotation, revocation by the
// user, by an admin, by the CLI and by the Token Administration API,
// refresh-token reuse, app deletion, the OAuth access policy, and the
// tamper-evident audit log. Every test starts from a working token pair
// obtained through the real flow, acts through the real surfaces (the
// dashboard's CSRF-protected forms, the oauthdesk binary on the server's
// database file while the server runs, the REST API) and checks the very
// next request.
//
// Helpers of this file are prefixed lc so that they cannot clash with the
// helpers of the other test files of the package.

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3", to edit the audit log behind oauthdesk's back

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

const (
	lcRootPassword = "correct horse battery"
	lcPassword     = "a long member password"
	lcScope        = "vso.work" // includes vso.profile, so the profile API answers
	lcAppName      = "Fabrikam Boards"
)

// lcEnv is a running server with a signed-in admin ("root").
type lcEnv struct {
	ts    *testServer
	admin *agent
	root  domain.User
	users int
}

func lcNewEnv(t *testing.T) *lcEnv {
	t.Helper()
	return lcNewEnvWith(t, nil)
}

// lcNewEnvWith is lcNewEnv with a hook that adjusts the configuration.
// Some cases sign in dozens of users from 127.0.0.1 within a minute, so
// the per-address sign-in limit is raised.
func lcNewEnvWith(t *testing.T, configure func(*server.Config)) *lcEnv {
	t.Helper()
	ts := newTestServerWith(t, func(c *server.Config) {
		c.SignInPerMinute = 1000
		if configure != nil {
			configure(c)
		}
	})
	root := ts.addUser(t, "root", domain.RoleAdmin, lcRootPassword)
	admin := ts.newAgent(t)
	admin.signIn("root", lcRootPassword)
	return &lcEnv{ts: ts, admin: admin, root: root}
}

// lcFor returns the agent reporting failures to t (the agent of a parent
// test used in a subtest), sharing the cookie jar.
func (a *agent) lcFor(t *testing.T) *agent {
	c := *a
	c.t = t
	return &c
}

// lcUser is a signed-in member.
type lcUser struct {
	domain.User
	a *agent
}

// member adds a member with a unique username starting with name and
// signs them in.
func (e *lcEnv) member(t *testing.T, name string) lcUser {
	t.Helper()
	e.users++
	u := e.ts.addUser(t, fmt.Sprintf("%s%d", name, e.users), domain.RoleMember, lcPassword)
	a := e.ts.newAgent(t)
	a.signIn(u.Username, lcPassword)
	return lcUser{User: u, a: a}
}

// lcPair is a working token pair and what its access token says.
type lcPair struct {
	Access, Refresh string
	AuthzID         string // aui claim
	SecretID        string // csid claim
	FamilyID        string // fam claim
}

func lcPairOf(t *testing.T, r tokenResult) lcPair {
	t.Helper()
	wantTokens(t, r)
	c := lcClaims(t, r.str("access_token"))
	return lcPair{Access: r.str("access_token"), Refresh: r.str("refresh_token"), AuthzID: c["aui"], SecretID: c["csid"], FamilyID: c["fam"]}
}

// pair runs the whole flow for u and app (approve, exchange with secret)
// and checks that the access token works.
func (e *lcEnv) pair(t *testing.T, u *agent, app registeredApp, secret string) lcPair {
	t.Helper()
	code := approve(t, u, app, lcScope, "lc")
	p := lcPairOf(t, postToken(t, e.ts.URL, formType, codeBody(secret, code, callbackURL)))
	lcWantAPI(t, e.ts, p.Access, http.StatusOK, "a fresh access token")
	return p
}

func (e *lcEnv) exchange(t *testing.T, secret, code string) tokenResult {
	t.Helper()
	return postToken(t, e.ts.URL, formType, codeBody(secret, code, callbackURL))
}

func (e *lcEnv) refresh(t *testing.T, secret, refresh string) tokenResult {
	t.Helper()
	return postToken(t, e.ts.URL, formType, refreshBody(secret, refresh, callbackURL))
}

// lcClaims decodes (without verifying) the claims of a JWT.
func lcClaims(t *testing.T, jwt string) map[string]string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT: %.40s…", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	out := map[string]string{}
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// lcWantAPI calls the profile API with token and checks the status.
func lcWantAPI(t *testing.T, ts *testServer, token string, want int, what string) map[string]any {
	t.Helper()
	status, h, body := callAPI(t, ts.URL, profilePath, token)
	if status != want {
		t.Errorf("%s: profile API answered %d %v, want %d", what, status, body, want)
	}
	if want == http.StatusUnauthorized && status == want && !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("%s: 401 without WWW-Authenticate error=\"invalid_token\" (got %q)", what, h.Get("WWW-Authenticate"))
	}
	return body
}

// lcWantRevoked checks both halves of a revoked authorization: the access
// token gets 401 on the very next call, the refresh token invalid_grant.
func (e *lcEnv) lcWantRevoked(t *testing.T, p lcPair, secret, what string) {
	t.Helper()
	lcWantAPI(t, e.ts, p.Access, http.StatusUnauthorized, what+": access token")
	r := e.refresh(t, secret, p.Refresh)
	if r.Status != http.StatusBadRequest || r.str("error") != "invalid_grant" || r.str("error_description") != "No authorization grant was found" {
		t.Errorf("%s: refresh answered %d %v, want 400 invalid_grant %q", what, r.Status, r.Raw, "No authorization grant was found")
	}
}

// lcAPI calls a REST API with a Bearer token and an optional JSON body.
func lcAPI(t *testing.T, ts *testServer, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// adminToken registers an app with the administration scopes and returns
// an access token of root for it.
func (e *lcEnv) adminToken(t *testing.T) string {
	t.Helper()
	admin := e.admin.lcFor(t)
	tools := registerThroughDashboard(t, admin, "vso.tokens", "vso.tokenadministration")
	code := approve(t, admin, tools, "vso.tokens vso.tokenadministration", "admin-tools")
	return lcPairOf(t, e.exchange(t, tools.Secret, code)).Access
}

// cli runs the oauthdesk binary on the server's database file, while the
// server runs.
func (e *lcEnv) cli(t *testing.T, args ...string) cliResult {
	t.Helper()
	return oauthdesk(t, cliRun{}, append(args, "--db", e.ts.DBPath)...)
}

var (
	lcTagRE    = regexp.MustCompile(`<[^>]*>`)
	lcImpactRE = regexp.MustCompile(`(?s)<ul data-testid="impact">(.*?)</ul>`)
	lcFormRE   = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	lcCellRE   = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	// The flash message (the apps list renders it without data-testid).
	lcFlashRE = regexp.MustCompile(`(?s)<p class="flash" role="status"[^>]*>(.*?)</p>`)
)

// lcText is the visible text of an HTML fragment, whitespace collapsed.
func lcText(s string) string {
	return strings.Join(strings.Fields(html.UnescapeString(lcTagRE.ReplaceAllString(s, " "))), " ")
}

// lcConfirm opens a confirmation page and checks that it explains the
// impact (each of wantImpact is in the impact list) and posts back to
// itself. It returns the page's CSRF token.
func lcConfirm(t *testing.T, a *agent, path string, wantImpact ...string) string {
	t.Helper()
	r := a.get(path)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="confirm"`) {
		t.Fatalf("GET %s: status %d, want a confirmation page\n%.500s", path, r.Status, r.Body)
	}
	if m := lcFormRE.FindAllStringSubmatch(r.Body, -1); !slices.ContainsFunc(m, func(m []string) bool { return html.UnescapeString(m[1]) == path }) {
		t.Errorf("confirmation page %s does not post back to itself (forms: %q)", path, m)
	}
	impact := ""
	if m := lcImpactRE.FindStringSubmatch(r.Body); m != nil {
		impact = lcText(m[1])
	}
	for _, w := range wantImpact {
		if !strings.Contains(impact, w) {
			t.Errorf("confirmation %s: impact %q does not say %q", path, impact, w)
		}
	}
	m := csrfRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

// lcConfirmAndPost confirms the action at path and checks the redirect.
func lcConfirmAndPost(t *testing.T, a *agent, path, wantLocation string, wantImpact ...string) response {
	t.Helper()
	csrf := lcConfirm(t, a, path, wantImpact...)
	r := a.postForm(path, url.Values{"_csrf": {csrf}})
	if r.Status != http.StatusSeeOther || r.Location() != wantLocation {
		t.Fatalf("POST %s: status %d, location %q; want 303 to %s\n%.500s", path, r.Status, r.Location(), wantLocation, r.Body)
	}
	return r
}

// lcFlash returns the flash message of the page at path.
func lcFlash(t *testing.T, a *agent, path string) string {
	t.Helper()
	r := a.get(path)
	if m := lcFlashRE.FindStringSubmatch(r.Body); m != nil {
		return lcText(m[1])
	}
	return ""
}

// lcAppPage returns the body of the app page.
func lcAppPage(t *testing.T, a *agent, clientID string) string {
	t.Helper()
	r := a.get("/admin/apps/" + clientID)
	if r.Status != http.StatusOK {
		t.Fatalf("app page %s: status %d", clientID, r.Status)
	}
	return r.Body
}

// lcAppPageWhen loads the app page until ok(page) holds, for at most the
// usage flush bound (the e2e server writes batched usage every 100 ms; 5 s
// leaves room for a loaded machine), and returns the last page loaded.
func lcAppPageWhen(t *testing.T, a *agent, clientID string, ok func(page string) bool) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		page := lcAppPage(t, a, clientID)
		if ok(page) || time.Now().After(deadline) {
			return page
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lcRow returns the <tr> whose opening tag contains attr (e.g.
// data-authorization-id="…"), or "".
func lcRow(body, attr string) string {
	i := strings.Index(body, attr)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest, "</tr>"); j >= 0 {
		return rest[:j]
	}
	return rest
}

// lcTestID returns the text of the element with data-testid=id in fragment.
func lcTestID(fragment, id string) (string, bool) {
	re := regexp.MustCompile(`(?s)data-testid="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</`)
	m := re.FindStringSubmatch(fragment)
	if m == nil {
		return "", false
	}
	return lcText(m[1]), true
}

// lcLastSecret is the "Last refreshed with" cell of an authorization.
func lcLastSecret(t *testing.T, page, authzID string) string {
	t.Helper()
	row := lcRow(page, `data-authorization-id="`+authzID+`"`)
	v, ok := lcTestID(row, "last-secret")
	if !ok {
		t.Errorf("the app page has no authorization row %s with a last-secret cell", authzID)
	}
	return v
}

var lcSecretSlotRE = regexp.MustCompile(`data-testid="secret-row" data-slot="([a-z]+)"`)

// lcSlots lists the secret rows of an app page.
func lcSlots(page string) []string {
	var out []string
	for _, m := range lcSecretSlotRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// lcNewSecret returns the secret shown once on the app page after a
// redirect, and checks that a reload no longer shows it.
func lcNewSecret(t *testing.T, a *agent, clientID, slot string) string {
	t.Helper()
	page := lcAppPage(t, a, clientID)
	m := newSecretRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the app page shows no new secret")
	}
	if !strings.Contains(page, "New "+slot+" client secret") {
		t.Errorf("the new secret is not labelled as the %s secret", slot)
	}
	if again := lcAppPage(t, a, clientID); newSecretRE.MatchString(again) || strings.Contains(again, m[1]) {
		t.Error("the new secret is shown again after a reload")
	}
	return m[1]
}

// lcAuditRow is one row of /admin/audit.
type lcAuditRow struct {
	Seq                           int64
	At, Actor, Action             string
	TargetType, TargetID, Details string
	RemoteAddr                    string
	ActionAttr                    string // the row's data-action
}

// lcAudit returns the rows of /admin/audit?query, the link to older
// events ("" when none), and the status.
func lcAudit(t *testing.T, a *agent, query string) ([]lcAuditRow, string, int) {
	t.Helper()
	r := a.get("/admin/audit?" + query)
	var rows []lcAuditRow
	for i, chunk := range strings.Split(r.Body, `<tr data-testid="audit-row"`) {
		if i == 0 {
			continue
		}
		chunk, _, _ = strings.Cut(chunk, "</tr>")
		var row lcAuditRow
		if m := regexp.MustCompile(`data-action="([^"]*)"`).FindStringSubmatch(chunk); m != nil {
			row.ActionAttr = m[1]
		}
		cells := lcCellRE.FindAllStringSubmatch(chunk, -1)
		if len(cells) != 9 {
			t.Fatalf("/admin/audit row with %d cells, want 9: %s", len(cells), chunk)
		}
		// Columns 4 and 5 are the app and the user the event concerns.
		cells = append(cells[:4], cells[6:]...)
		row.Seq, _ = strconv.ParseInt(lcText(cells[0][1]), 10, 64)
		row.At, row.Actor, row.Action = lcText(cells[1][1]), lcText(cells[2][1]), lcText(cells[3][1])
		// The target shows a short id linked to its page; the full id is
		// its title. The details show key: value lines and the full JSON.
		row.TargetType, _, _ = strings.Cut(lcText(cells[4][1]), " ")
		if m := regexp.MustCompile(`title="([^"]*)"`).FindStringSubmatch(cells[4][1]); m != nil {
			row.TargetID = html.UnescapeString(m[1])
		}
		if m := regexp.MustCompile(`data-testid="audit-json">([^<]*)<`).FindStringSubmatch(cells[5][1]); m != nil {
			row.Details = html.UnescapeString(m[1])
		}
		row.RemoteAddr = lcText(cells[6][1])
		rows = append(rows, row)
	}
	older := ""
	if m := regexp.MustCompile(`href="([^"]*)" data-testid="older"`).FindStringSubmatch(r.Body); m != nil {
		older = html.UnescapeString(m[1])
	}
	return rows, older, r.Status
}

// lcWantEvent checks that /admin/audit?query lists an event by actor.
func lcWantEvent(t *testing.T, a *agent, query, actor string) lcAuditRow {
	t.Helper()
	rows, _, status := lcAudit(t, a, query)
	for _, r := range rows {
		if r.Actor == actor {
			return r
		}
	}
	t.Errorf("/admin/audit?%s (status %d) has no event by %q: %+v", query, status, actor, rows)
	return lcAuditRow{}
}

// lcSecretJSON is the output of `app rotate-secret --json`.
type lcSecretJSON struct {
	ClientID        string `json:"client_id"`
	ClientSecret    string `json:"client_secret"`
	Slot            string `json:"slot"`
	SecretExpiresAt string `json:"secret_expires_at"`
}

func lcRotateCLI(t *testing.T, e *lcEnv, clientID, slot string) lcSecretJSON {
	t.Helper()
	before := time.Now()
	r := mustSucceed(t, e.cli(t, "app", "rotate-secret", clientID, "--slot", slot, "--json"))
	waitOtherProcess()
	var keys map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil {
		t.Fatalf("rotate-secret --json: %v\n%s", err, r)
	}
	if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, []string{"client_id", "client_secret", "secret_expires_at", "slot"}) {
		t.Errorf("rotate-secret --json keys %q, want client_id, client_secret, slot, secret_expires_at", got)
	}
	var out lcSecretJSON
	_ = json.Unmarshal([]byte(r.stdout), &out)
	if out.ClientID != clientID || out.Slot != slot || !strings.HasPrefix(out.ClientSecret, "odcs_") {
		t.Errorf("rotate-secret --json = %+v, want client %s, slot %s, an odcs_ secret", out, clientID, slot)
	}
	exp, err := time.Parse(time.RFC3339, out.SecretExpiresAt)
	if lo := before.UTC().AddDate(5, 0, 0).Add(-time.Second); err != nil || exp.Before(lo) || exp.After(time.Now().UTC().AddDate(5, 0, 0)) {
		t.Errorf("secret_expires_at %q, want five years from now (%v)", out.SecretExpiresAt, err)
	}
	return out
}

// TestLifecycleRegenerate: regenerating the primary secret (dashboard, CLI,
// REST API) kills the old secret and every token minted with it on the
// very next request; the new secret works.
func TestLifecycleRegenerate(t *testing.T) {
	e := lcNewEnv(t)
	adminToken := e.adminToken(t)

	cases := []struct {
		name       string
		actor      string
		regenerate func(t *testing.T, app registeredApp, before lcPair) string
	}{
		{name: "dashboard", actor: "root", regenerate: func(t *testing.T, app registeredApp, _ lcPair) string {
			admin := e.admin.lcFor(t)
			path := "/admin/apps/" + app.ClientID + "/secrets/primary/regenerate"
			lcConfirmAndPost(t, admin, path, "/admin/apps/"+app.ClientID,
				"1 active authorization last refreshed with this secret and will have to authorize again.")
			return lcNewSecret(t, admin, app.ClientID, "primary")
		}},
		{name: "CLI", actor: "cli", regenerate: func(t *testing.T, app registeredApp, _ lcPair) string {
			return lcRotateCLI(t, e, app.ClientID, "primary").ClientSecret
		}},
		{name: "REST API", actor: "root", regenerate: func(t *testing.T, app registeredApp, before lcPair) string {
			path := "/_apis/delegatedauth/registrationsecret/" + app.ClientID + "?secretType=primary"
			// POST creates a secret in an empty slot only: the primary is taken.
			if status, body := lcAPI(t, e.ts, http.MethodPost, path, adminToken, nil); status != http.StatusConflict {
				t.Errorf("POST on the taken primary slot: %d %v, want 409", status, body)
			}
			lcWantAPI(t, e.ts, before.Access, http.StatusOK, "after a refused POST")
			// The API needs an admin's token with vso.tokens.
			if status, body := lcAPI(t, e.ts, http.MethodPut, path, before.Access, nil); status != http.StatusForbidden {
				t.Errorf("PUT with a member's vso.work token: %d %v, want 403", status, body)
			}
			status, body := lcAPI(t, e.ts, http.MethodPut, path, adminToken, nil)
			secret, _ := body["secret"].(string)
			if status != http.StatusOK || body["clientId"] != app.ClientID || body["secretType"] != "primary" || body["regenerated"] != true ||
				!strings.HasPrefix(secret, "odcs_") {
				t.Fatalf("PUT %s: %d %v", path, status, body)
			}
			return secret
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			admin := e.admin.lcFor(t)
			u := e.member(t, "regen")
			app := registerThroughDashboard(t, admin, lcScope)
			old := e.pair(t, u.a, app, app.Secret)

			secret := c.regenerate(t, app, old)
			if secret == "" || secret == app.Secret {
				t.Fatalf("regenerate gave %q, want a new secret", secret)
			}

			// The very next request with the old access token.
			lcWantAPI(t, e.ts, old.Access, http.StatusUnauthorized, "access token minted with the regenerated secret")
			// The old refresh token: refused with the old secret (which no
			// longer authenticates) and with the new one (wrong chain).
			wantTokenError(t, e.refresh(t, app.Secret, old.Refresh), http.StatusUnauthorized, "unauthorized_client", "Client failed validation")
			if r := e.refresh(t, secret, old.Refresh); r.Status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
				t.Errorf("old refresh token with the new secret: %d %v, want 400 invalid_grant", r.Status, r.Raw)
			}

			// A fresh code: the old secret is refused, the new one works.
			code := approve(t, u.a, app, lcScope, "after")
			wantTokenError(t, e.exchange(t, app.Secret, code), http.StatusUnauthorized, "unauthorized_client", "Client failed validation")
			fresh := lcPairOf(t, e.exchange(t, secret, code))
			lcWantAPI(t, e.ts, fresh.Access, http.StatusOK, "token minted with the new secret")
			if fresh.SecretID == old.SecretID {
				t.Errorf("the new token names the old secret %s", old.SecretID)
			}
			again := lcPairOf(t, e.refresh(t, secret, fresh.Refresh))
			lcWantAPI(t, e.ts, again.Access, http.StatusOK, "refreshed with the new secret")
			lcWantAPI(t, e.ts, old.Access, http.StatusUnauthorized, "the old token, later")

			page := lcAppPage(t, admin, app.ClientID)
			if got := lcSlots(page); !slices.Equal(got, []string{"primary"}) {
				t.Errorf("app page secret rows %q, want the primary only", got)
			}
			row := lcWantEvent(t, admin, "action=secret.regenerate&target_id="+app.ClientID, c.actor)
			if row.TargetType != "secret" || !strings.Contains(row.Details, `"slot":"primary"`) || !strings.Contains(row.Details, "replaced_secret_id") {
				t.Errorf("secret.regenerate event %+v", row)
			}
		})
	}
}

// TestLifecycleStagedRotation: add an alternative secret, move one client
// to it, watch the app page, retire the old primary: only the tokens of
// the old primary stop working, and the alternative becomes the primary.
func TestLifecycleStagedRotation(t *testing.T) {
	e := lcNewEnv(t)
	cases := []struct {
		name   string
		actor  string
		addAlt func(t *testing.T, app registeredApp) string
		retire func(t *testing.T, app registeredApp)
	}{
		{
			name: "dashboard", actor: "root",
			addAlt: func(t *testing.T, app registeredApp) string {
				admin := e.admin.lcFor(t)
				page := lcAppPage(t, admin, app.ClientID)
				if !strings.Contains(page, `data-testid="add-alternative"`) {
					t.Error("the app page offers no \"add an alternative secret\" button")
				}
				r := admin.postForm("/admin/apps/"+app.ClientID+"/secrets/alternative", url.Values{"_csrf": {csrfRE.FindStringSubmatch(page)[1]}})
				if r.Status != http.StatusSeeOther || r.Location() != "/admin/apps/"+app.ClientID {
					t.Fatalf("add alternative: status %d, location %q", r.Status, r.Location())
				}
				return lcNewSecret(t, admin, app.ClientID, "alternative")
			},
			retire: func(t *testing.T, app registeredApp) {
				admin := e.admin.lcFor(t)
				path := "/admin/apps/" + app.ClientID + "/secrets/primary/retire"
				page := admin.get(path).Body
				if !strings.Contains(page, "The alternative secret becomes the primary.") {
					t.Error("the retire confirmation does not say that the alternative becomes the primary")
				}
				lcConfirmAndPost(t, admin, path, "/admin/apps/"+app.ClientID,
					"1 active authorization still refreshes with this secret and will have to authorize again.")
				if got := lcFlash(t, admin, "/admin/apps/"+app.ClientID); got != "The primary secret was retired." {
					t.Errorf("flash after retiring: %q", got)
				}
			},
		},
		{
			name: "CLI", actor: "cli",
			addAlt: func(t *testing.T, app registeredApp) string {
				return lcRotateCLI(t, e, app.ClientID, "alternative").ClientSecret
			},
			retire: func(t *testing.T, app registeredApp) {
				r := mustSucceed(t, e.cli(t, "app", "retire-secret", app.ClientID, "--slot", "primary"))
				if !strings.Contains(r.stdout, "Retired the primary secret") {
					t.Errorf("retire-secret output\n%s", r)
				}
				waitOtherProcess()
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			admin := e.admin.lcFor(t)
			bob, carol := e.member(t, "bob"), e.member(t, "carol")
			app := registerThroughDashboard(t, admin, lcScope)
			pb := e.pair(t, bob.a, app, app.Secret)
			pc := e.pair(t, carol.a, app, app.Secret)

			alt := c.addAlt(t, app)
			if alt == "" || alt == app.Secret {
				t.Fatalf("alternative secret %q", alt)
			}
			// Adding a secret stops nothing.
			lcWantAPI(t, e.ts, pb.Access, http.StatusOK, "bob's token after adding the alternative")
			lcWantAPI(t, e.ts, pc.Access, http.StatusOK, "carol's token after adding the alternative")
			page := lcAppPage(t, admin, app.ClientID)
			if got := lcSlots(page); !slices.Equal(got, []string{"primary", "alternative"}) {
				t.Errorf("secret rows %q, want primary and alternative", got)
			}
			if v, _ := lcTestID(lcRow(page, `data-slot="alternative"`), "secret-last-used"); v != "never" {
				t.Errorf("alternative secret last used %q before any use, want never", v)
			}

			// Bob's client deploys the alternative: its next refresh moves
			// the chain. Carol's client still refreshes with the primary.
			pb2 := lcPairOf(t, e.refresh(t, alt, pb.Refresh))
			if pb2.SecretID == pb.SecretID || pb2.FamilyID != pb.FamilyID {
				t.Errorf("refresh with the alternative: csid %s (was %s), fam %s (was %s); want a new csid in the same chain",
					pb2.SecretID, pb.SecretID, pb2.FamilyID, pb.FamilyID)
			}
			pc2 := lcPairOf(t, e.refresh(t, app.Secret, pc.Refresh))
			lcWantAPI(t, e.ts, pb2.Access, http.StatusOK, "bob's token minted with the alternative")
			lcWantAPI(t, e.ts, pb.Access, http.StatusOK, "bob's earlier token (primary) before the retirement")
			lcWantAPI(t, e.ts, pc2.Access, http.StatusOK, "carol's token (primary)")

			// Secret uses are written with the batched usage (every 100 ms
			// here): wait for that bound.
			page = lcAppPageWhen(t, admin, app.ClientID, func(page string) bool {
				v, _ := lcTestID(lcRow(page, `data-slot="alternative"`), "secret-uses")
				return v == "1"
			})
			if got := lcLastSecret(t, page, pb.AuthzID); got != "alternative" {
				t.Errorf("bob's authorization last refreshed with %q, want alternative", got)
			}
			if got := lcLastSecret(t, page, pc.AuthzID); got != "primary" {
				t.Errorf("carol's authorization last refreshed with %q, want primary", got)
			}
			altRow := lcRow(page, `data-slot="alternative"`)
			if v, _ := lcTestID(altRow, "secret-last-used"); v == "never" || v == "" {
				t.Errorf("the alternative's first use does not show on the app page (last used %q)", v)
			}
			if v, _ := lcTestID(altRow, "secret-uses"); v != "1" {
				t.Errorf("alternative secret uses %q, want 1", v)
			}

			// Bob is in the middle of authorizing again when the primary is
			// retired; his client already uses the alternative.
			inFlight := approve(t, bob.a, app, lcScope, "in-flight")

			c.retire(t, app)

			// Everything minted with the old primary dies on the next request.
			lcWantAPI(t, e.ts, pb.Access, http.StatusUnauthorized, "bob's earlier token (retired primary)")
			lcWantAPI(t, e.ts, pc.Access, http.StatusUnauthorized, "carol's first token (retired primary)")
			lcWantAPI(t, e.ts, pc2.Access, http.StatusUnauthorized, "carol's refreshed token (retired primary)")
			wantTokenError(t, e.refresh(t, app.Secret, pc2.Refresh), http.StatusUnauthorized, "unauthorized_client", "Client failed validation")
			if r := e.refresh(t, alt, pc2.Refresh); r.Status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
				t.Errorf("carol's refresh token (minted with the retired primary) with the new secret: %d %v, want 400 invalid_grant", r.Status, r.Raw)
			}
			// The moved chain lives on.
			lcWantAPI(t, e.ts, pb2.Access, http.StatusOK, "bob's token minted with the alternative, after the retirement")
			pb3 := lcPairOf(t, e.refresh(t, alt, pb2.Refresh))
			lcWantAPI(t, e.ts, pb3.Access, http.StatusOK, "bob's chain refreshed after the retirement")

			// The alternative is now the primary.
			page = lcAppPageWhen(t, admin, app.ClientID, func(page string) bool {
				v, _ := lcTestID(lcRow(page, `data-slot="primary"`), "secret-uses")
				return v == "2"
			})
			if got := lcSlots(page); !slices.Equal(got, []string{"primary"}) {
				t.Errorf("after retiring, secret rows %q; want one primary (the promoted alternative)", got)
			}
			if v, _ := lcTestID(lcRow(page, `data-slot="primary"`), "secret-uses"); v != "2" {
				t.Errorf("the promoted secret's use count %q, want 2 (the uses of the alternative carried over)", v)
			}
			if got := lcLastSecret(t, page, pb.AuthzID); got != "primary" {
				t.Errorf("bob's authorization last refreshed with %q, want primary (the promoted secret)", got)
			}
			if got := lcLastSecret(t, page, pc.AuthzID); got == "primary" || got == "alternative" {
				t.Errorf("carol's authorization last refreshed with %q, but that secret is retired", got)
			}
			if !strings.Contains(page, `data-testid="add-alternative"`) {
				t.Error("after the rotation the app page does not offer a new alternative secret")
			}
			code := approve(t, carol.a, app, lcScope, "new-primary")
			wantTokenError(t, e.exchange(t, app.Secret, code), http.StatusUnauthorized, "unauthorized_client", "Client failed validation")
			pc3 := lcPairOf(t, e.exchange(t, alt, code))
			lcWantAPI(t, e.ts, pc3.Access, http.StatusOK, "carol after authorizing again")

			// Zero downtime: a code issued just before the retirement is
			// exchanged by a client that authenticates with the surviving
			// secret. No token was minted with the retired secret, so there
			// is nothing to kill.
			if r := e.exchange(t, alt, inFlight); r.Status != http.StatusOK {
				t.Errorf("PRODUCT BUG (staged rotation is not zero-downtime): a code issued before the primary was retired, "+
					"exchanged with the surviving (promoted) secret, answered %d %v; want tokens. The code records the primary's id "+
					"at consent time and exchangeCode (internal/oauth/flow_code.go) refuses it once that secret is retired "+
					"(ErrSecretRetired), so every user who is mid-consent at the moment of retirement fails to sign in.", r.Status, r.Raw)
			}

			// The next rotation can start at once.
			alt2 := c.addAlt(t, app)
			code = approve(t, carol.a, app, lcScope, "second-rotation")
			lcWantAPI(t, e.ts, lcPairOf(t, e.exchange(t, alt2, code)).Access, http.StatusOK, "token of the second alternative")
			lcWantAPI(t, e.ts, pb3.Access, http.StatusOK, "bob's chain after adding a second alternative")

			lcWantEvent(t, admin, "action=secret.create&target_id="+app.ClientID, c.actor)
			row := lcWantEvent(t, admin, "action=secret.retire&target_id="+app.ClientID, c.actor)
			if !strings.Contains(row.Details, "promoted_secret_id") {
				t.Errorf("secret.retire event does not record the promotion: %s", row.Details)
			}
		})
	}

	t.Run("rollback: retire the alternative", func(t *testing.T) {
		admin := e.admin.lcFor(t)
		bob, carol := e.member(t, "bob"), e.member(t, "carol")
		app := registerThroughDashboard(t, admin, lcScope)
		pb := e.pair(t, bob.a, app, app.Secret)
		pc := e.pair(t, carol.a, app, app.Secret)

		// No alternative yet: there is nothing to retire or confirm.
		emptySlot := "/admin/apps/" + app.ClientID + "/secrets/alternative/retire"
		if r := admin.get(emptySlot); r.Status == http.StatusOK || strings.Contains(r.Body, `data-testid="confirm"`) {
			t.Errorf("PRODUCT BUG: GET %s without an alternative secret shows a confirmation (status %d: %q) although the POST "+
				"answers 404; secretRetireConfirm (internal/web/secrets.go) does not check that the slot holds a secret, and "+
				"its \"only secret\" sentence counts the primary", emptySlot, r.Status, lcText(lcImpactRE.FindString(r.Body)))
		}

		csrf := csrfRE.FindStringSubmatch(lcAppPage(t, admin, app.ClientID))[1]
		if r := admin.postForm("/admin/apps/"+app.ClientID+"/secrets/alternative", url.Values{"_csrf": {csrf}}); r.Status != http.StatusSeeOther {
			t.Fatalf("add alternative: %d", r.Status)
		}
		alt := lcNewSecret(t, admin, app.ClientID, "alternative")
		if r := admin.postForm("/admin/apps/"+app.ClientID+"/secrets/alternative", url.Values{"_csrf": {csrf}}); r.Status != http.StatusConflict {
			t.Errorf("adding a second alternative: %d, want 409", r.Status)
		}
		pc2 := lcPairOf(t, e.refresh(t, alt, pc.Refresh)) // carol's client tries the new secret

		path := "/admin/apps/" + app.ClientID + "/secrets/alternative/retire"
		if page := admin.get(path).Body; strings.Contains(page, "becomes the primary") {
			t.Error("retiring the alternative claims that something becomes the primary")
		}
		lcConfirmAndPost(t, admin, path, "/admin/apps/"+app.ClientID,
			"1 active authorization still refreshes with this secret and will have to authorize again.")

		lcWantAPI(t, e.ts, pc2.Access, http.StatusUnauthorized, "carol's token minted with the retired alternative")
		wantTokenError(t, e.refresh(t, alt, pc2.Refresh), http.StatusUnauthorized, "unauthorized_client", "Client failed validation")
		lcWantAPI(t, e.ts, pb.Access, http.StatusOK, "bob's token of the primary")
		lcPairOf(t, e.refresh(t, app.Secret, pb.Refresh))
		if got := lcSlots(lcAppPage(t, admin, app.ClientID)); !slices.Equal(got, []string{"primary"}) {
			t.Errorf("after the rollback, secret rows %q, want the primary only", got)
		}
	})
}

// TestLifecycleRevoke: every way of revoking — the user on the profile
// page, an admin (one authorization, all of an app, all of a user), the
// CLI on the server's database file, the Token Administration API — kills
// exactly the affected tokens on the very next request.
func TestLifecycleRevoke(t *testing.T) {
	e := lcNewEnv(t)
	adminToken := e.adminToken(t)

	// Each case gets two users and two apps: u1 and u2 authorize app1, u1
	// authorizes app2.
	type fixture struct {
		u1, u2        lcUser
		app1, app2    registeredApp
		p11, p21, p12 lcPair
	}
	cases := []struct {
		name  string
		dies  []string // of p11, p21, p12
		actor string   // of the authorization.revoke events
		// revoke revokes and returns how many authorizations the surface
		// said it revoked (-1 when it does not say).
		revoke func(t *testing.T, f *fixture) int
	}{
		{name: "user on the profile page", dies: []string{"p11"}, revoke: func(t *testing.T, f *fixture) int {
			a := f.u1.a
			page := a.get("/profile/authorizations")
			for _, want := range []string{`data-authorization-id="` + f.p11.AuthzID + `"`, `data-authorization-id="` + f.p12.AuthzID + `"`,
				lcAppName, "Fabrikam, Inc.", "Work items (read)", "<code>vso.work</code>"} {
				if !strings.Contains(page.Body, want) {
					t.Errorf("/profile/authorizations lacks %q", want)
				}
			}
			// Someone else's authorization cannot be revoked from here.
			other := "/profile/authorizations/" + f.p21.AuthzID + "/revoke"
			if r := a.get(other); r.Status != http.StatusNotFound {
				t.Errorf("GET %s (someone else's): %d, want 404", other, r.Status)
			}
			if r := a.postForm(other, url.Values{"_csrf": {csrfRE.FindStringSubmatch(page.Body)[1]}}); r.Status != http.StatusNotFound {
				t.Errorf("POST %s (someone else's): %d, want 404", other, r.Status)
			}
			lcWantAPI(t, e.ts, f.p21.Access, http.StatusOK, "u2's token after u1 tried to revoke it")
			lcConfirmAndPost(t, a, "/profile/authorizations/"+f.p11.AuthzID+"/revoke", "/profile/authorizations")
			after := a.get("/profile/authorizations").Body
			if strings.Contains(after, f.p11.AuthzID) || !strings.Contains(after, f.p12.AuthzID) {
				t.Error("after revoking, /profile/authorizations still lists the revoked authorization or lost the other one")
			}
			if m := lcFlashRE.FindStringSubmatch(after); m == nil || lcText(m[1]) != lcAppName+" can no longer access your account." {
				t.Errorf("flash after revoking: %v", m)
			}
			return -1
		}},
		{name: "admin, one authorization", dies: []string{"p11"}, actor: "root", revoke: func(t *testing.T, f *fixture) int {
			lcConfirmAndPost(t, e.admin.lcFor(t), "/admin/authorizations/"+f.p11.AuthzID+"/revoke", "/admin/apps/"+f.app1.ClientID,
				"1 active authorization of 1 user will be revoked.", "1 live refresh token stops working")
			return -1
		}},
		{name: "admin, every authorization of an app", dies: []string{"p11", "p21"}, actor: "root", revoke: func(t *testing.T, f *fixture) int {
			admin := e.admin.lcFor(t)
			lcConfirmAndPost(t, admin, "/admin/apps/"+f.app1.ClientID+"/revoke", "/admin/apps/"+f.app1.ClientID,
				"2 active authorizations of 2 users will be revoked.", "2 live refresh tokens stop working")
			if got := lcFlash(t, admin, "/admin/apps/"+f.app1.ClientID); got != "2 authorizations were revoked." {
				t.Errorf("flash: %q", got)
			}
			return -1
		}},
		{name: "admin, every authorization of a user", dies: []string{"p11", "p12"}, actor: "root", revoke: func(t *testing.T, f *fixture) int {
			admin := e.admin.lcFor(t)
			lcConfirmAndPost(t, admin, "/admin/users/"+f.u1.ID+"/revoke", "/admin/users",
				"2 active authorizations of 1 user will be revoked.", "2 live refresh tokens stop working")
			if got := lcFlash(t, admin, "/admin/users"); got != "2 authorizations of "+f.u1.Username+" revoked." {
				t.Errorf("flash: %q", got)
			}
			return -1
		}},
		{name: "CLI --id", dies: []string{"p11"}, actor: "cli", revoke: func(t *testing.T, f *fixture) int {
			return lcRevokeCLI(t, e, "--id", f.p11.AuthzID)
		}},
		{name: "CLI --user --client-id", dies: []string{"p11"}, actor: "cli", revoke: func(t *testing.T, f *fixture) int {
			return lcRevokeCLI(t, e, "--user", f.u1.Username, "--client-id", f.app1.ClientID)
		}},
		{name: "CLI --client-id", dies: []string{"p11", "p21"}, actor: "cli", revoke: func(t *testing.T, f *fixture) int {
			return lcRevokeCLI(t, e, "--client-id", f.app1.ClientID)
		}},
		{name: "CLI --user", dies: []string{"p11", "p12"}, actor: "cli", revoke: func(t *testing.T, f *fixture) int {
			return lcRevokeCLI(t, e, "--user", f.u1.Username)
		}},
		{name: "API authorizationId", dies: []string{"p11"}, actor: "root", revoke: func(t *testing.T, f *fixture) int {
			return lcRevokeAPI(t, e, adminToken, map[string]string{"authorizationId": f.p11.AuthzID})
		}},
		{name: "API userId and clientId", dies: []string{"p11"}, actor: "root", revoke: func(t *testing.T, f *fixture) int {
			return lcRevokeAPI(t, e, adminToken, map[string]string{"userId": f.u1.ID, "clientId": f.app1.ClientID})
		}},
		{name: "API clientId", dies: []string{"p11", "p21"}, actor: "root", revoke: func(t *testing.T, f *fixture) int {
			return lcRevokeAPI(t, e, adminToken, map[string]string{"clientId": f.app1.ClientID})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			admin := e.admin.lcFor(t)
			f := &fixture{u1: e.member(t, "u"), u2: e.member(t, "v")}
			f.app1 = registerThroughDashboard(t, admin, lcScope)
			f.app2 = registerThroughDashboard(t, admin, lcScope)
			f.p11 = e.pair(t, f.u1.a, f.app1, f.app1.Secret)
			f.p21 = e.pair(t, f.u2.a, f.app1, f.app1.Secret)
			f.p12 = e.pair(t, f.u1.a, f.app2, f.app2.Secret)
			pairs := map[string]*lcPair{"p11": &f.p11, "p21": &f.p21, "p12": &f.p12}
			secrets := map[string]string{"p11": f.app1.Secret, "p21": f.app1.Secret, "p12": f.app2.Secret}
			if c.actor == "" {
				c.actor = f.u1.Username
			}

			pending := approve(t, f.u1.a, f.app1, lcScope, "pending") // a code of u1's authorization of app1, not yet exchanged

			n := c.revoke(t, f)
			if n >= 0 && n != len(c.dies) {
				t.Errorf("revoked %d authorization(s), want %d", n, len(c.dies))
			}
			for _, name := range slices.Sorted(maps.Keys(pairs)) {
				p := pairs[name]
				if slices.Contains(c.dies, name) {
					e.lcWantRevoked(t, *p, secrets[name], name)
					lcWantEvent(t, admin, "action=authorization.revoke&target_id="+p.AuthzID, c.actor)
				} else {
					lcWantAPI(t, e.ts, p.Access, http.StatusOK, name+" (not affected)")
					lcPairOf(t, e.refresh(t, secrets[name], p.Refresh))
				}
			}
			// A code issued before the revocation mints nothing.
			wantTokenError(t, e.exchange(t, f.app1.Secret, pending), http.StatusBadRequest, "invalid_grant", "No authorization grant was found")
			// The revoked user can authorize again: a new authorization.
			again := e.pair(t, f.u1.a, f.app1, f.app1.Secret)
			if again.AuthzID == f.p11.AuthzID {
				t.Error("authorizing again reused the revoked authorization")
			}
		})
	}

	t.Run("token administration API lists and pages", func(t *testing.T) {
		admin := e.admin.lcFor(t)
		u1, u2 := e.member(t, "list"), e.member(t, "list")
		app := registerThroughDashboard(t, admin, lcScope, "vso.code")
		p1 := e.pair(t, u1.a, app, app.Secret)
		p2 := e.pair(t, u2.a, app, app.Secret)
		code := approve(t, u2.a, app, "vso.code", "code")
		lcPairOf(t, e.exchange(t, app.Secret, code)) // widens u2's authorization to vso.code

		list := func(query string) (int, map[string]any, []map[string]any) {
			status, body := lcAPI(t, e.ts, http.MethodGet, "/_apis/tokenadmin/authorizations?"+query, adminToken, nil)
			var out []map[string]any
			vals, _ := body["value"].([]any)
			for _, v := range vals {
				m, _ := v.(map[string]any)
				out = append(out, m)
			}
			return status, body, out
		}
		status, body, all := list("clientId=" + app.ClientID)
		if status != http.StatusOK || len(all) != 2 || body["count"] != float64(2) {
			t.Fatalf("list by clientId: %d %v", status, body)
		}
		ids := []string{}
		for _, a := range all {
			ids = append(ids, a["authorizationId"].(string))
			if a["clientId"] != app.ClientID || a["isValid"] != true || a["redirectUri"] != callbackURL || a["appName"] != lcAppName {
				t.Errorf("listed authorization %v", a)
			}
		}
		if !slices.Contains(ids, p1.AuthzID) || !slices.Contains(ids, p2.AuthzID) {
			t.Errorf("listed %q, want %s and %s", ids, p1.AuthzID, p2.AuthzID)
		}
		if _, _, got := list("clientId=" + app.ClientID + "&userId=" + u1.ID); len(got) != 1 || got[0]["authorizationId"] != p1.AuthzID || got[0]["username"] != u1.Username {
			t.Errorf("list by user and app: %v", got)
		}
		if _, _, got := list("clientId=" + app.ClientID + "&scope=vso.code"); len(got) != 1 || got[0]["authorizationId"] != p2.AuthzID {
			t.Errorf("list by scope vso.code: %v, want u2's authorization only", got)
		}
		// Paging: $top=1, then the continuation token.
		status, first, page1 := list("clientId=" + app.ClientID + "&$top=1")
		token, _ := first["continuationToken"].(string)
		if status != http.StatusOK || len(page1) != 1 || token == "" {
			t.Fatalf("first page: %d %v", status, first)
		}
		_, second, page2 := list("clientId=" + app.ClientID + "&$top=1&continuationToken=" + url.QueryEscape(token))
		if len(page2) != 1 || page2[0]["authorizationId"] == page1[0]["authorizationId"] || second["continuationToken"] != nil {
			t.Errorf("second page: %v (first was %v)", second, first)
		}
		if status, _, _ := list("$top=0"); status != http.StatusBadRequest {
			t.Errorf("$top=0: %d, want 400", status)
		}
		// A revoked authorization is listed as not valid.
		lcRevokeAPI(t, e, adminToken, map[string]string{"authorizationId": p1.AuthzID})
		_, _, got := list("userId=" + u1.ID)
		if len(got) != 1 || got[0]["isValid"] != false || got[0]["revokedAt"] == nil {
			t.Errorf("revoked authorization listed as %v", got)
		}
		if _, _, active := list("userId=" + u1.ID + "&activeOnly=true"); len(active) != 0 {
			t.Errorf("activeOnly lists %v", active)
		}
		// Revoking it again revokes nothing.
		if n := lcRevokeAPI(t, e, adminToken, map[string]string{"authorizationId": p1.AuthzID}); n != 0 {
			t.Errorf("revoking a revoked authorization: revoked %d", n)
		}

		// Only an admin's token with vso.tokenadministration may call it.
		if status, body := lcAPI(t, e.ts, http.MethodGet, "/_apis/tokenadmin/authorizations", p2.Access, nil); status != http.StatusForbidden {
			t.Errorf("list with a vso.work token: %d %v, want 403", status, body)
		}
		member := registerThroughDashboard(t, admin, "vso.tokenadministration")
		mcode := approve(t, u2.a, member, "vso.tokenadministration", "m")
		mtok := lcPairOf(t, e.exchange(t, member.Secret, mcode)).Access
		if status, body := lcAPI(t, e.ts, http.MethodPost, "/_apis/tokenadmin/revocations", mtok, map[string]string{"authorizationId": p2.AuthzID}); status != http.StatusForbidden {
			t.Errorf("revocation by a member with vso.tokenadministration: %d %v, want 403", status, body)
		}
		lcWantAPI(t, e.ts, p2.Access, http.StatusOK, "after a member's refused revocation")
		if status, body := lcAPI(t, e.ts, http.MethodPost, "/_apis/tokenadmin/revocations", adminToken, map[string]string{}); status != http.StatusBadRequest {
			t.Errorf("revocation with an empty body: %d %v, want 400", status, body)
		}
		lcWantAPI(t, e.ts, p2.Access, http.StatusOK, "after a refused empty revocation")
	})

	t.Run("CLI authz list", func(t *testing.T) {
		admin := e.admin.lcFor(t)
		u := e.member(t, "clilist")
		app := registerThroughDashboard(t, admin, lcScope)
		p := e.pair(t, u.a, app, app.Secret)
		r := mustSucceed(t, e.cli(t, "authz", "list", "--user", u.Username, "--json"))
		var rows []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 {
			t.Fatalf("authz list --json: %v\n%s", err, r)
		}
		if rows[0]["id"] != p.AuthzID || rows[0]["user"] != u.Username || rows[0]["client_id"] != app.ClientID || rows[0]["active"] != true ||
			rows[0]["state"] != domain.AuthActive {
			t.Errorf("authz list row %v", rows[0])
		}
		r = mustSucceed(t, e.cli(t, "authz", "list", "--client-id", app.ClientID))
		if !strings.Contains(r.stdout, p.AuthzID) || !strings.Contains(r.stdout, u.Username) || !strings.HasSuffix(strings.TrimSpace(r.stdout), " active") {
			t.Errorf("authz list --client-id\n%s", r)
		}
		// Bad input: exit 2, nothing revoked.
		for _, args := range [][]string{
			{"authz", "revoke"},
			{"authz", "revoke", "--id", p.AuthzID, "--user", u.Username},
			{"authz", "revoke", "--user", "nobody"},
		} {
			if r := e.cli(t, args...); r.code != 2 || !strings.HasPrefix(r.stderr, "oauthdesk: ") {
				t.Errorf("want exit 2 and one error line\n%s", r)
			}
		}
		lcWantAPI(t, e.ts, p.Access, http.StatusOK, "after refused CLI revocations")
		// A regenerated secret kills the user's tokens: the consent stands
		// and the list says it needs re-authorization, not "active".
		lcConfirmAndPost(t, admin, "/admin/apps/"+app.ClientID+"/secrets/primary/regenerate", "/admin/apps/"+app.ClientID)
		r = mustSucceed(t, e.cli(t, "authz", "list", "--client-id", app.ClientID))
		if !strings.HasSuffix(strings.TrimSpace(r.stdout), " needs re-authorization") {
			t.Errorf("authz list --client-id after the secret's regeneration, want needs re-authorization\n%s", r)
		}
		r = mustSucceed(t, e.cli(t, "authz", "list", "--user", u.Username, "--json"))
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 || rows[0]["state"] != domain.AuthNeedsReauthorization {
			t.Errorf("authz list --json after the regeneration: %v %v, want state %s", err, rows, domain.AuthNeedsReauthorization)
		}
	})
}

// crossProcessBound is the documented bound (README, "How revocation
// reaches the Bearer check") within which a change committed by another
// process — the CLI — is seen by the server. A test checks the aftermath
// of a CLI change once this much time has passed.
const crossProcessBound = time.Second

// waitOtherProcess waits out crossProcessBound: the one wait of every
// test that checks the aftermath of another process's change.
func waitOtherProcess() { time.Sleep(crossProcessBound) }

func lcRevokeCLI(t *testing.T, e *lcEnv, args ...string) int {
	t.Helper()
	r := mustSucceed(t, e.cli(t, append(append([]string{"authz", "revoke"}, args...), "--json")...))
	waitOtherProcess()
	var out map[string]int
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 {
		t.Fatalf("authz revoke --json: want {\"revoked\": n}: %v\n%s", err, r)
	}
	return out["revoked"]
}

func lcRevokeAPI(t *testing.T, e *lcEnv, token string, body map[string]string) int {
	t.Helper()
	status, out := lcAPI(t, e.ts, http.MethodPost, "/_apis/tokenadmin/revocations", token, body)
	n, ok := out["revoked"].(float64)
	if status != http.StatusOK || !ok {
		t.Fatalf("POST /_apis/tokenadmin/revocations %v: %d %v", body, status, out)
	}
	return int(n)
}

// TestLifecycleRefreshReuse: presenting an already rotated refresh token
// revokes the whole authorization, every chain of it.
//
// The grace window is off here, so that the first replay is reuse (the
// window itself is tested in refresh_grace_test.go).
func TestLifecycleRefreshReuse(t *testing.T) {
	e := lcNewEnvWith(t, graceOff)
	bob, carol := e.member(t, "bob"), e.member(t, "carol")
	app := registerThroughDashboard(t, e.admin, lcScope)

	a := e.pair(t, bob.a, app, app.Secret) // chain A
	b := e.pair(t, bob.a, app, app.Secret) // chain B, same authorization
	if a.AuthzID != b.AuthzID || a.FamilyID == b.FamilyID {
		t.Fatalf("two consents of bob: authorizations %s, %s, chains %s, %s; want one authorization with two chains",
			a.AuthzID, b.AuthzID, a.FamilyID, b.FamilyID)
	}
	c := e.pair(t, carol.a, app, app.Secret)

	a2 := lcPairOf(t, e.refresh(t, app.Secret, a.Refresh))
	lcWantAPI(t, e.ts, a2.Access, http.StatusOK, "chain A after one refresh")

	// The stolen, already rotated refresh token is presented again.
	wantTokenError(t, e.refresh(t, app.Secret, a.Refresh), http.StatusBadRequest, "invalid_request", "The access token has already been refreshed")

	e.lcWantRevoked(t, a2, app.Secret, "chain A (reused)")
	e.lcWantRevoked(t, b, app.Secret, "chain B (same authorization)")
	lcWantAPI(t, e.ts, a.Access, http.StatusUnauthorized, "chain A's first access token")
	// Presenting it a third time changes nothing more.
	wantTokenError(t, e.refresh(t, app.Secret, a.Refresh), http.StatusBadRequest, "invalid_grant", "No authorization grant was found")

	// Carol's authorization of the same app is not touched.
	lcWantAPI(t, e.ts, c.Access, http.StatusOK, "carol's token")
	lcPairOf(t, e.refresh(t, app.Secret, c.Refresh))

	row := lcWantEvent(t, e.admin, "action=authorization.revoke&target_id="+a.AuthzID, "system")
	if !strings.Contains(row.Details, "refresh token reuse") {
		t.Errorf("the reuse revocation event does not give the reason: %+v", row)
	}
	if p := bob.a.get("/profile/authorizations").Body; strings.Contains(p, a.AuthzID) {
		t.Error("bob's profile still lists the authorization revoked for refresh-token reuse")
	}
	// Bob can authorize again.
	again := e.pair(t, bob.a, app, app.Secret)
	if again.AuthzID == a.AuthzID {
		t.Error("authorizing again reused the revoked authorization")
	}
}

// TestLifecycleDelete: deleting an app needs its name typed; afterwards no
// token of it is accepted, none is minted, and /oauth2/authorize shows a
// 400 page. The record stays, marked deleted.
func TestLifecycleDelete(t *testing.T) {
	e := lcNewEnv(t)
	cases := []struct {
		name   string
		actor  string
		delete func(t *testing.T, app registeredApp, live []lcPair)
	}{
		{name: "dashboard", actor: "root", delete: func(t *testing.T, app registeredApp, live []lcPair) {
			admin := e.admin.lcFor(t)
			path := "/admin/apps/" + app.ClientID + "/delete"
			csrf := lcConfirm(t, admin, path, "2 active authorizations of 2 users will be revoked.", "2 live refresh tokens stop working")
			page := admin.get(path).Body
			if !strings.Contains(page, `data-testid="confirm-input"`) || !strings.Contains(lcText(page), "Type "+lcAppName+" to confirm") {
				t.Error("the delete confirmation does not ask to type the app name")
			}
			for _, wrong := range []string{"", "fabrikam boards", lcAppName + " ", "Fabrikam"} {
				r := admin.postForm(path, url.Values{"_csrf": {csrf}, "confirm": {wrong}})
				if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="confirm-error"`) {
					t.Errorf("confirm %q: status %d, want 422 with the error shown", wrong, r.Status)
				}
				for i, p := range live {
					lcWantAPI(t, e.ts, p.Access, http.StatusOK, fmt.Sprintf("token %d after a wrong confirmation %q", i, wrong))
				}
			}
			if r := admin.get("/admin/apps"); !strings.Contains(r.Body, `data-client-id="`+app.ClientID+`"`) {
				t.Error("after wrong confirmations the app is no longer listed")
			}
			if rows, _, _ := lcAudit(t, admin, "action=app.delete&target_id="+app.ClientID); len(rows) != 0 {
				t.Errorf("a refused deletion was audited: %+v", rows)
			}
			r := admin.postForm(path, url.Values{"_csrf": {csrf}, "confirm": {lcAppName}})
			if r.Status != http.StatusSeeOther || r.Location() != "/admin/apps" {
				t.Fatalf("delete: status %d, location %q\n%.500s", r.Status, r.Location(), r.Body)
			}
			if got := lcFlash(t, admin, "/admin/apps"); got != lcAppName+" was deleted; 2 authorizations were revoked." {
				t.Errorf("flash after deletion: %q", got)
			}
			if r := admin.postForm(path, url.Values{"_csrf": {csrf}, "confirm": {lcAppName}}); r.Status == http.StatusSeeOther || r.Status < 400 {
				t.Errorf("deleting again: status %d, want an error", r.Status)
			}
		}},
		{name: "CLI", actor: "cli", delete: func(t *testing.T, app registeredApp, live []lcPair) {
			if r := e.cli(t, "app", "delete", app.ClientID); r.code != 2 || !strings.Contains(r.stderr, "--yes") {
				t.Errorf("app delete without --yes: want exit 2 mentioning --yes\n%s", r)
			}
			for i, p := range live {
				lcWantAPI(t, e.ts, p.Access, http.StatusOK, fmt.Sprintf("token %d after a refused CLI deletion", i))
			}
			r := mustSucceed(t, e.cli(t, "app", "delete", app.ClientID, "--yes"))
			if !strings.Contains(r.stdout, "2 authorization(s) revoked") {
				t.Errorf("app delete output\n%s", r)
			}
			if r := e.cli(t, "app", "delete", app.ClientID, "--yes"); r.code == 0 {
				t.Errorf("deleting again succeeded\n%s", r)
			}
			waitOtherProcess() // the server sees the CLI's commit within it
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			admin := e.admin.lcFor(t)
			bob, carol := e.member(t, "bob"), e.member(t, "carol")
			app := registerThroughDashboard(t, admin, lcScope)
			other := registerThroughDashboard(t, admin, lcScope)
			pb := e.pair(t, bob.a, app, app.Secret)
			pc := e.pair(t, carol.a, app, app.Secret)
			po := e.pair(t, bob.a, other, other.Secret)
			pending := approve(t, bob.a, app, lcScope, "pending") // a code not yet exchanged

			c.delete(t, app, []lcPair{pb, pc})

			for name, p := range map[string]lcPair{"bob": pb, "carol": pc} {
				lcWantAPI(t, e.ts, p.Access, http.StatusUnauthorized, name+"'s token of the deleted app")
				wantTokenError(t, e.refresh(t, app.Secret, p.Refresh), http.StatusUnauthorized, "invalid_client", "The client is not valid")
			}
			wantTokenError(t, e.exchange(t, app.Secret, pending), http.StatusUnauthorized, "invalid_client", "The client is not valid")
			lcWantAPI(t, e.ts, po.Access, http.StatusOK, "bob's token of another app")

			authPath := authorizeURL(app.ClientID, lcScope, "after-delete", callbackURL)
			for who, a := range map[string]*agent{"signed-in user": bob.a, "visitor": e.ts.newAgent(t)} {
				r := a.get(authPath)
				if r.Status != http.StatusBadRequest || r.Location() != "" || !strings.Contains(r.Body, `data-testid="error-message"`) ||
					!strings.Contains(r.Header.Get("Content-Type"), "text/html") {
					t.Errorf("/oauth2/authorize of the deleted app for a %s: status %d, location %q; want an HTML 400 page", who, r.Status, r.Location())
				}
			}

			// Hidden from the list, kept (and marked) on its own page.
			if r := admin.get("/admin/apps"); strings.Contains(r.Body, `data-client-id="`+app.ClientID+`"`) ||
				!strings.Contains(r.Body, `data-client-id="`+other.ClientID+`"`) {
				t.Error("/admin/apps still lists the deleted app (or lost the other one)")
			}
			page := lcAppPage(t, admin, app.ClientID)
			if !strings.Contains(page, `data-testid="app-deleted"`) || strings.Contains(page, `data-testid="delete-app"`) ||
				strings.Contains(page, `data-testid="regenerate-primary"`) || strings.Contains(page, `data-testid="add-alternative"`) {
				t.Error("the deleted app's page does not show it as deleted, or still offers actions")
			}
			// Never resurrected: no new secret for it, from any surface.
			r := admin.postForm("/admin/apps/"+app.ClientID+"/secrets/primary/regenerate", url.Values{"_csrf": {csrfRE.FindStringSubmatch(page)[1]}})
			if r.Status != http.StatusNotFound {
				t.Errorf("regenerating a secret of the deleted app: status %d, want 404", r.Status)
			}
			if r := e.cli(t, "app", "rotate-secret", app.ClientID, "--json"); r.code == 0 || strings.Contains(r.stdout, "odcs_") {
				t.Errorf("rotate-secret of the deleted app succeeded\n%s", r)
			}
			if r := admin.get(authPath); r.Status != http.StatusBadRequest {
				t.Errorf("after trying to revive it, /oauth2/authorize answers %d", r.Status)
			}
			// Nothing can be done to a deleted app, so nothing is offered
			// for confirmation (the POSTs answer 404).
			var offered []string
			for _, action := range []string{"delete", "secrets/primary/regenerate", "secrets/primary/retire"} {
				path := "/admin/apps/" + app.ClientID + "/" + action
				if r := admin.get(path); r.Status == http.StatusOK || strings.Contains(r.Body, `data-testid="confirm"`) {
					offered = append(offered, fmt.Sprintf("%s (%d, %q)", action, r.Status, lcText(regexp.MustCompile(`<h1>(.*?)</h1>`).FindString(r.Body))))
				}
			}
			if len(offered) > 0 {
				t.Errorf("PRODUCT BUG: the deleted app's confirmation pages are still offered for actions their POSTs refuse with 404: %s; "+
					"the GET confirm handlers use appFor (internal/web/apps.go), which returns deleted apps", strings.Join(offered, "; "))
			}
			row := lcWantEvent(t, admin, "action=app.delete&target_id="+app.ClientID, c.actor)
			if !strings.Contains(row.Details, `"revoked_authorizations":2`) {
				t.Errorf("app.delete event details %s, want revoked_authorizations 2", row.Details)
			}
			if rows, _, _ := lcAudit(t, admin, "action=app.delete&target_id="+app.ClientID); len(rows) != 1 {
				t.Errorf("%d app.delete events, want 1", len(rows))
			}
		})
	}
}

// lcWantPolicyRefusal checks the TF400813 answer of an API call refused by
// the policy.
func lcWantPolicyRefusal(t *testing.T, status int, body map[string]any, userID, what string) {
	t.Helper()
	want := map[string]any{
		"$id": "1", "innerException": nil,
		"message":  "TF400813: The user '" + userID + "' is not authorized to access this resource.",
		"typeName": "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server",
		"typeKey":  "UnauthorizedRequestException", "errorCode": float64(0), "eventId": float64(3000),
	}
	if status != http.StatusUnauthorized {
		t.Errorf("%s: status %d, want 401", what, status)
	}
	for k, v := range want {
		if got, ok := body[k]; !ok || got != v {
			t.Errorf("%s: body[%q] = %#v, want %#v", what, k, got, v)
		}
	}
}

// TestLifecyclePolicy: with "Third-party application access via OAuth"
// off, every /_apis/ call answers 401 TF400813 while authorize and token
// still work; on again, the same access token works.
func TestLifecyclePolicy(t *testing.T) {
	e := lcNewEnv(t)
	adminToken := e.adminToken(t)
	cases := []struct {
		name  string
		actor string
		set   func(t *testing.T, on bool)
	}{
		{name: "dashboard", actor: "root", set: func(t *testing.T, on bool) {
			admin := e.admin.lcFor(t)
			v := map[bool]string{true: "on", false: "off"}[on]
			r := admin.postForm("/admin/settings/third-party-oauth", url.Values{"_csrf": {admin.csrf("/admin/settings")}, "value": {v}})
			if r.Status != http.StatusSeeOther || r.Location() != "/admin/settings" {
				t.Fatalf("set policy %s: status %d, location %q", v, r.Status, r.Location())
			}
		}},
		{name: "CLI", actor: "cli", set: func(t *testing.T, on bool) {
			v := map[bool]string{true: "on", false: "off"}[on]
			r := mustSucceed(t, e.cli(t, "policy", "set", "third-party-oauth", v))
			if !strings.Contains(r.stdout, "now "+v) {
				t.Errorf("policy set output\n%s", r)
			}
			waitOtherProcess()
		}},
	}
	adminPages := func(app registeredApp) []string {
		return []string{"/admin/apps", "/admin/apps/" + app.ClientID, "/admin/users", "/admin/settings", "/admin/audit"}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			admin := e.admin.lcFor(t)
			bob := e.member(t, "bob")
			app := registerThroughDashboard(t, admin, lcScope)
			p := e.pair(t, bob.a, app, app.Secret)
			for _, path := range adminPages(app) {
				if strings.Contains(admin.get(path).Body, `data-testid="policy-off-banner"`) {
					t.Errorf("%s shows the policy-off banner while the policy is on", path)
				}
			}

			c.set(t, false)

			status, _, body := callAPI(t, e.ts.URL, profilePath, p.Access)
			lcWantPolicyRefusal(t, status, body, bob.ID, "profile API")
			status, body = lcAPI(t, e.ts, http.MethodGet, "/_apis/tokenadmin/authorizations", adminToken, nil)
			lcWantPolicyRefusal(t, status, body, e.root.ID, "token administration API")
			status, body = lcAPI(t, e.ts, http.MethodPut, "/_apis/delegatedauth/registrationsecret/"+app.ClientID+"?secretType=primary", adminToken, nil)
			lcWantPolicyRefusal(t, status, body, e.root.ID, "registration secret API")
			status, body = lcAPI(t, e.ts, http.MethodPost, "/_apis/tokenadmin/revocations", adminToken, map[string]string{"authorizationId": p.AuthzID})
			lcWantPolicyRefusal(t, status, body, e.root.ID, "revocation API")

			// Authorize and token still work.
			code := approve(t, bob.a, app, lcScope, "policy-off")
			fresh := lcPairOf(t, e.exchange(t, app.Secret, code))
			status, _, body = callAPI(t, e.ts.URL, profilePath, fresh.Access)
			lcWantPolicyRefusal(t, status, body, bob.ID, "a token minted while the policy is off")
			refreshed := lcPairOf(t, e.refresh(t, app.Secret, fresh.Refresh))

			for _, path := range adminPages(app) {
				if r := admin.get(path); r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="policy-off-banner"`) {
					t.Errorf("%s (status %d) does not show the policy-off banner", path, r.Status)
				}
			}
			if v, _ := lcTestID(admin.get("/admin/settings").Body, "policy-state"); !strings.Contains(v, "off") {
				t.Errorf("settings page policy state %q", v)
			}

			c.set(t, true)

			// The same access token works again.
			lcWantAPI(t, e.ts, p.Access, http.StatusOK, "the first token, policy on again")
			lcWantAPI(t, e.ts, refreshed.Access, http.StatusOK, "the token refreshed while the policy was off")
			if status, body := lcAPI(t, e.ts, http.MethodGet, "/_apis/tokenadmin/authorizations?clientId="+app.ClientID, adminToken, nil); status != http.StatusOK {
				t.Errorf("token administration API, policy on again: %d %v", status, body)
			}
			for _, path := range adminPages(app) {
				if strings.Contains(admin.get(path).Body, `data-testid="policy-off-banner"`) {
					t.Errorf("%s still shows the policy-off banner", path)
				}
			}
			rows, _, _ := lcAudit(t, admin, "action=policy.set&actor="+c.actor)
			if len(rows) < 2 || !strings.Contains(rows[0].Details, `"after":"on"`) || !strings.Contains(rows[0].Details, `"before":"off"`) ||
				!strings.Contains(rows[1].Details, `"after":"off"`) || rows[0].TargetID != "third_party_oauth" {
				t.Errorf("policy.set events by %s: %+v", c.actor, rows)
			}
		})
	}

	t.Run("a revoked token is still refused with invalid_token while the policy is off", func(t *testing.T) {
		bob := e.member(t, "bob")
		app := registerThroughDashboard(t, e.admin.lcFor(t), lcScope)
		p := e.pair(t, bob.a, app, app.Secret)
		mustSucceed(t, e.cli(t, "policy", "set", "third-party-oauth", "off"))
		mustSucceed(t, e.cli(t, "authz", "revoke", "--id", p.AuthzID))
		mustSucceed(t, e.cli(t, "policy", "set", "third-party-oauth", "on"))
		waitOtherProcess()
		lcWantAPI(t, e.ts, p.Access, http.StatusUnauthorized, "revoked while the policy was off")
	})
}

// TestLifecycleCLIBadInput: the lifecycle commands refuse bad input with
// exit 2 and one line on stderr, and change nothing (no audit event, no
// token stops working).
func TestLifecycleCLIBadInput(t *testing.T) {
	e := lcNewEnv(t)
	bob := e.member(t, "bob")
	app := registerThroughDashboard(t, e.admin, lcScope)
	p := e.pair(t, bob.a, app, app.Secret)
	newest := func() int64 {
		rows, _, _ := lcAudit(t, e.admin, "")
		return rows[0].Seq
	}
	before := newest()
	cases := []struct {
		name  string
		args  []string
		words []string
	}{
		{"rotate-secret bad slot", []string{"app", "rotate-secret", app.ClientID, "--slot", "tertiary"}, []string{"primary or alternative"}},
		{"rotate-secret unknown app", []string{"app", "rotate-secret", "00001111-aaaa-2222-bbbb-3333cccc4444"}, nil},
		{"rotate-secret no client id", []string{"app", "rotate-secret"}, nil},
		{"retire-secret without --slot", []string{"app", "retire-secret", app.ClientID}, []string{"--slot"}},
		{"retire-secret empty slot", []string{"app", "retire-secret", app.ClientID, "--slot", "alternative"}, []string{"alternative"}},
		{"delete without --yes", []string{"app", "delete", app.ClientID}, []string{"--yes"}},
		{"delete unknown app", []string{"app", "delete", "00001111-aaaa-2222-bbbb-3333cccc4444", "--yes"}, nil},
		{"authz revoke unknown id", []string{"authz", "revoke", "--id", "00001111-aaaa-2222-bbbb-3333cccc4444"}, nil},
		{"authz revoke --id and --client-id", []string{"authz", "revoke", "--id", p.AuthzID, "--client-id", app.ClientID}, nil},
		{"policy bad value", []string{"policy", "set", "third-party-oauth", "maybe"}, []string{"on or off"}},
		{"policy unknown", []string{"policy", "set", "third-party-cookies", "on"}, []string{"third-party-cookies"}},
		{"audit verify extra argument", []string{"audit", "verify", "now"}, []string{"now"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.cli(t, c.args...)
			if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "oauthdesk: ") {
				t.Errorf("want exit 2, nothing on stdout and one line on stderr\n%s", r)
			}
			for _, w := range c.words {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
		})
	}
	if got := newest(); got != before {
		t.Errorf("refused commands appended audit events (newest %d, was %d)", got, before)
	}
	lcWantAPI(t, e.ts, p.Access, http.StatusOK, "after refused commands")
	lcPairOf(t, e.refresh(t, app.Secret, p.Refresh))
}

// lcExport is one event of the JSON-lines export.
type lcExport struct {
	Seq        int64           `json:"seq"`
	ID         string          `json:"id"`
	At         string          `json:"at"`
	Actor      string          `json:"actor"`
	ActorID    string          `json:"actor_id"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Details    json.RawMessage `json:"details"`
	RemoteAddr string          `json:"remote_addr"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

func (x lcExport) event(t *testing.T) audit.Event {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, x.At)
	if err != nil {
		t.Fatalf("exported at %q: %v", x.At, err)
	}
	return audit.Event{Seq: x.Seq, ID: x.ID, At: at, Actor: x.Actor, ActorID: x.ActorID, Action: x.Action, TargetType: x.TargetType,
		TargetID: x.TargetID, RawDetails: string(x.Details), RemoteAddr: x.RemoteAddr, PrevHash: x.PrevHash, Hash: x.Hash}
}

func lcParseJSONL(t *testing.T, s string) []lcExport {
	t.Helper()
	var out []lcExport
	for i, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" && i == 0 {
			break
		}
		var x lcExport
		if err := json.Unmarshal([]byte(line), &x); err != nil {
			t.Fatalf("JSONL line %d: %v\n%s", i+1, err, line)
		}
		out = append(out, x)
	}
	return out
}

// TestLifecycleAudit: the actions of the dashboard, the CLI, the REST API
// and the system are in the audit log with the right actor; /admin/audit
// filters and pages; the exports parse; `oauthdesk audit verify` passes,
// and finds an event edited, deleted or reordered in SQLite.
func TestLifecycleAudit(t *testing.T) {
	e := lcNewEnvWith(t, graceOff) // a replay is reuse at once
	admin := e.admin
	bob := e.member(t, "bob")
	start := time.Now().UTC()

	// The history: app.register (root), consent.grant and consent.deny
	// (bob), secret.regenerate (root), authorization.revoke (cli, then
	// system for a refresh-token reuse), policy.set (cli), secret.create
	// through the REST API (root).
	app := registerThroughDashboard(t, admin, lcScope)
	p := e.pair(t, bob.a, app, app.Secret)
	decide(t, bob.a, authorizeURL(app.ClientID, lcScope, "no", callbackURL), "deny")
	lcConfirmAndPost(t, admin, "/admin/apps/"+app.ClientID+"/secrets/primary/regenerate", "/admin/apps/"+app.ClientID)
	secret := lcNewSecret(t, admin, app.ClientID, "primary")
	lcWantAPI(t, e.ts, p.Access, http.StatusUnauthorized, "after regenerate")
	p = e.pair(t, bob.a, app, secret)
	if n := lcRevokeCLI(t, e, "--user", bob.Username); n != 1 {
		t.Errorf("CLI revoked %d", n)
	}
	revokedByCLI := p.AuthzID
	p = e.pair(t, bob.a, app, secret)
	lcPairOf(t, e.refresh(t, secret, p.Refresh))
	wantTokenError(t, e.refresh(t, secret, p.Refresh), http.StatusBadRequest, "invalid_request", "The access token has already been refreshed")
	reused := p.AuthzID
	mustSucceed(t, e.cli(t, "policy", "set", "third-party-oauth", "off"))
	mustSucceed(t, e.cli(t, "policy", "set", "third-party-oauth", "on"))
	adminToken := e.adminToken(t)
	status, body := lcAPI(t, e.ts, http.MethodPost, "/_apis/delegatedauth/registrationsecret/"+app.ClientID+"?secretType=alternative", adminToken, nil)
	if status != http.StatusOK {
		t.Fatalf("create alternative through the API: %d %v", status, body)
	}

	t.Run("events and actors", func(t *testing.T) {
		admin := admin.lcFor(t)
		rows, older, status := lcAudit(t, admin, "")
		if status != http.StatusOK || len(rows) == 0 || older != "" {
			t.Fatalf("/admin/audit: status %d, %d rows, older %q", status, len(rows), older)
		}
		for i := 1; i < len(rows); i++ {
			if rows[i].Seq != rows[i-1].Seq-1 {
				t.Errorf("rows not newest first without gaps: %d after %d", rows[i].Seq, rows[i-1].Seq)
			}
		}
		if rows[len(rows)-1].Seq != 1 {
			t.Errorf("oldest row is %d, want 1", rows[len(rows)-1].Seq)
		}
		want := []struct{ action, actor, targetType, targetID string }{
			{"user.add", "system", "user", bob.ID},
			{"app.register", "root", "app", app.ClientID},
			{"consent.grant", bob.Username, "authorization", revokedByCLI},
			{"consent.deny", bob.Username, "app", app.ClientID},
			{"secret.regenerate", "root", "secret", app.ClientID},
			{"authorization.revoke", "cli", "authorization", revokedByCLI},
			{"authorization.revoke", "system", "authorization", reused},
			{"policy.set", "cli", "policy", "third_party_oauth"},
			{"secret.create", "root", "secret", app.ClientID},
		}
		for _, w := range want {
			if !slices.ContainsFunc(rows, func(r lcAuditRow) bool {
				return r.Action == w.action && r.ActionAttr == w.action && r.Actor == w.actor && r.TargetType == w.targetType && r.TargetID == w.targetID
			}) {
				t.Errorf("no %s event by %s on %s %s", w.action, w.actor, w.targetType, w.targetID)
			}
		}
		for _, r := range rows {
			if r.Actor == "root" && r.RemoteAddr != "127.0.0.1" {
				t.Errorf("event %d by root from %q, want the remote address 127.0.0.1", r.Seq, r.RemoteAddr)
			}
			if r.Actor == "cli" && r.RemoteAddr != "" {
				t.Errorf("CLI event %d has a remote address %q", r.Seq, r.RemoteAddr)
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		admin := admin.lcFor(t)
		today := start.Format(time.DateOnly)
		check := func(query string, ok func(lcAuditRow) bool, min int) {
			t.Helper()
			rows, _, status := lcAudit(t, admin, query)
			if status != http.StatusOK || len(rows) < min {
				t.Errorf("?%s: status %d, %d rows, want at least %d", query, status, len(rows), min)
			}
			for _, r := range rows {
				if !ok(r) {
					t.Errorf("?%s lists %+v", query, r)
				}
			}
		}
		check("actor=cli", func(r lcAuditRow) bool { return r.Actor == "cli" }, 3)
		check("actor=system", func(r lcAuditRow) bool { return r.Actor == "system" }, 2)
		check("action=authorization.revoke", func(r lcAuditRow) bool { return r.Action == "authorization.revoke" }, 2)
		check("actor=cli&action=authorization.revoke", func(r lcAuditRow) bool { return r.Actor == "cli" && r.Action == "authorization.revoke" }, 1)
		check("target_type=secret&target_id="+app.ClientID, func(r lcAuditRow) bool { return r.TargetType == "secret" && r.TargetID == app.ClientID }, 2)
		check("target_type=authorization&target_id="+reused, func(r lcAuditRow) bool { return r.TargetID == reused }, 2)
		check("since="+today+"&until="+today, func(lcAuditRow) bool { return true }, 10)
		for _, q := range []string{
			"since=" + start.AddDate(0, 0, 1).Format(time.DateOnly),
			"until=" + start.AddDate(0, 0, -1).Format(time.DateOnly),
			"actor=nobody",
		} {
			rows, _, status := lcAudit(t, admin, q)
			if status != http.StatusOK || len(rows) != 0 || !strings.Contains(admin.get("/admin/audit?"+q).Body, `data-testid="audit-empty"`) {
				t.Errorf("?%s: status %d, %d rows; want none and the empty state", q, status, len(rows))
			}
		}
		if _, _, status := lcAudit(t, admin, "since=yesterday"); status != http.StatusBadRequest {
			t.Errorf("?since=yesterday: status %d, want 400", status)
		}
		rows, _, _ := lcAudit(t, admin, "before=5")
		if len(rows) != 4 || rows[0].Seq != 4 || rows[3].Seq != 1 {
			t.Errorf("?before=5: %+v, want events 4 to 1", rows)
		}
	})

	t.Run("exports", func(t *testing.T) {
		admin := admin.lcFor(t)
		rows, _, _ := lcAudit(t, admin, "")
		total := len(rows)

		r := admin.get("/admin/audit/export?format=csv")
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("CSV export: status %d, headers %v", r.Status, r.Header)
		}
		records, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
		if err != nil {
			t.Fatalf("CSV export does not parse: %v", err)
		}
		header := []string{"seq", "id", "at", "actor", "actor_id", "action", "target_type", "target_id", "details", "remote_addr", "prev_hash", "hash"}
		if !slices.Equal(records[0], header) || len(records) != total+1 {
			t.Fatalf("CSV export: header %q, %d rows; want %q and %d rows", records[0], len(records)-1, header, total)
		}
		for i, rec := range records[1:] {
			if rec[0] != strconv.Itoa(i+1) {
				t.Errorf("CSV row %d has seq %s, want oldest first", i+1, rec[0])
			}
			var d map[string]any
			if err := json.Unmarshal([]byte(rec[8]), &d); err != nil {
				t.Errorf("CSV row %d details %q: %v", i+1, rec[8], err)
			}
		}

		r = admin.get("/admin/audit/export?format=jsonl")
		if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("JSONL export: status %d, Content-Type %q", r.Status, r.Header.Get("Content-Type"))
		}
		web := r.Body
		events := lcParseJSONL(t, web)
		if len(events) != total {
			t.Fatalf("JSONL export: %d events, want %d", len(events), total)
		}
		v := audit.NewVerifier()
		for i, x := range events {
			v.Add(x.event(t))
			if rec := records[i+1]; rec[1] != x.ID || rec[5] != x.Action || rec[11] != x.Hash || rec[8] != string(x.Details) {
				t.Errorf("event %d differs between CSV and JSONL exports", x.Seq)
			}
		}
		if n, b := v.Result(); b != nil || n != int64(total) {
			t.Errorf("the JSONL export does not verify as a chain: %d events, break %+v", n, b)
		}
		if !slices.ContainsFunc(events, func(x lcExport) bool {
			return x.Action == "authorization.revoke" && x.Actor == "system" && strings.Contains(string(x.Details), "refresh token reuse")
		}) {
			t.Error("the JSONL export lacks the reuse revocation")
		}

		filtered := lcParseJSONL(t, admin.get("/admin/audit/export?format=jsonl&actor=cli").Body)
		if len(filtered) < 3 || slices.ContainsFunc(filtered, func(x lcExport) bool { return x.Actor != "cli" }) {
			t.Errorf("export filtered by actor=cli: %+v", filtered)
		}
		if r := admin.get("/admin/audit/export?format=xml"); r.Status != http.StatusBadRequest {
			t.Errorf("export format=xml: %d, want 400", r.Status)
		}

		// The CLI export is the same stream.
		cli := mustSucceed(t, e.cli(t, "audit", "export", "--format", "jsonl"))
		if cli.stdout != web {
			t.Errorf("`audit export --format jsonl` differs from the dashboard's export\ncli:\n%s\nweb:\n%s", cli.stdout, web)
		}
		cliCSV := mustSucceed(t, e.cli(t, "audit", "export", "--format", "csv"))
		if recs, err := csv.NewReader(strings.NewReader(cliCSV.stdout)).ReadAll(); err != nil || len(recs) != total+1 {
			t.Errorf("`audit export --format csv`: %v, %d records, want %d", err, len(recs), total+1)
		}
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if r := mustSucceed(t, e.cli(t, "audit", "export", "--format", "jsonl", "--since", future)); r.stdout != "" {
			t.Errorf("export --since %s: %q, want nothing", future, r.stdout)
		}
		mid := events[len(events)/2]
		since := lcParseJSONL(t, mustSucceed(t, e.cli(t, "audit", "export", "--format", "jsonl", "--since", mid.At)).stdout)
		if len(since) == 0 || since[0].Seq > mid.Seq || since[len(since)-1].Seq != int64(total) ||
			slices.ContainsFunc(since, func(x lcExport) bool { return x.event(t).At.Before(mid.event(t).At) }) {
			t.Errorf("export --since %s: %d events from %v", mid.At, len(since), since)
		}
		for _, args := range [][]string{{"audit", "export", "--format", "xml"}, {"audit", "export", "--format", "csv", "--since", "yesterday"}} {
			if r := e.cli(t, args...); r.code != 2 || r.stdout != "" {
				t.Errorf("want exit 2 and no output\n%s", r)
			}
		}
	})

	t.Run("paging", func(t *testing.T) {
		admin := admin.lcFor(t)
		// Enough events for more than one page (50 a page).
		for i := range 50 {
			mustPolicy := map[bool]string{true: "on", false: "off"}[i%2 == 1]
			r := admin.postForm("/admin/settings/third-party-oauth", url.Values{"_csrf": {admin.csrf("/admin/settings")}, "value": {mustPolicy}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("policy toggle %d: %d", i, r.Status)
			}
		}
		first, older, _ := lcAudit(t, admin, "")
		if len(first) != 50 || older == "" {
			t.Fatalf("first page: %d rows, older link %q; want 50 and a link", len(first), older)
		}
		seen := map[int64]bool{}
		pages := 1
		for rows := first; ; {
			for _, r := range rows {
				if seen[r.Seq] {
					t.Fatalf("event %d on two pages", r.Seq)
				}
				seen[r.Seq] = true
			}
			if older == "" {
				break
			}
			u, _ := url.Parse(older)
			rows, older, _ = lcAudit(t, admin, u.RawQuery)
			pages++
		}
		if int64(len(seen)) != first[0].Seq || pages < 2 {
			t.Errorf("paging saw %d events on %d pages, want %d", len(seen), pages, first[0].Seq)
		}
		// Paging keeps the filter.
		rootFirst, rootOlder, _ := lcAudit(t, admin, "actor=root")
		u, _ := url.Parse(rootOlder)
		if len(rootFirst) != 50 || rootOlder == "" || u.Query().Get("actor") != "root" {
			t.Fatalf("first page of actor=root: %d rows, older link %q; want 50 and a link that keeps actor=root", len(rootFirst), rootOlder)
		}
		rest, _, _ := lcAudit(t, admin, u.RawQuery)
		if len(rest) == 0 || rest[0].Seq >= rootFirst[49].Seq || slices.ContainsFunc(rest, func(r lcAuditRow) bool { return r.Actor != "root" }) {
			t.Errorf("second page of actor=root: %+v", rest)
		}
	})

	t.Run("who may read and act", func(t *testing.T) {
		auditor := e.ts.addUser(t, "audrey", domain.RoleAuditor, lcPassword)
		a := e.ts.newAgent(t)
		a.signIn(auditor.Username, lcPassword)
		if rows, _, status := lcAudit(t, a, ""); status != http.StatusOK || len(rows) == 0 {
			t.Errorf("an auditor reads /admin/audit: status %d, %d rows", status, len(rows))
		}
		if r := a.get("/admin/audit/export?format=jsonl"); r.Status != http.StatusOK {
			t.Errorf("an auditor exports the audit log: %d", r.Status)
		}
		for _, path := range []string{"/admin/apps/" + app.ClientID + "/revoke", "/admin/users/" + bob.ID + "/revoke",
			"/admin/apps/" + app.ClientID + "/delete", "/admin/apps/" + app.ClientID + "/secrets/primary/regenerate"} {
			if r := a.get(path); r.Status != http.StatusForbidden {
				t.Errorf("auditor GET %s: %d, want 403", path, r.Status)
			}
			if r := a.postForm(path, url.Values{"_csrf": {a.csrf("/admin/audit")}, "confirm": {lcAppName}}); r.Status != http.StatusForbidden {
				t.Errorf("auditor POST %s: %d, want 403", path, r.Status)
			}
		}
		if r := a.postForm("/admin/settings/third-party-oauth", url.Values{"_csrf": {a.csrf("/admin/audit")}, "value": {"off"}}); r.Status != http.StatusForbidden {
			t.Errorf("auditor turns the policy off: %d, want 403", r.Status)
		}
		for _, path := range []string{"/admin/audit", "/admin/audit/export?format=csv"} {
			if r := bob.a.get(path); r.Status != http.StatusForbidden {
				t.Errorf("member GET %s: %d, want 403", path, r.Status)
			}
		}
		// Her sign-in is recorded; nothing else she tried changed anything.
		rows, _, _ := lcAudit(t, a, "actor=audrey")
		if len(rows) != 1 || rows[0].Action != audit.ActionSignIn {
			t.Errorf("the auditor's refused attempts changed something: %+v", rows)
		}
	})

	t.Run("verify and tamper", func(t *testing.T) {
		r := mustSucceed(t, e.cli(t, "audit", "verify"))
		if !strings.HasPrefix(r.stdout, "Audit log intact") {
			t.Fatalf("audit verify on an untouched log\n%s", r)
		}
		db, err := e.ts.openRaw()
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		exec := func(t *testing.T, q string, args ...any) {
			t.Helper()
			if _, err := db.Exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(t, `CREATE TABLE lc_audit_backup AS SELECT * FROM audit_events`)
		restore := func(t *testing.T) {
			t.Helper()
			exec(t, `DELETE FROM audit_events`)
			exec(t, `INSERT INTO audit_events SELECT * FROM lc_audit_backup`)
		}
		exported := lcParseJSONL(t, mustSucceed(t, e.cli(t, "audit", "export", "--format", "jsonl")).stdout)
		if len(exported) < 8 {
			t.Fatalf("only %d events", len(exported))
		}
		// An attacker who edits event 3 and recomputes its hash.
		ev3 := exported[2].event(t)
		ev3.RawDetails = `{"tampered":true}`
		rehashed := ev3.ComputeHash(ev3.PrevHash)

		cases := []struct {
			name   string
			tamper []string
			args   []any
			seq    int
			reason string
		}{
			{name: "details of event 3 edited", tamper: []string{`UPDATE audit_events SET details = '{"tampered":true}' WHERE seq = 3`},
				seq: 3, reason: "the event was edited"},
			{name: "actor of event 4 edited", tamper: []string{`UPDATE audit_events SET actor = 'mallory' WHERE seq = 4`},
				seq: 4, reason: "the event was edited"},
			{name: "time of event 2 edited", tamper: []string{`UPDATE audit_events SET at = (SELECT at FROM audit_events WHERE seq = 1) WHERE seq = 2`},
				seq: 2, reason: "the event was edited"},
			{name: "event 5 deleted", tamper: []string{`DELETE FROM audit_events WHERE seq = 5`},
				seq: 5, reason: "event 5 is missing"},
			{name: "events 3 and 4 swapped", tamper: []string{
				`UPDATE audit_events SET seq = -3 WHERE seq = 3`,
				`UPDATE audit_events SET seq = 3 WHERE seq = 4`,
				`UPDATE audit_events SET seq = 4 WHERE seq = -3`},
				seq: 3, reason: "previous-hash"},
			{name: "event 3 edited and rehashed", tamper: []string{`UPDATE audit_events SET details = '{"tampered":true}', hash = ? WHERE seq = 3`},
				args: []any{rehashed}, seq: 4, reason: "previous-hash"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				defer restore(t)
				for _, q := range c.tamper {
					if strings.Contains(q, "?") {
						exec(t, q, c.args...)
					} else {
						exec(t, q)
					}
				}
				r := e.cli(t, "audit", "verify")
				want := fmt.Sprintf("oauthdesk: audit log broken at event %d: ", c.seq)
				if r.code != 1 || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, c.reason) || strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("want exit 1 and one line %q…%q on stderr\n%s", want, c.reason, r)
				}
				// The dashboard still reads the log.
				if rows, _, status := lcAudit(t, admin.lcFor(t), ""); status != http.StatusOK || len(rows) == 0 {
					t.Errorf("/admin/audit on a tampered log: status %d, %d rows", status, len(rows))
				}
			})
		}
		if r := e.cli(t, "audit", "verify"); r.code != 0 {
			t.Errorf("after restoring the log, verify fails\n%s", r)
		}
		// New events still chain after the restored log.
		mustSucceed(t, e.cli(t, "policy", "set", "third-party-oauth", "on"))
		if r := e.cli(t, "audit", "verify"); r.code != 0 {
			t.Errorf("after appending to the restored log, verify fails\n%s", r)
		}
	})
}
