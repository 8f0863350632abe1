package e2e

// The refresh grace window (--refresh-grace): a retried or concurrent
// refresh with one refresh token must not revoke the authorization, while
// a replay after the window still does (RFC 9700 §4.14.2).

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/server"
)

// graceOff configures a server whose grace window is off.
func graceOff(c *server.Config) { c.RefreshGrace = server.RefreshGraceOff }

// rawRefresh posts a refresh request without a *testing.T (for
// goroutines): status, refresh token, access token, error description.
func rawRefresh(c *http.Client, base, secret, refresh string) (status int, tok map[string]string, err error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(refreshBody(secret, refresh, callbackURL)))
	req.Header.Set("Content-Type", formType)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	tok = map[string]string{}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	return resp.StatusCode, tok, err
}

// TestRefreshConcurrent: 20 concurrent refreshes of one refresh token
// (the default 30 s window) all get a pair; nothing is revoked; every
// pair works — its access token calls the profile API, its refresh token
// refreshes — and the audit log records 19 retries and no revocation.
func TestRefreshConcurrent(t *testing.T) {
	e := lcNewEnv(t)
	bob := e.member(t, "bob")
	app := registerThroughDashboard(t, e.admin, lcScope)
	p := e.pair(t, bob.a, app, app.Secret)

	const n = 20
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	type result struct {
		status int
		tok    map[string]string
		err    error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i].status, results[i].tok, results[i].err = rawRefresh(client, e.ts.URL, app.Secret, p.Refresh)
		}()
	}
	close(start)
	wg.Wait()

	seen := map[string]bool{}
	for i, r := range results {
		if r.err != nil || r.status != http.StatusOK || r.tok["refresh_token"] == "" {
			t.Fatalf("refresh %d of %d: %d %v %v", i+1, n, r.status, r.tok, r.err)
		}
		if seen[r.tok["refresh_token"]] {
			t.Fatalf("two concurrent refreshes got the same refresh token")
		}
		seen[r.tok["refresh_token"]] = true
	}
	for i, r := range results {
		c := lcClaims(t, r.tok["access_token"])
		if c["aui"] != p.AuthzID || c["fam"] != p.FamilyID {
			t.Errorf("pair %d: authorization %s chain %s, want the same %s %s", i+1, c["aui"], c["fam"], p.AuthzID, p.FamilyID)
		}
		lcWantAPI(t, e.ts, r.tok["access_token"], http.StatusOK, "access token of a concurrent refresh")
		next := lcPairOf(t, e.refresh(t, app.Secret, r.tok["refresh_token"]))
		lcWantAPI(t, e.ts, next.Access, http.StatusOK, "access token after refreshing a concurrent pair")
	}
	lcWantAPI(t, e.ts, p.Access, http.StatusOK, "the first access token")

	retries, _, _ := lcAudit(t, e.admin, "action=token.refresh_retry&target_id="+p.AuthzID)
	if len(retries) != n-1 {
		t.Errorf("audit log has %d refresh retries for the authorization, want %d", len(retries), n-1)
	}
	for _, r := range retries {
		if !strings.Contains(r.Details, "grace window") || !strings.Contains(r.Details, p.FamilyID) {
			t.Errorf("retry event does not say why or which chain: %+v", r)
			break
		}
	}
	if revoked, _, _ := lcAudit(t, e.admin, "action=authorization.revoke&target_id="+p.AuthzID); len(revoked) != 0 {
		t.Errorf("audit log has a revocation of the authorization: %+v", revoked)
	}
}

// TestRefreshReplayInsideGrace: a client whose refresh answer was lost
// presents its old refresh token again: it gets another working pair, the
// pair it never saw keeps working, and nothing is revoked.
func TestRefreshReplayInsideGrace(t *testing.T) {
	e := lcNewEnv(t)
	bob := e.member(t, "bob")
	app := registerThroughDashboard(t, e.admin, lcScope)
	p := e.pair(t, bob.a, app, app.Secret)

	lost := lcPairOf(t, e.refresh(t, app.Secret, p.Refresh)) // the answer the client never got
	retry := lcPairOf(t, e.refresh(t, app.Secret, p.Refresh))
	if retry.Refresh == lost.Refresh || retry.FamilyID != p.FamilyID {
		t.Fatalf("retry: refresh token reused or chain changed (%s, want %s)", retry.FamilyID, p.FamilyID)
	}
	for what, pair := range map[string]lcPair{"retried pair": retry, "lost pair": lost} {
		lcWantAPI(t, e.ts, pair.Access, http.StatusOK, what)
		next := lcPairOf(t, e.refresh(t, app.Secret, pair.Refresh))
		lcWantAPI(t, e.ts, next.Access, http.StatusOK, what+", refreshed")
	}
	if retries, _, _ := lcAudit(t, e.admin, "action=token.refresh_retry&target_id="+p.AuthzID); len(retries) != 1 || retries[0].Actor != "system" {
		t.Errorf("audit log: %+v, want one refresh retry by system", retries)
	}

	// Only the client the token was issued to may retry: a wrong secret is
	// refused and changes nothing.
	wantTokenError(t, e.refresh(t, "odcs_wrong", p.Refresh), http.StatusUnauthorized, "unauthorized_client", "Client failed validation")
	lcWantAPI(t, e.ts, retry.Access, http.StatusOK, "after a wrong-secret replay")
}

