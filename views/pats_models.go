package views

// PATRow is one personal access token in a list.
type PATRow struct {
	ID         string
	Name       string
	Owner      string // username (admin lists)
	OwnerID    string
	Display    string // "odp_Ab3x…"
	Scopes     []string
	FullAccess bool
	Created    string // 2006-01-02
	Expires    string // "in 12 days", "expired 3 days ago"
	ExpiresOn  string // 2006-01-02
	LastUsed   string // "never" or time + address
	State      string // active, expired, revoked
}

// PATScopeOption is a catalog scope offered on the token form.
type PATScopeOption struct {
	ID            string
	Name          string
	Category      string
	HighPrivilege bool
	Checked       bool
}

// PATsPage is /profile/tokens: the user's tokens and the create form.
type PATsPage struct {
	Nav
	Flash    string
	Error    string
	Tokens   []PATRow
	Next     string
	NewToken string // shown once after creation
	NewName  string
	// Form values kept after a refused submission.
	Name       string
	Expiry     string // "30", "60", "90", "custom"
	ExpiresOn  string // yyyy-mm-dd for custom
	FullAccess bool
	Options    []PATScopeOption
	MaxDate    string // yyyy-mm-dd: the latest allowed date
	Policy     string // a sentence on the policies in force, or ""
	CanCreate  bool
}

// PATEditPage is /profile/tokens/{id}/edit (also the admin's).
type PATEditPage struct {
	Nav
	Error      string
	Token      PATRow
	Name       string
	ExpiresOn  string
	MaxDate    string
	FullAccess bool
	Options    []PATScopeOption // the token's scopes (narrowing only)
	Action     string
	Cancel     string
}

// AdminPATsPage is /admin/tokens: every token, with search and filters.
type AdminPATsPage struct {
	Nav
	Flash     string
	Tokens    []PATRow
	Next      string
	Query     string
	Owner     string
	Scope     string
	State     string
	Expiring  string
	Full      bool
	Unused    bool
	CanManage bool
	FilterQS  string // the current filters as a query string (for bulk revoke)
	Matching  string // "12 tokens match" or "more than 1000 tokens match"
}

// PATPolicyView is the personal access token section of /admin/settings.
type PATPolicyView struct {
	MaxLifespanDays   int
	FullScopeDenied   bool
	CreationAllowlist bool
	Allowlist         []string
	// Violations are live tokens that break the policies now (nothing is
	// revoked silently); ViolationCount counts them all.
	Violations     []PATViolation
	ViolationCount int
}

// PATViolation is a token breaking a policy.
type PATViolation struct {
	Token  PATRow
	Policy string
}
