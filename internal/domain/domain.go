// Package domain holds oauthdesk's vocabulary: users, app registrations,
// client secrets, authorizations, authorization codes and refresh tokens,
// and the validation rules of a registration. It knows nothing of HTTP or
// of the database; the protocol (internal/oauth), the admin services
// (internal/admin) and the storage (internal/store) all speak in these types.
//
// Terms follow RFC 6749 and the seeds: an "authorization" is a user's grant
// to an app (seed 003, Profile → Authorizations).
package domain

import (
	"strconv"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// Role is a user's role in oauthdesk.
type Role string

// Roles. Admins manage everything; auditors see every admin page and change
// nothing; members sign in and authorize apps.
const (
	RoleAdmin   Role = "admin"
	RoleAuditor Role = "auditor"
	RoleMember  Role = "member"
)

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleAuditor || r == RoleMember }

// CanViewAdmin reports whether r may see the admin dashboard.
func (r Role) CanViewAdmin() bool { return r == RoleAdmin || r == RoleAuditor }

// User is a person who signs in to oauthdesk. ID is a GUID; Username is
// unique, compared case-insensitively; PasswordHash is an argon2id PHC string.
type User struct {
	ID           string
	Username     string
	DisplayName  string
	Email        string
	Role         Role
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Revision     int64
	// DisabledAt is set while the user is disabled (cannot sign in, tokens
	// refused); DeletedAt once deleted (the record stays for the audit log).
	DisabledAt *time.Time
	DeletedAt  *time.Time
	// MustChangePassword is set by a password reset: the user must choose a
	// new password at the next sign-in.
	MustChangePassword bool
	// Source is SourceLocal or the name of the connector the user signs in
	// through; Subject is that connector's stable subject for the user
	// (OIDC sub, LDAP entryUUID/objectGUID), "" for local users.
	Source  string
	Subject string
	// LastSignInAt is the last successful sign-in; LastSyncAt the last
	// directory sync that found the user upstream (nil: never).
	LastSignInAt *time.Time
	LastSyncAt   *time.Time
}

// Registration is what an app owner fills in when registering an app: the
// fields of the service's registration page (shared/spec/PROTOCOL.md, "App
// registration"). Scopes are catalog scope names.
type Registration struct {
	Name        string
	Company     string
	Description string
	CompanyURL  string
	AppURL      string
	CallbackURL string
	LogoURL     string
	TermsURL    string
	PrivacyURL  string
	Scopes      []string
	// RequirePKCE makes authorization requests without a code_challenge
	// (S256) fail (RFC 7636; RFC 9700 §2.1.1).
	RequirePKCE bool
	// The standard (OpenID Connect / OAuth 2.1) side of the registration;
	// see clients.go. Zero values mean what an app registered before it
	// existed has: confidential, the dialect only, no other redirect URI,
	// RS256 ID tokens.
	ClientType string   // ClientConfidential ("" reads as it) or ClientPublic
	GrantTypes []string // GrantDialect, GrantAuthorizationCode, …; empty: the dialect only
	// RedirectURIs are the redirect URIs registered beside CallbackURL (the
	// first, which the dialect uses) for the standard flow.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where end_session may send the user agent.
	PostLogoutRedirectURIs []string
	IDTokenAlg             string // RS256 ("" reads as it), ES256 or EdDSA
	// JWKS is the client's JSON Web Key Set for private_key_jwt client
	// authentication (ParseClientJWKS); "" none (on updates: unchanged,
	// JWKSNone removes it).
	JWKS string
}

// Secret slots: an app holds at most one active secret in each.
const (
	SlotPrimary     = "primary"
	SlotAlternative = "alternative"
)

// Secret is a client secret's metadata; the value itself is never stored,
// only its SHA-256 Hash. ID is recorded in every token minted with it.
type Secret struct {
	ID         string
	ClientID   string
	Slot       string
	Hash       []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	UseCount   int64
	RetiredAt  *time.Time
}

// Expired reports whether the secret has expired at now.
func (s Secret) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

// App is an app registration. ClientID is a GUID. Secrets holds the active
// (not retired) secrets, primary first.
type App struct {
	ClientID string
	Registration
	OwnerID       string
	OwnerUsername string
	CreatedAt     time.Time
	DeletedAt     *time.Time
	// External apps were imported from another system: their secret lives
	// there (stored here with an empty hash), so they cannot get tokens
	// here until a secret is issued here.
	External bool
	// Status is AppActive, AppPending or AppRejected; ReviewNote is the
	// administrator's reason for a rejection.
	Status     string
	ReviewNote string
	Secrets    []Secret
	// ActiveAuthorizations counts authorizations in the true state
	// AuthActive; filled by listings only.
	ActiveAuthorizations int64
	// Authorizations counts the app's authorizations not revoked (active
	// or needing re-authorization): the count the store keeps with each
	// grant and revocation, which orders AppSortAuthorizations.
	Authorizations int64
}

