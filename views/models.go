// Package views holds oauthdesk's HTML pages as templ components and the
// plain view models they render. Views never see storage records: the web
// layer (internal/web) builds a view model per page.
package views

import "sort"

// Nav is what every page's header needs: who is signed in and the CSRF
// token for the sign-out form.
type Nav struct {
	Username    string
	DisplayName string
	Role        string
	CanAdmin    bool
	CSRF        string
	Active      string // "apps", "home", …
	// PolicyOff is set on admin pages while third-party OAuth access is off.
	PolicyOff bool
	// DirectoryProblems lists, on admin pages, the directories the last
	// sync could not reach ("NAME: error").
	DirectoryProblems []string
	// TokenNotice is the signed-in user's personal access token banner
	// (a token found leaked and revoked, or about to expire), or "".
	TokenNotice string
	// Tokens shows the personal access tokens link.
	Tokens bool
}

// SignedIn reports whether someone is signed in.
func (n Nav) SignedIn() bool { return n.Username != "" }

// SignInPage is the sign-in form.
type SignInPage struct {
	Nav
	Username string
	Error    string
	ReturnTo string
	// Buttons are the OpenID Connect connectors; Directories the LDAP
	// ones, offered in a chooser beside the password form (Source is the
	// one chosen, "" for a local account).
	Buttons     []string
	Directories []string
	Source      string
}

// HomePage is the landing page.
type HomePage struct {
	Nav
	// For a signed-in member: the apps they own that need action (a secret
	// expiring or expired, waiting for or refused approval: Action says
	// what), the rest of their apps, and their active authorizations.
	NeedsAction    []HomeApp
	OtherApps      []HomeApp
	MoreApps       bool
	Authorizations []HomeAuthorization
	MoreAuths      bool
}

// HomeAuthorization is one of a member's authorizations on their home
// page: the app, its state (active | needs_reauthorization) and when it
// was last used ("2026-11-02", "never").
type HomeAuthorization struct {
	ID, AppName, State, LastUsed string
}

// HomeApp is an app on a member's home page and what it needs.
type HomeApp struct {
	AppRow
	Action string
	URL    string // where to act: the app page's tab (?tab=secrets, …)
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
	// PKCE parameters, echoed when the request carried them.
	CodeChallenge       string
	CodeChallengeMethod string
	// AuthorizedSince is set when the user already authorized the app.
	AuthorizedSince string
	// Extra are more hidden fields (the standard flow's nonce and
	// response_mode, the device flow's user code); Action is where the
	// form posts ("" is /oauth2/authorize).
	Extra  []HiddenField
	Action string
}

// HiddenField is one hidden form field.
type HiddenField struct{ Name, Value string }

// FormPostPage auto-submits Params to Action (OAuth 2.0 Form Post
// Response Mode), with a button for browsers without scripts.
type FormPostPage struct {
	Action string
	Params []HiddenField
}

// DevicePage is the /device page: a form for the user code (Error when
// the last one did not work), or Done after an answer.
type DevicePage struct {
	Nav
	UserCode string
	Error    string
	Done     string
}

// SignedOutPage is end_session's page: a confirmation form (Confirm) or
// the news that the user is signed out.
type SignedOutPage struct {
	Nav
	Confirm bool
	Hidden  []HiddenField
	Message string
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
	ScopeViews           []ScopeView
	SecretAge            string // "4 y 2 mo"
	SecretExpires        string // YYYY-MM-DD
	SecretDaysLeft       int
	State                string // ok | expiring | critical | expired | none
	ActiveAuthorizations int64
	// Unrevoked counts authorizations not revoked: the active ones and
	// those needing re-authorization (the authorizations sort's key).
	Unrevoked  int64
	Deleted    bool
	External   bool
	Status     string // active | pending | rejected
	ReviewNote string // why an administrator rejected it
	// Owner and OwnerID name who registered it (who asked, in the
	// approval queue); Registered is when (YYYY-MM-DD).
	Owner, OwnerID, Registered string
	HighPrivilege              int // how many of its scopes are high privilege
	// Change is the status of an owner's change of the approved app:
	// pending (waiting for an administrator), rejected, or "".
	Change string
}

