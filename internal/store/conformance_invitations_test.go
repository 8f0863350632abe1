package store

import (
	"slices"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// testPendingChangesAndInvitations: a pending change round-trips its
// proposed registration, is replaced by a newer one (pending again after
// a rejection) and leaves the queue with its app's deletion; invitations
// match their invitee case-insensitively, are renewed by a repeat, and
// vanish from every read once expired.
func testPendingChangesAndInvitations(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	u := mkUser(t, ctx, db, "owner")
	a := mkApp(t, ctx, db, u, "Boards", "Fabrikam")
	b := mkApp(t, ctx, db, u, "Wiki", "Fabrikam")

	proposed := a.Registration
	proposed.Name, proposed.CallbackURL, proposed.Scopes = "Boards Pro", "https://other.example/cb", []string{"vso.code", "vso.work"}
	if err := db.PutPendingChange(ctx, domain.PendingChange{ClientID: a.ClientID, Proposed: proposed, RequestedBy: u.ID, RequestedAt: now0}); err != nil {
		t.Fatal(err)
	}
	got, err := db.PendingChangeOf(ctx, a.ClientID)
	if err != nil || got.Proposed.Name != "Boards Pro" || got.Proposed.CallbackURL != proposed.CallbackURL ||
		!slices.Equal(got.Proposed.Scopes, proposed.Scopes) || got.Status != domain.ChangePending || got.RequestedByName != "owner" || !got.RequestedAt.Equal(now0) {
		t.Fatalf("pending change read back: %+v %v", got, err)
	}
	if err := db.SetPendingChangeStatus(ctx, a.ClientID, domain.ChangeRejected, "no"); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.CountPendingChanges(ctx); n != 0 {
		t.Errorf("a rejected change is counted as waiting: %d", n)
	}
	proposed.Name = "Boards Max"
	if err := db.PutPendingChange(ctx, domain.PendingChange{ClientID: a.ClientID, Proposed: proposed, RequestedBy: u.ID, RequestedAt: now0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.PendingChangeOf(ctx, a.ClientID); got.Proposed.Name != "Boards Max" || got.Status != domain.ChangePending || got.ReviewNote != "" {
		t.Errorf("the replacing change: %+v", got)
	}
	if err := db.PutPendingChange(ctx, domain.PendingChange{ClientID: b.ClientID, Proposed: b.Registration, RequestedBy: u.ID, RequestedAt: now0}); err != nil {
		t.Fatal(err)
	}
	list, more, err := db.PendingChanges(ctx, domain.ChangePending, 1)
	if err != nil || len(list) != 1 || !more || list[0].ClientID != b.ClientID {
		t.Errorf("the queue's first page: %+v more=%v %v, want the oldest (Wiki) and more", list, more, err)
	}
	if err := db.DeleteApp(ctx, b.ClientID, now0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PendingChangeOf(ctx, b.ClientID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("the change of a deleted app: %v, want NotFound", err)
	}
	if ok, err := db.DeletePendingChange(ctx, a.ClientID); !ok || err != nil {
		t.Errorf("delete the change: %v %v", ok, err)
	}
	if _, err := db.PendingChangeOf(ctx, a.ClientID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("after the deletion: %v, want NotFound", err)
	}

	inv := domain.OwnerInvitation{ID: "11111111-1111-4111-8111-111111111111", ClientID: a.ClientID, Username: "Ghost.User", InvitedBy: u.ID,
		CreatedAt: now0, ExpiresAt: now0.Add(domain.InvitationLifetime)}
	if err := db.PutInvitation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	mine, err := db.UserInvitations(ctx, "ghost.user", now0.Add(time.Hour))
	if err != nil || len(mine) != 1 || mine[0].Username != "Ghost.User" || mine[0].AppName != "Boards" || mine[0].InvitedByName != "owner" {
		t.Fatalf("the invitee's invitations: %+v %v", mine, err)
	}
	// A repeat (any case) renews the one invitation.
	again := inv
	again.ID, again.Username, again.CreatedAt, again.ExpiresAt = "22222222-2222-4222-8222-222222222222", "GHOST.user", now0.Add(time.Hour), now0.Add(time.Hour+domain.InvitationLifetime)
	if err := db.PutInvitation(ctx, again); err != nil {
		t.Fatal(err)
	}
	if list, _ := db.AppInvitations(ctx, a.ClientID, now0.Add(2*time.Hour)); len(list) != 1 || list[0].ID != again.ID {
		t.Errorf("after a repeat: %+v, want the renewed one only", list)
	}
	if n, _ := db.CountAppInvitations(ctx, a.ClientID, now0.Add(2*time.Hour)); n != 1 {
		t.Errorf("count: %d", n)
	}
	// Expired: gone from every read.
	later := again.ExpiresAt.Add(time.Second)
	if list, _ := db.AppInvitations(ctx, a.ClientID, later); len(list) != 0 {
		t.Errorf("expired invitations listed: %+v", list)
	}
	if _, err := db.InvitationByID(ctx, again.ID, later); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("an expired invitation by id: %v, want NotFound", err)
	}
	if got, err := db.InvitationByID(ctx, again.ID, now0.Add(2*time.Hour)); err != nil || got.ClientID != a.ClientID {
		t.Errorf("invitation by id: %+v %v", got, err)
	}
	if ok, err := db.DeleteInvitation(ctx, again.ID); !ok || err != nil {
		t.Errorf("delete the invitation: %v %v", ok, err)
	}
}
