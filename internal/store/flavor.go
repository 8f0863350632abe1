package store

import (
	"errors"
	"hash/fnv"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"

	schema "github.com/oauthdesk/oauthdesk/db"
)

// flavor is everything that differs between the two SQL dialects, in one
// place (the idea of dex's storage/sql flavors). Store methods write
// portable SQL and ask the flavor only for these pieces.
type flavor struct {
	name       string        // "sqlite" | "postgres"
	goose      goose.Dialect // migration dialect
	migrations fs.FS         // the dialect's migration set
	// nocase wraps a column or placeholder for case-insensitive comparison
	// and ordering: SQLite's NOCASE collation, PostgreSQL's lower() (the
	// indexes are on lower(col)).
	nocase func(expr string) string
	// like is the case-insensitive LIKE operator.
	like string
	// greatest is the scalar maximum of two values.
	greatest string
	// advisoryLock is the statement that serializes writers of one kind
	// (its one argument is a lock id) until the transaction ends; "" when
	// the dialect already serializes every writer (SQLite's one write
	// connection with BEGIN IMMEDIATE).
	advisoryLock string
	// committers is how many group-commit loops (BatchTx) run at once,
	// each with its own transaction: 1 where writers serialize anyway
	// (SQLite); several on PostgreSQL, whose row locks let transactions
	// that touch different rows commit in parallel, so a batch does not
	// wait for the round trips of the one before it.
	committers int
	// coalesce: the refresh grant's rotations (RotateRefreshToken) of
	// concurrent callers go to the database together, as one
	// autocommitted set-based statement (UPDATE … FROM unnest(…) inside
	// an INSERT's WITH; rotation.go): one round trip per batch instead of
	// BEGIN, a used mark and an insert per call, and COMMIT. SQLite has no
	// data-modifying WITH, and its statements cost no round trip: it
	// rotates through BatchTx.
	coalesce bool
	// forUpdate is the clause that locks the rows a SELECT returns until
	// the transaction ends (PostgreSQL " FOR UPDATE"); "" on SQLite, whose
	// write transactions are serialized already.
	forUpdate string
	// windowWalk: list apps in a later secret expiry window, ordered by
	// the primary secret, by walking that order's index with a cheap test
	// per secret, and count them from the window with ARRAY(…) (an
	// InitPlan run once). PostgreSQL's planner otherwise walks the order
	// joining every app that expired before the window; SQLite's drives
	// from the window's index with IN already.
	windowWalk bool
	// retryable reports whether err aborted a transaction that may simply
	// run again (PostgreSQL: deadlock detected, serialization failure).
	retryable func(err error) bool
	// uniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
	// violation.
	uniqueViolation func(err error) bool
}

var sqliteFlavor = &flavor{
	name:       "sqlite",
	goose:      goose.DialectSQLite3,
	migrations: mustSub(schema.Migrations, "migrations"),
	nocase:     func(e string) string { return e + " COLLATE NOCASE" },
	like:       "LIKE",
	greatest:   "MAX",
	committers: 1,
	retryable:  func(error) bool { return false }, // one writer: no deadlocks
	uniqueViolation: func(err error) bool {
		var se sqlite3.Error
		return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint &&
			(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
	},
}

var postgresFlavor = &flavor{
	name:         "postgres",
	goose:        goose.DialectPostgres,
	migrations:   mustSub(schema.PostgresMigrations, "migrations_postgres"),
	nocase:       func(e string) string { return "lower(" + e + ")" },
	like:         "ILIKE",
	greatest:     "GREATEST",
	advisoryLock: "SELECT pg_advisory_xact_lock(?)",
	committers:   8,
	windowWalk:   true,
	coalesce:     true,
	forUpdate:    " FOR UPDATE",
	retryable: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
	},
	uniqueViolation: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
}

// isPostgresURL reports whether dsn names a PostgreSQL database
// (postgres:// or postgresql://); anything else is a SQLite path.
func isPostgresURL(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// IsPostgresURL reports whether dsn (a --db value) selects PostgreSQL.
func IsPostgresURL(dsn string) bool { return isPostgresURL(dsn) }

// lockID maps a lock name to a 64-bit advisory lock id, stable across
// processes and versions.
func lockID(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("oauthdesk:" + name))
	return int64(h.Sum64())
}

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}