// PrimarySecret returns the app's active primary secret, if any.
func (a App) PrimarySecret() (Secret, bool) {
	for _, s := range a.Secrets {
		if s.Slot == SlotPrimary {
			return s, true
		}
	}
	return Secret{}, false
}

// Authorization is one user's grant to one app: at most one is active per
// (user, app); a revoked one stays for the record and a new consent makes a
// new one. Scopes are the granted scopes.
type Authorization struct {
	ID          string
	UserID      string
	ClientID    string
	Scopes      []string
	RedirectURI string
	GrantedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
	RevokedBy   string
	// State is the true state (AuthActive, AuthNeedsReauthorization,
	// AuthRevoked); filled by listings only.
	State string

	// Filled by listings only.
	Username        string
	UserDisplayName string
	AppName         string
	AppCompany      string
	AppURL          string
}

// Active reports whether the authorization has not been revoked.
func (a Authorization) Active() bool { return a.RevokedAt == nil }

// AuthCode is an authorization code (RFC 6749 §4.1.2), stored by the SHA-256
// Hash of its value. SecretID is the app's primary secret when the code was
// issued.
type AuthCode struct {
	ID              string
	Hash            []byte
	AuthorizationID string
	ClientID        string
	UserID          string
	SecretID        string
	Scopes          []string
	RedirectURI     string
	// CodeChallenge is the S256 code_challenge the code was issued with
	// (RFC 7636 §4.3), "" for none.
	CodeChallenge string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
	// Flow is FlowStandard for a code of the standard (OpenID Connect)
	// flow, "" for the dialect's. Nonce is the OIDC nonce it was requested
	// with; AuthTime when the user signed in (OIDC Core §2 auth_time).
	Flow     string
	Nonce    string
	AuthTime *time.Time
}

// FlowStandard marks codes of the standard authorization code flow.
const FlowStandard = "oidc"

// RefreshToken is a refresh token stored by the SHA-256 Hash of its value.
// FamilyID is the ID of the authorization code that started its rotation
// chain; every access token of the chain carries it. SecretID is the client
// secret presented when it was minted.
type RefreshToken struct {
	ID              string
	Hash            []byte
	AuthorizationID string
	FamilyID        string
	ClientID        string
	UserID          string
	SecretID        string
	Scopes          []string
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
	RevokedAt       *time.Time
	// AuthTime is when the user signed in for the grant that began the
	// chain (standard flow; nil for the dialect's).
	AuthTime *time.Time
	// ParentID is the refresh token this one was rotated from ("" for the
	// first of a chain). Forked marks one of several successors of its
	// parent (a grace replay minted a sibling): only one sibling may be
	// rotated; presenting another is reuse (RFC 9700 §4.14.2).
	ParentID string
	Forked   bool
}

// ForkOutcome is the decision about a grace replay of a rotated refresh token
// (RFC 9700 §4.14.2): whether it may mint one more successor, a fork.
type ForkOutcome int

const (
	// ForkAllowed: a fork may be minted (its successor carries Forked).
	ForkAllowed ForkOutcome = iota
	// ForkSuccessorUsed: a successor of the parent was already rotated;
	// the replay is reuse.
	ForkSuccessorUsed
	// ForkCapReached: the parent minted its maximum of forks.
	ForkCapReached
)

// Invalidation kinds: what an Invalidation's Ref names. Access tokens that
// carry that ref are dead from the moment the invalidation is committed.
const (
	KindAuthorization = "authorization" // tokens with aui = Ref
	KindFamily        = "family"        // tokens of the refresh chain begun by code Ref
	KindSecret        = "secret"        // tokens minted with client secret Ref
	KindApp           = "app"           // tokens of client id Ref
	KindUser          = "user"          // tokens of user Ref
)

// Invalidation is one entry of the append-only invalidation feed that the
// Bearer check follows. Seq increases strictly; At is when Ref died.
type Invalidation struct {
	Seq  int64
	Kind string
	Ref  string
	At   time.Time
}

// SigningKey is an access-token signing key: the private key as PKCS #8
// DER, its JWK key id and its JWS algorithm ("EdDSA").
type SigningKey struct {
	ID         string
	Alg        string
	PrivateKey []byte
	CreatedAt  time.Time
}

// App listing orders (AppFilter.Sort). Each is ascending on its key,
// client id breaking ties; AppFilter.Desc reverses it.
const (
	AppSortName           = "name"           // app name, case-insensitive
	AppSortExpiry         = "expiry"         // primary secret's expiry, soonest first
	AppSortAge            = "age"            // primary secret's creation, oldest first
	AppSortAuthorizations = "authorizations" // authorizations not revoked (App.Authorizations), fewest first
)

