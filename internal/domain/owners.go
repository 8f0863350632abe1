package domain

import "time"

// App statuses (who may register apps). Only an active app can be
// authorized or get tokens; a pending one waits for an administrator's
// approval; a rejected one was refused with a note its owners see.
const (
	AppActive   = "active"
	AppPending  = "pending"
	AppRejected = "rejected"
)

// App-registration policies: who may register apps. The default is
// PolicyMembers, as in the seeds ("Go to …/app/register to register your
// app").
const (
	PolicyMembers  = "members"  // any signed-in user registers apps and owns them
	PolicyApproval = "approval" // a member's new app is pending until an admin approves it
	PolicyAdmins   = "admins"   // only administrators register apps
)

// ValidRegistrationPolicy reports whether p is one of the three policies.
func ValidRegistrationPolicy(p string) bool {
	return p == PolicyMembers || p == PolicyApproval || p == PolicyAdmins
}

// AppOwner is one owner of an app: a user who may manage it from the
// profile. Primary is the owner recorded on the app (apps.owner_id).
type AppOwner struct {
	UserID      string
	Username    string
	DisplayName string
	AddedAt     time.Time
	Primary     bool
	// Deleted: the user account was deleted. Deleting a user removes it
	// from every app's owners (handed over, or left to the other owners),
	// so only owners of apps deleted before that, or of deleted apps, are
	// still listed so; shown "(deleted)", never offered a hand-over.
	Deleted bool
	// Disabled: the user account is disabled; a disabled co-owner stays
	// an owner (they may be enabled again) but is not made primary while
	// an active owner remains.
	Disabled bool
}

// Active reports whether the owner may manage the app: neither deleted
// nor disabled.
func (o AppOwner) Active() bool { return !o.Deleted && !o.Disabled }

// LastActiveOwner reports whether removing userID from owners (an app's
// owners, as AppOwners lists them) would leave the app with no active
// owner while userID is one: nobody would be left who can manage it.
// Removing an owner who is disabled or deleted never does.
func LastActiveOwner(owners []AppOwner, userID string) bool {
	leaving, others := false, 0
	for _, o := range owners {
		switch {
		case o.UserID == userID:
			leaving = o.Active()
		case o.Active():
			others++
		}
	}
	return leaving && others == 0
}

// Authorization states: the true state of a user's grant.
const (
	// AuthActive: a live refresh token exists (unused, unrevoked,
	// unexpired, minted with a client secret that still works), or the
	// grant is fresh (an unused, unexpired authorization code).
	AuthActive = "active"
	// AuthNeedsReauthorization: the consent stands but no token works, so
	// the user must authorize the app again.
	AuthNeedsReauthorization = "needs_reauthorization"
	// AuthRevoked: the authorization was revoked.
	AuthRevoked = "revoked"
)

// UserFilter selects a page of users ordered by username
// (case-insensitive) then id. After is a cursor from a previous UserPage;
// Limit is the page size (1..500, default 100).
type UserFilter struct {
	// Query matches the username, display name or e-mail (substring,
	// case-insensitive).
	Query string
	After string
	Limit int
}

// UserPage is one page of users and the cursor of the next ("" on the
// last page).
type UserPage struct {
	Users []UserSummary
	Next  string
}

// Active reports whether the user may sign in: neither disabled nor
// deleted.
func (u User) Active() bool { return u.DisabledAt == nil && u.DeletedAt == nil }

// Status names the user's account state: "deleted", "disabled" or
// "active" (deletion wins over disabling).
func (u User) Status() string {
	switch {
	case u.DeletedAt != nil:
		return "deleted"
	case u.DisabledAt != nil:
		return "disabled"
	}
	return "active"
}
