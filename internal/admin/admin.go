package admin

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// Store is the storage the admin use cases need. Lookups return an apperr
// NotFound error when nothing matches; creates return Conflict on a
// duplicate.
type Store interface {
	WriteTx(ctx context.Context, fn func(ctx context.Context) error) error
	CreateUser(ctx context.Context, u domain.User) error
	UserByUsername(ctx context.Context, username string) (domain.User, error)
	UserByID(ctx context.Context, id string) (domain.User, error)
	CountUsersByRole(ctx context.Context, role domain.Role) (int64, error)
	CreateApp(ctx context.Context, app domain.App) error
	AppByClientID(ctx context.Context, clientID string) (domain.App, error)
	ListApps(ctx context.Context, f domain.AppFilter) (domain.AppPage, error)
	AuthorizationsByClient(ctx context.Context, clientID string, limit int) ([]domain.Authorization, error)
}

// Service runs the admin use cases. SecretLifetime 0 means five years.
type Service struct {
	store          Store
	scopes         *scope.Catalog
	now            func() time.Time
	secretLifetime time.Duration
}

// NewService returns the admin service; now is the clock.
func NewService(st Store, cat *scope.Catalog, now func() time.Time, secretLifetime time.Duration) *Service {
	return &Service{store: st, scopes: cat, now: now, secretLifetime: secretLifetime}
}
