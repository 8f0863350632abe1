package views

// ClientGrantsView is the app page's "App's own grants" section: the
// client_credentials grant's switch and the grants it issued tokens for.
type ClientGrantsView struct {
	Shown     bool // the app is confidential (a public client cannot have them)
	Enabled   bool // client_credentials is among the grant types
	CanManage bool
	// OwnerPage: the owner's view, where switching on goes through the
	// registration form (and its review, when the organization asks for one).
	OwnerPage bool
	Live      int
	Rows      []ClientGrantRow
	Base      string // the app page
	CSRF      string
}

// ClientGrantRow is one of the app's own grants.
type ClientGrantRow struct {
	ID, Scopes, Issued, LastIssued, LastUsed, Revoked string
	Tokens                                            int64
	Live                                              bool
}
