package e2e

// Co-owners join by invitation: the inviter's answer and pages are the
// same whatever username is typed (a member's, an unknown name, a
// disabled user's, an administrator's); only the invitee can accept or
// decline, on their own /profile/apps; invitations expire.

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

var invitationIDRE = regexp.MustCompile(`/profile/invitations/([0-9a-f-]{36})/accept`)

// myInvitationID returns the id of the invitation to clientID on the
// user's /profile/apps ("" when none is listed).
func myInvitationID(t *testing.T, a *agent, clientID string) string {
	t.Helper()
	row := lcRow(a.get("/profile/apps").Body, `data-testid="my-invitation" data-client-id="`+clientID+`"`)
	if m := invitationIDRE.FindStringSubmatch(row); m != nil {
		return m[1]
	}
	return ""
}

func TestCoOwnerInvitations(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	alice, bob, dave, mallory := e.member(t, "alice"), e.member(t, "bob"), e.member(t, "dave"), e.member(t, "mallory")
	carol := e.member(t, "carol")
	if _, err := e.ts.App.Admin.SetDisabled(context.Background(), carol.ID, true); err != nil {
		t.Fatal(err)
	}
	app := registerOwn(t, alice.a, "Fabrikam Boards", "vso.work")
	base := "/profile/apps/" + app.ClientID

	// The same answer for a member, an unknown name, a disabled user and
	// an administrator: the name as typed, nothing about who exists.
	names := []string{bob.Username, "Ghost.User", carol.Username, "root", dave.Username}
	var answers []string
	for _, name := range names {
		r := ownPost(t, alice.a, base, base+"/owners", url.Values{"username": {name}})
		wantStatus(t, r, http.StatusSeeOther, "invite "+name)
		if r.Location() != base {
			t.Errorf("invite %s went to %q", name, r.Location())
		}
		answers = append(answers, strings.ReplaceAll(lcFlash(t, alice.a, base), name, "NAME"))
	}
	for i, a := range answers {
		if a != answers[0] || !strings.Contains(a, "Invited NAME") {
			t.Errorf("answer to inviting %s: %q, want the same as for %s: %q", names[i], a, names[0], answers[0])
		}
	}
	page := alice.a.get(base)
	expires := time.Now().UTC().Add(domain.InvitationLifetime).Format(time.DateOnly)
	for _, name := range names {
		row := lcRow(page.Body, `data-testid="invitation-row" data-username="`+name+`"`)
		if row == "" || !strings.Contains(row, expires) {
			t.Errorf("the invitation to %s is not listed as typed, expiring on %s: %q", name, expires, lcText(row))
		}
	}
	// Nobody owns it yet: no one joined without saying yes.
	owners, _ := e.ts.App.Admin.AppOwners(context.Background(), app.ClientID)
	if len(owners) != 1 {
		t.Fatalf("owners before any answer: %+v", owners)
	}
	if r := bob.a.get(base); r.Status != http.StatusNotFound {
		t.Errorf("the invitee's app page before accepting: %d, want 404", r.Status)
	}
	// Malformed names are refused for their form alone.
	if r := ownPost(t, alice.a, base, base+"/owners", url.Values{"username": {"no spaces allowed"}}); r.Status != http.StatusSeeOther ||
		!strings.Contains(lcFlash(t, alice.a, base), "not a username") {
		t.Error("a malformed username was not refused for its form")
	}

	// Only the invitee answers: another member gets 404.
	bobInv := myInvitationID(t, bob.a, app.ClientID)
	if bobInv == "" {
		t.Fatal("bob's /profile/apps does not show the invitation")
	}
	if myInvitationID(t, mallory.a, app.ClientID) != "" {
		t.Error("mallory sees bob's invitation")
	}
	if r := ownPost(t, mallory.a, "/profile/apps", "/profile/invitations/"+bobInv+"/accept", nil); r.Status != http.StatusNotFound {
		t.Errorf("mallory accepting bob's invitation: %d, want 404", r.Status)
	}
	// bob accepts: he manages the app now.
	r := ownPost(t, bob.a, "/profile/apps", "/profile/invitations/"+bobInv+"/accept", nil)
	wantStatus(t, r, http.StatusSeeOther, "accept")
	if r := bob.a.get(base); r.Status != http.StatusOK {
		t.Errorf("bob's app page after accepting: %d", r.Status)
	}
	page = alice.a.get(base)
	if lcRow(page.Body, `data-testid="owner-row" data-username="`+bob.Username+`"`) == "" ||
		lcRow(page.Body, `data-testid="invitation-row" data-username="`+bob.Username+`"`) != "" {
		t.Error("after accepting, bob is not an owner or still invited")
	}
	lcWantEvent(t, e.admin, "action="+audit.ActionAppOwnerAdd+"&target_id="+app.ClientID, bob.Username)

	// The administrator declines: not an owner, the invitation is gone.
	rootInv := myInvitationID(t, e.admin, app.ClientID)
	if rootInv == "" {
		t.Fatal("the administrator's /profile/apps does not show the invitation")
	}
	wantStatus(t, ownPost(t, e.admin, "/profile/apps", "/profile/invitations/"+rootInv+"/decline", nil), http.StatusSeeOther, "decline")
	if ok, _ := e.ts.App.Admin.IsOwner(context.Background(), app.ClientID, e.root.ID); ok {
		t.Error("the administrator owns the app after declining")
	}
	if lcRow(alice.a.get(base).Body, `data-testid="invitation-row" data-username="root"`) != "" {
		t.Error("the declined invitation is still listed")
	}

	// After 14 days an invitation expires: not listed, cannot be accepted.
	daveInv := myInvitationID(t, dave.a, app.ClientID)
	raw, err := e.ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE app_owner_invitations SET expires_at = created_at WHERE id = ?`, daveInv); err != nil {
		t.Fatal(err)
	}
	if myInvitationID(t, dave.a, app.ClientID) != "" {
		t.Error("the expired invitation is still offered")
	}
	if r := ownPost(t, dave.a, "/profile/apps", "/profile/invitations/"+daveInv+"/accept", nil); r.Status != http.StatusNotFound {
		t.Errorf("accepting an expired invitation: %d, want 404", r.Status)
	}
	if lcRow(alice.a.get(base).Body, `data-testid="invitation-row" data-username="`+dave.Username+`"`) != "" {
		t.Error("the expired invitation is still listed to the inviter")
	}
	if ok, _ := e.ts.App.Admin.IsOwner(context.Background(), app.ClientID, dave.ID); ok {
		t.Error("dave owns the app through an expired invitation")
	}
}
