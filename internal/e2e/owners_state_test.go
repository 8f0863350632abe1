package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

var (
	ownAuthStateRE  = regexp.MustCompile(`data-testid="auth-state" data-state="([a-z_]+)"`)
	ownCountCellRE  = regexp.MustCompile(`(?s)data-testid="active-authorizations"[^>]*>\s*(\d+)\s*<`)
	ownNextCountRE  = regexp.MustCompile(`data-testid="next-active-authorizations">(\d+)<`)
	ownProfileRowRE = regexp.MustCompile(`(?s)data-testid="profile-authorization" data-authorization-id="([^"]+)".*?data-testid="auth-state" data-state="([a-z_]+)"`)
)

// ownStates is the true state of one authorization everywhere it shows.
type ownStates struct {
	appPage, userPage, profile, api string
	listCount                       string // the app's row on /admin/apps
	overview                        string // the app's row in the overview's "Next to expire"
}

func ownLook(t *testing.T, e *lcEnv, user lcUser, clientID, authzID, adminTok string) ownStates {
	t.Helper()
	var st ownStates
	if m := ownAuthStateRE.FindStringSubmatch(lcRow(e.admin.get("/admin/apps/"+clientID).Body, `data-authorization-id="`+authzID+`"`)); m != nil {
		st.appPage = m[1]
	}
	if m := ownAuthStateRE.FindStringSubmatch(lcRow(e.admin.get("/admin/users/"+user.ID).Body, `data-authorization-id="`+authzID+`"`)); m != nil {
		st.userPage = m[1]
	}
	for _, m := range ownProfileRowRE.FindAllStringSubmatch(user.a.get("/profile/authorizations").Body, -1) {
		if m[1] == authzID {
			st.profile = m[2]
		}
	}
	if m := ownCountCellRE.FindStringSubmatch(lcRow(e.admin.get("/admin/apps").Body, `data-client-id="`+clientID+`"`)); m != nil {
		st.listCount = m[1]
	}
	if m := ownNextCountRE.FindStringSubmatch(lcRow(e.admin.get("/admin").Body, `data-testid="next-row" data-client-id="`+clientID+`"`)); m != nil {
		st.overview = m[1]
	}
	status, body := lcAPI(t, e.ts, http.MethodGet, saTokenAdmin+"?clientId="+clientID, adminTok, nil)
	if status != http.StatusOK {
		t.Fatalf("token administration API: %d %v", status, body)
	}
	values, _ := body["value"].([]any)
	for _, v := range values {
		j, _ := v.(map[string]any)
		if j["authorizationId"] == authzID {
			st.api = j["state"].(string)
			if valid, _ := j["isValid"].(bool); valid != (st.api == domain.AuthActive) {
				t.Errorf("API isValid %v disagrees with state %s", valid, st.api)
			}
		}
	}
	return st
}

func ownWantState(t *testing.T, what string, got ownStates, state, count string) {
	t.Helper()
	for _, v := range []struct{ where, got string }{{"app page", got.appPage}, {"user page", got.userPage}, {"Token Administration API", got.api}} {
		if v.got != state {
			t.Errorf("%s: %s shows %q, want %q", what, v.where, v.got, state)
		}
	}
	if state != domain.AuthRevoked && got.profile != state {
		t.Errorf("%s: the user's profile shows %q, want %q", what, got.profile, state)
	}
	if got.listCount != count {
		t.Errorf("%s: the apps list counts %q active authorizations, want %s", what, got.listCount, count)
	}
	if got.overview != count {
		t.Errorf("%s: the overview's next-to-expire row counts %q active authorizations, want %s", what, got.overview, count)
	}
}

