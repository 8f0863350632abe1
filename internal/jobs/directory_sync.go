package jobs

import (
	"context"
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

// RunDirectorySync runs sync every interval until ctx ends (a ticker
// loop, as dex runs its background jobs). A lease in the database keeps
// two replicas from syncing at once: a replica that does not get it skips
// that round. Errors from sync (a directory it could not reach) are
// logged; the next round retries.
func RunDirectorySync(ctx context.Context, l Leaser, interval time.Duration, sync func(ctx context.Context) error, now func() time.Time, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	holder := uuid.NewString()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := l.AcquireLock(ctx, directorySyncLock, holder, now(), interval/2+time.Minute)
		if err != nil {
			log.Error("directory sync: lease", "err", err)
			continue
		}
		if !ok {
			continue
		}
		if err := sync(ctx); err != nil {
			log.Error("directory sync", "err", err)
		}
		if err := l.ReleaseLock(context.WithoutCancel(ctx), directorySyncLock, holder); err != nil {
			log.Error("directory sync: release lease", "err", err)
		}
	}
}
