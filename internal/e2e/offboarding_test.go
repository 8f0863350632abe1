package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/audit"
)

// TestDeleteSoleOwnerHandsOver: deleting or disabling a user who alone
// owns apps lists those apps on the confirmation and asks for their new
// owner; without one (or with one who cannot own apps) nothing changes;
// with one, the apps change owner in the same step (the new owner
// manages them from their profile, the old one no longer does) and the
// hand-over is in the audit log of the app and of both users. Apps the
// user co-owns with an active owner are left as they are.
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
	if len(shOwners) != 2 {
		t.Errorf("the shared app's owners: %+v, want frank (deleted) and bob kept", shOwners)
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

// soleOwnedList is the text of a confirmation's list of apps the user
// alone owns.
func soleOwnedList(body string) string {
	_, rest, _ := strings.Cut(body, `data-testid="sole-owned-apps"`)
	rest, _, _ = strings.Cut(rest, "</table>")
	return lcText("<" + rest)
}
