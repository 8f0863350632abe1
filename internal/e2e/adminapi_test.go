package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/web"
)

// The admin REST API (/_apis/oauthdesk/v1/, internal/web/ADMIN_API.md)
// over real HTTP against the real server: what it changes is seen on the
// dashboard, in the audit log and at the token endpoint and /_apis, and
// every response is checked against the OpenAPI document.

const adminAPI = "/_apis/oauthdesk/v1"

// apiValidator is the OpenAPI document's response validator (built once).
var apiValidator = sync.OnceValues(func() (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(web.AdminAPIOpenAPI())
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return v, nil
})

// apiResp is an admin API answer as a client sees it.
type apiResp struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

func (r apiResp) str(k string) string { s, _ := r.JSON[k].(string); return s }

// obj returns the object member k.
func (r apiResp) obj(k string) map[string]any { m, _ := r.JSON[k].(map[string]any); return m }

// items returns the listing's items.
func (r apiResp) items() []map[string]any {
	var out []map[string]any
	list, _ := r.JSON["items"].([]any)
	for _, it := range list {
		m, _ := it.(map[string]any)
		out = append(out, m)
	}
	return out
}

// apiDo calls the admin API: path is under /_apis/oauthdesk/v1 (or a full
// URL, a next link); body is JSON-encoded unless it is a string, sent
// as is. ifMatch, when set, is sent as If-Match. The response is
// validated against the OpenAPI document.
func apiDo(t *testing.T, ts *testServer, method, path, token string, body any, ifMatch string) apiResp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = ts.URL + adminAPI + path
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := apiResp{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.JSON)

	v, err := apiValidator()
	if err != nil {
		t.Fatalf("OpenAPI document: %v", err)
	}
	check, _ := http.NewRequest(method, u, nil)
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if ok, errs := v.ValidateHttpResponse(check, resp); !ok {
		for _, e := range errs {
			t.Errorf("%s %s → %d does not match the OpenAPI document: %s: %s", method, path, resp.StatusCode, e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s: %s", se.FieldPath, se.Reason)
			}
		}
		t.Logf("body: %s", raw)
	}
	return out
}

// wantProblem checks an RFC 9457 problem answer of status and kind whose
// detail contains detail.
func wantProblem(t *testing.T, r apiResp, status int, kind, detail string) {
	t.Helper()
	if r.Status != status || r.Header.Get("Content-Type") != "application/problem+json" ||
		r.str("type") != "urn:oauthdesk:problem:"+kind || r.JSON["status"] != float64(status) || r.str("title") == "" ||
		!strings.Contains(r.str("detail"), detail) {
		t.Errorf("got %d %s %s, want a %d problem %s with %q", r.Status, r.Header.Get("Content-Type"), r.Raw, status, kind, detail)
	}
}

// apiAuditEvent returns the newest audit event of action on target.
func apiAuditEvent(t *testing.T, ts *testServer, action, target string) audit.Event {
	t.Helper()
	ev, _, err := ts.App.Admin.AuditEvents(context.Background(), audit.Filter{Action: action, TargetID: target, Limit: 1})
	if err != nil || len(ev) == 0 {
		t.Fatalf("no audit event %s on %s: %v", action, target, err)
	}
	return ev[0]
}

// wantViaAPI checks that e was made by actor through the admin API.
func wantViaAPI(t *testing.T, e audit.Event, actor string) {
	t.Helper()
	if e.Actor != actor || e.Details["via"] != audit.ViaAdminAPI {
		t.Errorf("audit %s on %s: actor %q via %v, want %q via %s", e.Action, e.TargetID, e.Actor, e.Details["via"], actor, audit.ViaAdminAPI)
	}
}

var apiRegistration = map[string]any{"name": "Contoso Deploy", "company": "Contoso", "description": "Deploys from CI.",
	"company_url": "https://contoso.example", "app_url": "https://contoso.example/deploy", "callback_url": callbackURL,
	"terms_url": "https://contoso.example/terms", "privacy_url": "https://contoso.example/privacy", "scopes": []string{"vso.work"}}

