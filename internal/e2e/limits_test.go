package e2e

// Abuse limits: bounded sign-in, rate limits, trusted proxies (IPv6
// clients keyed by their /64) and an audit log that outsiders can neither
// flood nor forge.

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// agentFrom is newAgent whose connections come from the loopback address
// local (127.0.0.2, 127.0.0.3, …): a different client address as the
// server sees the TCP peer.
func (ts *testServer) agentFrom(t *testing.T, local string) *agent {
	t.Helper()
	a := ts.newAgent(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	a.c.Transport = tr
	t.Cleanup(tr.CloseIdleConnections)
	return a
}

// postSignIn posts the sign-in form (with a fresh CSRF token) and returns
// the response.
func (a *agent) postSignIn(username, password string, header ...string) response {
	a.t.Helper()
	form := url.Values{"_csrf": {a.csrf("/signin")}, "username": {username}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, a.url("/signin"), strings.NewReader(form.Encode()))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return a.do(req)
}

func retryAfter(t *testing.T, r response) int {
	t.Helper()
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After = %q, want a number of seconds ≥ 1", r.Header.Get("Retry-After"))
	}
	return n
}

// Five failures for one username from one address make that pair wait
// (429, growing); an unknown username is treated alike; the real user
// signs in from another address meanwhile.
func TestSignInFailuresDelayThatNameFromThatAddress(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "alice", domain.RoleMember, "alice-password-1")
	attacker := ts.agentFrom(t, "127.0.0.2")
	var msgs []string
	for _, name := range []string{"alice", "nobody-here"} {
		for i := range 5 {
			r := attacker.postSignIn(name, "wrong-password-"+strconv.Itoa(i))
			if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "Wrong username or password.") {
				t.Fatalf("%s failure %d: status %d, want 401 with the one message; body %.300s", name, i+1, r.Status, r.Body)
			}
		}
		// Even the right password waits now: the pair is slowed, not judged.
		r := attacker.postSignIn(name, "alice-password-1")
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("%s after 5 failures: status %d, want 429", name, r.Status)
		}
		if n := retryAfter(t, r); n < 5 || n > 15*60 {
			t.Errorf("%s: Retry-After %d s, want the first delay (about 10 s)", name, n)
		}
		m := htmlText(r.Body, "Too many sign-in attempts")
		msgs = append(msgs, m)
	}
	if msgs[0] != msgs[1] {
		t.Errorf("the 429 message differs for a known and an unknown user:\n%q\n%q", msgs[0], msgs[1])
	}
	// The owner of the name, from another address, is not locked out.
	owner := ts.agentFrom(t, "127.0.0.3")
	if r := owner.postSignIn("alice", "alice-password-1"); r.Status != http.StatusSeeOther {
		t.Fatalf("alice from another address: status %d, want 303; body %.300s", r.Status, r.Body)
	}
}

// htmlText returns the line of body containing marker (for comparing
// messages), failing when there is none.
func htmlText(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(body[i:], '<')
	if j < 0 {
		j = len(body) - i
	}
	return body[i : i+j]
}

// At most 20 sign-in attempts a minute per client address, whatever the
// usernames; another address is unaffected.
func TestSignInPerAddressLimit(t *testing.T) {
	ts := newTestServer(t)
	a := ts.agentFrom(t, "127.0.0.4")
	for i := range 20 {
		// Distinct usernames and an empty password: no per-name delay, no hashing.
		if r := a.postSignIn("user"+strconv.Itoa(i), ""); r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i+1, r.Status)
		}
	}
	r := a.postSignIn("user-21", "")
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("attempt 21: status %d, want 429", r.Status)
	}
	retryAfter(t, r)
	if !strings.Contains(r.Body, "Too many sign-in attempts") {
		t.Errorf("429 body lacks the message: %.300s", r.Body)
	}
	if r := ts.agentFrom(t, "127.0.0.5").postSignIn("user-x", ""); r.Status != http.StatusUnauthorized {
		t.Errorf("another address: status %d, want 401", r.Status)
	}
}

// Password hashing is bounded: with one slot and a short wait, a burst of
// parallel sign-ins gets 503 + Retry-After for those that found no slot,
// never a 500, and the server answers afterwards.
func TestSignInHashingBounded(t *testing.T) {
	ts := newTestServerWith(t, func(c *server.Config) {
		c.HashConcurrency, c.HashWait = 1, time.Millisecond
	})
	ts.addUser(t, "bob", domain.RoleMember, "bob-password-1")
	const n = 6
	agents := make([]*agent, n)
	csrfs := make([]string, n)
	for i := range agents {
		agents[i] = ts.agentFrom(t, "127.0.1."+strconv.Itoa(i+1))
		csrfs[i] = agents[i].csrf("/signin")
	}
	statuses := make([]int, n)
	retry := make([]string, n)
	var wg sync.WaitGroup
	for i := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			form := url.Values{"_csrf": {csrfs[i]}, "username": {"bob"}, "password": {"not-bobs-password"}}
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := agents[i].c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i], retry[i] = resp.StatusCode, resp.Header.Get("Retry-After")
		}()
	}
	wg.Wait()
	busy := 0
	for i, st := range statuses {
		switch st {
		case http.StatusUnauthorized:
		case http.StatusServiceUnavailable:
			busy++
			if retry[i] == "" {
				t.Errorf("503 without Retry-After")
			}
		default:
			t.Errorf("parallel sign-in %d: status %d, want 401 or 503", i, st)
		}
	}
	if busy == 0 {
		t.Errorf("%d parallel sign-ins with one hashing slot and a 1 ms wait: none was refused (statuses %v)", n, statuses)
	}
	if r := ts.agentFrom(t, "127.0.2.1").postSignIn("bob", "bob-password-1"); r.Status != http.StatusSeeOther {
		t.Errorf("sign-in after the burst: status %d, want 303", r.Status)
	}
}

