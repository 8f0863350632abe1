package views

// OwnerRow is one owner of an app on its settings page.
type OwnerRow struct {
	UserID, Username, Display, Added string
	Primary                          bool
}

// ProfileAppsPage is /profile/apps: the apps the signed-in user owns or
// co-owns.
type ProfileAppsPage struct {
	Nav
	Apps        []AppRow
	CanRegister bool
	Policy      string // members | approval | admins
	Flash       string
	NextURL     string
	// PrevURL, FirstURL and RangeText page back (see AppsPage).
	PrevURL, FirstURL, RangeText string
	// Invitations are the open invitations to the user to co-own apps.
	Invitations []InvitationRow
}

// PasswordPage is /profile/password.
type PasswordPage struct {
	Nav
	Required bool // a reset password must be changed now
	Errors   map[string]string
	Error    string
	Flash    string
}

// OneTimePage shows a one-time value (a reset password) once.
type OneTimePage struct {
	Nav
	Title, Message, Value, Back string
}

// RejectPage asks an administrator why an app is rejected.
type RejectPage struct {
	Nav
	ClientID, AppName, Reason, Error string
}
