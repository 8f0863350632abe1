package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

var oaRowRE = regexp.MustCompile(`<tr data-testid="next-row" data-client-id="([^"]+)" data-state="([a-z]+)"`)

// oaSection returns the client ids listed in the table data-testid=id.
func oaSection(body, id string) []string {
	_, rest, ok := strings.Cut(body, `data-testid="`+id+`"`)
	if !ok {
		return nil
	}
	rest, _, _ = strings.Cut(rest, "</table>")
	var out []string
	for _, m := range oaRowRE.FindAllStringSubmatch(rest, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestOverviewNeedsAttention: the admin lands on the overview, which
// lists the secrets about to expire soonest first (not those that expired
// long ago), the expired ones in their own group, the long-dead apps for
// clean-up, and the approval queue with who asked and the high-privilege
// scopes asked for.
func TestOverviewNeedsAttention(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	_, aliceA := saSignedIn(t, ts, "alice", domain.RoleMember, saPassword)
	db, err := ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	reg := func(name string, created time.Time) string {
		form := url.Values{"_csrf": {rootA.csrf("/admin/apps/new")}, "name": {name}, "company": {"Contoso"},
			"app_url": {"https://contoso.example"}, "callback_url": {"https://contoso.example/cb"}, "scopes": {"vso.work"}}
		r := rootA.postForm("/admin/apps", form)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("register %s: %d", name, r.Status)
		}
		id := strings.TrimPrefix(r.Location(), "/admin/apps/")
		ageSecret(t, db, id, created)
		return id
	}
	critical := reg("Almost Five", now.AddDate(-5, 0, 0).Add(3*24*time.Hour))
	fine := reg("One Year", now.AddDate(-1, 0, 0))
	recent := reg("Expired Last Month", now.AddDate(-5, -1, 0))
	dead := reg("Dead Since 2024", now.AddDate(-7, 0, 0))

	// A member asks for an app with a high-privilege scope.
	if err := ts.App.Admin.SetRegistrationPolicy(context.Background(), domain.PolicyApproval); err != nil {
		t.Fatal(err)
	}
	pending := registerOwn(t, aliceA, "Code Pusher", "vso.code_write")

	// Signing in lands on the overview.
	fresh := ts.newAgent(t)
	if r := fresh.postForm("/signin", url.Values{"_csrf": {fresh.csrf("/signin")}, "username": {"root"}, "password": {saRootPassword}}); r.Location() != "/admin" {
		t.Errorf("after sign-in the admin goes to %q, want /admin", r.Location())
	}

	body := rootA.get("/admin").Body
	if got := oaSection(body, "next-expiries"); len(got) != 3 || got[0] != critical || got[1] != fine || got[2] != pending.ClientID {
		t.Errorf("next to expire %v, want the critical one, the fine one, the pending one's new secret (%s, %s, %s), no expired ones", got, critical, fine, pending.ClientID)
	}
	if got := oaSection(body, "expired-expiries"); len(got) != 2 || got[0] != recent || got[1] != dead {
		t.Errorf("expired group %v, want the most recently expired first (%s, %s)", got, recent, dead)
	}
	if !strings.Contains(body, `<details data-testid="expired-group">`) {
		t.Error("the expired secrets are not in a collapsed group of their own")
	}
	_, cleanup, _ := strings.Cut(body, `data-testid="cleanup"`)
	if !strings.Contains(cleanup, `data-client-id="`+dead+`"`) || strings.Contains(cleanup, `data-client-id="`+recent+`"`) {
		t.Errorf("clean-up candidates: want the app dead for two years only")
	}
	if !strings.Contains(cleanup, `href="/admin/apps/`+dead+`/delete"`) {
		t.Error("the clean-up candidate offers no Delete")
	}
	_, row, _ := strings.Cut(body, `data-testid="queue-row" data-client-id="`+pending.ClientID+`"`)
	row, _, _ = strings.Cut(row, "</li>")
	if got := lcText(row); !strings.Contains(got, "Asked by alice on "+now.Format("2006-01-02")) {
		t.Errorf("queue says %q, want who asked", got)
	}
	if got, _ := lcTestID(row, "queue-high"); got != "1 high-privilege scope" {
		t.Errorf("queue high-privilege badge %q", got)
	}
	if !strings.Contains(row, "vso.code_write") || !strings.Contains(row, `data-testid="queue-approve"`) || !strings.Contains(row, `data-testid="queue-reject"`) {
		t.Errorf("queue row lacks the scope or a review button: %s", lcText(row))
	}
}

// TestMemberHome: a member lands on / and sees the app whose secret
// expired, what to do about it, and the apps they have authorized.
func TestMemberHome(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	_, aliceA := saSignedIn(t, ts, "alice", domain.RoleMember, saPassword)
	mine := registerOwn(t, aliceA, "Alice's Board", "vso.work")
	fine := registerOwn(t, aliceA, "Alice's Wiki", "vso.work")
	db, err := ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ageSecret(t, db, mine.ClientID, time.Now().AddDate(-6, 0, 0))
	other := registerThroughDashboard(t, rootA, "vso.work")
	saPair(t, ts, aliceA, other, "vso.work", "alice")

	fresh := ts.newAgent(t)
	if r := fresh.postForm("/signin", url.Values{"_csrf": {fresh.csrf("/signin")}, "username": {"alice"}, "password": {saPassword}}); r.Location() != "/" {
		t.Errorf("a member lands on %q, want /", r.Location())
	}
	body := aliceA.get("/").Body
	_, row, _ := strings.Cut(body, `data-testid="home-action" data-client-id="`+mine.ClientID+`"`)
	row, _, _ = strings.Cut(row, "</li>")
	if !strings.Contains(lcText(row), "its client secret expired on") {
		t.Errorf("home says about the expired app: %q", lcText(row))
	}
	if strings.Contains(body, `data-testid="home-action" data-client-id="`+fine.ClientID+`"`) {
		t.Error("an app that needs nothing is listed as needing action")
	}
	if got, _ := lcTestID(body, "home-authorization"); got != "Fabrikam Boards" {
		t.Errorf("home authorizations: %q, want Fabrikam Boards", got)
	}
	// Each authorization links to its card on /profile/authorizations and
	// says its state in words.
	_, auth, _ := strings.Cut(body, `data-testid="home-authorization"`)
	auth, _, _ = strings.Cut(auth, "</li>")
	if !strings.Contains(auth, `data-state="active"`) || !strings.Contains(auth, `href="/profile/authorizations#authorization-`) ||
		!strings.Contains(auth, `data-testid="auth-state" data-state="active">active</mark>`) {
		t.Errorf("the home authorization is not a link with its state: %.300s", auth)
	}
}