// POST /oauth2/token is limited per client address: 429 with Retry-After
// and the protocol's error body.
func TestTokenEndpointRateLimit(t *testing.T) {
	ts := newTestServerWith(t, func(c *server.Config) { c.TokenPerMinute = 5 })
	a := ts.agentFrom(t, "127.0.0.7")
	for i := range 5 {
		if r := a.postForm("/oauth2/token", url.Values{"grant_type": {"nonsense"}}); r.Status != http.StatusBadRequest {
			t.Fatalf("request %d: status %d, want 400", i+1, r.Status)
		}
	}
	r := a.postForm("/oauth2/token", url.Values{"grant_type": {"nonsense"}})
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("request 6: status %d, want 429", r.Status)
	}
	retryAfter(t, r)
	var body map[string]string
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("429 body is not JSON: %v: %s", err, r.Body)
	}
	if body["error"] != "invalid_request" || body["error_description"] != "Too many requests" || body["Error"] != "invalid_request" || body["ErrorDescription"] != "Too many requests" {
		t.Errorf("429 body = %v, want invalid_request / Too many requests in both spellings", body)
	}
	if r := ts.agentFrom(t, "127.0.0.8").postForm("/oauth2/token", url.Values{"grant_type": {"nonsense"}}); r.Status != http.StatusBadRequest {
		t.Errorf("another address: status %d, want 400", r.Status)
	}
}

// auditEvents reads the audit log as JSON lines through the dashboard.
func auditEvents(t *testing.T, admin *agent, action string) []map[string]any {
	t.Helper()
	r := admin.get("/admin/audit/export?format=jsonl&action=" + url.QueryEscape(action))
	if r.Status != http.StatusOK {
		t.Fatalf("audit export: status %d", r.Status)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.Body), "\n") {
		if line == "" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, ev)
	}
	return out
}

func flushFailed(t *testing.T, ts *testServer) {
	t.Helper()
	if err := ts.App.Admin.FlushFailedSignIns(context.Background(), true); err != nil {
		t.Fatal(err)
	}
}

func verifyAudit(t *testing.T, ts *testServer) {
	t.Helper()
	n, brk, err := ts.App.Admin.VerifyAudit(context.Background())
	if err != nil || brk != nil {
		t.Fatalf("audit verify after %d events: break %+v, err %v", n, brk, err)
	}
}

// Failed sign-ins become one event per (username, address) per minute
// with a count; the username is cut to 256 characters; the chain verifies.
func TestFailedSignInsAggregated(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
	a := ts.agentFrom(t, "127.0.0.9")
	for i := range 5 {
		a.postSignIn("mallory", "guess-"+strconv.Itoa(i))
	}
	long := strings.Repeat("x", 1000)
	for range 3 {
		a.postSignIn(long, "guess")
	}
	flushFailed(t, ts)
	admin := ts.newAgent(t)
	admin.signIn("root", "root-password-1")
	events := auditEvents(t, admin, "session.signin_failed")
	per := map[string][]map[string]any{}
	for _, ev := range events {
		d := ev["details"].(map[string]any)
		per[d["username"].(string)] = append(per[d["username"].(string)], ev)
	}
	check := func(name string, want int) {
		t.Helper()
		evs := per[name]
		total := 0
		for _, ev := range evs {
			if ev["remote_addr"] != "127.0.0.9" {
				t.Errorf("%.20s: remote_addr %v, want 127.0.0.9", name, ev["remote_addr"])
			}
			total += int(ev["details"].(map[string]any)["count"].(float64))
		}
		// One event per minute; the attempts may straddle a minute boundary.
		if len(evs) == 0 || len(evs) > 2 || total != want {
			t.Errorf("%.20s…: %d events with counts summing to %d, want 1 (or 2 across a minute) summing to %d", name, len(evs), total, want)
		}
	}
	check("mallory", 5)
	check(strings.Repeat("x", 256), 3)
	if _, ok := per[long]; ok {
		t.Errorf("the 1000-character username was stored whole")
	}
	verifyAudit(t, ts)
}

