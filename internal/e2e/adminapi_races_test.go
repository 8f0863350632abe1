package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/web"
)

// The admin REST API's optimistic concurrency under concurrent requests
// (on both databases: OAUTHDESK_E2E_DB=postgres): the If-Match comparison
// and the write are one transaction, so of two PATCHes sent at once with
// the same ETag exactly one applies and the other gets 412, and what is
// stored is the winner's change. And a settings PATCH applies all of its
// fields or none.

// apiAdminToken signs root in and returns a personal access token with
// the admin API's write scope.
func apiAdminToken(t *testing.T, ts *testServer) (*agent, string) {
	t.Helper()
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	tok, r := patCreate(t, rootA, url.Values{"name": {"automation"}, "expiry": {"30"}, "access": {"custom"}, "scope": {web.ScopeAdminAPI}})
	if tok == "" {
		t.Fatalf("create the admin API token: %d %s", r.Status, lcText(r.Body))
	}
	return rootA, tok
}

// racePatches sends the bodies as concurrent PATCHes of path, all with
// the If-Match etag, released at once, and returns the answers in the
// order of bodies.
func racePatches(t *testing.T, ts *testServer, token, path, etag string, bodies ...map[string]any) []apiResp {
	t.Helper()
	out := make([]apiResp, len(bodies))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = apiDo(t, ts, http.MethodPatch, path, token, b, etag)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// oneWinner checks that exactly one answer is 200 and every other a 412
// problem, and returns the winner's index.
func oneWinner(t *testing.T, round int, rs []apiResp) int {
	t.Helper()
	won := -1
	for i, r := range rs {
		switch r.Status {
		case http.StatusOK:
			if won >= 0 {
				t.Fatalf("round %d: PATCHes %d and %d both succeeded with the same If-Match (a lost update): %s / %s", round, won, i, rs[won].Raw, r.Raw)
			}
			won = i
		case http.StatusPreconditionFailed:
			wantProblem(t, r, http.StatusPreconditionFailed, "precondition-failed", "changed")
		default:
			t.Fatalf("round %d: PATCH %d answered %d %s, want 200 or 412", round, i, r.Status, r.Raw)
		}
	}
	if won < 0 {
		t.Fatalf("round %d: no PATCH succeeded: %d %s / %d %s", round, rs[0].Status, rs[0].Raw, rs[1].Status, rs[1].Raw)
	}
	return won
}

// raceRounds is how often each race runs: a lost update shows in the
// first rounds without the fix; more rounds make a pass convincing.
const raceRounds = 8

// settingsRacers is how many PATCHes of /settings each round sends at
// once with one ETag, and settingsRaceRounds how many rounds run.
const settingsRacers, settingsRaceRounds = 4, 4

// holdFirstWrite forces the interleaving that loses an update: while it
// is installed (until the returned release), the first write of a
// setting to ts's database holds its transaction for hold before it goes
// on. Checked outside the write's transaction, the If-Match of every
// other PATCH racing it is compared meanwhile with the settings as they
// were, and passes; checked inside it (after the settings lock), the
// others wait for the first to commit and then see its change.
func holdFirstWrite(ts *testServer, hold time.Duration) (release func()) {
	var once sync.Once
	return ts.App.DB.TraceQueries(func(q string, _ []any) {
		if strings.HasPrefix(q, "INSERT INTO settings") {
			once.Do(func() { time.Sleep(hold) })
		}
	})
}

func TestAdminAPIConcurrentPatchesWithOneETag(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, admin := apiAdminToken(t, ts)

	t.Run("app: one PATCH applies, the other is 412, the stored app is the winner's", func(t *testing.T) {
		created := apiDo(t, ts, http.MethodPost, "/apps", admin, withName("Race Deploy"), "")
		if created.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", created.Status, created.Raw)
		}
		path := "/apps/" + created.obj("app")["client_id"].(string)
		for round := range raceRounds {
			get := apiDo(t, ts, http.MethodGet, path, admin, nil, "")
			descs := []string{"Deploys, by the first writer " + string(rune('a'+round)), "Deploys, by the second writer " + string(rune('a'+round))}
			rs := racePatches(t, ts, admin, path, get.Header.Get("ETag"),
				map[string]any{"description": descs[0]}, map[string]any{"description": descs[1]})
			won := oneWinner(t, round, rs)
			after := apiDo(t, ts, http.MethodGet, path, admin, nil, "")
			if after.str("description") != descs[won] || after.Header.Get("ETag") != rs[won].Header.Get("ETag") {
				t.Fatalf("round %d: stored description %q (ETag %s), want the winner's %q (ETag %s)", round,
					after.str("description"), after.Header.Get("ETag"), descs[won], rs[won].Header.Get("ETag"))
			}
		}
	})

	t.Run("user: one PATCH applies, the other is 412, the stored user is the winner's", func(t *testing.T) {
		u := ts.addUser(t, "racer", domain.RoleMember, saPassword)
		path := "/users/" + u.ID
		for round := range raceRounds {
			get := apiDo(t, ts, http.MethodGet, path, admin, nil, "")
			role := map[string]any{"role": "auditor"}
			if get.str("role") == "auditor" {
				role["role"] = "member"
			}
			disabled := map[string]any{"disabled": get.str("state") != "disabled"}
			rs := racePatches(t, ts, admin, path, get.Header.Get("ETag"), role, disabled)
			won := oneWinner(t, round, rs)
			after := apiDo(t, ts, http.MethodGet, path, admin, nil, "")
			roleWon := after.str("role") == role["role"] && after.str("state") == get.str("state")
			disabledWon := after.str("role") == get.str("role") && (after.str("state") == "disabled") == disabled["disabled"]
			if (won == 0 && !roleWon) || (won == 1 && !disabledWon) || after.JSON["revision"] != get.JSON["revision"].(float64)+1 {
				t.Fatalf("round %d: stored %s, want only the winner's change (PATCH %d) on %s", round, after.Raw, won, get.Raw)
			}
		}
	})

	t.Run("settings: one PATCH applies, the others are 412, the stored settings are the winner's", func(t *testing.T) {
		// Left to chance, a check made outside the write's transaction
		// let two PATCHes through in only about one round in five on
		// SQLite; holdFirstWrite makes every round catch it.
		start := map[string]any{"pat_full_scope": "allow", "app_registration": domain.PolicyMembers}
		for round := range settingsRaceRounds {
			get := apiDo(t, ts, http.MethodGet, "/settings", admin, nil, "")
			var days []float64
			var bodies []map[string]any
			for i := range settingsRacers {
				days = append(days, float64(100+settingsRacers*round+i))
				body := map[string]any{"secret_lifetime_days": days[i], "pat_full_scope": "deny"}
				if i%2 == 1 {
					body = map[string]any{"secret_lifetime_days": days[i], "app_registration": domain.PolicyApproval}
				}
				bodies = append(bodies, body)
			}
			release := holdFirstWrite(ts, 100*time.Millisecond)
			rs := racePatches(t, ts, admin, "/settings", get.Header.Get("ETag"), bodies...)
			release()
			won := oneWinner(t, round, rs)
			after := apiDo(t, ts, http.MethodGet, "/settings", admin, nil, "")
			if after.JSON["secret_lifetime_days"] != days[won] || after.Header.Get("ETag") != rs[won].Header.Get("ETag") {
				t.Fatalf("round %d: stored %s, want the winner's (PATCH %d) %s", round, after.Raw, won, rs[won].Raw)
			}
			for k, v := range start {
				if w, mine := bodies[won][k]; mine {
					v = w
				}
				if after.JSON[k] != v {
					t.Fatalf("round %d: stored %s, want only the winner's change (PATCH %d): %s = %v", round, after.Raw, won, k, v)
				}
			}
			// Back to the start, so that the next round's changes are changes.
			reset := apiDo(t, ts, http.MethodPatch, "/settings", admin, start, after.Header.Get("ETag"))
			if reset.Status != http.StatusOK {
				t.Fatalf("reset: %d %s", reset.Status, reset.Raw)
			}
		}
	})
}

func TestAdminAPISettingsPatchIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, admin := apiAdminToken(t, ts)
	ts.addUser(t, "bob", domain.RoleMember, saPassword)

	before := apiDo(t, ts, http.MethodGet, "/settings", admin, nil, "")
	if before.Status != http.StatusOK {
		t.Fatalf("get: %d %s", before.Status, before.Raw)
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
	}{
		// The second field's value is refused before anything changes.
		{"an invalid value", map[string]any{"secret_lifetime_days": 30, "pat_full_scope": "maybe"}, http.StatusBadRequest},
		// The allowlist's second user does not exist: found only while
		// applying, after bob was added and before the lifetime changed.
		{"an unknown user in the allowlist", map[string]any{"secret_lifetime_days": 30, "pat_creation": "allowlist",
			"pat_allowlist": []string{"bob", "nobody-of-that-name"}}, http.StatusNotFound},
	} {
		t.Run("one valid and "+tc.name+": 4xx, nothing changed", func(t *testing.T) {
			r := apiDo(t, ts, http.MethodPatch, "/settings", admin, tc.body, before.Header.Get("ETag"))
			if r.Status != tc.status || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("patch: %d %s, want a %d problem", r.Status, r.Raw, tc.status)
			}
			after := apiDo(t, ts, http.MethodGet, "/settings", admin, nil, "")
			if string(after.Raw) != string(before.Raw) || after.Header.Get("ETag") != before.Header.Get("ETag") {
				t.Fatalf("settings changed by a refused PATCH:\nbefore %s\nafter  %s", before.Raw, after.Raw)
			}
		})
	}

	t.Run("a valid multi-field PATCH applies every field", func(t *testing.T) {
		change := map[string]any{"secret_lifetime_days": 30, "third_party_oauth": false, "app_registration": domain.PolicyApproval,
			"pat_max_lifespan_days": 60, "pat_full_scope": "deny", "pat_creation": "allowlist", "pat_allowlist": []string{"bob"}}
		r := apiDo(t, ts, http.MethodPatch, "/settings", admin, change, before.Header.Get("ETag"))
		if r.Status != http.StatusOK {
			t.Fatalf("patch: %d %s", r.Status, r.Raw)
		}
		after := apiDo(t, ts, http.MethodGet, "/settings", admin, nil, "")
		for k, want := range map[string]any{"secret_lifetime_days": float64(30), "third_party_oauth": false, "app_registration": domain.PolicyApproval,
			"pat_max_lifespan_days": float64(60), "pat_full_scope": "deny", "pat_creation": "allowlist"} {
			if after.JSON[k] != want {
				t.Errorf("%s = %v after the PATCH, want %v (%s)", k, after.JSON[k], want, after.Raw)
			}
		}
		if !strings.Contains(string(after.Raw), `"pat_allowlist":["bob"]`) {
			t.Errorf("allowlist: %s", after.Raw)
		}
	})
}
