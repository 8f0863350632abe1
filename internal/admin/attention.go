package admin

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
)

// CleanupAfter is how long ago a secret must have expired, with no active
// authorization left on its app, before the overview offers the app for
// clean-up.
const CleanupAfter = 365 * 24 * time.Hour

// AttentionStore is what the overview's "needs attention" lists read:
// the active secrets along their expiry index, both ways.
type AttentionStore interface {
	WalkSecretExpiriesFrom(ctx context.Context, from, until time.Time, limit int, fn func(domain.ExpiringSecret) error) error
	RecentlyExpiredSecrets(ctx context.Context, until time.Time, limit int) ([]domain.ExpiringSecret, error)
	WalkSecretExpiries(ctx context.Context, until time.Time, limit int, fn func(domain.ExpiringSecret) error) error
}

// Attention answers "what needs me now" about client secrets.
type Attention struct {
	store AttentionStore
	now   func() time.Time
}

// NewAttention returns the use case over st with the clock now.
func NewAttention(st AttentionStore, now func() time.Time) *Attention {
	return &Attention{store: st, now: now}
}

// SecretAttention is the overview's view of secrets: Upcoming are the
// next limit secrets to expire that have not expired yet, soonest first
// (critical ones lead); Expired the limit most recently expired; Cleanup
// up to limit apps whose secret expired more than CleanupAfter ago and
// that have no active authorization (oldest first), candidates for
// deletion.
type SecretAttention struct {
	Upcoming []reports.ExpiryRow
	Expired  []reports.ExpiryRow
	Cleanup  []reports.ExpiryRow
}

// cleanupScan bounds how many long-expired secrets the clean-up list
// reads to find apps without active authorizations (a bounded walk).
const cleanupScan = 200

// Secrets returns the secret lists of the overview (each at most limit
// rows, default 10): three index walks, each bounded.
func (a *Attention) Secrets(ctx context.Context, t domain.ExpiryThresholds, limit int) (SecretAttention, error) {
	if limit <= 0 {
		limit = 10
	}
	now := a.now()
	var out SecretAttention
	var up []domain.ExpiringSecret
	if err := a.store.WalkSecretExpiriesFrom(ctx, now, time.Time{}, limit, func(e domain.ExpiringSecret) error {
		up = append(up, e)
		return nil
	}); err != nil {
		return out, err
	}
	out.Upcoming = reports.Classify(up, t, now)
	exp, err := a.store.RecentlyExpiredSecrets(ctx, now, limit)
	if err != nil {
		return out, err
	}
	out.Expired = reports.Classify(exp, t, now)
	var old []domain.ExpiringSecret
	seen := map[string]bool{}
	if err := a.store.WalkSecretExpiries(ctx, now.Add(-CleanupAfter), cleanupScan, func(e domain.ExpiringSecret) error {
		if e.ActiveAuthorizations == 0 && !seen[e.ClientID] && len(old) < limit {
			seen[e.ClientID] = true
			old = append(old, e)
		}
		return nil
	}); err != nil {
		return out, err
	}
	out.Cleanup = reports.Classify(old, t, now)
	return out, nil
}
