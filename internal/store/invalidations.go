package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type invalidationRow struct {
	Seq  int64 `gorm:"column:seq;primaryKey;autoIncrement"`
	Kind string
	Ref  string
	At   time.Time
}

func (invalidationRow) TableName() string { return "invalidations" }

// AddInvalidation appends kind/ref to the feed. Call it inside the write
// transaction that performs the revocation, so both commit together.
// The store is the feed's one writer: the revocations (RevokeAuthorization,
// RevokeFamily, RetireSecret, DeleteApp, MarkScopesNarrowed, …) append
// their entry themselves, and no consumer interface outside the store
// offers this method.
func (db *DB) AddInvalidation(ctx context.Context, kind, ref string, at time.Time) error {
	if tx, ok := ctx.Value(txKey{}).(*txState); ok {
		tx.invalidated = true
	}
	row := invalidationRow{Kind: kind, Ref: ref, At: utc(at)}
	return translate(db.wr(ctx).Create(&row).Error, "invalidation")
}

// MarkScopesNarrowed appends a "scopes" invalidation for the app: its
// registered scopes were narrowed at at, so the Bearer check caps the
// scopes of its tokens minted before by each authorization's current
// grant. Call it in the transaction that narrows.
func (db *DB) MarkScopesNarrowed(ctx context.Context, clientID string, at time.Time) error {
	return db.AddInvalidation(ctx, domain.KindScopes, clientID, at)
}

// Invalidations returns feed entries with Seq > afterSeq and At >= since,
// in Seq order.
func (db *DB) Invalidations(ctx context.Context, afterSeq int64, since time.Time) ([]domain.Invalidation, error) {
	var rows []invalidationRow
	err := db.rd(ctx).Where("seq > ? AND at >= ?", afterSeq, utc(since)).Order("seq").Find(&rows).Error
	if err != nil {
		return nil, translate(err, "invalidations")
	}
	out := make([]domain.Invalidation, len(rows))
	for i, r := range rows {
		out[i] = domain.Invalidation{Seq: r.Seq, Kind: r.Kind, Ref: r.Ref, At: utc(r.At)}
	}
	return out, nil
}

// PruneInvalidations deletes feed entries older than before; once every
// access token minted before an entry has expired, the entry is moot.
func (db *DB) PruneInvalidations(ctx context.Context, before time.Time) (int64, error) {
	res := db.wr(ctx).Where("at < ?", utc(before)).Delete(&invalidationRow{})
	return res.RowsAffected, translate(res.Error, "invalidations")
}

// PollInterval bounds how stale this process's view of changes committed
// by other processes can be (another replica, the CLI): the change watcher
// looks every PollInterval, so such a revocation is refused at most
// PollInterval (plus one feed query) after its commit — well within the
// documented 1 s. A change committed by this process moves Version at once,
// so it bites on the very next request.
const PollInterval = 250 * time.Millisecond

// Version is a number that moves whenever this process commits a write
// and, once Watch noticed it, whenever another process did. Caches of this
// process compare it to know whether the database may have changed; it
// costs one atomic read.
func (db *DB) Version() int64 { return db.gen.Load() + db.external.Load() }

// ChangeWatcher tells cheaply whether anything was committed to the
// database since it last looked; Run turns that into moves of
// DB.Version for commits of other processes.
//
// SQLite: it reads PRAGMA data_version on one dedicated connection, which
// moves on every commit by any connection of any process; no page is read,
// the answer comes from the WAL index in shared memory.
//
// PostgreSQL: it reports a change when this process committed a write
// since the previous call, and otherwise once every PollInterval, so that
// other replicas' commits are picked up by polling the feed by sequence.
type ChangeWatcher struct {
	mu    sync.Mutex
	owner *DB
	conn  *sql.Conn // SQLite only
	last  int64

	db       *DB // PostgreSQL only
	lastPoll time.Time
}

// NewChangeWatcher opens a dedicated read connection for the watcher
// (SQLite). Close it with Close.
func (db *DB) NewChangeWatcher(ctx context.Context) (*ChangeWatcher, error) {
	if db.fl.sharedWatcher {
		return &ChangeWatcher{owner: db, db: db, last: -1}, nil
	}
	sqlDB, err := db.r.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("change watcher: %w", err)
	}
	w := &ChangeWatcher{owner: db, conn: conn, last: -1}
	return w, nil
}

// Version returns the database's Version (see DB.Version).
func (w *ChangeWatcher) Version() int64 { return w.owner.Version() }

// Poll looks once for commits of other processes (the server runs it
// every PollInterval as the job "change-watch") and moves DB.Version when
// it finds one. A failed look moves the version too: the next request
// re-reads the feed itself and fails closed if that fails. Errors: from
// the look.
func (w *ChangeWatcher) Poll(ctx context.Context) error {
	changed, err := w.Changed(ctx)
	if changed || err != nil {
		w.owner.external.Add(1)
	}
	return err
}

// Changed reports whether a commit happened since the previous call (true
// on the first call). Safe for concurrent use.
func (w *ChangeWatcher) Changed(ctx context.Context) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.db != nil {
		g, now := w.db.gen.Load(), time.Now()
		if g != w.last || now.Sub(w.lastPoll) >= PollInterval {
			w.last, w.lastPoll = g, now
			return true, nil
		}
		return false, nil
	}
	var v int64
	if err := w.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return false, fmt.Errorf("data_version: %w", err)
	}
	changed := v != w.last
	w.last = v
	return changed, nil
}

// Close releases the watcher's connection.
func (w *ChangeWatcher) Close() error {
	if w.conn == nil {
		return nil
	}
	return w.conn.Close()
}
