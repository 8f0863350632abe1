// Package store is oauthdesk's storage, built on GORM: SQLite through the
// cgo driver (gorm.io/driver/sqlite), the embedded default, or PostgreSQL
// through pgx (gorm.io/driver/postgres) when the database is a
// postgres:// URL. It is the only package that imports GORM: it maps rows
// to internal/domain types and translates driver errors to internal/apperr
// codes (gorm.ErrRecordNotFound → NotFound, a UNIQUE violation → Conflict).
// What differs between the dialects lives in flavor.go.
//
// SQLite: one write path. Every write goes through a pool of exactly one
// connection opened with BEGIN IMMEDIATE, so writers queue in Go instead of
// racing for SQLite's lock and "database is locked" cannot happen between
// requests of one process; other processes (the CLI) wait on the busy
// timeout. Reads use a separate read-only pool and run concurrently (WAL).
//
// PostgreSQL: one pool for reads and writes, shared by every replica's
// connections. Write transactions run at READ COMMITTED; the places where
// the SQLite store relied on its single writer take a lock instead: the
// audit chain's append and the first signing key take a transaction-level
// advisory lock, a secret retirement locks its row (SELECT … FOR UPDATE),
// and single-use codes and refresh tokens are spent by conditional UPDATEs
// (exactly one concurrent caller wins). Read transactions run at
// REPEATABLE READ, READ ONLY, so they see one snapshot as on SQLite.
//
// Transactions travel in the context (WriteTx/ReadTx): a use case opens one
// and every store method it calls with that context joins it. BatchTx
// (batch.go) is the token endpoint's group commit: concurrent calls share
// one write transaction. The token endpoint's statements are plain SQL
// (hot.go); UserByID and ClientByID read through caches tagged with
// Version (cache.go), which moves on every commit of this process and,
// through the change watcher, within PollInterval of another process's.
package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// BusyTimeout is how long a connection waits for another process's write
// lock before failing (milliseconds in the DSN).
const BusyTimeout = 10 * time.Second

// DB is an open oauthdesk database. It is safe for concurrent use.
type DB struct {
	path string
	fl   *flavor
	w    *gorm.DB     // SQLite: the single write connection; PostgreSQL: the pool
	r    *gorm.DB     // SQLite: read-only pool; PostgreSQL: the same pool as w
	gen  atomic.Int64 // commits of this process
	// external moves when the change watcher saw a commit it cannot
	// attribute to this process (see Version).
	external atomic.Int64
	users    versionCache[domain.User]
	apps     versionCache[domain.App]
	batch    batcher
	// rotations is PostgreSQL's group commit of refresh rotations
	// (rotation.go).
	rotations coalescer[rotation, bool]
	// refreshReads is PostgreSQL's batching of the refresh grant's first
	// read (refresh_reads.go).
	refreshReads coalescer[[]byte, refreshRead]
	clock        func() time.Time
	// trace is the query tracer TraceQueries installs (nil: none). Its
	// GORM callbacks are registered once, at open, before any goroutine
	// can run a query: registering them later races with running queries.
	trace atomic.Pointer[func(query string, args []any)]
}

// SetClock sets the clock the store computes time-dependent answers with
// (the true authorization state in listings); default time.Now. Call it
// before use.
func (db *DB) SetClock(now func() time.Time) { db.clock = now }

func (db *DB) now() time.Time {
	if db.clock != nil {
		return db.clock().UTC()
	}
	return time.Now().UTC()
}

// Open opens the database named by dsn: a postgres:// or postgresql://
// URL selects PostgreSQL (the database must exist), anything else is a
// SQLite file path (created if needed, WAL mode, foreign keys on, busy
// timeout). It does not migrate; call Migrate. Errors: Invalid when the
// path is empty or its directory does not exist, or the URL does not
// parse; Internal for anything the driver reports.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if dsn == "" {
		return nil, apperr.Errorf(apperr.Invalid, "database path is empty")
	}
	if isPostgresURL(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
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
	cfg := gormConfig()
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
	db := &DB{path: path, fl: sqliteFlavor, w: w, r: r}
	db.apps.clone = cloneApp
	db.registerTrace()
	db.countCommits()
	return db, nil
}