// TestOwnersAuthorizationState: the true state of an authorization —
// active, needs re-authorization, revoked — on every page and in the
// Token Administration API, after a secret regeneration and after a
// chain revoked for a reused code.
func TestOwnersAuthorizationState(t *testing.T) {
	e := lcNewEnv(t)
	adminTok := e.adminToken(t) // root's own authorization of the tools app counts too
	bob := e.member(t, "bob")
	app := registerThroughDashboard(t, e.admin, lcScope)
	p := e.pair(t, bob.a, app, app.Secret)
	ownWantState(t, "fresh tokens", ownLook(t, e, bob, app.ClientID, p.AuthzID, adminTok), domain.AuthActive, "1")

	// Regenerating the secret kills every token minted with it: the consent
	// stands, but bob must authorize again.
	lcConfirmAndPost(t, e.admin, "/admin/apps/"+app.ClientID+"/secrets/primary/regenerate", "/admin/apps/"+app.ClientID)
	newSecret := newSecretRE.FindStringSubmatch(e.admin.get("/admin/apps/" + app.ClientID).Body)
	lcWantAPI(t, e.ts, p.Access, http.StatusUnauthorized, "bob's token after the regeneration")
	ownWantState(t, "after the regeneration", ownLook(t, e, bob, app.ClientID, p.AuthzID, adminTok), domain.AuthNeedsReauthorization, "0")
	if body := bob.a.get("/profile/authorizations").Body; !strings.Contains(body, "has to ask for your authorization again") {
		t.Error("bob's profile does not explain that the app must ask again")
	}

	// A fresh consent is active at once (its code is live), and stays so
	// once exchanged.
	code := approve(t, bob.a, app, lcScope, "again")
	ownWantState(t, "consented, code not yet exchanged", ownLook(t, e, bob, app.ClientID, p.AuthzID, adminTok), domain.AuthActive, "1")
	if newSecret == nil {
		t.Fatal("no new secret shown")
	}
	p2 := lcPairOf(t, e.exchange(t, newSecret[1], code))
	lcWantAPI(t, e.ts, p2.Access, http.StatusOK, "bob's new token")
	ownWantState(t, "authorized again", ownLook(t, e, bob, app.ClientID, p.AuthzID, adminTok), domain.AuthActive, "1")

	// A reused code revokes its chain: no token works, the consent stands.
	carol := e.member(t, "carol")
	code = approve(t, carol.a, app, lcScope, "carol")
	cp := lcPairOf(t, e.exchange(t, newSecret[1], code))
	if r := e.exchange(t, newSecret[1], code); r.Status != http.StatusBadRequest {
		t.Fatalf("a reused code: %d %v", r.Status, r.Raw)
	}
	lcWantAPI(t, e.ts, cp.Access, http.StatusUnauthorized, "carol's token after the code's reuse")
	ownWantState(t, "after a reused code", ownLook(t, e, carol, app.ClientID, cp.AuthzID, adminTok), domain.AuthNeedsReauthorization, "1")

	// Revoked is revoked everywhere.
	lcConfirmAndPost(t, e.admin, "/admin/authorizations/"+p.AuthzID+"/revoke", "/admin/apps/"+app.ClientID)
	ownWantState(t, "revoked", ownLook(t, e, bob, app.ClientID, p.AuthzID, adminTok), domain.AuthRevoked, "0")
}

// TestOwnersUsageCreditedToProfile: a call needing vso.profile is
// credited to vso.profile when granted, else to the narrowest granted
// scope that includes it; the Granted card is the union over the active
// authorizations.
func TestOwnersUsageCreditedToProfile(t *testing.T) {
	e := lcNewEnv(t)
	app := registerThroughDashboard(t, e.admin, "vso.work_full", "vso.work", "vso.profile")
	bob, carol := e.member(t, "bob"), e.member(t, "carol")
	bp := saPair(t, e.ts, bob.a, app, "vso.work_full vso.profile", "bob")
	cp := saPair(t, e.ts, carol.a, app, "vso.work_full vso.work", "carol")
	saCall(t, e.ts, profilePath, bp.Access, http.StatusOK, "", "bob's profile call")
	saCall(t, e.ts, profilePath, cp.Access, http.StatusOK, "", "carol's profile call")
	rep := saWaitUsage(t, e.ts, app.ClientID, 2)
	var got []string
	for _, u := range rep.Used {
		got = append(got, u.Scope+"←"+u.SatisfiedBy)
	}
	if want := []string{"vso.profile←vso.profile", "vso.profile←vso.work"}; !slices.Equal(got, want) {
		t.Errorf("usage %v, want %v (never vso.work_full)", got, want)
	}
	if !slices.Equal(rep.Recommended, []string{"vso.profile"}) {
		t.Errorf("recommended %v, want [vso.profile]", rep.Recommended)
	}
	page := saAppScopesPage(t, e.admin, app.ClientID)
	saWantSet(t, "Granted card", page.Granted, []string{"vso.work_full", "vso.profile", "vso.work"})
	// The inventory agrees: vso.work_full holds no use.
	rows := saInventoryPage(t, e.admin, "")
	for _, r := range rows {
		if r.Scope == "vso.work_full" && r.Uses != 0 {
			t.Errorf("inventory credits vso.work_full with %d uses", r.Uses)
		}
		if r.Scope == "vso.profile" && r.Uses != 1 {
			t.Errorf("inventory credits vso.profile with %d uses, want 1", r.Uses)
		}
	}
}

