package admin

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
)

// ExpiryStore reads client secrets by expiry.
type ExpiryStore interface {
	ReadTx(ctx context.Context, fn func(ctx context.Context) error) error
	SecretExpiries(ctx context.Context) ([]domain.ExpiringSecret, error)
	WalkSecretExpiries(ctx context.Context, until time.Time, limit int, fn func(domain.ExpiringSecret) error) error
	CountSecretsExpiring(ctx context.Context, after, until time.Time) (int64, error)
}

// ExpiryService is the secret-expiry read model of the reports slice:
// the overview's counts and the expiry report's rows (the report itself
// is internal/reports and internal/jobs).
type ExpiryService struct {
	store ExpiryStore
	now   func() time.Time
}

// SecretExpiries returns every active secret of every active app, soonest
// expiry first.
func (s *ExpiryService) SecretExpiries(ctx context.Context) ([]domain.ExpiringSecret, error) {
	return s.store.SecretExpiries(ctx)
}

// ExpiryOverview returns the dashboard's expiry summary at now: counts per
// state and per month from index range counts (no secret is read but the
// ten soonest), so its cost does not grow with the number of apps.
func (s *ExpiryService) ExpiryOverview(ctx context.Context, t domain.ExpiryThresholds) (reports.ExpiryOverview, error) {
	var o reports.ExpiryOverview
	err := s.store.ReadTx(ctx, func(ctx context.Context) error {
		var next []domain.ExpiringSecret
		if err := s.store.WalkSecretExpiries(ctx, time.Time{}, 10, func(e domain.ExpiringSecret) error {
			next = append(next, e)
			return nil
		}); err != nil {
			return err
		}
		var err error
		o, err = reports.BuildOverview(t, s.now(), func(after, until time.Time) (int64, error) {
			return s.store.CountSecretsExpiring(ctx, after, until)
		}, next)
		return err
	})
	return o, err
}

// WalkSecretExpiries calls fn with each active secret expiring at or
// before until (zero: all), soonest first, in batches (constant memory).
func (s *ExpiryService) WalkSecretExpiries(ctx context.Context, until time.Time, fn func(domain.ExpiringSecret) error) error {
	return s.store.WalkSecretExpiries(ctx, until, 0, fn)
}