// AppsPage is /admin/apps.
type AppsPage struct {
	Nav
	State       string // expiry filter: expiring | critical | expired | ""
	ShowDeleted bool
	Query       string
	// Sort and Dir are the order parameters as given ("" is the default
	// of the tab and column).
	Sort, Dir string
	// Tabs are the expiry filters; each keeps the search text and sort.
	Tabs []Tab
	// SortLinks are the sortable columns' links, by key (name, expiry,
	// age, authorizations).
	SortLinks map[string]SortLink
	// CountText says how many apps match ("34 apps", "2 apps match “x”").
	CountText string
	Apps      []AppRow
	NextURL   string
	PrevURL   string
	// FirstURL goes back to the first page (set on later pages);
	// RangeText says which rows these are ("26–50 of 1,204").
	FirstURL  string
	RangeText string
	Flash     string
}

// Tab is one filter tab.
type Tab struct {
	Key, Label, URL string
	Current         bool
}

// SortLink is a sortable column heading's link: URL sorts by the column
// (the other direction when Current). Arrow and Dir describe the current
// direction ("↑", "ascending").
type SortLink struct {
	URL        string
	Current    bool
	Arrow, Dir string
}

// ScopeGroup is the catalog scopes of one category, for the registration form.
type ScopeGroup struct {
	Category string
	Scopes   []ScopeView
}

// AppForm is /admin/apps/new with the submitted values and per-field errors.
type AppForm struct {
	Nav
	// Action is where the form posts (default /admin/apps); Title and
	// Submit label the page and its button; Cancel, when set, links back.
	Action   string
	Title    string
	Submit   string
	Cancel   string
	Values   map[string]string
	Errors   map[string]string
	Error    string
	Groups   []ScopeGroup
	Selected map[string]bool
	// Reviewed is set on an owner's edit of an approved app whose changes
	// to the reviewed fields wait for an administrator.
	Reviewed bool
}

// Field holds one labelled value on the app page.
type Field struct {
	Label string
	Value string
	Link  bool
}

// AuthorizationRow is one authorization on the app and user pages.
type AuthorizationRow struct {
	ID       string
	Username string
	Display  string
	// UserURL is the admin page of the user ("" on the owner's page).
	UserURL    string
	AppName    string
	ClientID   string
	Scopes     []string
	ScopeViews []ScopeView
	GrantedAt  string
	LastUsed   string
	Revoked    string
	// State is active | needs_reauthorization | revoked.
	State string
	// SecretSlot is the slot of the client secret the authorization last
	// refreshed with ("" unknown or gone).
	SecretSlot string
	// Implied are the scopes the grant holds through a wider scope it
	// was granted (Label the scope, URL its page, Via the wider scope),
	// as /admin/scopes counts them (scope.Catalog.Holders).
	Implied []Link
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
	// Untracked is set for a secret of an imported app: it is used in
	// another system, so its use is not tracked here.
	Untracked bool
}

// AppPage is /admin/apps/{client_id}.
type AppPage struct {
	Nav
	// Tabs make the sections tab panels (the owner's and the
	// administrator's page alike): Tab is the one shown (?tab=…; the
	// others are hidden until chosen, without a script by following the
	// tab's link).
	Tabs           []AppTab
	Tab            string
	App            AppRow
	Scopes         []ScopeView
	Fields         []Field
	Secrets        []SecretRow
	Authorizations []AuthorizationRow
	// NewSecret is the client secret just created: shown once.
	NewSecret     string
	NewSecretSlot string
	Banners       []ExpiryBanner
	Deleted       bool
	CanManage     bool // admin (not auditor), or an owner on the owner's page
	HasAlt        bool
	Flash         string
	// ActiveAuthorizations counts them all; Authorizations is one page of
	// them (active first), NextURL and FirstURL page through.
	ActiveAuthorizations int64
	NextURL, FirstURL    string
	AuthorizationQuery   string // the user search over the authorizations
	// Base is the app's page: /admin/apps/{id} or /profile/apps/{id}; the
	// secret and delete actions hang under it.
	Base string
	// Owner is set on the owner's settings page (/profile/apps/{id}).
	Owner  bool
	Owners []OwnerRow
	Edit   AppForm
	// ClientGrants is the app's own grants (client_credentials).
	ClientGrants ClientGrantsView
	// CanReview shows Approve / Reject for a pending app (admins).
	CanReview   bool
	AuthNextURL string
	// Change is the app's pending (or rejected) change, if any.
	Change *PendingChangeView
	// Invitations are the open invitations to co-own the app.
	Invitations []InvitationRow
	// Protocols are the endpoints of each flow the app may use.
	Protocols AppProtocols
}

