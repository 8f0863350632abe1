package e2e

// Several replicas: real `oauthdesk serve` processes, built from this
// tree, on one PostgreSQL database. Runs when OAUTHDESK_TEST_POSTGRES is
// set (in the first, SQLite pass of `make test`: the replicas bring their
// own database either way).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// replica is one running `oauthdesk serve` process.
type replica struct {
	name string
	URL  string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// syncBuffer is a bytes.Buffer safe for the process's two streams.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startReplica runs `oauthdesk serve` on dbURL with the public base URL
// base ("" = its own address), waits until /readyz answers 200, and stops
// it (SIGTERM) when the test ends.
// replicaKeys maps a database URL to the key file its replicas share (in
// a temp dir, never the source tree).
var replicaKeys sync.Map

func replicaKeyFile(t *testing.T, dbURL string) string {
	if p, ok := replicaKeys.Load(dbURL); ok {
		return p.(string)
	}
	p, _ := replicaKeys.LoadOrStore(dbURL, filepath.Join(t.TempDir(), "oauthdesk.key"))
	return p.(string)
}

func startReplica(t *testing.T, name, dbURL, base string, args ...string) *replica {
	t.Helper()
	addr := freeAddr(t)
	own := "http://" + addr
	if base == "" {
		base = own
	}
	r := &replica{name: name, URL: own, out: &syncBuffer{}, done: make(chan error, 1)}
	r.cmd = exec.Command(cliBinary(t), append([]string{"serve", "--db", dbURL, "--addr", addr, "--base-url", base}, args...)...)
	r.cmd.Env = cliEnv("OAUTHDESK_KEY_FILE=" + replicaKeyFile(t, dbURL))
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(15 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
			t.Errorf("replica %s did not stop on SIGTERM within 15 s", name)
		}
		if t.Failed() {
			t.Logf("replica %s output:\n%s", name, r.out)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(own + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		select {
		case err := <-r.done:
			t.Fatalf("replica %s exited: %v\n%s", name, err, r.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s not ready within 60 s\n%s", name, r.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill9 kills the replica with SIGKILL: no shutdown, no final flush.
func (r *replica) kill9(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.done
	r.done <- errors.New("killed") // for the cleanup
}

// agentAt is a user agent on base sharing jar (one browser talking to
// whichever replica the proxy picks).
func agentAt(t *testing.T, base string, jar http.CookieJar) *agent {
	return &agent{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// browserOn returns a fresh cookie jar's agents on a and b.
func browserOn(t *testing.T, a, b *replica) (*agent, *agent) {
	jar, _ := cookiejar.New(nil)
	return agentAt(t, a.URL, jar), agentAt(t, b.URL, jar)
}

// refusedWithin polls the profile API on r with token until it answers
// 401 and returns how long that took after since; it fails after limit.
func refusedWithin(t *testing.T, r *replica, token string, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for {
		status, _, _ := callAPI(t, r.URL, profilePath, token)
		if status == http.StatusUnauthorized {
			return time.Since(since)
		}
		if status != http.StatusOK {
			t.Fatalf("profile API on %s: %d, want 200 or 401", r.name, status)
		}
		if time.Since(since) > limit {
			t.Fatalf("replica %s still accepts the token %v after the commit, want refused within %v", r.name, time.Since(since), limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReplicasOnPostgres(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set: the replica tests need PostgreSQL")
	}
	if onPostgres() {
		t.Skip("runs once, in the first pass of make test")
	}
	dbURL := storetest.NewPostgres(t)
	const rootPW, memberPW = "correct horse battery", "member's long password"
	mustSucceed(t, oauthdesk(t, cliRun{stdin: rootPW + "\n"}, "user", "add", "root", "--role", "admin", "--password-stdin", "--db", dbURL))
	members := []string{"bob", "carol", "dave1", "dave2", "dave3", "dave4"}
	for _, m := range members {
		mustSucceed(t, oauthdesk(t, cliRun{stdin: memberPW + "\n"}, "user", "add", m, "--role", "member", "--password-stdin", "--db", dbURL))
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	started := time.Now() // before A's first scheduled report
	a := startReplica(t, "A", dbURL, "", "--report-schedule", "@every 1s", "--report-dir", dirA)
	// One public URL for both (what a proxy in front of them serves).
	b := startReplica(t, "B", dbURL, a.URL, "--report-schedule", "@every 1s", "--report-dir", dirB)

	adminA, adminB := browserOn(t, a, b)
	var app registeredApp
	t.Run("sign in on A, continue the session on B", func(t *testing.T) {
		adminA.t, adminB.t = t, t
		adminA.signIn("root", rootPW)
		r := adminB.get("/admin/apps")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "/signout") {
			t.Fatalf("GET /admin/apps on B with A's session: %d (location %q), want the signed-in page", r.Status, r.Location())
		}
		app = registerThroughDashboard(t, adminA, "vso.work")
	})
	if app.ClientID == "" {
		t.FailNow()
	}

	bobA, bobB := browserOn(t, a, b)
	var bobToken string
	t.Run("authorize on A, exchange on B, profile API on A", func(t *testing.T) {
		bobA.t, bobB.t = t, t
		bobA.signIn("bob", memberPW)
		code := approve(t, bobA, app, "vso.work", "replicas")
		pair := postToken(t, b.URL, formType, codeBody(app.Secret, code, callbackURL))
		wantTokens(t, pair)
		bobToken = pair.str("access_token")
		if status, _, p := callAPI(t, a.URL, profilePath, bobToken); status != http.StatusOK || p["emailAddress"] == nil {
			t.Fatalf("profile API on A with a token from B: %d %v", status, p)
		}
	})

	t.Run("revoke on B: B refuses at once, A within 1 s", func(t *testing.T) {
		bobB.t = t
		authz := lcClaims(t, bobToken)["aui"]
		path := "/profile/authorizations/" + authz + "/revoke"
		r := bobB.postForm(path, url.Values{"_csrf": {bobB.csrf(path)}})
		committed := time.Now()
		if r.Status != http.StatusSeeOther {
			t.Fatalf("revoke on B: %d", r.Status)
		}
		if status, _, _ := callAPI(t, b.URL, profilePath, bobToken); status != http.StatusUnauthorized {
			t.Errorf("B accepts the token it just revoked: %d", status)
		}
		t.Logf("A refused the revoked token %v after B's commit", refusedWithin(t, a, bobToken, committed, time.Second).Round(time.Millisecond))
	})

	carolA, _ := browserOn(t, a, b)
	t.Run("regenerate the secret on A: B refuses its tokens", func(t *testing.T) {
		adminA.t, carolA.t = t, t
		carolA.signIn("carol", memberPW)
		pair := postToken(t, a.URL, formType, codeBody(app.Secret, approve(t, carolA, app, "vso.work", "c"), callbackURL))
		wantTokens(t, pair)
		if status, _, _ := callAPI(t, b.URL, profilePath, pair.str("access_token")); status != http.StatusOK {
			t.Fatalf("fresh token on B: %d", status)
		}
		path := "/admin/apps/" + app.ClientID + "/secrets/primary/regenerate"
		r := adminA.postForm(path, url.Values{"_csrf": {adminA.csrf(path)}})
		committed := time.Now()
		if r.Status != http.StatusSeeOther {
			t.Fatalf("regenerate on A: %d", r.Status)
		}
		refusedWithin(t, b, pair.str("access_token"), committed, time.Second)
		old := app.Secret
		app.Secret = lcNewSecret(t, adminA, app.ClientID, "primary")
		if res := postToken(t, b.URL, formType, refreshBody(old, pair.str("refresh_token"), callbackURL)); res.Status == http.StatusOK {
			t.Errorf("B refreshed with the regenerated secret: %v", res.Raw)
		}
	})

	t.Run("create a secret on A, it is shown once through B", func(t *testing.T) {
		adminA.t, adminB.t = t, t
		page := adminA.get("/admin/apps/" + app.ClientID)
		r := adminA.postForm("/admin/apps/"+app.ClientID+"/secrets/alternative", url.Values{"_csrf": {csrfRE.FindStringSubmatch(page.Body)[1]}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("add alternative on A: %d", r.Status)
		}
		shown := adminB.get("/admin/apps/" + app.ClientID)
		m := newSecretRE.FindStringSubmatch(shown.Body)
		if m == nil {
			t.Fatalf("B does not show the secret created on A (status %d)", shown.Status)
		}
		if again := adminA.get("/admin/apps/" + app.ClientID); newSecretRE.MatchString(again.Body) {
			t.Error("the secret is shown again, on A, after B showed it")
		}
		// The new secret works (on A).
		code := approve(t, carolA.lcFor(t), app, "vso.work", "alt")
		wantTokens(t, postToken(t, a.URL, formType, codeBody(m[1], code, callbackURL)))
	})

	t.Run("kill -9 A under refresh load while B serves", func(t *testing.T) {
		type client struct {
			name             string
			refresh, access  string
			rotatedByTheDead bool // A took its last refresh token and died before answering
			refreshes        int
		}
		var clients []*client
		for _, m := range members[2:] {
			u, _ := browserOn(t, a, b)
			u.t = t
			u.signIn(m, memberPW)
			p := postToken(t, a.URL, formType, codeBody(app.Secret, approve(t, u, app, "vso.work", m), callbackURL))
			wantTokens(t, p)
			clients = append(clients, &client{name: m, refresh: p.str("refresh_token"), access: p.str("access_token")})
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		hc := &http.Client{Timeout: 10 * time.Second}
		refreshOn := func(base, token string) (int, map[string]any, error) {
			resp, err := hc.Post(base+"/oauth2/token", formType, strings.NewReader(refreshBody(app.Secret, token, callbackURL)))
			if err != nil {
				return 0, nil, err
			}
			defer resp.Body.Close()
			var raw map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
				return resp.StatusCode, nil, err
			}
			return resp.StatusCode, raw, nil
		}
		var mu sync.Mutex
		var problems []string
		for _, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 400; i++ {
					select {
					case <-stop:
						return
					default:
					}
					base := a.URL
					if i%2 == 1 {
						base = b.URL
					}
					status, raw, err := refreshOn(base, c.refresh)
					if err != nil && base == a.URL {
						// A is gone (or died mid-request): the client retries on B.
						status, raw, err = refreshOn(b.URL, c.refresh)
						if err == nil && status != http.StatusOK {
							c.rotatedByTheDead = true
							return
						}
					}
					if err != nil || status != http.StatusOK {
						mu.Lock()
						problems = append(problems, fmt.Sprintf("%s: refresh %d on %s: %d %v %v", c.name, i, base, status, raw, err))
						mu.Unlock()
						return
					}
					c.refresh, c.access = raw["refresh_token"].(string), raw["access_token"].(string)
					c.refreshes++
				}
			}()
		}
		time.Sleep(1500 * time.Millisecond)
		a.kill9(t)
		time.Sleep(1500 * time.Millisecond)
		close(stop)
		wg.Wait()
		for _, p := range problems {
			t.Error(p)
		}
		for _, c := range clients {
			t.Logf("%s: %d refreshes received", c.name, c.refreshes)
			if c.refreshes == 0 {
				t.Errorf("%s: no refresh succeeded: the load did not run", c.name)
			}
			if c.rotatedByTheDead {
				t.Logf("%s: its last refresh token was spent by A as A died (legitimately rotated; the app signs in again)", c.name)
				continue
			}
			if status, _, _ := callAPI(t, b.URL, profilePath, c.access); status != http.StatusOK {
				t.Errorf("%s: the last access token received (%d refreshes) is refused on B: %d", c.name, c.refreshes, status)
			}
			if status, raw, err := refreshOn(b.URL, c.refresh); err != nil || status != http.StatusOK {
				t.Errorf("%s: the last refresh token received does not refresh on B: %d %v %v", c.name, status, raw, err)
			}
		}
	})

	t.Run("audit log verifies; no scheduled report ran twice", func(t *testing.T) {
		r := mustSucceed(t, oauthdesk(t, cliRun{}, "audit", "verify", "--db", dbURL))
		if !strings.HasPrefix(r.stdout, "Audit log intact") {
			t.Fatalf("audit verify:\n%s", r)
		}
		raw, err := (&testServer{DBPath: dbURL}).openRaw()
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		rows, err := raw.db.Query(`SELECT started_at FROM report_runs WHERE trigger = 'schedule' ORDER BY started_at`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var at []time.Time
		for rows.Next() {
			var s time.Time
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			at = append(at, s)
		}
		elapsed := time.Since(started)
		if len(at) < 2 {
			t.Fatalf("%d scheduled reports in %v, want several", len(at), elapsed)
		}
		// Both replicas fire on every whole second (@every 1s); each
		// second's slot runs once between them, so there are at most as
		// many scheduled runs as seconds passed (twice as many if both ran
		// every slot while both lived).
		if max := int(elapsed/time.Second) + 2; len(at) > max {
			t.Errorf("%d scheduled reports in %v (at most %d slots): a slot ran on both replicas", len(at), elapsed, max)
		}
		files := func(dir string) []string { m, _ := filepath.Glob(filepath.Join(dir, "expiry-*.json")); return m } // one expiry report a run (the token section and audit checkpoints are files of their own)
		fa, fb := files(dirA), files(dirB)
		if len(fa)+len(fb) != len(at) {
			t.Errorf("%d+%d report files for %d scheduled runs", len(fa), len(fb), len(at))
		}
		t.Logf("%d scheduled reports in %v (A wrote %d, B %d)", len(at), elapsed.Round(time.Second), len(fa), len(fb))
	})
}
