package admin

import (
	"context"
	"runtime"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/limit"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// Store is the storage the admin use cases need: the union of the small
// interfaces below, one per concern, so that a use case's needs can be
// read off the interfaces it touches (internal/store implements them all
// on SQLite and PostgreSQL). Lookups return an apperr NotFound error when
// nothing matches; creates return Conflict on a duplicate.
type Store interface {
	Transactor
	UserStore
	AppStore
	SecretStore
	AuthorizationStore
	ScopeStore
	SettingStore
	AuditLog
}

// Transactor runs a use case in one transaction (store.WriteTx and
// ReadTx: every call made with the context it passes joins it).
type Transactor interface {
	WriteTx(ctx context.Context, fn func(ctx context.Context) error) error
	ReadTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// UserStore keeps the dashboard's users.
type UserStore interface {
	CreateUser(ctx context.Context, u domain.User) error
	UserByUsername(ctx context.Context, username string) (domain.User, error)
	UserByID(ctx context.Context, id string) (domain.User, error)
	CountUsersByRole(ctx context.Context, role domain.Role) (int64, error)
	ListUsers(ctx context.Context, f domain.UserFilter) (domain.UserPage, error)
	UpdateUser(ctx context.Context, u domain.User, at time.Time) error
	CountActiveAdmins(ctx context.Context) (int64, error)
	RevokeUserRefreshTokens(ctx context.Context, userID string, at time.Time) error
	TouchUserSignIn(ctx context.Context, id string, at time.Time) error
}

// AppStore keeps app registrations and their owners.
type AppStore interface {
	CreateApp(ctx context.Context, app domain.App) error
	AppByClientID(ctx context.Context, clientID string) (domain.App, error)
	ClientByID(ctx context.Context, clientID string) (domain.App, error)
	ListApps(ctx context.Context, f domain.AppFilter) (domain.AppPage, error)
	DeleteApp(ctx context.Context, clientID string, at time.Time) error
	AddAppOwner(ctx context.Context, clientID, userID string, at time.Time) error
	RemoveAppOwner(ctx context.Context, clientID, userID string) (bool, error)
	AppOwners(ctx context.Context, clientID string) ([]domain.AppOwner, error)
	IsAppOwner(ctx context.Context, clientID, userID string) (bool, error)
	SetAppPrimaryOwner(ctx context.Context, clientID, userID string) error
	UpdateAppRegistration(ctx context.Context, clientID string, r domain.Registration) error
	SetAppStatus(ctx context.Context, clientID, status, note string) error
	CountApps(ctx context.Context, status string) (int64, error)
	UpdateImportedApp(ctx context.Context, app domain.App) error
	SetAppNative(ctx context.Context, clientID string) error
}

// SecretStore keeps client secrets, their slots and their expiries.
type SecretStore interface {
	CreateSecret(ctx context.Context, s domain.Secret) error
	RetireSecret(ctx context.Context, clientID, slot string, at time.Time) (domain.Secret, error)
	MoveSecretSlot(ctx context.Context, clientID, from, to string) error
	LastSecretUse(ctx context.Context, clientID string) (map[string]string, error)
	LastSecretUseOf(ctx context.Context, authorizationIDs []string) (map[string]string, error)
	SecretExpiries(ctx context.Context) ([]domain.ExpiringSecret, error)
	WalkSecretExpiries(ctx context.Context, until time.Time, limit int, fn func(domain.ExpiringSecret) error) error
	CountSecretsExpiring(ctx context.Context, after, until time.Time) (int64, error)
}

// AuthorizationStore keeps users' authorizations and revokes them.
type AuthorizationStore interface {
	AuthorizationsByClient(ctx context.Context, clientID string, limit int) ([]domain.Authorization, error)
	AuthorizationByID(ctx context.Context, id string) (domain.Authorization, error)
	ListAppAuthorizations(ctx context.Context, clientID, userQuery, after string, limit int) ([]domain.Authorization, string, error)
	ListAuthorizations(ctx context.Context, f domain.AuthorizationFilter) ([]domain.Authorization, string, error)
	CountRevocationImpact(ctx context.Context, f domain.AuthorizationFilter, now time.Time) (domain.RevocationImpact, error)
	ActiveAuthorizationIDs(ctx context.Context, f domain.AuthorizationFilter) ([]string, error)
	RevokeAuthorization(ctx context.Context, id, by string, at time.Time) (bool, error)
}

// ScopeStore keeps what scopes apps registered, were granted and used (the scope audit).
type ScopeStore interface {
	ScopeUsage(ctx context.Context, clientID string, since time.Time) ([]domain.ScopeUsage, error)
	ScopeStats(ctx context.Context) ([]domain.ScopeStat, error)
	ActiveGrants(ctx context.Context, clientID string) ([][]string, error)
	ActiveScopeUsage(ctx context.Context, clientID string) ([]domain.ScopeUsage, error)
	ScopeApps(ctx context.Context, scopes []string, after string, limit int) ([]domain.App, map[string][]string, string, error)
	ScopeAuthorizations(ctx context.Context, scopes []string, after string, limit int) ([]domain.Authorization, map[string][]string, string, error)
	ScopeUsers(ctx context.Context, scopes []string, after string, limit int) ([]domain.User, map[string][]string, string, error)
	// WalkDirectScopeHolders streams every direct holder of each of
	// scopes, grouped by scope in their order (the scope report); fn must
	// not use the store meanwhile.
	WalkDirectScopeHolders(ctx context.Context, scopes []string, fn func(pos int, user bool, id, name string) error) error
	// ScopePreviews names the first limit holders of each set of scopes
	// (the inventory page), in a few queries whatever the number of sets.
	ScopePreviews(ctx context.Context, sets [][]string, limit int) ([]domain.ScopePreview, error)
	MoveScopeUses(ctx context.Context, from, to string, n int64, last time.Time) error
	SetAppScopes(ctx context.Context, clientID string, scopes []string) error
	SetAuthorizationScopes(ctx context.Context, id string, scopes []string) error
	MarkScopesNarrowed(ctx context.Context, clientID string, at time.Time) error
}

// SettingStore keeps the policy settings (domain's setting keys).
type SettingStore interface {
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string, at time.Time) error
}

// AuditLog appends to and reads the hash-chained audit log.
type AuditLog interface {
	AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error)
	AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Event, bool, error)
	WalkAudit(ctx context.Context, since time.Time, fn func(audit.Event) bool) error
}