// AppProtocols shows, per flow, the endpoints and a copyable example, and
// the guide for moving from the Azure DevOps flow to OpenID Connect.
type AppProtocols struct {
	Dialect          bool
	Standard         bool
	DialectEndpoints []Field
	DialectExample   string
	StdEndpoints     []Field
	StdExample       string
	// Guide: the app uses the dialect; Enable tells how to turn on the
	// standard flow (when it is off).
	Guide  bool
	Enable string
	// ClientCredentials: the app may get tokens of its own (no user) for
	// CCScopes; Device: it may use the device flow.
	ClientCredentials bool
	CCScopes          string
	Device            bool
}

// ConfirmPage asks before a destructive action: what will happen, how
// much it affects, and a form that does it. TypeToConfirm, when set, must
// be typed into the field "confirm".
type ConfirmPage struct {
	Nav
	Title         string
	Message       string
	Impact        []string
	Action        string
	Button        string
	Danger        bool
	TypeToConfirm string
	Error         string
	Cancel        string
	// Hidden are form fields carried to the action as they are (the
	// value being confirmed, e.g. a policy's new setting).
	Hidden []HiddenField
	// HandOver, when set, lists the apps the user alone owns and asks
	// for who takes them over (field new_owner).
	HandOver *HandOverField
}

// HandOverField is the confirmation's question "who takes over each app
// this user alone owns?": one new owner for every app (field new_owner,
// filled in with the acting administrator), and a new owner of each
// listed app that overrides it (HandOverApp.Field), with the active users
// offered by the pickers.
type HandOverField struct {
	Username string // the user leaving
	Apps     []HandOverApp
	// More is how many more apps are not listed: they go to the new owner
	// of every app.
	More int
	// Uncounted: the user owns more than len(Apps)+More apps (counting
	// stopped); all of them are handed over.
	Uncounted bool
	Value     string // the new owner of every app without its own
	Error     string // why Value was refused, or that apps have no new owner
	// Candidates are active users offered by the pickers (a datalist:
	// any active user's username may be typed); MoreCandidates says the
	// list is cut.
	Candidates     []UserOption
	MoreCandidates bool
	// Open shows the per-app choices without a click (few apps, or a
	// value or an error among them).
	Open bool
}

// HandOverApp is one app a leaving user alone owns, with its own new
// owner (Value, "" for the one of every app) and why it was refused.
type HandOverApp struct {
	Name     string
	ClientID string
	URL      string
	Field    string // the form field: "new_owner." + client id
	Value    string
	Error    string
}

// UserOption is a user a picker offers: the username is the value.
type UserOption struct {
	Username string
	Display  string
}

// UserRow is one user on /admin/users.
type UserRow struct {
	ID                   string
	Username             string
	Display              string
	Email                string
	Role                 string
	ActiveAuthorizations int64
	Status               string // active | disabled | deleted
	MustChange           bool
	// Source is "local" or the connector the user signs in through;
	// LastSignIn and LastSync are UTC times, or "never".
	Source     string
	LastSignIn string
	LastSync   string
}

// UsersPage is /admin/users: one page of users, searchable.
type UsersPage struct {
	Nav
	// CanAdd offers the add-user form (administrators).
	CanAdd    bool
	Users     []UserRow
	CanManage bool
	Flash     string
	NextURL   string
	Query     string // the search
}

// SettingsPage is /admin/settings.
type SettingsPage struct {
	Nav
	ThirdPartyOAuth    bool
	SecretLifetimeDays int
	MaxLifetimeDays    int
	CanManage          bool
	Flash              string
	Error              string
	// RegistrationPolicy is members | approval | admins.
	RegistrationPolicy string
	// TokenPolicy is the personal access token policies (nil: off).
	TokenPolicy *PATPolicyView
	// Jobs is the "Background jobs" table (administrators only; nil: none).
	Jobs []JobRow
}

