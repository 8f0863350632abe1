package e2e

// make bench-scale: every dashboard page at the size of a big tenant
// (100,000 apps, 10,000 users, 1,000,000 authorizations, 1,000,000 audit
// events), loaded by signed-in users over real HTTP from the real server,
// and the reports of the CLI over the same database. The database is
// seeded once with `oauthdesk dev seed` and kept in
// $TMPDIR/oauthdesk-bench-scale/ (OAUTHDESK_BENCH_SCALE_DIR) for reruns.
//
// These are benchmarks, run only when OAUTHDESK_BENCH_SCALE=1 (make
// bench-scale); each page is one sub-benchmark reporting p50-ms, p95-ms and
// KiB (-benchtime 20x loads each page 20 times).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the PostgreSQL run

	"github.com/oauthdesk/oauthdesk/internal/server"
)

// scaleSize is the size of the benchmark database (environment
// OAUTHDESK_BENCH_SCALE_SIZE="apps,users,authorizations,audit events").
type scaleSize struct{ Apps, Users, Authorizations, AuditEvents int }

const scalePassword = "bench-scale-password"

// scalePATs is how many personal access tokens the scale database holds
// (/admin/tokens and the user page at 100k tokens).
const scalePATs = 100_000

func scaleDB(b *testing.B) (string, scaleSize) {
	b.Helper()
	if os.Getenv("OAUTHDESK_BENCH_SCALE") != "1" {
		b.Skip("set OAUTHDESK_BENCH_SCALE=1 (make bench-scale) to seed and load a database of 100,000 apps")
	}
	size := scaleSize{100_000, 10_000, 1_000_000, 1_000_000}
	if v := os.Getenv("OAUTHDESK_BENCH_SCALE_SIZE"); v != "" {
		var n [4]int
		for i, f := range strings.SplitN(v, ",", 4) {
			n[i], _ = strconv.Atoi(strings.TrimSpace(f))
		}
		size = scaleSize{n[0], n[1], n[2], n[3]}
	}
	dir := scaleDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	// v2: the user with the most authorizations holds a hundredth of the
	// tokens too (seedPATs), so "user page (heaviest)" lists both.
	name := fmt.Sprintf("scale-%d-%d-%d-%d-pats%d-v2", size.Apps, size.Users, size.Authorizations, size.AuditEvents, scalePATs)
	path := filepath.Join(dir, name+".db")
	// OAUTHDESK_BENCH_SCALE_DB=postgres://… runs the same on PostgreSQL
	// (an empty database the first time; the marker remembers the seed).
	pg := os.Getenv("OAUTHDESK_BENCH_SCALE_DB")
	if pg != "" {
		path = pg
		name += "-pg-" + fmt.Sprintf("%x", sha256.Sum256([]byte(pg)))[:12]
	}
	marker := filepath.Join(dir, name+".seeded")
	if _, err := os.Stat(marker); err == nil {
		return path, size
	}
	if pg == "" {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(path + suffix)
		}
	}
	bin := scaleBinary(b)
	start := time.Now()
	cmd := exec.Command(bin, "dev", "seed", "--db", path, "--password-stdin",
		"--apps", strconv.Itoa(size.Apps), "--users", strconv.Itoa(size.Users),
		"--authorizations", strconv.Itoa(size.Authorizations), "--audit-events", strconv.Itoa(size.AuditEvents),
		"--pats", strconv.Itoa(scalePATs))
	cmd.Stdin = strings.NewReader(scalePassword + "\n")
	cmd.Env = cliEnv(scaleKeyEnv(path)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("dev seed: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "seeded %s in %s:\n%s", path, time.Since(start).Round(time.Second), out)
	if err := os.WriteFile(marker, out, 0o644); err != nil {
		b.Fatal(err)
	}
	return path, size
}

// scaleDir holds the kept benchmark databases and their markers
// (OAUTHDESK_BENCH_SCALE_DIR, default oauthdesk-bench-scale in the temp
// directory).
func scaleDir() string {
	if dir := os.Getenv("OAUTHDESK_BENCH_SCALE_DIR"); dir != "" {
		return dir
	}
	return filepath.Join(os.TempDir(), "oauthdesk-bench-scale")
}

// scaleKeyFile is the key file for a PostgreSQL benchmark database, kept
// beside the markers (a SQLite file has its own beside it: ""), so that no
// run leaves one in the working directory.
func scaleKeyFile(path string) string {
	if !strings.HasPrefix(path, "postgres://") && !strings.HasPrefix(path, "postgresql://") {
		return ""
	}
	return filepath.Join(scaleDir(), fmt.Sprintf("pg-%x", sha256.Sum256([]byte(path)))[:15]+".key")
}

// scaleKeyEnv passes scaleKeyFile to a command of the binary.
func scaleKeyEnv(path string) []string {
	if kf := scaleKeyFile(path); kf != "" {
		return []string{"OAUTHDESK_KEY_FILE=" + kf}
	}
	return nil
}

func scaleBinary(b *testing.B) string {
	b.Helper()
	cliBuildOnce.Do(func() { cliBinPath, cliBuildErr = buildCLI() })
	if cliBuildErr != nil {
		b.Fatalf("build oauthdesk: %v", cliBuildErr)
	}
	return cliBinPath
}

// scaleFixture names what the pages are loaded for: the busiest app,
// user and owner, a scope, a deep cursor.
type scaleFixture struct {
	PopularApp, TypicalApp, HeavyUser, HeavyUserName, Owner, OwnerName string
	AppName, Company, Actor, Day, MidName, MidID                       string
	MaxSeq                                                             int64
	PATUser, PATUserName, PATName                                      string
}

func scaleLookup(b *testing.B, path string) scaleFixture {
	b.Helper()
	driver, dsn := "sqlite3", "file:"+path+"?mode=ro&_query_only=1"
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		driver, dsn = "pgx", path
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var f scaleFixture
	for _, q := range []struct {
		sql string
		to  []any
	}{
		{`SELECT client_id FROM authorizations WHERE revoked_at IS NULL GROUP BY client_id ORDER BY COUNT(*) DESC LIMIT 1`, []any{&f.PopularApp}},
		{`SELECT a.client_id, a.name, a.company FROM apps a WHERE a.deleted_at IS NULL ORDER BY a.client_id LIMIT 1 OFFSET 777`, []any{&f.TypicalApp, &f.AppName, &f.Company}},
		{`SELECT u.id, u.username FROM users u JOIN (SELECT user_id, COUNT(*) n FROM authorizations GROUP BY user_id) z ON z.user_id = u.id
ORDER BY z.n DESC, (SELECT COUNT(*) FROM pats p WHERE p.user_id = u.id) DESC LIMIT 1`, []any{&f.HeavyUser, &f.HeavyUserName}},
		{`SELECT u.id, u.username FROM users u JOIN (SELECT owner_id, COUNT(*) n FROM apps GROUP BY owner_id ORDER BY n DESC LIMIT 1) o ON o.owner_id = u.id`, []any{&f.Owner, &f.OwnerName}},
		{`SELECT name, client_id FROM apps ORDER BY lower(name), client_id LIMIT 1 OFFSET (SELECT COUNT(*) / 2 FROM apps)`, []any{&f.MidName, &f.MidID}},
		{`SELECT COALESCE(MAX(seq), 0) FROM audit_events`, []any{&f.MaxSeq}},
		{`SELECT u.id, u.username FROM users u JOIN (SELECT user_id, COUNT(*) n FROM pats GROUP BY user_id ORDER BY n DESC LIMIT 1) p ON p.user_id = u.id`, []any{&f.PATUser, &f.PATUserName}},
		{`SELECT name FROM pats ORDER BY created_at LIMIT 1 OFFSET 5000`, []any{&f.PATName}},
		{`SELECT actor FROM audit_events WHERE seq = (SELECT MAX(seq) / 2 FROM audit_events)`, []any{&f.Actor}},
		{`SELECT substr(CAST(at AS TEXT), 1, 10) FROM audit_events WHERE seq = (SELECT MAX(seq) / 3 FROM audit_events)`, []any{&f.Day}},
	} {
		if err := db.QueryRow(q.sql).Scan(q.to...); err != nil && err != sql.ErrNoRows {
			b.Fatalf("%s: %v", q.sql, err)
		}
	}
	return f
}

// scaleServer starts the real server on the seeded database.
func scaleServer(b *testing.B, path string) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	app, err := server.Open(context.Background(), server.Config{DBPath: path, KeyFile: scaleKeyFile(path), BaseURL: base, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	b.Cleanup(func() {
		cancel()
		<-done
		_ = app.Close()
	})
	return base
}

// scaleAgent is a signed-in browser-like client.
type scaleAgent struct {
	base string
	c    *http.Client
}

var scaleCSRF = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func scaleSignIn(b *testing.B, base, username string) *scaleAgent {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	a := &scaleAgent{base: base, c: &http.Client{Jar: jar, Timeout: 120 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := a.get(b, "/signin")
	m := scaleCSRF.FindSubmatch(body)
	if m == nil {
		b.Fatal("no CSRF token on /signin")
	}
	resp, err := a.c.PostForm(base+"/signin", url.Values{"_csrf": {string(m[1])}, "username": {username}, "password": {scalePassword}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		b.Fatalf("sign in as %s: status %d", username, resp.StatusCode)
	}
	return a
}

func (a *scaleAgent) get(b *testing.B, path string) (int, []byte) {
	b.Helper()
	resp, err := a.c.Get(a.base + path)
	if err != nil {
		b.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

func percentile(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return float64(s[i].Microseconds()) / 1000
}

type scalePage struct {
	name, path string
	as         *scaleAgent
}

// BenchmarkScalePages loads every dashboard page on the seeded database.
func BenchmarkScalePages(b *testing.B) {
	path, _ := scaleDB(b)
	f := scaleLookup(b, path)
	base := scaleServer(b, path)
	admin := scaleSignIn(b, base, "admin")
	heavy := scaleSignIn(b, base, f.HeavyUserName)
	owner := scaleSignIn(b, base, f.OwnerName)
	deep := base64.RawURLEncoding.EncodeToString([]byte(f.MidName + "\x00" + f.MidID))
	q := url.QueryEscape
	pages := []scalePage{
		{"overview", "/admin", admin},
		{"apps", "/admin/apps", admin},
		{"apps?state=expiring", "/admin/apps?state=expiring", admin},
		{"apps?state=critical", "/admin/apps?state=critical", admin},
		{"apps?state=expired", "/admin/apps?state=expired", admin},
		{"apps?q=name", "/admin/apps?q=" + q(f.AppName), admin},
		{"apps?q=company", "/admin/apps?q=" + q(f.Company), admin},
		{"apps?q=client-id", "/admin/apps?q=" + q(f.TypicalApp), admin},
		{"apps?q=no-match", "/admin/apps?q=zzzz-nothing", admin},
		{"apps deep page", "/admin/apps?after=" + deep, admin},
		{"app detail (busiest)", "/admin/apps/" + f.PopularApp, admin},
		{"app detail (typical)", "/admin/apps/" + f.TypicalApp, admin},
		{"app scopes (busiest)", "/admin/apps/" + f.PopularApp + "/scopes", admin},
		{"scopes", "/admin/scopes", admin},
		{"scopes?high=1", "/admin/scopes?high=1", admin},
		{"users", "/admin/users", admin},
		{"user page (heaviest)", "/admin/users/" + f.HeavyUser, admin},
		{"audit", "/admin/audit", admin},
		{"audit?actor", "/admin/audit?actor=" + q(f.Actor), admin},
		{"audit?action=app.delete", "/admin/audit?action=app.delete", admin},
		{"audit?target_type=app", "/admin/audit?target_type=app", admin},
		{"audit?since&until", "/admin/audit?since=" + f.Day + "&until=" + f.Day, admin},
		{"audit older page", "/admin/audit?before=" + strconv.FormatInt(f.MaxSeq/2, 10), admin},
		{"app activity (busiest)", "/admin/apps/" + f.PopularApp + "/activity", admin},
		{"user activity (heaviest)", "/admin/users/" + f.HeavyUser + "/activity", admin},
		{"audit?app=", "/admin/audit?app=" + q(f.PopularApp), admin},
		{"audit?user=", "/admin/audit?user=" + q(f.HeavyUser), admin},
		{"reports", "/admin/reports", admin},
		{"settings", "/admin/settings", admin},
		// /admin/tokens at 100k personal access tokens, every filter.
		{"admin tokens", "/admin/tokens", admin},
		{"admin tokens?q=name", "/admin/tokens?q=" + q(f.PATName), admin},
		{"admin tokens?q=owner", "/admin/tokens?q=" + q(f.PATUserName), admin},
		{"admin tokens?q=no-match", "/admin/tokens?q=zzzz-nothing", admin},
		{"admin tokens?owner (most tokens)", "/admin/tokens?owner=" + q(f.PATUserName), admin},
		{"admin tokens?owner (heaviest)", "/admin/tokens?owner=" + q(f.HeavyUserName), admin},
		{"admin tokens?scope=vso.code", "/admin/tokens?scope=vso.code", admin},
		{"admin tokens?scope=vso.build_execute", "/admin/tokens?scope=vso.build_execute", admin},
		{"admin tokens?state=active", "/admin/tokens?state=active", admin},
		{"admin tokens?state=expired", "/admin/tokens?state=expired", admin},
		{"admin tokens?state=revoked", "/admin/tokens?state=revoked", admin},
		{"admin tokens?expiring=30", "/admin/tokens?state=active&expiring=30", admin},
		{"admin tokens?full=1", "/admin/tokens?full=1", admin},
		{"admin tokens?unused=90", "/admin/tokens?unused=90", admin},
		{"admin tokens?full=1&unused=90", "/admin/tokens?full=1&unused=90", admin},
		{"user page (most tokens)", "/admin/users/" + f.PATUser, admin},
		{"profile authorizations (heaviest)", "/profile/authorizations", heavy},
		{"profile (owner)", "/profile/authorizations", owner},
	}
	pages = append(pages, scaleExtraPages(b, f, admin, owner)...)
	// The heaviest user's page lists their tokens beside their
	// authorizations (the seed gives them a hundredth of the tokens).
	if _, body := admin.get(b, "/admin/users/"+f.HeavyUser); !bytes.Contains(body, []byte(`data-testid="token-row"`)) {
		b.Fatalf("user page (heaviest), %s: no personal access token listed", f.HeavyUserName)
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var took []time.Duration
			size := 0
			for b.Loop() {
				start := time.Now()
				status, body := p.as.get(b, p.path)
				took = append(took, time.Since(start))
				if status != http.StatusOK {
					b.Fatalf("GET %s: status %d\n%.400s", p.path, status, body)
				}
				size = len(body)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(percentile(took, 0.50), "p50-ms")
			b.ReportMetric(percentile(took, 0.95), "p95-ms")
			b.ReportMetric(float64(size)/1024, "KiB")
		})
	}
}

// scaleExtraPages follows links the pages themselves offer (drill-downs,
// next pages) so that the deep pages of every list are measured too.
func scaleExtraPages(b *testing.B, f scaleFixture, admin, owner *scaleAgent) []scalePage {
	b.Helper()
	var out []scalePage
	follow := func(name, from string, re *regexp.Regexp, as *scaleAgent) {
		status, body := as.get(b, from)
		if status != http.StatusOK {
			return
		}
		if m := re.FindSubmatch(body); m != nil {
			var link string
			for _, g := range m[1:] {
				link += string(g)
			}
			link = strings.ReplaceAll(link, "&amp;", "&")
			out = append(out, scalePage{name, link, as})
		}
	}
	next := regexp.MustCompile(`<a[^>]*href="([^"]+)"[^>]*(?:rel="next"|data-testid="next-page")`)
	follow("users next page", "/admin/users", next, admin)
	follow("user page next page", "/admin/users/"+f.HeavyUser, next, admin)
	follow("app detail next page", "/admin/apps/"+f.PopularApp, next, admin)
	follow("apps next page", "/admin/apps", next, admin)
	follow("admin tokens next page", "/admin/tokens", next, admin)
	follow("admin tokens?q=owner next page", "/admin/tokens?q="+url.QueryEscape(f.PATUserName), next, admin)
	follow("audit next page", "/admin/audit", regexp.MustCompile(`<a[^>]*href="([^"]+)"[^>]*data-testid="older-page"|href="(/admin/audit\?[^"]*before=[^"]+)"`), admin)
	for _, sc := range []string{"vso.profile", "vso.code_write"} {
		drill := "/admin/scopes/" + sc
		if status, _ := admin.get(b, drill); status == http.StatusOK {
			out = append(out, scalePage{"scope " + sc + " apps", drill, admin})
			out = append(out, scalePage{"scope " + sc + " authorizations", drill + "?tab=authorizations", admin})
			follow("scope "+sc+" authorizations next", drill+"?tab=authorizations", next, admin)
			out = append(out, scalePage{"scope " + sc + " tokens", drill + "?tab=tokens", admin})
		}
	}
	out = append(out, scalePage{"users?q", "/admin/users?q=" + url.QueryEscape(f.HeavyUserName[:4]), admin})
	out = append(out, scalePage{"user page?q", "/admin/users/" + f.HeavyUser + "?q=a", admin})
	out = append(out, scalePage{"app detail?q (busiest)", "/admin/apps/" + f.PopularApp + "?q=" + url.QueryEscape(f.HeavyUserName[:3]), admin})
	out = append(out, scalePage{"scopes?q", "/admin/scopes?q=code", admin})
	for _, p := range []string{"/admin/apps?sort=expiry", "/admin/apps?sort=age", "/admin/apps?sort=authorizations&dir=desc", "/admin/apps?status=pending"} {
		if status, _ := admin.get(b, p); status == http.StatusOK {
			out = append(out, scalePage{strings.TrimPrefix(p, "/admin/"), p, admin})
		}
	}
	for _, p := range []string{"/profile/apps", "/profile/apps/" + f.PopularApp} {
		if status, _ := owner.get(b, p); status == http.StatusOK {
			out = append(out, scalePage{"owner " + p, p, owner})
		}
	}
	return out
}

// BenchmarkScaleCLI times the reports of the CLI on the seeded database
// and reports the command's peak memory (max RSS).
func BenchmarkScaleCLI(b *testing.B) {
	path, _ := scaleDB(b)
	bin := scaleBinary(b)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"report expiry --format csv", []string{"report", "expiry", "--format", "csv"}},
		{"report expiry --within 36500d --format csv", []string{"report", "expiry", "--within", "36500d", "--format", "csv"}},
		{"report scopes --format csv", []string{"report", "scopes", "--format", "csv"}},
		{"audit export --format jsonl", []string{"audit", "export", "--format", "jsonl"}},
		{"audit verify", []string{"audit", "verify"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			var rss int64
			var outBytes int64
			for b.Loop() {
				cmd := exec.Command(bin, append(c.args, "--db", path)...)
				cmd.Env = cliEnv(scaleKeyEnv(path)...)
				var stderr bytes.Buffer
				cw := &countWriter{}
				cmd.Stdout, cmd.Stderr = cw, &stderr
				start := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatalf("%v: %v\n%s", c.args, err, stderr.String())
				}
				took = append(took, time.Since(start))
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					rss = max(rss, ru.Maxrss) // KiB on Linux
				}
				outBytes = cw.n
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(percentile(took, 0.50), "p50-ms")
			b.ReportMetric(float64(rss)/1024, "maxrss-MiB")
			b.ReportMetric(float64(outBytes)/(1<<20), "out-MiB")
		})
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