// Without --trusted-proxies, X-Forwarded-For and X-Real-IP are ignored:
// the audit log and the limits see the TCP peer. With it, a forwarded
// address is honoured only from a trusted peer, and only if it parses.
func TestTrustedProxies(t *testing.T) {
	huge := strings.Repeat("9", 200_000)
	t.Run("none", func(t *testing.T) {
		ts := newTestServer(t)
		ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
		a := ts.agentFrom(t, "127.0.0.10")
		a.postSignIn("eve", "x", "X-Forwarded-For", "203.0.113.9", "X-Real-IP", "203.0.113.10")
		a.postSignIn("eve2", "x", "X-Forwarded-For", "=HYPERLINK(\"http://evil\")"+huge)
		flushFailed(t, ts)
		admin := ts.newAgent(t)
		admin.signIn("root", "root-password-1")
		for _, ev := range auditEvents(t, admin, "session.signin_failed") {
			if ev["remote_addr"] != "127.0.0.10" {
				t.Errorf("remote_addr %.80v, want the TCP peer 127.0.0.10", ev["remote_addr"])
			}
		}
		// Forged addresses do not dodge the per-address limit either.
		for i := range 25 {
			r := a.postSignIn("n"+strconv.Itoa(i), "", "X-Forwarded-For", "198.51.100."+strconv.Itoa(i))
			if r.Status == http.StatusTooManyRequests {
				return
			}
		}
		t.Errorf("27 attempts from one peer with rotating X-Forwarded-For were never limited")
	})
	t.Run("trusted", func(t *testing.T) {
		ts := newTestServerWith(t, func(c *server.Config) { c.TrustedProxies = []string{"127.0.0.11/32"} })
		ts.addUser(t, "root", domain.RoleAdmin, "root-password-1")
		proxy := ts.agentFrom(t, "127.0.0.11")
		proxy.postSignIn("via-xff", "x", "X-Forwarded-For", "203.0.113.9")
		proxy.postSignIn("via-xri", "x", "X-Real-IP", "2001:db8::7")
		proxy.postSignIn("via-junk", "x", "X-Forwarded-For", "=HYPERLINK(1)"+huge)
		other := ts.agentFrom(t, "127.0.0.12")
		other.postSignIn("untrusted", "x", "X-Forwarded-For", "203.0.113.99")
		flushFailed(t, ts)
		admin := ts.newAgent(t)
		admin.signIn("root", "root-password-1")
		want := map[string]string{"via-xff": "203.0.113.9", "via-xri": "2001:db8::7", "via-junk": "127.0.0.11", "untrusted": "127.0.0.12"}
		got := map[string]string{}
		for _, ev := range auditEvents(t, admin, "session.signin_failed") {
			got[ev["details"].(map[string]any)["username"].(string)], _ = ev["remote_addr"].(string)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: remote_addr %.80q, want %q", k, got[k], v)
			}
		}
		verifyAudit(t, ts)
	})
}

// IPv6 clients are limited by their /64: addresses of one /64 (as a
// trusted proxy forwards them) share the per-address sign-in budget and
// the per-username failure delays; another /64 has its own.
func TestLimitsKeyIPv6ByPrefix(t *testing.T) {
	t.Parallel()
	ts := newTestServerWith(t, func(c *server.Config) { c.TrustedProxies = []string{"127.0.0.11/32"} })
	ts.addUser(t, "mallory", domain.RoleMember, "mallory-password-1")
	proxy := ts.agentFrom(t, "127.0.0.11")
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }

	began := time.Now() // the bucket refills from the first attempt on
	// Six wrong passwords for one name from six addresses of one /64:
	// the sixth waits, as from one address.
	for i := 1; i <= 6; i++ {
		r := proxy.postSignIn("mallory", "guess-"+strconv.Itoa(i), from("2001:db8:1:2::"+strconv.Itoa(i))...)
		want := http.StatusUnauthorized
		if i == 6 {
			want = http.StatusTooManyRequests
		}
		if r.Status != want {
			t.Fatalf("attempt %d from 2001:db8:1:2::%d: %d, want %d", i, i, r.Status, want)
		}
	}
	// Another /64 is another client: the right password works there.
	if r := ts.agentFrom(t, "127.0.0.11").postSignIn("mallory", "mallory-password-1", from("2001:db8:1:3::1")...); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in from another /64: %d, want 303", r.Status)
	}
	// The per-address budget (20 a minute, refilled one every 3 s) is
	// the /64's: 6 spent above, so addresses rotating inside it are
	// refused after about 14 more, plus one for every 3 s the attempts
	// took (each one hashes, which is slow on a loaded machine).
	for i := 1; i <= 100; i++ {
		r := proxy.postSignIn("n"+strconv.Itoa(i), "x", from("2001:db8:1:2:"+strconv.Itoa(i)+"::9")...)
		if r.Status == http.StatusTooManyRequests {
			refill := int(time.Since(began)/(3*time.Second)) + 1
			if i < 14 || i > 15+refill {
				t.Fatalf("refused after %d more attempts in %v, want 14 to %d (20 a minute)", i, time.Since(began).Round(time.Millisecond), 15+refill)
			}
			return
		}
	}
	t.Errorf("106 sign-in attempts from 106 addresses of one /64 were never limited")
}