// AuditRow is one audit event.
type AuditRow struct {
	Seq        int64
	At         string
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	// TargetURL is the page of the target (app, user, the app page of an
	// authorization or secret); "" when it has none. TargetLabel is the
	// target's name when known (app name, username), else "".
	TargetURL   string
	TargetLabel string
	// App and User are the app and user the event concerns (links to
	// their pages, labelled with their names; zero when none). ActorURL
	// is the actor's user page when the actor is a user.
	App, User Link
	ActorURL  string
	// Pairs are the details as "key: value" lines, values cut short;
	// Details is the full JSON.
	Pairs      []KV
	Details    string
	RemoteAddr string
}

// KV is one key and value of audit details.
type KV struct {
	Key, Value string
}

// shortID is the first 8 characters of a long id, with an ellipsis.
func shortID(id string) string {
	if len([]rune(id)) <= 12 {
		return id
	}
	return string([]rune(id)[:8]) + "…"
}

// AuditPage is /admin/audit.
type AuditPage struct {
	Nav
	// Heading and BackURL/BackLabel are set on an app's or user's Activity
	// tab (the same table, filtered to what concerns it).
	Heading, BackURL, BackLabel string
	// Tabs, when set (the owner's Activity tab), are the app page's tabs,
	// Activity selected; the others are links back to the app page.
	Tabs []AppTab
	// App and User are the app and user filters (client id, user id) and
	// AppLabel/UserLabel their names.
	App, User, AppLabel, UserLabel                    string
	Actor, Action, TargetType, TargetID, Since, Until string
	Rows                                              []AuditRow
	OlderURL                                          string
	NewestURL                                         string // the first page, when this is not it
	FullLogURL                                        string // the audit log filtered the same way (Activity tabs)
	ExportCSV                                         string
	ExportJSONL                                       string
	Actions                                           []string
	Error                                             string
	// Chips name the app and user filters in force (by name), each with
	// the link that drops it.
	Chips []FilterChip
	// HideFrom leaves out the remote addresses (the From column): an app
	// owner without an admin role does not see end users' IP addresses.
	HideFrom bool
}

// FilterChip is one filter in force: Key (app, user), Label ("App"),
// Value (the name) and RemoveURL (the same page without it).
type FilterChip struct {
	Key, Label, Value, RemoveURL string
}

// ProfileScope is a granted scope with its description.
type ProfileScope struct {
	ID, Name, Description string
	HighPrivilege         bool
}

// ProfileAuthorization is one of the user's own authorizations.
type ProfileAuthorization struct {
	ID        string
	AppName   string
	Company   string
	AppURL    string
	Scopes    []ProfileScope
	GrantedAt string
	LastUsed  string
	State     string // active | needs_reauthorization
}

// ProfileAuthorizationsPage is /profile/authorizations.
type ProfileAuthorizationsPage struct {
	Nav
	Authorizations []ProfileAuthorization
	Flash          string
}

// ScopeInventoryRow is one row of /admin/scopes. Apps and Users preview
// the holders; AppCount counts every app; MoreUsers is set when more users
// hold it than the preview names. DrillURL lists them all.
type ScopeInventoryRow struct {
	ID, Name, Category string
	HighPrivilege      bool
	// Through says, one line per wider scope that includes this one, how
	// many hold it that way ("through vso.code_full: 3 apps, 9 active
	// authorizations"); Counts is the sentence of the direct counts.
	Through  []string
	Counts   string
	Apps     []Link
	AppCount int64
	MoreApps bool // more apps hold it than Apps names
	// Authorizations counts the authorizations (consents not revoked;
	// some may need re-authorization) granting the scope directly.
	Authorizations int
	// AuthorizationsVia are the authorizations holding the scope through
	// a wider one, each "48 via vso.advsec_manage" (the wider scope's own
	// direct count; only those with any).
	AuthorizationsVia []string
	Users             []Link
	MoreUsers         bool
	Uses              int64
	LastUsed          string
	Unused            bool
	DrillURL          string
	// PATs counts the live personal access tokens holding the scope
	// (-1: the token slice is off); PATsURL lists them.
	PATs    int
	PATsURL string
	// AppGrants counts the apps' own live grants (client credentials).
	AppGrants int64
}

