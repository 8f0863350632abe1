// Package views holds oauthdesk's HTML pages as templ components and the
// plain view models they render. Views never see storage records: the web
// layer (internal/web) builds a view model per page.
package views

// Nav is what every page's header needs: who is signed in and the CSRF
// token for the sign-out form.
type Nav struct {
	Username    string
	DisplayName string
	Role        string
	CanAdmin    bool
	CSRF        string
	Active      string // "apps", "home", …
}

// SignedIn reports whether someone is signed in.
func (n Nav) SignedIn() bool { return n.Username != "" }

// SignInPage is the sign-in form.
type SignInPage struct {
	Nav
	Username string
	Error    string
	ReturnTo string
}

// HomePage is the landing page.
type HomePage struct {
	Nav
}

// ScopeView describes one scope on the approval page and the forms.
type ScopeView struct {
	ID            string
	Name          string
	Description   string
	Category      string
	HighPrivilege bool
	Includes      []string
}

// ConsentPage is the authorization approval page (seed 001, seed 003).
type ConsentPage struct {
	Nav
	AppName      string
	Company      string
	Description  string
	LogoURL      string
	CompanyURL   string
	AppURL       string
	TermsURL     string
	PrivacyURL   string
	CallbackHost string
	Scopes       []ScopeView
	// Hidden fields echoing the verified request.
	ClientID     string
	ResponseType string
	State        string
	Scope        string
	RedirectURI  string
	// AuthorizedSince is set when the user already authorized the app.
	AuthorizedSince string
}

// ErrorPage is a full-page error.
type ErrorPage struct {
	Nav
	Status  int
	Title   string
	Message string
}

// AppRow is one app registration in the listing and the detail header.
type AppRow struct {
	ClientID             string
	Name                 string
	Company              string
	CallbackURL          string
	Scopes               []string
	SecretAge            string // "4 y 2 mo"
	SecretExpires        string // YYYY-MM-DD
	SecretDaysLeft       int
	State                string // ok | expiring | critical | expired | none
	ActiveAuthorizations int64
}

// AppsPage is /admin/apps.
type AppsPage struct {
	Nav
	Query   string
	Apps    []AppRow
	NextURL string
	PrevURL string
	Flash   string
}

// ScopeGroup is the catalog scopes of one category, for the registration form.
type ScopeGroup struct {
	Category string
	Scopes   []ScopeView
}

// AppForm is /admin/apps/new with the submitted values and per-field errors.
type AppForm struct {
	Nav
	Values   map[string]string
	Errors   map[string]string
	Error    string
	Groups   []ScopeGroup
	Selected map[string]bool
}

// Field holds one labelled value on the app page.
type Field struct {
	Label string
	Value string
	Link  bool
}

// AuthorizationRow is one authorization on the app page.
type AuthorizationRow struct {
	ID        string
	Username  string
	Display   string
	Scopes    []string
	GrantedAt string
	LastUsed  string
	Revoked   string
}

// SecretRow is one client secret on the app page.
type SecretRow struct {
	Slot     string
	Created  string
	Age      string
	Expires  string
	DaysLeft int
	State    string
	LastUsed string
	Uses     int64
}

// AppPage is /admin/apps/{client_id}.
type AppPage struct {
	Nav
	App            AppRow
	Fields         []Field
	Secrets        []SecretRow
	Authorizations []AuthorizationRow
	// NewSecret is the client secret just created: shown once.
	NewSecret string
	Deleted   bool
}