// Users returns one page of users (see domain.UserFilter), each with the
// number of its authorizations in the true state active.
func (s *Service) Users(ctx context.Context, f domain.UserFilter) (domain.UserPage, error) {
	return s.store.ListUsers(ctx, f)
}

// Service runs the admin use cases. secretLifetime is the default client
// secret lifetime (0: five years); the policy setting overrides it.
type Service struct {
	store          Store
	scopes         *scope.Catalog
	now            func() time.Time
	secretLifetime time.Duration
	hashSlots      *limit.Slots
	hashMem        hashMemory
	failed         *failedSignIns
}

// NewService returns the admin service; now is the clock. At most
// runtime.NumCPU() password hashes run at once (SetHashConcurrency).
func NewService(st Store, cat *scope.Catalog, now func() time.Time, secretLifetime time.Duration) *Service {
	return &Service{store: st, scopes: cat, now: now, secretLifetime: secretLifetime,
		hashSlots: limit.NewSlots(runtime.NumCPU(), 2*time.Second), failed: newFailedSignIns()}
}

// SetHashConcurrency bounds the argon2id computations (64 MiB each) that
// run at once to n (≤ 0: the number of CPUs); a caller waits at most wait
// for a slot, then gets an Unavailable error.
func (s *Service) SetHashConcurrency(n int, wait time.Duration) {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	s.hashSlots = limit.NewSlots(n, wait)
}

// record appends an audit event for ctx's actor; call it inside the write
// transaction of the change.
func (s *Service) record(ctx context.Context, at time.Time, action, targetType, targetID string, details map[string]any) error {
	_, err := s.store.AppendAudit(ctx, audit.New(ctx, at, action, targetType, targetID, details))
	return err
}