// Link is a labelled URL.
type Link struct {
	Label, URL string
	Via        string // "via vso.code_full" when held through a wider scope
}

// APIView is one REST API and the scope it requires.
type APIView struct {
	Method, Path, Scope string
	AdminOnly           bool
}

// ScopesPage is /admin/scopes. Query filters the rows by scope id, name
// or category.
type ScopesPage struct {
	Nav
	APIs       []APIView
	Rows       []ScopeInventoryRow
	UnusedDays int
	HighOnly   bool
	Query      string
}

// ScopeHoldersPage is /admin/scopes/{scope}: the row of the inventory and
// one page of the apps registered with the scope (Tab "apps") or of the
// unrevoked authorizations granting it, each with its true state (Tab
// "authorizations").
type ScopeHoldersPage struct {
	Nav
	Row            ScopeInventoryRow
	Tab            string
	Apps           []ScopeAppRow
	Authorizations []ScopeAuthorizationRow
	// Tokens are the live personal access tokens holding the scope (tab
	// "tokens"); TokensURL is the same list on /admin/tokens.
	Tokens    []ScopeTokenRow
	TokensURL string
	NextURL   string
	FirstURL  string // the first page, when this is not it
}

// ScopeTokenRow is one personal access token of a scope drill-down.
type ScopeTokenRow struct {
	ID, Name, Display, Owner, OwnerID string
	Holds                             string // "directly", "via vso.code_full", "full access"
	Expires, LastUsed                 string
}

// ScopeAppRow is one app of a scope drill-down.
type ScopeAppRow struct {
	ClientID, Name, Company, Owner, OwnerID string
	ActiveAuthorizations                    int64
	Via                                     string // "via vso.code_full", or "" when registered directly
}

// ScopeAuthorizationRow is one authorization of a scope drill-down.
type ScopeAuthorizationRow struct {
	ID, UserID, Username, ClientID, AppName, GrantedAt, LastUsed string
	Via                                                          string // "via vso.code_full", or "" when granted directly
	State                                                        string // true state: active or needs_reauthorization
}

// UsedScopeRow is one kind of API use on the app scopes page.
type UsedScopeRow struct {
	Scope, SatisfiedBy string
	Uses               int64
	LastUsed           string
}

// AppScopesPage is /admin/apps/{client_id}/scopes.
type AppScopesPage struct {
	Nav
	ClientID, AppName string
	Days              int
	Registered        []ScopeView
	Granted           []ScopeView
	Used              []UsedScopeRow
	Recommended       []ScopeView
	Removable         []string
	// Observation says what the recommendation rests on ("Based on 3
	// calls over 2 days since 2026-12-04."); Caution, when the period is
	// short, that rarely used scopes may not have been exercised yet.
	Observation, Caution string
	CanManage            bool
	Groups               []ScopeGroup
	Selected             map[string]bool
	Flash                string
	Error                string
}

// UserPage is /admin/users/{id}.
type UserPage struct {
	Nav
	User           UserRow
	Authorizations []AuthorizationRow // one page, newest grant first
	CanManage      bool
	Flash          string
	Error          string
	NextURL        string
	Query          string // the app-name search over the authorizations
	// Descriptor is the user's subject descriptor (Token Admin API).
	Descriptor string
	// Tokens are the user's personal access tokens (newest first, one
	// page); TokensURL lists them all on /admin/tokens.
	Tokens    []PATRow
	TokensURL string
	HasTokens bool // the personal access token slice is on
	// OwnedApps are the apps the user owns or co-owns (the first 20);
	// MoreOwned says there are more.
	OwnedApps []Link
	MoreOwned bool
}

// UserAddPage is /admin/users/new: the form, with what was typed and the
// error of a refused attempt.
type UserAddPage struct {
	Nav
	Username, DisplayName, Email, Role string
	Error                              string
	// Fields are the messages by field (username, display_name, email,
	// role) of a refused form.
	Fields map[string]string
}

// userAddErrorLinks are the add-user form's errors in form order, each
// linking to its field.
func userAddErrorLinks(p UserAddPage) []Link {
	var out []Link
	for _, f := range []string{"username", "display_name", "email", "role"} {
		if m := p.Fields[f]; m != "" {
			out = append(out, Link{Label: m, URL: "#field-" + f})
		}
	}
	return out
}

