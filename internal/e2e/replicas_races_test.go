package e2e

// The ownership rules under races between two replicas: real `oauthdesk
// serve` processes on one PostgreSQL database, two admins demoting each
// other at the same moment, one through each replica.

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

func TestReplicasLastAdminRace(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set: the replica tests need PostgreSQL")
	}
	if onPostgres() {
		t.Skip("runs once, in the first pass of make test")
	}
	t.Parallel()
	dbURL := storetest.NewPostgres(t)
	const pw = "correct horse battery"
	names := [2]string{"ada", "grace"}
	for _, n := range names {
		mustSucceed(t, oauthdesk(t, cliRun{stdin: pw + "\n"}, "user", "add", n, "--role", "admin", "--password-stdin", "--db", dbURL))
	}
	raw, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var ids [2]string
	for i, n := range names {
		if err := raw.QueryRow(`SELECT id FROM users WHERE username = $1`, n).Scan(&ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	activeAdmins := func() int {
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND deleted_at IS NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a := startReplica(t, "A", dbURL, "")
	b := startReplica(t, "B", dbURL, a.URL)
	replicas := [2]*replica{a, b}

	// Each round: ada on A and grace on B, both signed in with the form
	// loaded, press "make member" on each other at the same moment.
	var agents [2]*agent
	for i := range 2 {
		agents[i] = agentAt(t, replicas[i].URL, newJar())
		agents[i].signIn(names[i], pw)
	}
	conflicts := 0
	for round := range 10 {
		var reqs [2]*http.Request
		for i := range 2 {
			path := "/admin/users/" + ids[1-i] + "/role"
			form := url.Values{"_csrf": {agents[i].csrf("/admin/users/" + ids[1-i])}, "role": {"member"}}
			reqs[i], _ = http.NewRequest(http.MethodPost, agents[i].url(path), strings.NewReader(form.Encode()))
			reqs[i].Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		var status [2]int
		var location [2]string
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := agents[i].c.Do(reqs[i])
				if err != nil {
					t.Errorf("round %d: %s demotes %s: %v", round, names[i], names[1-i], err)
					return
				}
				resp.Body.Close()
				status[i], location[i] = resp.StatusCode, resp.Header.Get("Location")
			}()
		}
		close(start)
		wg.Wait()
		if n := activeAdmins(); n != 1 {
			t.Fatalf("round %d: %d active admins after the race (answers %v), want 1", round, n, status)
		}
		// One demotion applied (a redirect to the user's page); the other
		// was refused by the rule (409) or, when it came after the commit,
		// its sender was no longer an admin (403, or its session ended).
		won := -1
		for i := range 2 {
			if status[i] == http.StatusSeeOther && strings.HasPrefix(location[i], "/admin/users/") {
				if won >= 0 {
					t.Fatalf("round %d: both demotions applied (%v)", round, status)
				}
				won = i
			}
		}
		if won < 0 {
			t.Fatalf("round %d: answers %v %v, want one demotion applied", round, status, location)
		}
		if status[1-won] == http.StatusConflict {
			conflicts++
		}
		// The winner, still an admin, promotes the other again, who
		// signs in anew (a role change ends their sessions).
		lost := 1 - won
		path := "/admin/users/" + ids[lost] + "/role"
		r := agents[won].postForm(path, url.Values{"_csrf": {agents[won].csrf("/admin/users/" + ids[lost])}, "role": {"admin"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("round %d: promote %s again: %d", round, names[lost], r.Status)
		}
		agents[lost] = agentAt(t, replicas[lost].URL, newJar())
		agents[lost].signIn(names[lost], pw)
	}
	t.Logf("%d of 10 rounds reached the rule on both replicas (409 for the second)", conflicts)
}

func newJar() http.CookieJar {
	jar, _ := cookiejar.New(nil)
	return jar
}

// TestReplicasShareSignInDelays: behind a round-robin balancer the
// per-username failure delays are one budget for all replicas: wrong
// passwords alternating between A and B, and a wrong current password on
// B's /profile/password, add up; the 6th attempt waits on both replicas.
func TestReplicasShareSignInDelays(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set: the replica tests need PostgreSQL")
	}
	if onPostgres() {
		t.Skip("runs once, in the first pass of make test")
	}
	t.Parallel()
	dbURL := storetest.NewPostgres(t)
	const pw = "correct horse battery"
	mustSucceed(t, oauthdesk(t, cliRun{stdin: pw + "\n"}, "user", "add", "alice", "--role", "member", "--password-stdin", "--db", dbURL))
	a := startReplica(t, "A", dbURL, "")
	b := startReplica(t, "B", dbURL, a.URL)
	onA, onB := agentAt(t, a.URL, newJar()), agentAt(t, b.URL, newJar())

	// alice herself, signed in on B, mistypes her current password once.
	alice := agentAt(t, b.URL, newJar())
	alice.signIn("alice", pw)
	r := alice.postForm("/profile/password", url.Values{"_csrf": {alice.csrf("/profile/password")},
		"current_password": {"not my password"}, "new_password": {"a brand new password"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong current password on B: %d, want 422", r.Status)
	}
	// Then four wrong sign-ins, alternating replicas: five failures in all.
	for i, ag := range []*agent{onA, onB, onA, onB} {
		if r := ag.postSignIn("alice", "guess"); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i+1, r.Status)
		}
	}
	for name, ag := range map[string]*agent{"A": onA, "B": onB} {
		r := ag.postSignIn("alice", pw) // even the right password waits
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Errorf("6th attempt on %s: %d (Retry-After %q), want 429 after five failures spread over both replicas", name, r.Status, r.Header.Get("Retry-After"))
		}
	}
}

// TestReplicasLastOwnerRace: two co-owners remove each other from one
// app, one through each replica, at the same moment, ten rounds: the app
// keeps exactly one owner after each.
func TestReplicasLastOwnerRace(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set: the replica tests need PostgreSQL")
	}
	if onPostgres() {
		t.Skip("runs once, in the first pass of make test")
	}
	t.Parallel()
	dbURL := storetest.NewPostgres(t)
	const pw = "correct horse battery"
	names := [2]string{"ada", "bob"}
	for _, n := range names {
		mustSucceed(t, oauthdesk(t, cliRun{stdin: pw + "\n"}, "user", "add", n, "--role", "member", "--password-stdin", "--db", dbURL))
	}
	var reg registerJSON
	if err := json.Unmarshal([]byte(mustSucceed(t, oauthdesk(t, cliRun{}, append(registerArgs(dbURL), "--json")...)).stdout), &reg); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var ids [2]string
	for i, n := range names {
		if err := raw.QueryRow(`SELECT id FROM users WHERE username = $1`, n).Scan(&ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	owners := func() int {
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM app_owners WHERE client_id = $1`, reg.ClientID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a := startReplica(t, "A", dbURL, "")
	b := startReplica(t, "B", dbURL, a.URL)
	replicas := [2]*replica{a, b}
	var agents [2]*agent
	for i := range 2 {
		agents[i] = agentAt(t, replicas[i].URL, newJar())
		agents[i].signIn(names[i], pw)
	}
	page := "/profile/apps/" + reg.ClientID
	for round := range 10 {
		// Both own the app (the removed one is added back between rounds).
		if _, err := raw.Exec(`INSERT INTO app_owners (client_id, user_id, added_at) VALUES ($1, $2, now()), ($1, $3, now())
ON CONFLICT DO NOTHING`, reg.ClientID, ids[0], ids[1]); err != nil {
			t.Fatal(err)
		}
		var reqs [2]*http.Request
		for i := range 2 {
			form := url.Values{"_csrf": {agents[i].csrf(page)}}
			reqs[i], _ = http.NewRequest(http.MethodPost, agents[i].url(page+"/owners/"+ids[1-i]+"/remove"), strings.NewReader(form.Encode()))
			reqs[i].Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := agents[i].c.Do(reqs[i])
				if err != nil {
					t.Errorf("round %d: %s removes %s: %v", round, names[i], names[1-i], err)
					return
				}
				resp.Body.Close()
			}()
		}
		close(start)
		wg.Wait()
		if n := owners(); n != 1 {
			t.Fatalf("round %d: the app has %d owners after two co-owners removed each other, want 1", round, n)
		}
	}
}
