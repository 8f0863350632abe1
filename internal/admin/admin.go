package admin

import (
	"context"
	"runtime"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/limit"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// Store is everything the admin slices need together: the union of the
// small interfaces each slice declares beside its use case (AppStore in
// apps.go, OwnerStore in owners.go, …). Only NewService takes it, to
// hand each slice its own part; no use case holds it whole.
// internal/store implements it on SQLite and PostgreSQL. Lookups return
// an apperr NotFound error when nothing matches; creates return Conflict
// on a duplicate.
type Store interface {
	AppStore
	OwnerStore
	SecretStore
	ExpiryStore
	AuthorizationStore
	UserStore
	SignInStore
	ScopeStore
	AppScopeStore
	SettingStore
	AuditLog
	ImportStore
}

// Writer runs a use case's change in one write transaction
// (store.WriteTx: every call made with the context it passes joins it,
// and a WriteTx inside another joins the outer one).
type Writer interface {
	WriteTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Transactor is Writer with read transactions (store.ReadTx: one
// consistent snapshot for a use case's reads).
type Transactor interface {
	Writer
	ReadTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// AuditAppender appends one event to the hash-chained audit log (inside
// the caller's transaction when ctx carries one).
type AuditAppender interface {
	AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error)
}

// recorder appends the audit event of a change; every slice that changes
// something embeds one over its own store.
type recorder struct{ log AuditAppender }

// record appends an audit event for ctx's actor; call it inside the write
// transaction of the change.
func (r recorder) record(ctx context.Context, at time.Time, action, targetType, targetID string, details map[string]any) error {
	_, err := r.log.AppendAudit(ctx, audit.New(ctx, at, action, targetType, targetID, details))
	return err
}

// Service is the admin use cases together: a thin facade that embeds one
// use case per resource, so that callers holding it (the CLI, the
// federation) call each method as before while every use case holds only
// its own small store. The dashboard and the REST API take the slices
// they call one by one (Service.AppService, …).
type Service struct {
	*AppService
	*OwnerService
	*SecretService
	*ExpiryService
	*AuthorizationService
	*UserService
	*SignInService
	*ScopeService
	*AppScopeService
	*SettingService
	*AuditService
	*ImportService
	hashing *hashing
}

// NewService wires the admin slices over st; now is the clock and
// secretLifetime the default client secret lifetime (0: five years; the
// policy setting overrides it). At most runtime.NumCPU() password hashes
// run at once (SetHashConcurrency).
func NewService(st Store, cat *scope.Catalog, now func() time.Time, secretLifetime time.Duration) *Service {
	h := &hashing{hashSlots: limit.NewSlots(runtime.NumCPU(), 2*time.Second)}
	settings := &SettingService{store: st, recorder: recorder{st}, now: now, secretLifetime: secretLifetime}
	authz := &AuthorizationService{store: st, recorder: recorder{st}, now: now}
	users := &UserService{store: st, recorder: recorder{st}, now: now, hashing: h, authz: authz}
	apps := &AppService{store: st, recorder: recorder{st}, now: now, users: users, settings: settings, authz: authz}
	appScopes := &AppScopeService{store: st, recorder: recorder{st}, now: now, scopes: cat, apps: apps, authz: authz}
	apps.appScopes = appScopes
	return &Service{
		AppService:           apps,
		OwnerService:         &OwnerService{store: st, recorder: recorder{st}, now: now, apps: apps, users: users},
		SecretService:        &SecretService{store: st, recorder: recorder{st}, now: now, apps: apps, settings: settings},
		ExpiryService:        &ExpiryService{store: st, now: now},
		AuthorizationService: authz,
		UserService:          users,
		SignInService:        &SignInService{store: st, now: now, hashing: h, failed: newFailedSignIns()},
		ScopeService:         &ScopeService{store: st, now: now, scopes: cat},
		AppScopeService:      appScopes,
		SettingService:       settings,
		AuditService:         &AuditService{store: st},
		ImportService:        &ImportService{store: st, recorder: recorder{st}, now: now, scopes: cat},
		hashing:              h,
	}
}

// SetHashConcurrency bounds the argon2id computations (64 MiB each) that
// run at once to n (≤ 0: the number of CPUs); a caller waits at most wait
// for a slot, then gets an Unavailable error. Sign-in and the users slice
// share the slots. Call it before serving.
func (s *Service) SetHashConcurrency(n int, wait time.Duration) {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	s.hashing.hashSlots = limit.NewSlots(n, wait)
}
