package audit

// Actions of the review of members' app changes and of co-owner
// invitations.
const (
	ActionAppChangeRequest  = "app.change_request"  // a member's change to an approved app waits for review
	ActionAppChangeApprove  = "app.change_approve"  // an administrator applied it
	ActionAppChangeReject   = "app.change_reject"   // an administrator turned it down
	ActionAppChangeWithdraw = "app.change_withdraw" // an owner took it back
	ActionAppOwnerInvite    = "app.owner_invite"    // an owner invited a username to co-own the app
	ActionAppInviteDecline  = "app.owner_invite_decline"
	ActionAppInviteCancel   = "app.owner_invite_cancel"
)
