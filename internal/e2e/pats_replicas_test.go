package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// Two replicas on one PostgreSQL database: a personal access token made
// and used on A, cached on B, revoked on A, is refused on B within the
// stated bound (1 s), (the same invalidation feed as
// OAuth tokens).
func TestPATReplicasOnPostgres(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set: the replica tests need PostgreSQL")
	}
	if onPostgres() {
		t.Skip("runs once, in the first pass of make test")
	}
	dbURL := storetest.NewPostgres(t)
	const memberPW = "member's long password"
	mustSucceed(t, oauthdesk(t, cliRun{stdin: memberPW + "\n"}, "user", "add", "bob", "--role", "member", "--password-stdin", "--db", dbURL))
	a := startReplica(t, "A", dbURL, "")
	b := startReplica(t, "B", dbURL, a.URL)
	bobA, _ := browserOn(t, a, b)
	bobA.signIn("bob", memberPW)
	form := func(name string) url.Values {
		return url.Values{"name": {name}, "expiry": {"30"}, "access": {"custom"}, "scope": {"vso.profile"}}
	}
	tok, r := patCreate(t, bobA, form("replicated"))
	if tok == "" {
		t.Fatalf("create on A: %d %s", r.Status, lcText(r.Body))
	}
	for _, rep := range []*replica{a, b} {
		if st, _, _ := callAPI(t, rep.URL, profilePath, tok); st != http.StatusOK {
			t.Fatalf("PAT on %s: %d", rep.name, st)
		}
	}
	// Revoke on A (the profile page), refused on B within 1 s.
	m := regexpTokenID.FindStringSubmatch(bobA.get("/profile/tokens").Body)
	if m == nil {
		t.Fatal("no token row")
	}
	path := "/profile/tokens/" + m[1] + "/revoke"
	if r := bobA.postForm(path, url.Values{"_csrf": {bobA.csrf(path)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke on A: %d", r.Status)
	}
	at := time.Now()
	if st, _, _ := callAPI(t, a.URL, profilePath, tok); st != http.StatusUnauthorized {
		t.Errorf("A after its own revocation: %d, want 401 at once", st)
	}
	t.Logf("B refused the revoked PAT after %v", refusedWithin(t, b, tok, at, time.Second))
}

var regexpTokenID = regexp.MustCompile(`data-testid="token-row" data-token-id="([^"]+)"`)