// AppFilter selects a page of the app listing. Query matches the app name
// or company (substring, case-insensitive) or the client id (prefix).
// After/Before are cursors from a previous AppPage of the same Sort and
// Desc; at most one is set. Limit is the page size (1..200, default 25).
// Sort is one of the AppSort* orders ("" is AppSortName); the secret
// orders list only apps that have an active primary secret.
type AppFilter struct {
	Sort string
	Desc bool
	// SecretExpiresAfter/Before, when set, keep apps with an active secret
	// whose expiry is in (after, before] — the expiry-state filter.
	SecretExpiresAfter  time.Time
	SecretExpiresBefore time.Time
	Query               string
	After, Before       string
	Limit               int
	IncludeDeleted      bool
	// Status keeps apps of that status (domain.AppPending, …) when set.
	Status string
	// OwnerID keeps the apps that user owns or co-owns when set.
	OwnerID string
}

// AppCountCap bounds the count of matching apps an app listing makes
// (a bounded walk per page load): AppPage.Total is at most AppCountCap+1,
// meaning "more than AppCountCap".
const AppCountCap = 1000

// AppPage is one page of apps in the filter's order. Next/Prev are
// cursors, empty when there is no such page. Total is the number of apps
// that match the filter, on every page.
type AppPage struct {
	Apps       []App
	Next, Prev string
	Total      int64
}

// ExpiryState is where a client secret stands against its expiry.
type ExpiryState string

// Expiry states, from fine to broken.
const (
	StateOK       ExpiryState = "ok"
	StateExpiring ExpiryState = "expiring"
	StateCritical ExpiryState = "critical"
	StateExpired  ExpiryState = "expired"
)

// ExpiryThresholds say how long before expiry a secret becomes expiring
// and critical. DefaultThresholds: 90 and 30 days.
type ExpiryThresholds struct {
	Expiring  time.Duration
	Critical  time.Duration
	Reminders []time.Duration // further reminder points inside the critical window (e.g. 7 days)
}

// DefaultThresholds are the default warning windows.
var DefaultThresholds = ExpiryThresholds{Expiring: 90 * 24 * time.Hour, Critical: 30 * 24 * time.Hour}

// StateAt returns the expiry state of a secret expiring at expires, seen at now.
func (t ExpiryThresholds) StateAt(expires, now time.Time) ExpiryState {
	left := expires.Sub(now)
	switch {
	case left <= 0:
		return StateExpired
	case left <= t.Critical:
		return StateCritical
	case left <= t.Expiring:
		return StateExpiring
	}
	return StateOK
}

// SecretExpiry returns when a secret created at created expires: after
// lifetime, or — when lifetime is 0 — five calendar years later, the
// default of seed 001 ("Every five years, your application secret
// expires").
func SecretExpiry(created time.Time, lifetime time.Duration) time.Time {
	if lifetime <= 0 {
		return created.AddDate(5, 0, 0)
	}
	return created.Add(lifetime)
}

// AuthorizationFilter selects authorizations; empty fields match all.
// Scope matches authorizations whose granted scopes contain it literally.
// ActiveOnly leaves out revoked ones. After is a keyset cursor (granted_at
// descending, then id). Limit defaults to 100 (at most 1000).
type AuthorizationFilter struct {
	ID       string
	UserID   string
	ClientID string
	// AppQuery and UserQuery match the app's name or the user's username
	// or display name (substring, case-insensitive).
	AppQuery   string
	UserQuery  string
	Scope      string
	ActiveOnly bool
	After      string
	Limit      int
	// Now is the time the true state is computed at (zero: the store's
	// clock).
	Now time.Time
}

// RevocationImpact counts what revoking the authorizations matching f
// would affect: active authorizations, distinct users, and live refresh
// tokens (unused, unrevoked, unexpired at now).
type RevocationImpact struct {
	Authorizations int64
	Users          int64
	RefreshTokens  int64
}

// UserSummary is a user with the number of its active authorizations.
type UserSummary struct {
	User
	ActiveAuthorizations int64
}

// KindScopes marks an app whose registered scopes were narrowed: from then
// on its tokens are limited to what the new registration allows.
const KindScopes = "scopes"

// ScopeUseKey identifies one kind of API use by an authorization: the
// scope the API required and the granted scope that satisfied it.
type ScopeUseKey struct {
	AuthorizationID string
	Scope           string
	SatisfiedBy     string
}

// ClientGrantScopeUseKey identifies one kind of API use by a token of an
// app's own grant (client_credentials, RFC 6749 §4.4; GrantID is the
// client_credential_grants row, the token's family): the scope the API
// required and the granted scope that satisfied it.
type ClientGrantScopeUseKey struct {
	GrantID     string
	Scope       string
	SatisfiedBy string
}

// ScopeUse counts uses and keeps the last one (UTC).
type ScopeUse struct {
	Count int64
	Last  time.Time
}