// PoolSize is the number of PostgreSQL connections one process keeps at
// most.
const PoolSize = 16

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	g, err := gorm.Open(postgres.Open(dsn), gormConfig())
	if err != nil {
		return nil, apperr.Errorf(apperr.Invalid, "database %s: %v", redactURL(dsn), err)
	}
	sdb, err := g.DB()
	if err != nil {
		return nil, err
	}
	sdb.SetMaxOpenConns(PoolSize)
	sdb.SetMaxIdleConns(PoolSize)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sdb.PingContext(pctx); err != nil {
		_ = sdb.Close()
		return nil, fmt.Errorf("open %s: %w", redactURL(dsn), err)
	}
	db := &DB{path: dsn, fl: postgresFlavor, w: g, r: g}
	db.apps.clone = cloneApp
	db.registerTrace()
	db.countCommits()
	return db, nil
}

// redactURL hides the password of a database URL for messages.
func redactURL(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	cred := dsn[scheme+3 : at]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		return dsn[:scheme+3] + user + ":xxxxx" + dsn[at:]
	}
	return dsn
}

// countCommits makes every committed write of this process move db.gen:
// autocommit statements through GORM callbacks, transactions in WriteTx.
// The PostgreSQL change watcher reads it so that a revocation committed
// by this replica bites on its very next request.
func (db *DB) countCommits() {
	bump := func(g *gorm.DB) {
		if g.Error != nil {
			return
		}
		if _, inTx := g.Statement.ConnPool.(gorm.TxCommitter); !inTx {
			db.gen.Add(1)
		}
	}
	cb := db.w.Callback()
	_ = cb.Create().After("gorm:create").Register("oauthdesk:commits", bump)
	_ = cb.Update().After("gorm:update").Register("oauthdesk:commits", bump)
	_ = cb.Delete().After("gorm:delete").Register("oauthdesk:commits", bump)
	_ = cb.Raw().After("gorm:raw").Register("oauthdesk:commits", bump)
}

// Path returns the database given to Open: a SQLite file path or a
// PostgreSQL URL.
func (db *DB) Path() string { return db.path }

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.fl.name }

// Shared reports whether several server processes (replicas) may use this
// database at once (PostgreSQL: true; SQLite: false), so that state a
// replica keeps must be kept in the database instead.
func (db *DB) Shared() bool { return db.fl.shared }

