// Package store is oauthdesk's SQLite storage, built on GORM and the cgo
// driver (gorm.io/driver/sqlite). It is the only package that imports GORM:
// it maps rows to internal/domain types and translates driver errors to
// internal/apperr codes (gorm.ErrRecordNotFound → NotFound, a UNIQUE
// violation → Conflict).
//
// One write path: every write goes through a pool of exactly one
// connection opened with BEGIN IMMEDIATE, so writers queue in Go instead of
// racing for SQLite's lock and "database is locked" cannot happen between
// requests of one process; other processes (the CLI) wait on the busy
// timeout. Reads use a separate read-only pool and run concurrently (WAL).
//
// Transactions travel in the context (WriteTx/ReadTx): a use case opens one
// and every store method it calls with that context joins it.
package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	schema "github.com/oauthdesk/oauthdesk/db"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// BusyTimeout is how long a connection waits for another process's write
// lock before failing (milliseconds in the DSN).
const BusyTimeout = 10 * time.Second

// DB is an open oauthdesk database. It is safe for concurrent use.
type DB struct {
	path string
	w    *gorm.DB // the single write connection
	r    *gorm.DB // read-only pool
}

// Open opens (creating if needed) the SQLite database file at path in WAL
// mode with foreign keys on and a busy timeout. It does not migrate; call
// Migrate. Errors: Invalid when the directory of path does not exist,
// Internal for anything the driver reports.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, apperr.Errorf(apperr.Invalid, "database path is empty")
	}
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, apperr.Errorf(apperr.Invalid, "database directory %q does not exist", dir)
		}
	}
	if err := prepareFile(path); err != nil {
		return nil, err
	}
	// The driver's own per-connection statement cache (_stmt_cache_size);
	// GORM's shared PrepareStmt cache prepares under a lock and deadlocks
	// when a pool is exhausted by transactions (found by the store tests).
	common := fmt.Sprintf("_journal_mode=WAL&_foreign_keys=on&_busy_timeout=%d&_synchronous=NORMAL&_stmt_cache_size=128", BusyTimeout.Milliseconds())
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	w, err := gorm.Open(sqlite.Open("file:"+path+"?"+common+"&_txlock=immediate"), cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	wdb, err := w.DB()
	if err != nil {
		return nil, err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if err := wdb.PingContext(ctx); err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}

	r, err := gorm.Open(sqlite.Open("file:"+path+"?"+common+"&_query_only=1"), cfg)
	if err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	rdb, err := r.DB()
	if err != nil {
		_ = wdb.Close()
		return nil, err
	}
	n := max(4, 2*runtime.NumCPU())
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	return &DB{path: path, w: w, r: r}, nil
}

// Path returns the database file path given to Open.
func (db *DB) Path() string { return db.path }

// Close closes both pools.
func (db *DB) Close() error {
	var errs []error
	for _, g := range []*gorm.DB{db.r, db.w} {
		if s, err := g.DB(); err == nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// Migrate applies every pending migration embedded in package db and
// returns how many it applied. Safe to call on every start.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	sqlDB, err := db.w.DB()
	if err != nil {
		return 0, err
	}
	fsys, err := fs.Sub(schema.Migrations, "migrations")
	if err != nil {
		return 0, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, sqlDB, fsys)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

type txKey struct{}

// WriteTx runs fn in one write transaction (BEGIN IMMEDIATE on the single
// write connection): committed when fn returns nil, rolled back otherwise.
// Store methods called with the ctx passed to fn join the transaction. A
// WriteTx inside another WriteTx joins the outer one.
func (db *DB) WriteTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if tx, ok := ctx.Value(txKey{}).(*txState); ok && tx.write {
		return fn(ctx)
	}
	return db.w.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, &txState{g: g, write: true}))
	})
}

// ReadTx runs fn in one read transaction on the read-only pool, so that
// every read in fn sees the same snapshot. Inside a WriteTx it joins it.
func (db *DB) ReadTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*txState); ok {
		return fn(ctx)
	}
	return db.r.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, &txState{g: g}))
	})
}

type txState struct {
	g     *gorm.DB
	write bool
}

// rd returns the handle for reads: the transaction in ctx, else the read pool.
func (db *DB) rd(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*txState); ok {
		return tx.g
	}
	return db.r.WithContext(ctx)
}

// wr returns the handle for writes: the write transaction in ctx, else the
// write connection (autocommit). A write inside a read transaction is a
// programming error and fails.
func (db *DB) wr(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*txState); ok {
		if !tx.write {
			g := db.w.WithContext(ctx)
			_ = g.AddError(errors.New("store: write inside a read transaction"))
			return g
		}
		return tx.g
	}
	return db.w.WithContext(ctx)
}

// translate maps driver errors to apperr codes; what names the thing for
// the message ("app", "user").
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.Errorf(apperr.NotFound, "%s not found", what)
	}
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint {
		if se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey {
			return apperr.Errorf(apperr.Conflict, "%s already exists", what)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// joinScopes and splitScopes convert between []string and the stored
// space-separated form.
func joinScopes(s []string) string { return strings.Join(s, " ") }

func splitScopes(s string) []string { return strings.Fields(s) }

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
