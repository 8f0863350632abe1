package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CheckpointInterval is how often the server (Checkpointer) copies the SQLite
// write-ahead log into the database file.
const CheckpointInterval = time.Second

// Checkpointer takes SQLite's WAL checkpoints off the write path (the
// server's job "sqlite-checkpoint"). By default SQLite checkpoints inside
// the commit that fills the log past 1000 pages, and a checkpoint syncs
// the database file to disk — under a write load that stalls every writer
// queued behind it. While a Checkpointer is open the write connection
// stops checkpointing and Checkpoint, on a connection of its own, does it
// (PASSIVE: it never blocks a reader or the writer).
//
// Durability does not change: a commit is in the log, written to the
// operating system, before it returns (synchronous=NORMAL), so a killed
// process loses nothing; a checkpoint only moves committed pages.
type Checkpointer struct {
	db   *DB
	conn *sql.DB
}

// NewCheckpointer opens the checkpoint connection and turns the writer's
// own checkpoints off; Close gives them back. PostgreSQL: nil, nil (it
// has no such thing). Errors: from opening the connection or the PRAGMA.
func (db *DB) NewCheckpointer(ctx context.Context) (*Checkpointer, error) {
	if !db.fl.walCheckpoints {
		return nil, nil
	}
	conn, err := sql.Open("sqlite3", "file:"+db.path+fmt.Sprintf("?_busy_timeout=%d", BusyTimeout.Milliseconds()))
	if err != nil {
		return nil, fmt.Errorf("checkpoints: open: %w", err)
	}
	conn.SetMaxOpenConns(1)
	if err := db.w.WithContext(ctx).Exec("PRAGMA wal_autocheckpoint = 0").Error; err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("checkpoints: the writer keeps checkpointing: %w", err)
	}
	return &Checkpointer{db: db, conn: conn}, nil
}

// Checkpoint copies the committed pages of the log into the database
// file (PRAGMA wal_checkpoint(PASSIVE)). Errors: from SQLite.
func (c *Checkpointer) Checkpoint(ctx context.Context) error {
	if _, err := c.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Close gives the writer its automatic checkpoints back, so a process
// that keeps the database open without a Checkpointer stays bounded, and
// closes the connection.
func (c *Checkpointer) Close() error {
	err := c.db.w.Exec("PRAGMA wal_autocheckpoint = 1000").Error
	return errors.Join(err, c.conn.Close())
}
