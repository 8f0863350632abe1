package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// CheckpointInterval is how often RunCheckpoints copies the SQLite
// write-ahead log into the database file.
const CheckpointInterval = time.Second

// RunCheckpoints takes SQLite's WAL checkpoints off the write path until
// ctx ends (PostgreSQL: returns at once). By default SQLite checkpoints
// inside the commit that fills the log past 1000 pages, and a checkpoint
// syncs the database file to disk — under a write load that stalls every
// writer queued behind it. Here the write connection stops checkpointing
// and a connection of its own checkpoints every interval (PASSIVE: it
// never blocks a reader or the writer), then once more when ctx ends.
//
// Durability does not change: a commit is in the log, written to the
// operating system, before it returns (synchronous=NORMAL), so a killed
// process loses nothing; a checkpoint only moves committed pages.
func (db *DB) RunCheckpoints(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if db.fl.name != "sqlite" {
		return
	}
	if interval <= 0 {
		interval = CheckpointInterval
	}
	conn, err := sql.Open("sqlite3", "file:"+db.path+fmt.Sprintf("?_busy_timeout=%d", BusyTimeout.Milliseconds()))
	if err != nil {
		log.Error("checkpoints: open", "err", err)
		return
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	if err := db.w.WithContext(ctx).Exec("PRAGMA wal_autocheckpoint = 0").Error; err != nil {
		log.Error("checkpoints: the writer keeps checkpointing", "err", err)
		return
	}
	// Give the writer its automatic checkpoints back when we stop, so a
	// process that keeps the database open without us stays bounded.
	defer db.w.Exec("PRAGMA wal_autocheckpoint = 1000")
	checkpoint := func(ctx context.Context) {
		if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil && ctx.Err() == nil {
			log.Warn("checkpoint", "err", err)
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			checkpoint(fctx)
			cancel()
			return
		case <-t.C:
			checkpoint(ctx)
		}
	}
}
