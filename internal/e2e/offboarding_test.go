package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// TestDeleteSoleOwnerHandsOver: deleting or disabling a user who alone
// owns apps lists those apps on the confirmation and asks for their new
// owner; without one (or with one who cannot own apps) nothing changes;
// with one, the apps change owner in the same step (the new owner
// manages them from their profile, the old one no longer does) and the
// hand-over is in the audit log of the app and of both users. Apps the
// user co-owns with an active owner stay with that owner alone.
func TestDeleteSoleOwnerHandsOver(t *testing.T) {
	e := lcNewEnv(t)
	ctx := context.Background()
	frank, bob, grace, henry := e.member(t, "frank"), e.member(t, "bob"), e.member(t, "grace"), e.member(t, "henry")
	sole := registerOwn(t, frank.a, "Frank Feed", "vso.work")
	shared := registerOwn(t, frank.a, "Frank and Bob Board", "vso.work")
	if _, err := e.ts.App.Admin.AddOwner(ctx, shared.ClientID, bob.Username); err != nil {
		t.Fatal(err)
	}
	page := "/admin/users/" + frank.ID
	del := page + "/delete"
	c := e.admin.get(del)
	if c.Status != http.StatusOK || !strings.Contains(c.Body, `data-testid="sole-owned"`) || !strings.Contains(c.Body, `data-testid="new-owner"`) {
		t.Fatalf("the delete confirmation does not ask for a new owner: %d %.600s", c.Status, lcText(c.Body))
	}
	listed := lcText(soleOwnedList(c.Body))
	if !strings.Contains(listed, "Frank Feed") || strings.Contains(listed, "Frank and Bob Board") {
		t.Errorf("apps listed as frank's alone: %q, want Frank Feed only", listed)
	}
	if !strings.Contains(lcText(c.Body), "alone owns 1 app") {
		t.Errorf("the confirmation does not count the apps: %.400s", lcText(c.Body))
	}

	// Refused: no new owner, an unknown one, a disabled one. Frank stays.
	hpage := "/admin/users/" + henry.ID // henry owns nothing: disabled without a question; a successor who cannot own apps
	wantStatus(t, ownPost(t, e.admin, hpage, hpage+"/disable", nil), http.StatusSeeOther, "disable henry")
	for _, to := range []string{"", "nobody-here", henry.Username} {
		r := ownPost(t, e.admin, del, del, url.Values{"new_owner": {to}})
		if to == "" {
			r = ownPost(t, e.admin, del, del, nil)
		}
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `data-testid="new-owner-error"`) || !strings.Contains(r.Body, `data-testid="sole-owned"`) {
			t.Errorf("delete with new owner %q: %d %.300s, want 400 with the field's error", to, r.Status, lcText(r.Body))
		}
		if u, _ := e.ts.App.Admin.User(ctx, frank.ID); u.DeletedAt != nil {
			t.Fatalf("frank was deleted although the hand-over to %q was refused", to)
		}
	}

	// Handed over to grace.
	r := ownPost(t, e.admin, del, del, url.Values{"new_owner": {grace.Username}})
	wantStatus(t, r, http.StatusSeeOther, "delete frank handing over to grace")
	if f := lcFlash(t, e.admin, page); !strings.Contains(f, "1 app was handed over to "+grace.Username) {
		t.Errorf("flash after the delete: %q", f)
	}
	if u, _ := e.ts.App.Admin.User(ctx, frank.ID); u.DeletedAt == nil {
		t.Error("frank is not deleted")
	}
	owners, err := e.ts.App.Admin.AppOwners(ctx, sole.ClientID)
	if err != nil || len(owners) != 1 || owners[0].UserID != grace.ID || !owners[0].Primary {
		t.Errorf("Frank Feed's owners after the delete: %+v %v, want grace alone, primary", owners, err)
	}
	shOwners, _ := e.ts.App.Admin.AppOwners(ctx, shared.ClientID)
	if len(shOwners) != 1 || shOwners[0].UserID != bob.ID || !shOwners[0].Primary {
		t.Errorf("the shared app's owners: %+v, want bob alone, primary (frank removed)", shOwners)
	}
	// Grace manages the app: her page, a staged rotation.
	base := "/profile/apps/" + sole.ClientID
	if r := grace.a.get(base); r.Status != http.StatusOK || !strings.Contains(r.Body, "Frank Feed") {
		t.Fatalf("grace's page of the handed-over app: %d", r.Status)
	}
	wantStatus(t, ownPost(t, grace.a, base, base+"/secrets/alternative", nil), http.StatusSeeOther, "grace adds a secret")
	if !newSecretRE.MatchString(grace.a.get(base).Body) {
		t.Error("grace's new secret was not shown")
	}
	if r := grace.a.get("/profile/apps"); !strings.Contains(r.Body, `data-client-id="`+sole.ClientID+`"`) {
		t.Error("the app is not in grace's list")
	}
	// The audit log: the app's, frank's and grace's activity.
	for _, f := range []audit.Filter{{AppID: sole.ClientID, Action: audit.ActionAppHandOver}, {UserID: frank.ID, Action: audit.ActionAppHandOver}} {
		evs, _, err := e.ts.App.Admin.AuditEvents(ctx, f)
		if err != nil || len(evs) != 1 {
			t.Fatalf("hand-over events for %+v: %d %v", f, len(evs), err)
		}
		d := evs[0].Details
		if d["to_username"] != grace.Username || d["from_username"] != frank.Username || d["reason"] != "user deleted" || evs[0].Actor != "root" {
			t.Errorf("hand-over event: actor %q details %v", evs[0].Actor, d)
		}
	}

	// Disable hands over the same way.
	solo := registerOwn(t, bob.a, "Bob Solo", "vso.work")
	bpage := "/admin/users/" + bob.ID
	if c := e.admin.get(bpage + "/disable"); !strings.Contains(lcText(soleOwnedList(c.Body)), "Bob Solo") ||
		!strings.Contains(lcText(soleOwnedList(c.Body)), "Frank and Bob Board") {
		t.Errorf("bob's disable confirmation lists: %q, want Bob Solo and the board frank left", lcText(soleOwnedList(c.Body)))
	}
	wantStatus(t, ownPost(t, e.admin, bpage, bpage+"/disable", url.Values{"new_owner": {grace.Username}}), http.StatusSeeOther, "disable bob")
	for _, id := range []string{solo.ClientID, shared.ClientID} {
		if ok, _ := e.ts.App.Admin.IsOwner(ctx, id, grace.ID); !ok {
			t.Errorf("grace does not own %s after bob was disabled", id)
		}
		if ok, _ := e.ts.App.Admin.IsOwner(ctx, id, bob.ID); ok {
			t.Errorf("bob still owns %s after the hand-over", id)
		}
	}
	evs, _, _ := e.ts.App.Admin.AuditEvents(ctx, audit.Filter{AppID: solo.ClientID, Action: audit.ActionAppHandOver})
	if len(evs) != 1 || evs[0].Details["reason"] != "user disabled" {
		t.Errorf("Bob Solo's hand-over events: %+v", evs)
	}
	if u, _ := e.ts.App.Admin.User(ctx, bob.ID); u.DisabledAt == nil {
		t.Error("bob is not disabled")
	}
}

