package views

// FieldDiffRow is one changed field of a pending change: its label, the
// live (approved) value and the proposed one; for a list field (List:
// scopes, redirect URIs, grant types) the items added and removed.
type FieldDiffRow struct {
	Field, Label, Before, After string
	List                        bool
	Added, Removed              []DiffItem
}

// DiffItem is one item added to or removed from a list field; a scope
// carries its catalog name (Title) and high-privilege flag.
type DiffItem struct {
	Value, Title  string
	HighPrivilege bool
}

// PendingChangeView is a member's change of an approved app that waits
// for an administrator: the reusable view model of the approval queue's
// before/after diff (PendingChangeDiff renders it; the overview and the
// queue pages embed it).
type PendingChangeView struct {
	ClientID    string
	AppName     string // the live name
	RequestedBy string // username
	RequestedAt string // "2006-01-02 15:04 UTC"
	Status      string // pending | rejected
	ReviewNote  string // why it was rejected
	Rows        []FieldDiffRow
	// AddedHighPrivilege are the high-privilege scopes the change adds.
	AddedHighPrivilege []string
}

// ChangesQueuePage is /admin/changes: the members' changes of approved
// apps waiting for review, oldest first.
type ChangesQueuePage struct {
	Nav
	Changes   []PendingChangeView
	More      bool // more than shown wait
	CanReview bool // admins (auditors see the queue)
	Flash     string
}

// RejectChangePage asks an administrator why a pending change is rejected.
type RejectChangePage struct {
	Nav
	Change        PendingChangeView
	Reason, Error string
}

// InvitationRow is an open invitation to co-own an app: on the app's
// page (Username as the inviter typed it) and on the invitee's
// /profile/apps (AppName, InvitedBy).
type InvitationRow struct {
	ID, ClientID, AppName, Username, InvitedBy, Expires string
}

// joinComma is "a, b, c".
func joinComma(list []string) string {
	out := ""
	for i, s := range list {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
