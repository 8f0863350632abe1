package e2e

// The refresh grace window (--refresh-grace): a retried or concurrent
// refresh with one refresh token must not revoke the authorization, while
// a replay after the window still does (RFC 9700 §4.14.2).

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/oauth"
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
// (the default 30 s window): one rotation and at most MaxRefreshForks
// forks get a pair, the rest "already refreshed"; nothing is revoked;
// every pair's access token works, on the same chain; the audit log
// records the retries and no revocation. Then one pair's refresh token
// continues the chain and every other pair's is reuse.
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
	var pairs []map[string]string
	for i, r := range results {
		if r.err == nil && r.status == http.StatusBadRequest && r.tok["error_description"] == "The access token has already been refreshed" {
			continue
		}
		if r.err != nil || r.status != http.StatusOK || r.tok["refresh_token"] == "" {
			t.Fatalf("refresh %d of %d: %d %v %v", i+1, n, r.status, r.tok, r.err)
		}
		if seen[r.tok["refresh_token"]] {
			t.Fatalf("two concurrent refreshes got the same refresh token")
		}
		seen[r.tok["refresh_token"]] = true
		pairs = append(pairs, r.tok)
	}
	if len(pairs) != 1+oauth.MaxRefreshForks {
		t.Errorf("%d of %d concurrent refreshes got a pair, want %d (one rotation, %d forks)", len(pairs), n, 1+oauth.MaxRefreshForks, oauth.MaxRefreshForks)
	}
	for i, r := range pairs {
		c := lcClaims(t, r["access_token"])
		if c["aui"] != p.AuthzID || c["fam"] != p.FamilyID {
			t.Errorf("pair %d: authorization %s chain %s, want the same %s %s", i+1, c["aui"], c["fam"], p.AuthzID, p.FamilyID)
		}
		lcWantAPI(t, e.ts, r["access_token"], http.StatusOK, "access token of a concurrent refresh")
	}
	lcWantAPI(t, e.ts, p.Access, http.StatusOK, "the first access token")

	retries, _, _ := lcAudit(t, e.admin, "action=token.refresh_retry&target_id="+p.AuthzID)
	if len(retries) != len(pairs)-1 {
		t.Errorf("audit log has %d refresh retries for the authorization, want %d", len(retries), len(pairs)-1)
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

	// One pair continues the chain; any other is then reuse.
	next := lcPairOf(t, e.refresh(t, app.Secret, pairs[len(pairs)-1]["refresh_token"]))
	lcWantAPI(t, e.ts, next.Access, http.StatusOK, "access token after refreshing one concurrent pair")
	wantTokenError(t, e.refresh(t, app.Secret, pairs[0]["refresh_token"]), http.StatusBadRequest, "invalid_request", "The access token has already been refreshed")
	lcWantAPI(t, e.ts, next.Access, http.StatusUnauthorized, "the chain's access token after a sibling was presented")
}

// TestRefreshReplayInsideGrace: a client whose refresh answer was lost
// presents its old refresh token again: it gets another working pair on
// the same chain and nothing is revoked; the pair it never saw is now a
// sibling of its new pair.
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
	lcWantAPI(t, e.ts, retry.Access, http.StatusOK, "retried pair")
	next := lcPairOf(t, e.refresh(t, app.Secret, retry.Refresh))
	lcWantAPI(t, e.ts, next.Access, http.StatusOK, "retried pair, refreshed")
	if retries, _, _ := lcAudit(t, e.admin, "action=token.refresh_retry&target_id="+p.AuthzID); len(retries) != 1 || retries[0].Actor != "system" {
		t.Errorf("audit log: %+v, want one refresh retry by system", retries)
	}

	// Only the client the token was issued to may retry: a wrong secret is
	// refused and changes nothing.
	wantTokenError(t, e.refresh(t, "odcs_wrong", p.Refresh), http.StatusUnauthorized, "unauthorized_client", "Client failed validation")
	lcWantAPI(t, e.ts, next.Access, http.StatusOK, "after a wrong-secret replay")
}

// TestRefreshForkAftermath: which refresh tokens still work after grace
// replays forked a chain (RFC 9700 §4.14.2), over HTTP. Three replays of
// one token inside the window give four sibling pairs; the client uses
// one; presenting any other sibling afterwards — or the stolen parent —
// is reuse: "already refreshed", the authorization revoked, every access
// token of it refused.
func TestRefreshForkAftermath(t *testing.T) {
	for _, presentAfter := range []string{"a sibling", "the parent"} {
		t.Run(presentAfter, func(t *testing.T) {
			e := lcNewEnv(t)
			bob := e.member(t, "bob")
			app := registerThroughDashboard(t, e.admin, lcScope)
			p := e.pair(t, bob.a, app, app.Secret)
			var siblings []lcPair
			for range 4 {
				siblings = append(siblings, lcPairOf(t, e.refresh(t, app.Secret, p.Refresh)))
			}
			for i, s := range siblings {
				lcWantAPI(t, e.ts, s.Access, http.StatusOK, "sibling "+strconv.Itoa(i)+" before any was used")
			}
			next := lcPairOf(t, e.refresh(t, app.Secret, siblings[2].Refresh))
			lcWantAPI(t, e.ts, next.Access, http.StatusOK, "the used sibling's successor")
			replay := siblings[0].Refresh
			if presentAfter == "the parent" {
				replay = p.Refresh
			}
			wantTokenError(t, e.refresh(t, app.Secret, replay), http.StatusBadRequest, "invalid_request", "The access token has already been refreshed")
			lcWantAPI(t, e.ts, next.Access, http.StatusUnauthorized, "the chain's newest access token after the reuse")
			for i, s := range siblings {
				if r := e.refresh(t, app.Secret, s.Refresh); r.Status == http.StatusOK {
					t.Errorf("sibling %d still refreshes after the reuse", i)
				}
			}
			if r := e.refresh(t, app.Secret, next.Refresh); r.Status == http.StatusOK {
				t.Error("the used sibling's successor still refreshes after the reuse")
			}
			if revoked, _, _ := lcAudit(t, e.admin, "action=authorization.revoke&target_id="+p.AuthzID); len(revoked) != 1 || !strings.Contains(revoked[0].Details, "reuse") {
				t.Errorf("audit log: %+v, want one revocation for reuse", revoked)
			}
		})
	}
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