// TestDeleteCoOwnerLeavesItsApps: deleting gina, who co-owns Kite Alerts
// with bob and is the primary owner of Gina Board, which bob co-owns,
// removes her from both apps' owners in the same step (bob becomes Gina
// Board's primary owner), one app.owner_remove event per app with the
// reason; the confirmation names both apps and says their other owners
// keep them (and, with nothing to revoke, no "0 … of 0 users"); bob
// still manages both apps; the admin app page lists no deleted owner.
// A disabled co-owner, by contrast, stays an owner.
func TestDeleteCoOwnerLeavesItsApps(t *testing.T) {
	e := lcNewEnv(t)
	ctx := context.Background()
	bob, gina, henry := e.member(t, "bob"), e.member(t, "gina"), e.member(t, "henry")
	kite := registerOwn(t, bob.a, "Kite Alerts", "vso.work")
	board := registerOwn(t, gina.a, "Gina Board", "vso.work")
	for _, add := range []struct{ app, user string }{{kite.ClientID, gina.Username}, {board.ClientID, bob.Username}, {kite.ClientID, henry.Username}} {
		if _, err := e.ts.App.Admin.AddOwner(ctx, add.app, add.user); err != nil {
			t.Fatal(err)
		}
	}

	// Disabling henry leaves him a co-owner of Kite Alerts.
	hpage := "/admin/users/" + henry.ID
	if c := e.admin.get(hpage + "/disable"); strings.Contains(lcText(c.Body), "co-owner") || strings.Contains(c.Body, `data-testid="sole-owned"`) {
		t.Errorf("henry's disable confirmation speaks of his apps: %.600s", lcText(c.Body))
	}
	wantStatus(t, ownPost(t, e.admin, hpage, hpage+"/disable", nil), http.StatusSeeOther, "disable henry")
	if ok, _ := e.ts.App.Admin.IsOwner(ctx, kite.ClientID, henry.ID); !ok {
		t.Error("disabled henry no longer co-owns Kite Alerts")
	}

	page := "/admin/users/" + gina.ID
	del := page + "/delete"
	c := e.admin.get(del)
	text := lcText(c.Body)
	if c.Status != http.StatusOK || !strings.Contains(text, gina.Username+" will be removed as a co-owner of Gina Board and Kite Alerts; their other owners keep them.") {
		t.Errorf("the delete confirmation does not name the co-owned apps: %d %.800s", c.Status, text)
	}
	if !strings.Contains(text, "No active authorizations") || strings.Contains(text, "0 active authorizations") || strings.Contains(c.Body, `data-testid="sole-owned"`) {
		t.Errorf("the delete confirmation: %.800s", text)
	}
	wantStatus(t, ownPost(t, e.admin, del, del, nil), http.StatusSeeOther, "delete gina")
	if u, _ := e.ts.App.Admin.User(ctx, gina.ID); u.DeletedAt == nil {
		t.Fatal("gina is not deleted")
	}

	for _, app := range []registeredApp{kite, board} {
		owners, err := e.ts.App.Admin.AppOwners(ctx, app.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range owners {
			if o.UserID == gina.ID || o.Deleted {
				t.Errorf("%s's owners after gina was deleted: %+v", app.ClientID, owners)
			}
		}
		if owners[0].UserID != bob.ID || !owners[0].Primary {
			t.Errorf("%s's primary owner: %+v, want bob", app.ClientID, owners)
		}
		r := e.admin.get("/admin/apps/" + app.ClientID + "?tab=owners")
		if r.Status != http.StatusOK || strings.Contains(r.Body, `data-username="`+gina.Username+`"`) || strings.Contains(lcText(r.Body), "(deleted)") {
			t.Errorf("the admin page of %s still lists gina: %d", app.ClientID, r.Status)
		}
		// Bob manages it.
		base := "/profile/apps/" + app.ClientID
		wantStatus(t, ownPost(t, bob.a, base, base+"/secrets/alternative", nil), http.StatusSeeOther, "bob adds a secret to "+app.ClientID)
		evs, _, err := e.ts.App.Admin.AuditEvents(ctx, audit.Filter{AppID: app.ClientID, Action: audit.ActionAppOwnerRemove})
		if err != nil || len(evs) != 1 {
			t.Fatalf("owner removals of %s: %d %v, want 1", app.ClientID, len(evs), err)
		}
		d := evs[0].Details
		if d["user_id"] != gina.ID || d["reason"] != "user deleted" || evs[0].Actor != "root" {
			t.Errorf("the removal of gina from %s: actor %q details %v", app.ClientID, evs[0].Actor, d)
		}
		if app == board && d["new_primary"] != bob.Username {
			t.Errorf("Gina Board's new primary owner in the audit: %v, want bob (henry is not an owner of it)", d["new_primary"])
		}
	}
	if ok, _ := e.ts.App.Admin.IsOwner(ctx, kite.ClientID, henry.ID); !ok {
		t.Error("disabled henry no longer co-owns Kite Alerts after gina's delete")
	}

	// A user without an e-mail: the role stands alone, no dangling "·".
	ivy, err := e.ts.App.Admin.CreateUser(ctx, admin.NewUser{Username: "ivy", DisplayName: "Ivy", Role: domain.RoleMember, Password: lcPassword})
	if err != nil {
		t.Fatal(err)
	}
	body := e.admin.get("/admin/users/" + ivy.ID).Body
	_, role, _ := strings.Cut(body, `data-testid="user-role">`)
	role, _, _ = strings.Cut(role, "</p>")
	if got := lcText(role); got != "member" {
		t.Errorf("ivy's role line: %q, want member", got)
	}
}

// soleOwnedList is the text of a confirmation's list of apps the user
// alone owns.
func soleOwnedList(body string) string {
	_, rest, _ := strings.Cut(body, `data-testid="sole-owned-apps"`)
	rest, _, _ = strings.Cut(rest, "</table>")
	return lcText("<" + rest)
}

// TestDeleteOwnerOfManyApps: a user who alone owns 300 apps. The
// confirmation lists each with its own picker, folded away (the new
// owner of every app answers for all of them at once); one override
// and the default hand every app over in one step: 299 to grace, one to
// bob, one audit event each.
func TestDeleteOwnerOfManyApps(t *testing.T) {
	e := lcNewEnv(t)
	ctx := context.Background()
	frank, bob, grace := e.member(t, "frank"), e.member(t, "bob"), e.member(t, "grace")
	const n = 300
	var ids []string
	for i := range n {
		res, err := e.ts.App.Admin.RegisterApp(ctx, frank.Username, domain.Registration{Name: fmt.Sprintf("Frank App %03d", i), Company: "Frank & Co.",
			AppURL: "https://frank.example", CallbackURL: callbackURL, Scopes: []string{"vso.work"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.App.ClientID)
	}
	del := "/admin/users/" + frank.ID + "/delete"
	c := e.admin.get(del)
	if c.Status != http.StatusOK || strings.Count(c.Body, `data-testid="app-new-owner"`) != n || !strings.Contains(lcText(c.Body), "alone owns 300 apps") {
		t.Fatalf("the confirmation: %d, %d pickers, want %d", c.Status, strings.Count(c.Body, `data-testid="app-new-owner"`), n)
	}
	if strings.Contains(c.Body, `<details class="handover-apps" open`) {
		t.Error("300 per-app pickers are shown unfolded")
	}
	special := ids[137]
	r := ownPost(t, e.admin, del, del, url.Values{"new_owner": {grace.Username}, "new_owner." + special: {bob.Username}})
	wantStatus(t, r, http.StatusSeeOther, "delete frank with 300 apps")
	for _, id := range ids {
		want := grace.ID
		if id == special {
			want = bob.ID
		}
		owners, err := e.ts.App.Admin.AppOwners(ctx, id)
		if err != nil || len(owners) != 1 || owners[0].UserID != want || !owners[0].Primary {
			t.Fatalf("%s's owners: %+v %v", id, owners, err)
		}
	}
	evs, _, err := e.ts.App.Admin.AuditEvents(ctx, audit.Filter{UserID: frank.ID, Action: audit.ActionAppHandOver, Limit: 1000})
	if err != nil || len(evs) != n {
		t.Errorf("%d hand-over events, want %d (%v)", len(evs), n, err)
	}
}