// TestRefreshReplayAfterGrace: the real binary with a short
// --refresh-grace; a replay after the window revokes the authorization
// with PROTOCOL.md's text, and the audit log says reuse.
func TestRefreshReplayAfterGrace(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	p := startServe(t, dir, "--addr", addr, "--refresh-grace", "300ms")
	password := p.waitOutput(t, passwordLineRE)[1]
	base := "http://" + p.waitOutput(t, listeningRE)[1]
	ts := &testServer{URL: base}
	admin := ts.newAgent(t)
	admin.signIn("admin", password)
	app := registerThroughDashboard(t, admin, lcScope)
	e := &lcEnv{ts: ts, admin: admin}

	first := lcPairOf(t, e.exchange(t, app.Secret, approve(t, admin, app, lcScope, "late")))
	second := lcPairOf(t, e.refresh(t, app.Secret, first.Refresh))
	time.Sleep(600 * time.Millisecond)
	wantTokenError(t, e.refresh(t, app.Secret, first.Refresh), http.StatusBadRequest, "invalid_request", "The access token has already been refreshed")
	e.lcWantRevoked(t, second, app.Secret, "after a replay outside the window")
	row := lcWantEvent(t, admin, "action=authorization.revoke&target_id="+first.AuthzID, "system")
	if !strings.Contains(row.Details, "refresh token reuse") {
		t.Errorf("revocation event does not say reuse: %+v", row)
	}
	if retries, _, _ := lcAudit(t, admin, "action=token.refresh_retry&target_id="+first.AuthzID); len(retries) != 0 {
		t.Errorf("a replay outside the window was recorded as a retry: %+v", retries)
	}
	p.stop(t)
}

// TestRefreshCrash: `kill -9` of the real server under refresh load loses
// no token that a client received, and a client whose answer the crash
// swallowed (its rotation committed, the response never sent) is not
// punished: after a restart, every chain's last received access token
// works, and its last received refresh token refreshes — through the grace
// window when its rotation had committed — with nothing revoked.
func TestRefreshCrash(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	srv := startServe(t, dir, "--addr", addr, "--token-rate-limit", "0") // the load comes from one address
	password := srv.waitOutput(t, passwordLineRE)[1]
	base := "http://" + srv.waitOutput(t, listeningRE)[1]
	ts := &testServer{URL: base}
	admin := ts.newAgent(t)
	admin.signIn("admin", password)
	app := registerThroughDashboard(t, admin, lcScope)
	e := &lcEnv{ts: ts, admin: admin}

	const chains = 30
	type chain struct {
		access, refresh string
		received        int
	}
	cs := make([]*chain, chains)
	var authzID string
	for i := range cs {
		p := lcPairOf(t, e.exchange(t, app.Secret, approve(t, admin, app, lcScope, "crash")))
		cs[i] = &chain{access: p.Access, refresh: p.Refresh}
		authzID = p.AuthzID
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: chains}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	stopAt := time.Now().Add(10 * time.Second) // bound, in case the kill fails
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stopAt) {
				status, tok, err := rawRefresh(client, base, app.Secret, c.refresh)
				if err != nil || status != http.StatusOK {
					return // the server died under us
				}
				c.access, c.refresh = tok["access_token"], tok["refresh_token"]
				c.received++
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	<-srv.done
	total := 0
	for _, c := range cs {
		total += c.received
	}
	if total < chains {
		t.Fatalf("only %d refreshes before the kill: no load to speak of", total)
	}
	t.Logf("%d refreshes answered before kill -9", total)

	again := startServe(t, dir, "--addr", addr, "--token-rate-limit", "0")
	again.waitOutput(t, listeningRE)
	for i, c := range cs {
		lcWantAPI(t, ts, c.access, http.StatusOK, "the last access token a client received before the crash")
		r := e.refresh(t, app.Secret, c.refresh)
		if r.Status != http.StatusOK {
			t.Errorf("chain %d: its last received refresh token answered %d %v after the restart", i, r.Status, r.Raw)
			continue
		}
		lcWantAPI(t, ts, lcPairOf(t, r).Access, http.StatusOK, "refreshed after the crash")
	}
	if revoked, _, _ := lcAudit(t, admin, "action=authorization.revoke&target_id="+authzID); len(revoked) != 0 {
		t.Errorf("the crash led to a revocation: %+v", revoked)
	}
	again.stop(t)
}