func withName(name string) map[string]any {
	m := map[string]any{}
	for k, v := range apiRegistration {
		m[k] = v
	}
	m["name"] = name
	return m
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	root, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	_, audA := saSignedIn(t, ts, "audrey", domain.RoleAuditor, "an auditor's long password")
	pat := func(a *agent, name, scope string) string {
		tok, r := patCreate(t, a, url.Values{"name": {name}, "expiry": {"30"}, "access": {"custom"}, "scope": {scope}})
		if tok == "" {
			t.Fatalf("create the token %s: %d %s", name, r.Status, lcText(r.Body))
		}
		return tok
	}
	admin := pat(rootA, "automation", web.ScopeAdminAPI)
	reader := pat(rootA, "reporting", web.ScopeAdminAPIRead)
	auditor := pat(audA, "auditor automation", web.ScopeAdminAPI)
	bobPAT := pat(bobA, "bob's script", "vso.profile")

	var app registeredApp
	t.Run("create an app: on /admin/apps and in the audit log with the caller", func(t *testing.T) {
		r := apiDo(t, ts, http.MethodPost, "/apps", admin, apiRegistration, "")
		a := r.obj("app")
		if r.Status != http.StatusCreated || r.str("client_secret") == "" || a["name"] != "Contoso Deploy" {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		app = registeredApp{ClientID: a["client_id"].(string), Secret: r.str("client_secret")}
		if loc := r.Header.Get("Location"); loc != adminAPI+"/apps/"+app.ClientID {
			t.Errorf("Location %q", loc)
		}
		if owner, _ := a["owner"].(map[string]any); owner["username"] != "root" {
			t.Errorf("owner %v, want the caller", a["owner"])
		}
		page := lcText(rootA.get("/admin/apps?q=Contoso").Body)
		if !strings.Contains(page, "Contoso Deploy") {
			t.Errorf("/admin/apps does not list the app: %s", page)
		}
		wantViaAPI(t, apiAuditEvent(t, ts, audit.ActionAppRegister, app.ClientID), "root")
		found := false
		for _, line := range strings.Split(rootA.get("/admin/audit/export?format=jsonl").Body, "\n") {
			if strings.Contains(line, audit.ActionAppRegister) && strings.Contains(line, app.ClientID) {
				found = strings.Contains(line, `"root"`) && strings.Contains(line, audit.ViaAdminAPI)
			}
		}
		if !found {
			t.Error("the audit export does not show the registration by root through the admin API")
		}
	})

	t.Run("bad input is a 400 problem that says what is wrong", func(t *testing.T) {
		wantProblem(t, apiDo(t, ts, http.MethodPost, "/apps", admin, `{"name": "x",`, ""), http.StatusBadRequest, "invalid", "not valid JSON")
		wantProblem(t, apiDo(t, ts, http.MethodPost, "/apps", admin, `{"name": 3}`, ""), http.StatusBadRequest, "invalid", "name must be a string")
		r := apiDo(t, ts, http.MethodPost, "/apps", admin, `{"nmae": "typo"}`, "")
		wantProblem(t, r, http.StatusBadRequest, "invalid", `unknown field "nmae"`)
		bad := withName("No Callback")
		bad["callback_url"] = "not a url"
		r = apiDo(t, ts, http.MethodPost, "/apps", admin, bad, "")
		wantProblem(t, r, http.StatusBadRequest, "invalid", "")
		errs, _ := r.JSON["errors"].([]any)
		if len(errs) == 0 || !strings.Contains(string(r.Raw), `"pointer":"#/callback_url"`) {
			t.Errorf("field errors %s, want one at #/callback_url", r.Raw)
		}
		wantProblem(t, apiDo(t, ts, http.MethodGet, "/apps?limit=0", admin, nil, ""), http.StatusBadRequest, "invalid", "limit")
		wantProblem(t, apiDo(t, ts, http.MethodGet, "/apps/00000000-0000-4000-8000-000000000000", admin, nil, ""), http.StatusNotFound, "not-found", "")
	})

	t.Run("If-Match: 428 without, 412 on a stale ETag, 200 with the current one", func(t *testing.T) {
		get := apiDo(t, ts, http.MethodGet, "/apps/"+app.ClientID, reader, nil, "")
		etag := get.Header.Get("ETag")
		if get.Status != http.StatusOK || etag == "" {
			t.Fatalf("get: %d ETag %q", get.Status, etag)
		}
		change := map[string]any{"description": "Deploys from CI, nightly."}
		wantProblem(t, apiDo(t, ts, http.MethodPatch, "/apps/"+app.ClientID, admin, change, ""), http.StatusPreconditionRequired, "precondition-required", "If-Match")
		wantProblem(t, apiDo(t, ts, http.MethodPatch, "/apps/"+app.ClientID, admin, change, `"stale"`), http.StatusPreconditionFailed, "precondition-failed", "changed")
		r := apiDo(t, ts, http.MethodPatch, "/apps/"+app.ClientID, admin, change, etag)
		if r.Status != http.StatusOK || r.str("description") != "Deploys from CI, nightly." || r.str("name") != "Contoso Deploy" ||
			r.Header.Get("ETag") == "" || r.Header.Get("ETag") == etag {
			t.Fatalf("patch: %d %s ETag %q", r.Status, r.Raw, r.Header.Get("ETag"))
		}
		// The same ETag again: the app changed since.
		wantProblem(t, apiDo(t, ts, http.MethodPatch, "/apps/"+app.ClientID, admin, map[string]any{"company": "Other"}, etag),
			http.StatusPreconditionFailed, "precondition-failed", "")
		if page := lcText(rootA.get("/admin/apps/" + app.ClientID).Body); !strings.Contains(page, "Deploys from CI, nightly.") {
			t.Errorf("the app page does not show the change: %s", page)
		}
		wantViaAPI(t, apiAuditEvent(t, ts, audit.ActionAppUpdate, app.ClientID), "root")
	})

	bobTok := saPair(t, ts, bobA, app, "vso.work", "bob-api")
	t.Run("regenerate the secret: the old one stops working at the token endpoint", func(t *testing.T) {
		r := apiDo(t, ts, http.MethodPost, "/apps/"+app.ClientID+"/secrets/primary/regenerate", admin, nil, "")
		if r.Status != http.StatusOK || r.str("client_secret") == "" || r.str("client_secret") == app.Secret || r.JSON["regenerated"] != true {
			t.Fatalf("regenerate: %d %s", r.Status, r.Raw)
		}
		old := app.Secret
		app.Secret = r.str("client_secret")
		code := approve(t, bobA, app, "vso.work", "after-regenerate")
		if res := postToken(t, ts.URL, formType, codeBody(old, code, callbackURL)); res.Status < 400 {
			t.Errorf("the old secret still gets tokens: %d %v", res.Status, res.Raw)
		}
		code = approve(t, bobA, app, "vso.work", "new-secret")
		bobTok = lcPairOf(t, postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL)))
		wantViaAPI(t, apiAuditEvent(t, ts, audit.ActionSecretRegenerate, app.ClientID), "root")

		alt := apiDo(t, ts, http.MethodPost, "/apps/"+app.ClientID+"/secrets/alternative", admin, nil, "")
		if alt.Status != http.StatusCreated || alt.str("slot") != domain.SlotAlternative || alt.str("client_secret") == "" {
			t.Fatalf("add alternative: %d %s", alt.Status, alt.Raw)
		}
		wantProblem(t, apiDo(t, ts, http.MethodPost, "/apps/"+app.ClientID+"/secrets/alternative", admin, nil, ""), http.StatusConflict, "conflict", "")
		ret := apiDo(t, ts, http.MethodDelete, "/apps/"+app.ClientID+"/secrets/alternative", admin, nil, "")
		if ret.Status != http.StatusOK || ret.str("retired_at") == "" {
			t.Fatalf("retire: %d %s", ret.Status, ret.Raw)
		}
		code = approve(t, bobA, app, "vso.work", "retired-alt")
		if res := postToken(t, ts.URL, formType, codeBody(alt.str("client_secret"), code, callbackURL)); res.Status < 400 {
			t.Errorf("the retired secret still gets tokens: %d %v", res.Status, res.Raw)
		}
	})

	t.Run("revoke an authorization: its token is refused at /_apis", func(t *testing.T) {
		saCall(t, ts, profilePath, bobTok.Access, http.StatusOK, "", "bob's token before")
		r := apiDo(t, ts, http.MethodGet, "/authorizations?client_id="+app.ClientID+"&active=true", reader, nil, "")
		var id string
		for _, it := range r.items() {
			if it["user_id"] == bob.ID {
				id, _ = it["id"].(string)
			}
		}
		if r.Status != http.StatusOK || id != bobTok.AuthzID {
			t.Fatalf("list: %d %s, want bob's authorization %s", r.Status, r.Raw, bobTok.AuthzID)
		}
		rv := apiDo(t, ts, http.MethodPost, "/authorizations/"+id+"/revoke", admin, nil, "")
		if rv.Status != http.StatusOK || rv.JSON["revoked"] != true {
			t.Fatalf("revoke: %d %s", rv.Status, rv.Raw)
		}
		saCall(t, ts, profilePath, bobTok.Access, http.StatusUnauthorized, "", "bob's token after the revocation")
		wantViaAPI(t, apiAuditEvent(t, ts, audit.ActionAuthorizationRevoke, id), "root")
	})

	t.Run("an auditor's token reads (200) and changes nothing (403)", func(t *testing.T) {
		for _, p := range []string{"/apps", "/apps/" + app.ClientID, "/users", "/users/" + bob.ID, "/authorizations", "/tokens", "/settings"} {
			if r := apiDo(t, ts, http.MethodGet, p, auditor, nil, ""); r.Status != http.StatusOK {
				t.Errorf("auditor GET %s: %d %s", p, r.Status, r.Raw)
			}
		}
		wantProblem(t, apiDo(t, ts, http.MethodPost, "/apps", auditor, withName("Auditor's"), ""), http.StatusForbidden, "forbidden", "Your role (auditor)")
		wantProblem(t, apiDo(t, ts, http.MethodPost, "/tokens/"+patIDOf(t, ts, bob.ID, "bob's script")+"/revoke", auditor, nil, ""),
			http.StatusForbidden, "forbidden", "Your role (auditor)")
		saCall(t, ts, profilePath, bobPAT, http.StatusOK, "", "bob's PAT after the auditor's attempt")
	})

	t.Run("a token with oauthdesk.read cannot write; a member's token cannot read", func(t *testing.T) {
		r := apiDo(t, ts, http.MethodPost, "/apps", reader, withName("Read Only"), "")
		wantProblem(t, r, http.StatusForbidden, "insufficient-scope", web.ScopeAdminAPI)
		if !strings.Contains(r.Header.Get("WWW-Authenticate"), `scope="oauthdesk.admin"`) {
			t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
		}
		member := pat(bobA, "bob admin attempt", web.ScopeAdminAPIRead)
		wantProblem(t, apiDo(t, ts, http.MethodGet, "/apps", member, nil, ""), http.StatusForbidden, "forbidden", "Your role (member)")
		wantProblem(t, apiDo(t, ts, http.MethodGet, "/apps", bobPAT, nil, ""), http.StatusForbidden, "insufficient-scope", web.ScopeAdminAPIRead)
		wantProblem(t, apiDo(t, ts, http.MethodGet, "/apps", "", nil, ""), http.StatusUnauthorized, "unauthorized", "")
	})

	t.Run("pagination: next walks every page", func(t *testing.T) {
		for _, n := range []string{"Contoso Two", "Contoso Three", "Contoso Four"} {
			if r := apiDo(t, ts, http.MethodPost, "/apps", admin, withName(n), ""); r.Status != http.StatusCreated {
				t.Fatalf("create %s: %d %s", n, r.Status, r.Raw)
			}
		}
		all := apiDo(t, ts, http.MethodGet, "/apps?q=Contoso&limit=200", reader, nil, "")
		if len(all.items()) != 4 || all.str("next") != "" {
			t.Fatalf("one page: %d items, next %q", len(all.items()), all.str("next"))
		}
		var want, got []string
		for _, it := range all.items() {
			want = append(want, it["client_id"].(string))
		}
		next, pages := "/apps?q=Contoso&limit=1", 0
		for next != "" && pages < 10 {
			r := apiDo(t, ts, http.MethodGet, next, reader, nil, "")
			if r.Status != http.StatusOK || len(r.items()) != 1 {
				t.Fatalf("page %d: %d %s", pages, r.Status, r.Raw)
			}
			got = append(got, r.items()[0]["client_id"].(string))
			pages++
			next = r.str("next")
			if link := r.Header.Get("Link"); (next == "") != (link == "") || (next != "" && link != "<"+next+`>; rel="next"`) {
				t.Errorf("Link %q, next %q", link, next)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("walked %q in %d pages, want %q", got, pages, want)
		}
		// Users too (root, bob, audrey).
		var users []string
		for next = "/users?limit=2"; next != ""; {
			r := apiDo(t, ts, http.MethodGet, next, reader, nil, "")
			for _, it := range r.items() {
				users = append(users, it["username"].(string))
			}
			next = r.str("next")
		}
		if slices.Sort(users); !slices.Equal(users, []string{"audrey", "bob", "root"}) {
			t.Errorf("users walked: %q", users)
		}
	})

	t.Run("users: create, set the role, disable", func(t *testing.T) {
		r := apiDo(t, ts, http.MethodPost, "/users", admin, map[string]any{"username": "carol", "email": "carol@example.com"}, "")
		u := r.obj("user")
		if r.Status != http.StatusCreated || r.str("password") == "" || u["role"] != "member" || u["must_change_password"] != true {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		id := u["id"].(string)
		wantProblem(t, apiDo(t, ts, http.MethodPost, "/users", admin, map[string]any{"username": "carol"}, ""), http.StatusConflict, "conflict", "carol")
		get := apiDo(t, ts, http.MethodGet, "/users/"+id, reader, nil, "")
		p := apiDo(t, ts, http.MethodPatch, "/users/"+id, admin, map[string]any{"role": "auditor"}, get.Header.Get("ETag"))
		if p.Status != http.StatusOK || p.str("role") != "auditor" {
			t.Fatalf("set role: %d %s", p.Status, p.Raw)
		}
		wantViaAPI(t, apiAuditEvent(t, ts, audit.ActionUserRole, id), "root")
		wantProblem(t, apiDo(t, ts, http.MethodPatch, "/users/"+id, admin, map[string]any{"disabled": true}, get.Header.Get("ETag")),
			http.StatusPreconditionFailed, "precondition-failed", "")
		d := apiDo(t, ts, http.MethodPatch, "/users/"+id, admin, map[string]any{"disabled": true}, p.Header.Get("ETag"))
		if d.Status != http.StatusOK || d.str("state") != "disabled" {
			t.Fatalf("disable: %d %s", d.Status, d.Raw)
		}
		if page := lcText(rootA.get("/admin/users/" + id).Body); !strings.Contains(page, "carol") || !strings.Contains(strings.ToLower(page), "disabled") {
			t.Errorf("user page: %s", page)
		}
		wantProblem(t, apiDo(t, ts, http.MethodPatch, "/users/"+id, admin, map[string]any{"disabled": false, "role": "member"}, d.Header.Get("ETag")),
			http.StatusBadRequest, "invalid", "exactly one")
	})

	t.Run("tokens: list and revoke; the token is refused on its next request", func(t *testing.T) {
		r := apiDo(t, ts, http.MethodGet, "/tokens?user_id="+bob.ID+"&state=active", reader, nil, "")
		var id string
		for _, it := range r.items() {
			if it["name"] == "bob's script" {
				id = it["id"].(string)
			}
		}
		if r.Status != http.StatusOK || id == "" {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}
		if rv := apiDo(t, ts, http.MethodPost, "/tokens/"+id+"/revoke", admin, nil, ""); rv.Status != http.StatusOK || rv.JSON["revoked"] != true {
			t.Fatalf("revoke: %d %s", rv.Status, rv.Raw)
		}
		saCall(t, ts, profilePath, bobPAT, http.StatusUnauthorized, "", "bob's PAT after the revocation")
	})

	t.Run("settings and policies: get, set with If-Match, audited", func(t *testing.T) {
		get := apiDo(t, ts, http.MethodGet, "/settings", reader, nil, "")
		if get.Status != http.StatusOK || get.str("app_registration") != domain.PolicyMembers || get.JSON["third_party_oauth"] != true {
			t.Fatalf("get: %d %s", get.Status, get.Raw)
		}
		change := map[string]any{"secret_lifetime_days": 30, "pat_full_scope": "deny", "pat_max_lifespan_days": 60, "pat_allowlist": []string{"bob"}}
		wantProblem(t, apiDo(t, ts, http.MethodPatch, "/settings", admin, change, ""), http.StatusPreconditionRequired, "precondition-required", "")
		bad := apiDo(t, ts, http.MethodPatch, "/settings", admin, map[string]any{"pat_full_scope": "maybe", "secret_lifetime_days": 0}, get.Header.Get("ETag"))
		wantProblem(t, bad, http.StatusBadRequest, "invalid", "nothing was changed")
		if !strings.Contains(string(bad.Raw), "#/pat_full_scope") || !strings.Contains(string(bad.Raw), "#/secret_lifetime_days") {
			t.Errorf("field errors: %s", bad.Raw)
		}
		r := apiDo(t, ts, http.MethodPatch, "/settings", admin, change, get.Header.Get("ETag"))
		if r.Status != http.StatusOK || r.JSON["secret_lifetime_days"] != float64(30) || r.str("pat_full_scope") != "deny" ||
			r.JSON["pat_max_lifespan_days"] != float64(60) || !strings.Contains(string(r.Raw), `"pat_allowlist":["bob"]`) {
			t.Fatalf("patch: %d %s", r.Status, r.Raw)
		}
		wantViaAPI(t, apiAuditEvent(t, ts, audit.ActionPolicySet, domain.SettingPATFullScope), "root")
		// The policy bites: a full-access token is refused now.
		if tok, resp := patCreate(t, rootA, url.Values{"name": {"full"}, "expiry": {"30"}, "access": {"full"}}); tok != "" {
			t.Errorf("a full-access token was created under pat_full_scope deny: %s", lcText(resp.Body))
		}
	})

	t.Run("a revoked admin token is refused on its next call", func(t *testing.T) {
		tools := registerThroughDashboard(t, rootA, web.ScopeAdminAPI)
		oauthTok := saPair(t, ts, rootA, tools, web.ScopeAdminAPI, "root-admin-api")
		if r := apiDo(t, ts, http.MethodGet, "/apps", oauthTok.Access, nil, ""); r.Status != http.StatusOK {
			t.Fatalf("OAuth token: %d %s", r.Status, r.Raw)
		}
		if r := apiDo(t, ts, http.MethodPost, "/authorizations/"+oauthTok.AuthzID+"/revoke", admin, nil, ""); r.Status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		wantProblem(t, apiDo(t, ts, http.MethodGet, "/apps", oauthTok.Access, nil, ""), http.StatusUnauthorized, "unauthorized", "")

		// The admin's own PAT, revoked through the API with itself.
		id := patIDOf(t, ts, root.ID, "automation")
		if r := apiDo(t, ts, http.MethodPost, "/tokens/"+id+"/revoke", admin, nil, ""); r.Status != http.StatusOK || r.JSON["revoked"] != true {
			t.Fatalf("revoke own PAT: %d %s", r.Status, r.Raw)
		}
		wantProblem(t, apiDo(t, ts, http.MethodGet, "/apps", admin, nil, ""), http.StatusUnauthorized, "unauthorized", "")
	})

	t.Run("delete an app: its tokens die, the record stays", func(t *testing.T) {
		second := apiDo(t, ts, http.MethodGet, "/apps?q=Contoso%20Two", reader, nil, "")
		if len(second.items()) != 1 {
			t.Fatalf("find: %s", second.Raw)
		}
		id := second.items()[0]["client_id"].(string)
		newAdmin := pat(rootA, "automation 2", web.ScopeAdminAPI)
		d := apiDo(t, ts, http.MethodDelete, "/apps/"+id, newAdmin, nil, "")
		if d.Status != http.StatusOK || d.str("client_id") != id {
			t.Fatalf("delete: %d %s", d.Status, d.Raw)
		}
		if g := apiDo(t, ts, http.MethodGet, "/apps/"+id, reader, nil, ""); g.Status != http.StatusOK || g.str("deleted_at") == "" {
			t.Errorf("after delete: %d %s", g.Status, g.Raw)
		}
		wantViaAPI(t, apiAuditEvent(t, ts, audit.ActionAppDelete, id), "root")
	})

	t.Run("the OpenAPI document is served", func(t *testing.T) {
		resp, err := http.Get(ts.URL + adminAPI + "/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, web.AdminAPIOpenAPI()) {
			t.Errorf("openapi.json: %d, %d bytes", resp.StatusCode, len(b))
		}
	})
}
