package e2e

// Every dashboard page's queries are index-backed: the real server on a
// database filled by `oauthdesk dev seed` (and ANALYZEd), every page loaded
// by a signed-in admin and member, every query it ran recorded, and
// EXPLAIN QUERY PLAN run for each. A full SCAN of authorizations, apps,
// audit events, scope usage (or the scope aggregates and client secrets)
// fails the test. An ordered index walk with a LIMIT (the app listing by
// name, a search filtering that walk) stops at the page's end and is
// allowed; without a LIMIT it is a full scan too. So is the audit log
// walked in its rowid (seq) order with a LIMIT.

import (
	"database/sql"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/server"
)

// planKnownMisses are queries known to scan, each with the reason; the
// test logs them (they are the open rows of the scale issue) and fails on
// any other scan. Matched by a fragment of the query text.
var planKnownMisses = map[string]string{
	// The overview's authorization-state counts, which read every live
	// refresh token, were replaced by per-app counts of the expiring apps
	// shown. The scope audit's live personal access tokens per scope set,
	// a walk of every live token (pats_live_scopes), were replaced by the
	// aggregate pat_scope_sets (migration 00025) and a range of the tokens
	// expired since its watermark.
}

// planWatched are the tables no page may scan.
var planWatched = []string{"authorizations", "apps", "audit_events", "scope_usage", "authorization_scopes", "app_scopes", "client_secrets", "refresh_tokens", "app_search_terms", "pats"}