// Close stops the group commit and closes the pools.
func (db *DB) Close() error {
	db.stopBatches()
	db.rotations.stop()
	db.refreshReads.stop()
	var errs []error
	pools := []*gorm.DB{db.r, db.w}
	if db.r == db.w {
		pools = pools[1:]
	}
	for _, g := range pools {
		if s, err := g.DB(); err == nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error {
	s, err := db.w.DB()
	if err != nil {
		return err
	}
	return s.PingContext(ctx)
}

// Migrate applies every pending migration of the dialect's set embedded
// in package db and returns how many it applied. Safe to call on every
// start, by several replicas at once (PostgreSQL: goose's session lock).
// Errors: Invalid when the database was migrated by a newer oauthdesk
// (it holds a version this binary does not know).
func (db *DB) Migrate(ctx context.Context) (int, error) {
	sqlDB, err := db.w.DB()
	if err != nil {
		return 0, err
	}
	opts := []goose.ProviderOption{goose.WithAllowOutofOrder(true)}
	if db.fl.sessionLocker != nil {
		locker, err := db.fl.sessionLocker()
		if err != nil {
			return 0, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(db.fl.goose, sqlDB, db.fl.migrations, opts...)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	if err := db.refuseNewer(ctx, p); err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// refuseNewer fails when the database holds an applied migration this
// binary does not embed: a newer oauthdesk migrated it, and running old
// code on the new schema could corrupt it.
func (db *DB) refuseNewer(ctx context.Context, p *goose.Provider) error {
	known := map[int64]bool{}
	var newest int64
	for _, s := range p.ListSources() {
		known[s.Version] = true
		newest = max(newest, s.Version)
	}
	var applied []int64
	err := db.rd(ctx).Raw(`SELECT version_id FROM goose_db_version WHERE is_applied AND version_id > 0`).Scan(&applied).Error
	if err != nil {
		return nil // no version table yet: a new database
	}
	var unknown []int64
	for _, v := range applied {
		if !known[v] {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return apperr.Errorf(apperr.Invalid,
		"the database was migrated by a newer oauthdesk (schema version %d; this binary knows up to %d): upgrade this replica before starting it",
		unknown[len(unknown)-1], newest)
}

// lock serializes, until the write transaction in ctx ends, every writer
// that takes the lock of the same name, across processes (PostgreSQL's
// transaction-level advisory lock). On SQLite every write transaction is
// already serialized, and lock does nothing.
func (db *DB) lock(ctx context.Context, name string) error {
	if db.fl.advisoryLock == "" {
		return nil
	}
	return db.wr(ctx).Exec(db.fl.advisoryLock, lockID(name)).Error
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
	var err error
	for attempt := 1; ; attempt++ {
		err = db.w.WithContext(ctx).Transaction(func(g *gorm.DB) error {
			return fn(context.WithValue(ctx, txKey{}, &txState{g: g, write: true}))
		})
		// PostgreSQL aborts one of two transactions that lock rows in
		// opposite orders (deadlock) or that cannot be serialized; the
		// aborted one changed nothing and runs again, as SQLite's single
		// writer would have run it after the other.
		if err == nil || attempt == maxTxAttempts || !db.fl.retryable(err) || ctx.Err() != nil {
			break
		}
	}
	if err == nil {
		db.gen.Add(1)
	}
	return err
}

// maxTxAttempts bounds how often WriteTx runs a transaction that the
// database aborted as a deadlock victim or serialization failure.
const maxTxAttempts = 4

// ReadTx runs fn in one read transaction on the read-only pool, so that
// every read in fn sees the same snapshot. Inside a WriteTx it joins it.
func (db *DB) ReadTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*txState); ok {
		return fn(ctx)
	}
	return db.r.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, &txState{g: g}))
	}, db.fl.readTx...)
}

// readTxWith runs fn in one read transaction (ReadTx: it joins the one in
// ctx) between the flavor's SET LOCAL statements of settings. Each setting
// is a flavor's pair (noParallel, customPlans…): the statement that sets
// it, run before fn in the order given, and the one that puts the
// server's default back, run after fn in the reverse order, so that a
// transaction ctx already carried goes on without them. A nil pair (a
// setting the flavor has not) is skipped; with none left fn runs alone,
// with no transaction of its own. The first error (of a statement or of
// fn) ends it and is returned.
func (db *DB) readTxWith(ctx context.Context, settings [][]string, fn func(ctx context.Context) error) error {
	var set [][]string
	for _, s := range settings {
		if s != nil {
			set = append(set, s)
		}
	}
	if len(set) == 0 {
		return fn(ctx)
	}
	return db.ReadTx(ctx, func(ctx context.Context) error {
		for _, s := range set {
			if err := db.rd(ctx).Exec(s[0]).Error; err != nil {
				return err
			}
		}
		if err := fn(ctx); err != nil {
			return err
		}
		for i := len(set) - 1; i >= 0; i-- {
			if err := db.rd(ctx).Exec(set[i][1]).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

type txState struct {
	g     *gorm.DB
	write bool
	// invalidated: the transaction appended to the invalidation feed
	// (BatchTx then moves Version; WriteTx always does).
	invalidated bool
}

// inWriteTx reports whether ctx carries a write transaction.
func (db *DB) inWriteTx(ctx context.Context) bool {
	tx, ok := ctx.Value(txKey{}).(*txState)
	return ok && tx.write
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
	if sqliteFlavor.uniqueViolation(err) || postgresFlavor.uniqueViolation(err) {
		return apperr.Errorf(apperr.Conflict, "%s already exists", what)
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

// TraceQueries calls fn with the SQL text and arguments of every query
// run through either pool from now on (reads and raw queries, not
// writes), until the returned stop is called: for tests that check query
// plans. fn must be safe for concurrent use. One tracer at a time: a
// second call replaces the first.
func (db *DB) TraceQueries(fn func(query string, args []any)) (stop func()) {
	db.trace.Store(&fn)
	return func() { db.trace.CompareAndSwap(&fn, nil) }
}

// registerTrace registers the callbacks that hand queries to the tracer
// of TraceQueries, once per GORM handle; without a tracer they cost one
// atomic load.
func (db *DB) registerTrace() {
	cb := func(g *gorm.DB) {
		if fn := db.trace.Load(); fn != nil && g.Statement != nil && g.Statement.SQL.Len() > 0 {
			(*fn)(g.Statement.SQL.String(), slices.Clone(g.Statement.Vars))
		}
	}
	handles := []*gorm.DB{db.r}
	if db.w != db.r {
		handles = append(handles, db.w)
	}
	for _, g := range handles {
		_ = g.Callback().Query().After("gorm:query").Register("oauthdesk:trace", cb)
		_ = g.Callback().Row().After("gorm:row").Register("oauthdesk:trace", cb)
		_ = g.Callback().Raw().After("gorm:raw").Register("oauthdesk:trace", cb)
	}
}