// ScopePreview names the first holders of one scope inventory row (a
// scope and the wider scopes that include it): apps and users by id, which
// of the row's scopes each holds, and whether there are more of each.
type ScopePreview struct {
	Apps      []App
	AppsHeld  map[string][]string
	MoreApps  bool
	Users     []User
	UsersHeld map[string][]string
	MoreUsers bool
}

// UsageBatch is what the usage recorder writes in one flush: the
// last-used time of each authorization (by id), the per-scope use counts,
// the uses of each client secret at the token endpoint (by secret id),
// and the per-scope use counts of the apps' own grants (client
// credentials tokens, which have no authorization). Counts are added to
// the stored ones; times only move forward.
type UsageBatch struct {
	LastUsed          map[string]time.Time
	Scopes            map[ScopeUseKey]ScopeUse
	Secrets           map[string]ScopeUse
	ClientGrantScopes map[ClientGrantScopeUseKey]ScopeUse
}

// Empty reports whether the batch holds nothing to write.
func (b UsageBatch) Empty() bool {
	return len(b.LastUsed) == 0 && len(b.Scopes) == 0 && len(b.Secrets) == 0 && len(b.ClientGrantScopes) == 0
}

// ScopeUsage is one stored usage fact: authorization AuthorizationID (of
// ClientID, UserID) called APIs requiring Scope, satisfied by its granted
// scope SatisfiedBy, Count times, last at LastUsedAt.
type ScopeUsage struct {
	AuthorizationID string
	// ClientGrantID is set instead of AuthorizationID (and UserID) for the
	// uses of the app's own grant (client_credentials): its
	// client_credential_grants row.
	ClientGrantID string
	ClientID      string
	UserID        string
	Scope         string
	SatisfiedBy   string
	Count         int64
	LastUsedAt    time.Time
}

// ParseWarnDays parses the warning thresholds of `--warn-days`, e.g.
// "90,30,7": whole days, strictly decreasing, at least one. The first is
// the expiring window, the second (default 30, or the first if smaller)
// the critical one; later ones are further reminders (Reminders).
// Errors: Invalid with a message naming the bad value.
func ParseWarnDays(s string) (ExpiryThresholds, error) {
	var days []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 3650 {
			return ExpiryThresholds{}, apperr.Errorf(apperr.Invalid, "--warn-days: %q is not a number of days from 1 to 3650", strings.TrimSpace(f))
		}
		if len(days) > 0 && n >= days[len(days)-1] {
			return ExpiryThresholds{}, apperr.Errorf(apperr.Invalid, "--warn-days must decrease, e.g. 90,30,7")
		}
		days = append(days, n)
	}
	t := ExpiryThresholds{Expiring: time.Duration(days[0]) * 24 * time.Hour, Critical: min(time.Duration(days[0]), 30) * 24 * time.Hour}
	if len(days) > 1 {
		t.Critical = time.Duration(days[1]) * 24 * time.Hour
	}
	for _, d := range days[min(2, len(days)):] {
		t.Reminders = append(t.Reminders, time.Duration(d)*24*time.Hour)
	}
	return t, nil
}

// Days returns the thresholds as days, e.g. [90 30 7].
func (t ExpiryThresholds) Days() []int {
	out := []int{int(t.Expiring.Hours() / 24), int(t.Critical.Hours() / 24)}
	for _, r := range t.Reminders {
		out = append(out, int(r.Hours()/24))
	}
	return out
}

// ExpiringSecret is one active client secret of an active app, for expiry
// reports.
type ExpiringSecret struct {
	ClientID  string
	AppName   string
	Company   string
	Owner     string
	Slot      string
	CreatedAt time.Time
	ExpiresAt time.Time
	// ActiveAuthorizations counts the app's active authorizations.
	ActiveAuthorizations int64
}

// ReportRun is one delivery of the expiry report to one sink.
type ReportRun struct {
	ID         string
	RunID      string
	Trigger    string // "schedule" | "manual"
	Sink       string
	StartedAt  time.Time
	FinishedAt time.Time
	Outcome    string // "ok" | "failed"
	Rows       int
	Attempts   int
	Error      string
}

// ScopeStat is the maintained count of one scope: apps not deleted that
// register it, active authorizations that grant it, and the API calls it
// satisfied (Uses, last at LastUsedAt; nil: never).
type ScopeStat struct {
	Scope          string
	Apps           int64
	Authorizations int64
	Uses           int64
	LastUsedAt     *time.Time
	// AppGrants counts the live client_credentials grants (the apps' own
	// grants, ClientGrant) of apps not deleted that hold the scope.
	AppGrants int64
	// PATs counts the live personal access tokens (unrevoked, unexpired,
	// of active users) carrying the scope itself (reports.WithPATs).
	PATs int64
}
