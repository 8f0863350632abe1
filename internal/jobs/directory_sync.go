package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// Leaser takes and releases a lease shared by the replicas (implemented
// by *store.DB).
type Leaser interface {
	AcquireLock(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLock(ctx context.Context, name, holder string) error
}

// DefaultDirectorySyncInterval is how often the directory sync runs when
// --directory-sync-interval is not given.
const DefaultDirectorySyncInterval = 15 * time.Minute

// directorySyncLock is the lease of the directory sync.
const directorySyncLock = "directory-sync"

// DirectorySyncJob is the job "directory-sync": sync every interval. A
// lease in the database keeps two replicas from syncing at once: a
// replica that does not get it skips that round. An error from sync (a
// directory it could not reach) fails the round; the next one retries.
func DirectorySyncJob(l Leaser, interval time.Duration, sync func(ctx context.Context) error, now func() time.Time) Job {
	holder := uuid.NewString()
	return Job{Name: "directory-sync", Interval: interval, Round: func(ctx context.Context) error {
		ok, err := l.AcquireLock(ctx, directorySyncLock, holder, now(), interval/2+time.Minute)
		if err != nil {
			return fmt.Errorf("directory sync: lease: %w", err)
		}
		if !ok {
			return nil
		}
		serr := sync(ctx)
		if err := l.ReleaseLock(context.WithoutCancel(ctx), directorySyncLock, holder); err != nil {
			return errors.Join(serr, fmt.Errorf("directory sync: release lease: %w", err))
		}
		return serr
	}}
}

// RunDirectorySync runs DirectorySyncJob under a Runner of its own until
// ctx ends (interval ≤ 0: returns at once), failures logged to log.
func RunDirectorySync(ctx context.Context, l Leaser, interval time.Duration, sync func(ctx context.Context) error, now func() time.Time, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	_ = NewRunner(log, now).Run(ctx, DirectorySyncJob(l, interval, sync, now))
}
