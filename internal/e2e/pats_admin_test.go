package e2e

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// Administrators see every personal access token: /admin/tokens with
// filters and bulk revoke (impact preview first), the user page, the
// settings page's policies with "revoke these", and the CLI.
func TestPATAdmin(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	bob, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	_, carolA := saSignedIn(t, ts, "carol", domain.RoleMember, saPassword)
	var bobToks []string
	for _, name := range []string{"deploy", "backup", "laptop"} {
		tok, r := patCreate(t, bobA, url.Values{"name": {name}, "expiry": {"90"}, "access": {"custom"}, "scope": {"vso.profile"}})
		if tok == "" {
			t.Fatalf("create %s: %d %s", name, r.Status, lcText(r.Body))
		}
		bobToks = append(bobToks, tok)
	}
	carolTok, _ := patCreate(t, carolA, url.Values{"name": {"carol full"}, "expiry": {"30"}, "access": {"full"}})

	t.Run("list, search and filters", func(t *testing.T) {
		page := lcText(rootA.get("/admin/tokens").Body)
		for _, want := range []string{"deploy", "backup", "laptop", "carol full", "4 tokens match."} {
			if !strings.Contains(page, want) {
				t.Errorf("/admin/tokens lacks %q: %s", want, page)
			}
		}
		if page := lcText(rootA.get("/admin/tokens?owner=carol").Body); !strings.Contains(page, "carol full") || strings.Contains(page, "deploy") {
			t.Errorf("owner filter: %s", page)
		}
		if page := lcText(rootA.get("/admin/tokens?full=1").Body); !strings.Contains(page, "1 token matches.") {
			t.Errorf("full-access filter: %s", page)
		}
		if page := lcText(rootA.get("/admin/tokens?expiring=31").Body); !strings.Contains(page, "carol full") || strings.Contains(page, "deploy") {
			t.Errorf("expiring filter: %s", page)
		}
		if r := rootA.get("/admin/tokens?expiring=abc"); r.Status != http.StatusBadRequest {
			t.Errorf("bad filter: %d", r.Status)
		}
		if r := bobA.get("/admin/tokens"); r.Status != http.StatusForbidden {
			t.Errorf("member on /admin/tokens: %d", r.Status)
		}
	})

	t.Run("keyset pages walk every token once, in every order", func(t *testing.T) {
		for _, sort := range []string{"created", "name", "expires"} {
			for _, asc := range []bool{false, true} {
				seen := map[string]bool{}
				f := domain.PATFilter{Sort: sort, Asc: asc, Limit: 1}
				for range 10 {
					page, err := ts.App.PATs.List(context.Background(), f)
					if err != nil {
						t.Fatalf("%s asc=%v: %v", sort, asc, err)
					}
					for _, p := range page.Tokens {
						if seen[p.ID] {
							t.Errorf("%s asc=%v: %s twice", sort, asc, p.Name)
						}
						seen[p.ID] = true
					}
					if page.Next == "" {
						break
					}
					f.After = page.Next
				}
				if len(seen) != 4 {
					t.Errorf("%s asc=%v: %d tokens walked, want 4", sort, asc, len(seen))
				}
			}
		}
	})

	t.Run("user page lists the tokens and the descriptor", func(t *testing.T) {
		page := lcText(rootA.get("/admin/users/" + bob.ID).Body)
		if !strings.Contains(page, "deploy") || !strings.Contains(page, domain.SubjectDescriptor(bob.ID)) {
			t.Errorf("user page: %s", page)
		}
	})

	t.Run("bulk revoke: impact preview, then every token refused", func(t *testing.T) {
		preview := rootA.get("/admin/tokens/revoke?" + url.Values{"mode": {"all"}, "filter": {"owner=bob"}}.Encode())
		if text := lcText(preview.Body); preview.Status != http.StatusOK || !strings.Contains(text, "Revoke all of bob's 3 tokens?") {
			t.Fatalf("preview: %d %s", preview.Status, text)
		}
		for _, tok := range bobToks {
			saCall(t, ts, profilePath, tok, http.StatusOK, "", "before the bulk revoke")
		}
		action := regexp.MustCompile(`action="(/admin/tokens/revoke\?[^"]*)"`).FindStringSubmatch(preview.Body)
		if action == nil {
			t.Fatal("no revoke form on the preview")
		}
		path := strings.ReplaceAll(action[1], "&amp;", "&")
		r := rootA.postForm(path, url.Values{"_csrf": {rootA.csrf("/admin/tokens")}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("bulk revoke: %d %s", r.Status, lcText(r.Body))
		}
		for _, tok := range bobToks {
			saCall(t, ts, profilePath, tok, http.StatusUnauthorized, "", "after the bulk revoke")
		}
		saCall(t, ts, profilePath, carolTok, http.StatusOK, "", "carol's token untouched")
	})

	t.Run("settings: a tightened policy lists breaking tokens, one click revokes them", func(t *testing.T) {
		r := rootA.postForm("/admin/settings/pat-policy", url.Values{"_csrf": {rootA.csrf("/admin/settings")}, "max_lifespan": {"0"}, "full_scope_deny": {"1"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("save policy: %d %s", r.Status, lcText(r.Body))
		}
		page := lcText(rootA.get("/admin/settings").Body)
		if !strings.Contains(page, "1 existing token breaks these policies") || !strings.Contains(page, "carol full of carol — pat-full-scope") {
			t.Fatalf("settings: %s", page)
		}
		saCall(t, ts, profilePath, carolTok, http.StatusOK, "", "nothing revoked silently")
		r = rootA.postForm("/admin/settings/pat-violations/revoke", url.Values{"_csrf": {rootA.csrf("/admin/settings")}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("revoke these: %d", r.Status)
		}
		saCall(t, ts, profilePath, carolTok, http.StatusUnauthorized, "", "revoked by the one click")
		_, r = patCreate(t, carolA, url.Values{"name": {"again"}, "expiry": {"30"}, "access": {"full"}})
		if !strings.Contains(lcText(r.Body), "pat-full-scope") {
			t.Errorf("refusal does not name the policy: %s", lcText(r.Body))
		}
	})

	t.Run("CLI: policies, allowlist, token list and revoke, descriptor", func(t *testing.T) {
		sqliteOnly(t) // the CLI runs on the server's database file
		cli := func(args ...string) cliResult { return oauthdesk(t, cliRun{}, append(args, "--db", ts.DBPath)...) }
		mustSucceed(t, cli("policy", "set", "pat-creation", "allowlist"))
		if _, r := patCreate(t, carolA, url.Values{"name": {"x"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}}); !strings.Contains(lcText(r.Body), "pat-creation") {
			t.Errorf("allowlist refusal: %s", lcText(r.Body))
		}
		mustSucceed(t, cli("policy", "pat-allowlist", "add", "carol"))
		tok, r := patCreate(t, carolA, url.Values{"name": {"allowed"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
		if tok == "" {
			t.Fatalf("allowlisted carol: %s", lcText(r.Body))
		}
		if r := cli("policy", "set", "pat-full-scope", "maybe"); r.code != 2 {
			t.Errorf("bad value: %s", r)
		}
		out := mustSucceed(t, cli("token", "list", "--user", "carol", "--json"))
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out.stdout), &rows); err != nil || len(rows) != 2 {
			t.Fatalf("token list --json: %v %s", err, out)
		}
		var id string
		for _, row := range rows {
			if row["name"] == "allowed" {
				id, _ = row["id"].(string)
			}
		}
		mustSucceed(t, cli("token", "revoke", id))
		// Another process: refused within the stated bound (the change
		// watcher looks every 250 ms; README says within 1 s).
		deadline := time.Now().Add(time.Second)
		for {
			status, _ := patCall(t, ts, http.MethodGet, profilePath, "Bearer "+tok, nil)
			if status == http.StatusUnauthorized {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("token revoked by the CLI still answered %d after 1 s", status)
			}
			time.Sleep(20 * time.Millisecond)
		}
		out = mustSucceed(t, cli("user", "list", "--json"))
		if !strings.Contains(out.stdout, `"descriptor": "`+domain.SubjectDescriptor(bob.ID)+`"`) {
			t.Errorf("user list --json lacks the descriptor: %s", out.stdout)
		}
		out = mustSucceed(t, cli("token", "scanner", "create", "gitleaks"))
		if !strings.Contains(out.stdout, "odscan_") {
			t.Errorf("scanner create: %s", out)
		}
		mustSucceed(t, cli("token", "scanner", "revoke", "gitleaks"))
		if r := cli("token", "revoke", "--user", "nobody"); r.code != 2 {
			t.Errorf("unknown user: %s", r)
		}
	})
}

// Personal access tokens count in the scope audit and the metrics, and
// their owners hear about expiry seven days ahead.
func TestPATAudits(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	_, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	// An app holding vso.profile puts the scope in the inventory.
	registerThroughDashboard(t, rootA, "vso.profile")
	patCreate(t, bobA, url.Values{"name": {"p1"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
	patCreate(t, bobA, url.Values{"name": {"via code"}, "expiry": {"90"}, "access": {"custom"}, "scope": {"vso.code"}})
	patCreate(t, bobA, url.Values{"name": {"soon"}, "expiry": {"custom"}, "expires_on": {time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02")}, "access": {"custom"}, "scope": {"vso.graph"}})
	tok, _ := patCreate(t, bobA, url.Values{"name": {"gone"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
	mustRevoke := func() {
		id := patIDOf(t, ts, userIDOf(t, ts, "bob"), "gone")
		if _, err := ts.App.PATs.Revoke(context.Background(), id, ""); err != nil {
			t.Fatal(err)
		}
	}
	mustRevoke()
	saCall(t, ts, profilePath, tok, http.StatusUnauthorized, "", "revoked")

	page := rootA.get("/admin/scopes").Body
	// The tokens make rows of their own (vso.code, vso.graph): read
	// vso.profile's.
	m := regexp.MustCompile(`data-scope="vso.profile"[\s\S]*?data-testid="scope-pats">(\d+)<`).FindAllStringSubmatch(page, -1)
	if len(m) == 0 || m[0][1] != "2" {
		t.Errorf("scope inventory PAT holders of vso.profile: %v, want 2 (p1 and via code; the revoked one not)", m)
	}
	if drill := lcText(rootA.get("/admin/scopes/vso.profile").Body); !strings.Contains(drill, "2 personal access tokens hold it") {
		t.Errorf("scope page lacks its PAT holders: %s", drill)
	}
	list := lcText(rootA.get("/admin/tokens?scope=vso.profile&state=active").Body)
	if !strings.Contains(list, "p1") || !strings.Contains(list, "via code") || strings.Contains(list, "gone") {
		t.Errorf("holders list: %s", list)
	}

	if rep := lcText(rootA.get("/admin/reports").Body); !strings.Contains(rep, "Personal access tokens expiring within 30 days") || !strings.Contains(rep, "soon") || strings.Contains(rep, "via code") {
		t.Errorf("expiry report's token section: %s", rep)
	}
	metrics := rootA.get("/metrics").Body
	for _, want := range []string{`oauthdesk_personal_access_tokens{state="critical"} 1`, `oauthdesk_personal_access_tokens{state="expiring"} 1`, `oauthdesk_personal_access_tokens{state="ok"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	n, err := ts.App.PATs.NotifyExpiring(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("NotifyExpiring: %d %v, want 1", n, err)
	}
	if n, _ := ts.App.PATs.NotifyExpiring(context.Background()); n != 0 {
		t.Errorf("second run told %d owners again", n)
	}
	if page := lcText(bobA.get("/profile/apps").Body); !strings.Contains(page, "Expiring within 7 days: soon.") {
		t.Errorf("no expiry banner on bob's next visit: %s", page)
	}
	r := bobA.postForm("/profile/notices/dismiss", url.Values{"_csrf": {bobA.csrf("/profile/tokens")}})
	if r.Status != http.StatusSeeOther || strings.Contains(lcText(bobA.get("/profile/tokens").Body), "Expiring within 7 days") {
		t.Errorf("dismiss: %d", r.Status)
	}
}

func userIDOf(t *testing.T, ts *testServer, username string) string {
	t.Helper()
	u, err := ts.App.Admin.UserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// With mail configured, a token's owner gets a mail when a scanner finds
// it leaked and seven days before it expires.
func TestPATMail(t *testing.T) {
	t.Parallel()
	sink, smtpURL := startSMTP(t)
	ts := newTestServerWith(t, func(c *server.Config) { c.Reports = server.ReportConfig{SMTPURL: smtpURL} })
	_, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	leak, _ := patCreate(t, bobA, url.Values{"name": {"pasted in a gist"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}})
	patCreate(t, bobA, url.Values{"name": {"short lived"}, "expiry": {"custom"}, "expires_on": {time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")}, "access": {"custom"}, "scope": {"vso.profile"}})
	_, scanner, err := ts.App.PATs.CreateScanner(context.Background(), "gitleaks")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := patCall(t, ts, http.MethodPost, "/_apis/tokens/pats/leaked", "Bearer "+scanner, map[string]any{"tokens": []string{leak}}); st != http.StatusAccepted {
		t.Fatalf("leaked: %d", st)
	}
	if _, err := ts.App.PATs.NotifyExpiring(context.Background()); err != nil {
		t.Fatal(err)
	}
	var leaked, expiring bool
	for _, m := range sink.messages() {
		// Unfold long header lines and quoted-printable soft breaks.
		data := strings.NewReplacer("\r\n ", " ", "=\r\n", "").Replace(m.data)
		if len(m.to) == 1 && m.to[0] == "bob@example.com" {
			leaked = leaked || strings.Contains(data, "pasted in a gist was revoked")
			expiring = expiring || strings.Contains(data, "short lived expires on")
		}
	}
	if !leaked || !expiring {
		t.Errorf("mails to bob: leaked %v, expiring %v; got %d message(s)", leaked, expiring, len(sink.messages()))
	}
}

// The expiry report's sinks carry the personal access token section: a
// file beside the secrets' files and a CSV attachment to the report mail.
func TestPATExpiryReportSinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sink, smtpURL := startSMTP(t)
	hooked := make(chan map[string]any, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		hooked <- body
	}))
	t.Cleanup(hook.Close)
	ts := newTestServerWith(t, func(c *server.Config) {
		c.Reports = server.ReportConfig{Dir: dir, Webhook: hook.URL, SMTPURL: smtpURL, To: []string{"security@example.com"}}
	})
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	_, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	patCreate(t, bobA, url.Values{"name": {"expires soon"}, "expiry": {"custom"}, "expires_on": {time.Now().UTC().AddDate(0, 0, 10).Format("2006-01-02")}, "access": {"custom"}, "scope": {"vso.profile"}})
	patCreate(t, bobA, url.Values{"name": {"lives long"}, "expiry": {"90"}, "access": {"custom"}, "scope": {"vso.profile"}})
	r := rootA.postForm("/admin/reports/run", url.Values{"_csrf": {rootA.csrf("/admin/reports")}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("run the report: %d %s", r.Status, lcText(r.Body))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "pats-expiry-*.json"))
	if len(files) != 1 {
		t.Fatalf("token section files: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil || len(rows) != 1 || rows[0]["name"] != "expires soon" || rows[0]["owner"] != "bob" {
		t.Errorf("token section: %v %s", err, b)
	}
	select {
	case body := <-hooked:
		list, _ := body["personal_access_tokens"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["name"] != "expires soon" {
			t.Errorf("webhook body's token section: %v", body["personal_access_tokens"])
		}
	case <-time.After(5 * time.Second):
		t.Error("no webhook call")
	}
	eventually(t, 5*time.Second, "the report mail", func() bool {
		for _, m := range sink.messages() {
			if len(m.to) == 1 && m.to[0] == "security@example.com" && strings.Contains(m.data, "personal-access-tokens.csv") {
				return true
			}
		}
		return false
	})
}

// A scope that only personal access tokens hold is in the scope audit:
// /admin/scopes has its row with the token holders counted (directly and
// through a wider scope, each token once), its page lists the tokens and
// how each holds it, and a revoked token drops out on the next load.
func TestPATOnlyScopeInInventory(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	_, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	// No app registers vso.build or vso.build_execute, and no authorization
	// grants them.
	if tok, r := patCreate(t, bobA, url.Values{"name": {"pipeline reader"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.build"}}); tok == "" {
		t.Fatalf("create: %s", lcText(r.Body))
	}
	if tok, r := patCreate(t, bobA, url.Values{"name": {"pipeline runner"}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.build_execute"}}); tok == "" {
		t.Fatalf("create: %s", lcText(r.Body))
	}
	pats := regexp.MustCompile(`data-scope="([^"]+)"[\s\S]*?data-testid="scope-pats">(\d+)<`)
	counts := func() map[string]string {
		out := map[string]string{}
		for _, m := range pats.FindAllStringSubmatch(rootA.get("/admin/scopes").Body, -1) {
			out[m[1]] = m[2]
		}
		return out
	}
	got := counts()
	// vso.build: the reader directly, the runner through vso.build_execute.
	if got["vso.build"] != "2" || got["vso.build_execute"] != "1" {
		t.Fatalf("inventory token holders: %v, want vso.build 2 and vso.build_execute 1", got)
	}
	drill := rootA.get("/admin/scopes/vso.build")
	if drill.Status != http.StatusOK {
		t.Fatalf("/admin/scopes/vso.build: %d", drill.Status)
	}
	if text := lcText(drill.Body); !strings.Contains(text, "2 personal access tokens hold it") ||
		!strings.Contains(text, "through vso.build_execute: 0 apps, 0 authorizations, 1 personal access token") {
		t.Errorf("scope page counts: %s", text)
	}
	list := rootA.get("/admin/scopes/vso.build?tab=tokens")
	if list.Status != http.StatusOK {
		t.Fatalf("tokens tab: %d", list.Status)
	}
	rows := regexp.MustCompile(`(?s)data-testid="scope-token-row".*?</tr>`).FindAllString(list.Body, -1)
	holds := map[string]string{}
	for _, r := range rows {
		text := lcText(r)
		if !strings.Contains(text, "bob") {
			t.Errorf("token row without its owner: %s", text)
		}
		for _, name := range []string{"pipeline reader", "pipeline runner"} {
			if strings.Contains(text, name) {
				holds[name] = text
			}
		}
	}
	if len(rows) != 2 || !strings.Contains(holds["pipeline reader"], "directly") || !strings.Contains(holds["pipeline runner"], "via vso.build_execute") {
		t.Errorf("tokens tab rows: %q", rows)
	}

	// Revoked, the runner no longer holds anything: vso.build_execute's
	// row goes, vso.build counts the reader alone.
	id := patIDOf(t, ts, userIDOf(t, ts, "bob"), "pipeline runner")
	if _, err := ts.App.PATs.Revoke(context.Background(), id, ""); err != nil {
		t.Fatal(err)
	}
	got = counts()
	if got["vso.build"] != "1" {
		t.Errorf("after the revocation: %v, want vso.build 1", got)
	}
	if _, ok := got["vso.build_execute"]; ok {
		t.Errorf("vso.build_execute still listed after its only holder was revoked: %v", got)
	}
	if r := rootA.get("/admin/scopes/vso.build_execute"); r.Status != http.StatusNotFound {
		t.Errorf("/admin/scopes/vso.build_execute after the revocation: %d, want 404", r.Status)
	}

	// The scope report (CLI) has the same row and count.
	out := mustSucceed(t, oauthdesk(t, cliRun{}, "report", "scopes", "--format", "json", "--db", ts.DBPath))
	var report []struct {
		Scope string `json:"scope"`
		PATs  int64  `json:"personal_access_tokens"`
	}
	if err := json.Unmarshal([]byte(out.stdout), &report); err != nil {
		t.Fatalf("report scopes --format json: %v\n%s", err, out.stdout)
	}
	found := false
	for _, r := range report {
		if r.Scope == "vso.build_execute" {
			t.Errorf("report scopes still lists vso.build_execute: %+v", r)
		}
		if r.Scope == "vso.build" {
			found = true
			if r.PATs != 1 {
				t.Errorf("report scopes: vso.build held by %d tokens, want 1", r.PATs)
			}
		}
	}
	if !found {
		t.Errorf("report scopes lacks vso.build: %s", out.stdout)
	}
	out = mustSucceed(t, oauthdesk(t, cliRun{}, "report", "scopes", "--format", "csv", "--db", ts.DBPath))
	recs, err := csv.NewReader(strings.NewReader(out.stdout)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("report scopes --format csv: %v\n%s", err, out.stdout)
	}
	col := slices.Index(recs[0], "personal_access_tokens")
	held := ""
	for _, r := range recs[1:] {
		if col >= 0 && r[0] == "vso.build" {
			held = r[col]
		}
	}
	if held != "1" {
		t.Errorf("report scopes --format csv: vso.build held by %q tokens, want 1:\n%s", held, out.stdout)
	}
}