// TestOwnersTokenRequestOnAuthorize: a token request POSTed to
// /oauth2/authorize (a body with grant_type, no session, no CSRF token)
// is served exactly as /oauth2/token; a body without grant_type or
// response_type stays the approval form.
func TestOwnersTokenRequestOnAuthorize(t *testing.T) {
	e := lcNewEnv(t)
	bob := e.member(t, "bob")
	app := registerThroughDashboard(t, e.admin, lcScope)
	post := func(body string) tokenResult {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/oauth2/authorize", strings.NewReader(body))
		req.Header.Set("Content-Type", formType)
		return postTokenReq(t, req)
	}
	code := approve(t, bob.a, app, lcScope, "s")
	r := post(codeBody(app.Secret, code, callbackURL))
	wantTokens(t, r)
	p := lcPairOf(t, r)
	lcWantAPI(t, e.ts, p.Access, http.StatusOK, "a token from POST /oauth2/authorize")
	r = post(refreshBody(app.Secret, p.Refresh, callbackURL))
	wantTokens(t, r)
	// Errors are the token endpoint's JSON, not an HTML page.
	wantTokenError(t, post(codeBody("wrong-secret", approve(t, bob.a, app, lcScope, "s2"), callbackURL)), http.StatusUnauthorized,
		"unauthorized_client", "Client failed validation")
	wantTokenError(t, post(codeBody(app.Secret, code, callbackURL)), http.StatusBadRequest, "invalid_request", "An access token has already been issued")

	// A body with grant_type is a token request even without the
	// dialect's client_assertion_type (the dispatch of OpenID Connect's
	// POST /oauth2/authorize): it gets the token endpoint's JSON error,
	// never the approval form.
	r = post("grant_type=" + url.QueryEscape("urn:ietf:params:oauth:grant-type:jwt-bearer") + "&assertion=x")
	if r.Status < 400 || r.Status >= 500 || r.Raw["error"] == nil {
		t.Errorf("POST /oauth2/authorize with grant_type and no client_assertion_type: %d %v, want a token endpoint error", r.Status, r.Raw)
	}
	// Every other POST is the approval form: without its CSRF token it is
	// refused, whoever sends it.
	for _, body := range []string{
		"client_id=" + app.ClientID + "&decision=accept",
	} {
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/oauth2/authorize", strings.NewReader(body))
		req.Header.Set("Content-Type", formType)
		resp := bob.a.do(req)
		if resp.Status != http.StatusForbidden || !strings.Contains(resp.Body, "The form expired") {
			t.Errorf("POST /oauth2/authorize %q: %d, want the approval form's CSRF refusal", body, resp.Status)
		}
	}
	// And the approval form still works.
	cb := decide(t, bob.a, authorizeURL(app.ClientID, lcScope, "s3", callbackURL), "accept")
	if cb.Query().Get("code") == "" {
		t.Errorf("approval through POST /oauth2/authorize: %s", cb)
	}
	if a, _ := e.ts.App.Admin.App(context.Background(), app.ClientID); a.App.ActiveAuthorizations != 1 {
		t.Errorf("active authorizations %d, want 1", a.App.ActiveAuthorizations)
	}
}

// postTokenReq sends a prepared token request (no cookies) and reads the
// JSON answer.
func postTokenReq(t *testing.T, req *http.Request) tokenResult {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("%s %s: the answer is not JSON: %v", req.Method, req.URL.Path, err)
	}
	return tokenResult{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
}