// StateCount is one expiry state and how many secrets are in it.
type StateCount struct {
	State string
	Label string
	Count int
	URL   string
}

// ChartBar is one month of the expiry chart, in SVG user units.
type ChartBar struct {
	X, Y, W, H int
	Count      int
	Label      string // shown under every third bar
	Title      string // "March 2027: 2 secrets"
}

// ExpiryRowView is one secret in the "next to expire" list.
type ExpiryRowView struct {
	ClientID, AppName, Slot, Expires, State string
	DaysLeft                                int
	Left                                    string // "12 days", "expired 200 days ago"
	// ActiveAuthorizations are the app's authorizations in the true state
	// active: the users the expiry would cut off.
	ActiveAuthorizations int64
}

// OverviewPage is /admin.
type OverviewPage struct {
	Nav
	Counts     []StateCount
	Bars       []ChartBar
	ChartWidth int
	Next       []ExpiryRowView
	WarnDays   []int
	// PendingApps wait for approval.
	PendingApps int64
	// PendingChanges are members' changes of approved apps waiting for
	// approval (/admin/changes); -1 when changes are not reviewed.
	PendingChanges int64
	// Changes are the oldest of them, each with its diff.
	Changes []PendingChangeView
	// Queue is the oldest-named first page of apps waiting for approval,
	// with Approve / Reject for admins.
	Queue     []AppRow
	CanReview bool
	Flash     string
	// Upcoming are the next secrets to expire, not yet expired, soonest
	// first; Expired the most recently expired (ExpiredCount in all),
	// shown in their own collapsed group; Cleanup apps whose secret
	// expired over a year ago with no active authorization.
	Upcoming     []ExpiryRowView
	Expired      []ExpiryRowView
	ExpiredCount int
	Cleanup      []ExpiryRowView
}

// ExpiryBanner warns about one secret on the app page.
type ExpiryBanner struct {
	Slot, State, Expires string
	DaysLeft             int
}

// ImportChangeView is one row of the import preview.
type ImportChangeView struct {
	Line                    int
	ClientID, Name, Expires string
	Action                  string // create | update | unchanged
	Diff                    []string
}

// ImportProblemView is one rejected row.
type ImportProblemView struct {
	Line   int
	Reason string
}

// ImportPage is /admin/apps/import: the upload form, then the preview.
type ImportPage struct {
	Nav
	Filename string
	Data     string // base64 of the uploaded file, carried to the confirmation
	Changes  []ImportChangeView
	Problems []ImportProblemView // at most MaxImportProblems, in line order
	// ProblemCount is how many rows have problems (more than Problems
	// holds when the file has more than MaxImportProblems).
	ProblemCount int
	Error        string
}

// MaxImportProblems is how many problem rows the import page lists; the
// rest are counted.
const MaxImportProblems = 100

// ReportRunView is one sink delivery on /admin/reports.
type ReportRunView struct {
	Started, Trigger, Sink, Outcome, Error string
	Rows, Attempts                         int
	Failed                                 bool
}

// ReportsPage is /admin/reports.
type ReportsPage struct {
	Nav
	Schedule  string
	Next      string
	Sinks     []string
	Runs      []ReportRunView
	CanManage bool
	Flash     string
	// PATs are the personal access tokens expiring within 30 days (the
	// report's token section; nil when the slice is off), PATsURL lists all.
	PATs    []PATRow
	HasPATs bool
	PATsURL string
}

// formErrors lists the form's field errors in a stable order, each
// linking to its field (#field-NAME; the scope picker is #scopes).
func formErrors(p AppForm) []Link {
	keys := make([]string, 0, len(p.Errors))
	for k := range p.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Link, 0, len(keys))
	for _, k := range keys {
		out = append(out, Link{Label: p.Errors[k], URL: "#field-" + k})
	}
	return out
}

// AppTab is one tab of the owner's app page: Key names its panel
// ("panel-"+Key) unless Panel is false (a link to another page, such as
// Activity); URL shows it without a script.
type AppTab struct {
	Key, Label, URL string
	Selected, Panel bool
}