var (
	planAliasRE = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([a-z_]+)(?:\s+AS)?\s+([a-z_][a-z0-9_]*)`)
	planScanRE  = regexp.MustCompile(`^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?`)
	planLimitRE = regexp.MustCompile(`(?i)\bLIMIT\b`)
	// audit_events.seq is its rowid: ordering by it walks the table itself.
	planSeqOrderRE = regexp.MustCompile(`(?i)ORDER BY\s+seq\b`)
)

// planTable resolves the name a plan line scans (a table or an alias of
// query) to its table.
func planTable(query, name string) string {
	for _, m := range planAliasRE.FindAllStringSubmatch(query, -1) {
		if strings.EqualFold(m[2], name) {
			return strings.ToLower(m[1])
		}
	}
	return strings.ToLower(name)
}

func TestDashboardQueryPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a database")
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "seeded.db")
	cmd := exec.Command(cliBinary(t), "dev", "seed", "--db", dbPath, "--password-stdin",
		"--apps", "3000", "--users", "300", "--authorizations", "30000", "--audit-events", "20000", "--pats", "3000")
	cmd.Stdin = strings.NewReader(scalePassword + "\n")
	cmd.Env = cliEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dev seed: %v\n%s", err, out)
	}
	ts := newTestServerWith(t, func(c *server.Config) { c.DBPath = dbPath })

	ro, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	one := func(q string) string {
		var v string
		if err := ro.QueryRow(q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	popular := one(`SELECT client_id FROM apps ORDER BY active_authorizations DESC LIMIT 1`)
	appName := one(`SELECT name FROM apps WHERE client_id = '` + popular + `'`)
	heavy := one(`SELECT user_id FROM authorizations GROUP BY user_id ORDER BY COUNT(*) DESC LIMIT 1`)
	heavyName := one(`SELECT username FROM users WHERE id = '` + heavy + `'`)
	actor := one(`SELECT actor FROM audit_events WHERE seq = 1000`)
	ownerName := one(`SELECT u.username FROM users u JOIN (SELECT owner_id, COUNT(*) n FROM apps GROUP BY owner_id ORDER BY n DESC LIMIT 1) o ON o.owner_id = u.id`)
	patUser := one(`SELECT user_id FROM pats GROUP BY user_id ORDER BY COUNT(*) DESC LIMIT 1`)
	patUserName := one(`SELECT username FROM users WHERE id = '` + patUser + `'`)
	patName := one(`SELECT name FROM pats ORDER BY created_at LIMIT 1 OFFSET 1000`)

	type stmt struct {
		query string
		args  []any
		page  string
	}
	var mu sync.Mutex
	seen := map[string]stmt{}
	page := ""
	stop := ts.App.DB.TraceQueries(func(q string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := seen[q]; !ok && strings.HasPrefix(strings.ToUpper(strings.TrimSpace(q)), "SELECT") {
			seen[q] = stmt{q, args, page}
		}
	})
	defer stop()

	admin := ts.newAgent(t)
	admin.signIn("admin", scalePassword)
	member := ts.newAgent(t)
	member.signIn(heavyName, scalePassword)
	owner := ts.newAgent(t)
	owner.signIn(ownerName, scalePassword)
	q := url.QueryEscape
	pages := []struct {
		a    *agent
		path string
	}{
		{admin, "/admin"}, {admin, "/admin/apps"}, {admin, "/admin/apps?state=expiring"}, {admin, "/admin/apps?state=critical"},
		{admin, "/admin/apps?state=expired"}, {admin, "/admin/apps?q=" + q(appName)}, {admin, "/admin/apps?q=" + q(popular)},
		{admin, "/admin/apps/" + popular}, {admin, "/admin/apps/" + popular + "?q=a"}, {admin, "/admin/apps/" + popular + "/scopes"},
		{admin, "/admin/scopes"}, {admin, "/admin/scopes?high=1"}, {admin, "/admin/scopes/vso.profile"},
		{admin, "/admin/scopes/vso.profile?tab=authorizations"}, {admin, "/admin/users"}, {admin, "/admin/users?q=a"},
		{admin, "/admin/users/" + heavy}, {admin, "/admin/users/" + heavy + "?q=a"}, {admin, "/admin/audit"},
		{admin, "/admin/audit?actor=" + q(actor)}, {admin, "/admin/audit?action=app.delete"}, {admin, "/admin/audit?target_type=app"},
		{admin, "/admin/audit?before=5000"}, {admin, "/admin/reports"}, {admin, "/admin/settings"},
		{admin, "/admin/users/" + heavy + "/activity"}, {admin, "/admin/audit?user=" + q(heavy)},
		{admin, "/admin/apps/" + popular + "/activity"}, {admin, "/admin/audit?app=" + q(popular)},
		{member, "/profile/authorizations"}, {owner, "/profile/apps"},
		{admin, "/admin/apps?sort=expiry"}, {admin, "/admin/apps?sort=age&dir=desc"}, {admin, "/admin/apps?sort=authorizations&dir=desc"},
		{admin, "/admin/apps?status=pending"}, {admin, "/admin/apps?q=zzzz-nothing"}, {admin, "/admin/apps?q=" + q(popular[:8])},
		{admin, "/admin/apps?q=a+b&sort=expiry"},
		// Personal access tokens: every filter of /admin/tokens (each
		// followed to its next page: the keyset), a scope's tokens, the
		// user page with the most.
		{admin, "/admin/tokens"}, {admin, "/admin/tokens?q=" + q(patName)}, {admin, "/admin/tokens?q=" + q(patUserName)},
		{admin, "/admin/tokens?owner=" + q(patUserName)}, {admin, "/admin/tokens?scope=vso.code"},
		{admin, "/admin/tokens?state=active"}, {admin, "/admin/tokens?state=expired"}, {admin, "/admin/tokens?state=revoked"},
		{admin, "/admin/tokens?state=active&expiring=30"}, {admin, "/admin/tokens?full=1"}, {admin, "/admin/tokens?unused=90"},
		{admin, "/admin/tokens?full=1&unused=90"}, {admin, "/admin/scopes/vso.profile?tab=tokens"}, {admin, "/admin/users/" + patUser},
	}
	next := regexp.MustCompile(`href="([^"]+)"[^>]*data-testid="next-page"|data-testid="next-page"[^>]*href="([^"]+)"|href="([^"]+)" rel="next"`)
	load := func(a *agent, path string) {
		mu.Lock()
		page = path
		mu.Unlock()
		r := a.get(path)
		if r.Status != http.StatusOK {
			t.Errorf("GET %s: status %d", path, r.Status)
			return
		}
		if m := next.FindStringSubmatch(r.Body); m != nil && !strings.Contains(path, "after=") {
			link := strings.ReplaceAll(m[1]+m[2]+m[3], "&amp;", "&")
			mu.Lock()
			page = link
			mu.Unlock()
			if r := a.get(link); r.Status != http.StatusOK {
				t.Errorf("GET %s (next page of %s): status %d", link, path, r.Status)
			}
		}
	}
	for _, p := range pages {
		load(p.a, p.path)
	}
	stop()

	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 20 {
		t.Fatalf("only %d distinct queries recorded; is the trace hooked?", len(seen))
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	keyset := false
	for _, k := range keys {
		s := seen[k]
		rows, err := ro.Query("EXPLAIN QUERY PLAN "+s.query, s.args...)
		if err != nil {
			t.Errorf("EXPLAIN %s (%s): %v", s.query, s.page, err)
			continue
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		// The token list's keyset (the next page, newest first) starts an
		// index range at the cursor, on the key alone and on (key, id).
		if strings.Contains(s.query, "(p.created_at, p.id) <") {
			keyset = true
			if !slices.ContainsFunc(plan, func(l string) bool {
				return strings.HasPrefix(l, "SEARCH p USING") && strings.Contains(l, "(created_at<?)")
			}) {
				t.Errorf("page %s: the token keyset starts no index range at the cursor's created_at:\n%s\nplan:\n  %s", s.page, s.query, strings.Join(plan, "\n  "))
			}
		}
		for _, line := range plan {
			m := planScanRE.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			table := planTable(s.query, m[1])
			if !slices.Contains(planWatched, table) {
				continue
			}
			if m[2] != "" && planLimitRE.MatchString(s.query) {
				continue // an ordered index walk that stops at the page's end
			}
			if strings.HasPrefix(s.query, "SELECT COUNT(*) FROM (SELECT 1 ") && planLimitRE.MatchString(s.query) {
				continue // the app listing's match count, capped (domain.AppCountCap)
			}
			if m[2] == "" && table == "audit_events" && planLimitRE.MatchString(s.query) && planSeqOrderRE.MatchString(s.query) &&
				!slices.ContainsFunc(plan, func(l string) bool { return strings.Contains(l, "TEMP B-TREE") }) {
				continue // the table in seq (rowid) order, stopping at the page's end
			}
			known := ""
			for frag, why := range planKnownMisses {
				if strings.Contains(s.query, frag) {
					known = why
				}
			}
			if known != "" {
				t.Logf("KNOWN MISS on %s: %s (%q)", s.page, known, line)
				continue
			}
			t.Errorf("page %s scans %s (%q):\n%s\nplan:\n  %s", s.page, table, line, s.query, strings.Join(plan, "\n  "))
		}
	}
	if !keyset {
		t.Error("no next page of /admin/tokens was loaded: its keyset query is unchecked")
	}
}
