package store

import (
	"database/sql"
	"errors"
	"hash/fnv"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

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
	// concurrent callers go to the database together, as one pipeline of
	// one statement per rotation (an UPDATE inside an INSERT's WITH;
	// rotation.go) in one implicit transaction: one round trip and one
	// commit per batch instead of BEGIN, a used mark and an insert per
	// call, and COMMIT. SQLite has no data-modifying WITH, and its
	// statements cost no round trip: it rotates through BatchTx.
	coalesce bool
	// forUpdate is the clause that locks the rows a SELECT returns until
	// the transaction ends (PostgreSQL " FOR UPDATE"); "" on SQLite, whose
	// write transactions are serialized already.
	forUpdate string
	// noParallel is the pair of statements around a keyset page read whose
	// filter the planner cannot estimate (a scope's holders as forty LIKE
	// terms on /admin/tokens and a scope's tokens tab): PostgreSQL, taking
	// the matches for rare, planned a parallel walk whose two workers cost
	// 26-70 ms to start under load for a 2-6 ms walk (EXPLAIN ANALYZE on
	// the bench seed); nil where there are no parallel workers (SQLite).
	noParallel []string
	// stringAgg is the aggregate that joins a text expression's values
	// with a separator (%s, %s): SQLite's group_concat, PostgreSQL's
	// string_agg.
	stringAgg string
	// forShare is the clause that locks the rows a SELECT returns against
	// change (not against other sharers) until the transaction ends
	// (PostgreSQL " FOR SHARE"); "" on SQLite.
	forShare string
	// windowWalk: list apps in a later secret expiry window, ordered by
	// the primary secret, by walking that order's index with a cheap test
	// per secret, and count them from the window with ARRAY(…) (an
	// InitPlan run once). PostgreSQL's planner otherwise walks the order
	// joining every app that expired before the window; SQLite's drives
	// from the window's index with IN already.
	windowWalk bool
	// lateralFirsts: the first keys of each of many scopes (the scope
	// inventory's previews, firstKeys; a scope's holder pages, scopeKeys)
	// are one LATERAL join over a VALUES list (lateralScopes), planned once; SQLite has no LATERAL and plans a UNION ALL of
	// one index range per scope cheaply, where PostgreSQL spent 20–35 ms
	// planning ninety branches.
	lateralFirsts bool
	// inList is "col is one of the values of the subquery sub", driven
	// from sub: PostgreSQL's col = ANY (ARRAY(sub)), the subquery run
	// once (an InitPlan) and each value a probe of col's index, which
	// no estimate of sub's size turns into a hash join over the whole
	// table; SQLite's col IN (sub), which it drives from sub already.
	inList func(col, sub string) string
	// probeFence ends a correlated EXISTS that must stay a probe per row
	// of an ordered index walk (the app listing's dense owner filter,
	// which stops at the page's end): PostgreSQL's " OFFSET 0", an
	// optimization fence that keeps the subquery from being planned as a
	// semi-join driven from its own table; "" on SQLite, which probes.
	probeFence string
	// indexOnly is the pair of statements around a read that must walk a
	// covering index the planner would pass over for a sequential scan
	// (PostgreSQL: random_page_cost 1.1, the usual value for a cached or
	// SSD database, for that read, then the server's default again; not
	// enable_seqscan off, whose 1e10 cost penalty switches JIT on:
	// 0.5 s); nil where the planner takes the index (SQLite).
	indexOnly []string
	// clientIDRange: a search that looks like a client id (or its first 8+
	// characters) is a range of the apps' primary key (SQLite); PostgreSQL
	// takes one range of app_search_terms' client-id terms instead.
	clientIDRange bool
	// trigramSearch: a substring search of personal access tokens (name
	// or owner) is a UNION of the name matches, found through the
	// trigram index pats_name_trgm (pg_trgm, migration 00024), and the
	// owners' tokens; SQLite has no such index and walks
	// pats_by_created newest first testing both in one query.
	trigramSearch bool
	// customPlans is the pair of statements around a read whose best plan
	// depends on its arguments (a search term found once or in every
	// other row), so that it is planned for each (PostgreSQL: the
	// statement cache would otherwise settle, after five runs, on a plan
	// for an unknown term: the token search then walked every token for a
	// rare name, 290 ms against 0.6 ms); nil where one plan serves every
	// term (SQLite's token search walks pats_by_created whatever it is).
	customPlans []string
	// shared: several server processes (replicas) may use the database at
	// once (PostgreSQL), so per-process state such as sign-in failure
	// delays must live in it.
	shared bool
	// rebind returns a statement with its ? placeholders in the dialect's
	// form ($1, $2, … on PostgreSQL), for SQL sent past GORM (hot.go,
	// seed.go).
	rebind func(q string) string
	// sessionLocker is the lock that keeps replicas migrating at once
	// apart (goose's; nil: SQLite's write lock does).
	sessionLocker func() (lock.SessionLocker, error)
	// readTx is the options of a read transaction: one snapshot for all
	// its reads (PostgreSQL: REPEATABLE READ, READ ONLY; SQLite's read
	// transaction is one already).
	readTx []*sql.TxOptions
	// sharedWatcher: the change watcher needs no connection of its own
	// (PostgreSQL reads this process's commit count and the invalidation
	// feed through the pool); SQLite's asks PRAGMA data_version on a
	// dedicated connection.
	sharedWatcher bool
	// walCheckpoints: the process checkpoints the write-ahead log itself
	// (SQLite, RunCheckpoints); PostgreSQL's server does.
	walCheckpoints bool
	// microsecondTimes: timestamps keep microseconds only (PostgreSQL's
	// TIMESTAMPTZ); copying a SQLite audit log with finer times into it
	// would break the hash chain.
	microsecondTimes bool
	// identities: tables have identity sequences to move past copied rows.
	identities bool
	// tablesSQL lists the base tables (one column: the name).
	tablesSQL string
	// columnsSQL lists a table's columns (its argument) as column_name,
	// data_type.
	columnsSQL string
	// indexesSQL lists the secondary indexes (name, definition) of the
	// tables in the list that follows it, for the bulk seed to drop and
	// build again: not those behind PRIMARY KEY and UNIQUE constraints.
	indexesSQL string
	// analyze refreshes the planner's statistics after a bulk load (and,
	// on PostgreSQL, the visibility map, without which a fresh table
	// cannot be counted from an index alone).
	analyze string
	// bulkCache is the statement that enlarges the page cache for a bulk
	// load and the one that restores it ("": the server's setting).
	bulkCache, bulkCacheRestore string
	// auditSubjectsSQL fills the app and user of the seeded audit events
	// about authorizations (UPDATE … FROM where the dialect has it).
	auditSubjectsSQL string
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
	rebind:     func(q string) string { return q },
	tablesSQL:  `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
	columnsSQL: `SELECT name AS column_name, type AS data_type FROM pragma_table_info(?)`,
	indexesSQL: `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN `,
	analyze:    `ANALYZE`,
	bulkCache:  `PRAGMA cache_size = -1048576`, bulkCacheRestore: `PRAGMA cache_size = -2000`,
	auditSubjectsSQL: `UPDATE audit_events SET
    app_id = COALESCE((SELECT z.client_id FROM authorizations z WHERE z.id = audit_events.target_id), ''),
    user_id = COALESCE((SELECT z.user_id FROM authorizations z WHERE z.id = audit_events.target_id), '')
  WHERE target_type = 'authorization'`,
	walCheckpoints: true,
	retryable:      func(error) bool { return false }, // one writer: no deadlocks
	uniqueViolation: func(err error) bool {
		var se sqlite3.Error
		return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint &&
			(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
	},
	clientIDRange: true,
	stringAgg:     "group_concat(%s, %s)",
	inList:        func(col, sub string) string { return col + " IN (" + sub + ")" },
}

var postgresFlavor = &flavor{
	name:          "postgres",
	goose:         goose.DialectPostgres,
	migrations:    mustSub(schema.PostgresMigrations, "migrations_postgres"),
	nocase:        func(e string) string { return "lower(" + e + ")" },
	like:          "ILIKE",
	greatest:      "GREATEST",
	advisoryLock:  "SELECT pg_advisory_xact_lock(?)",
	committers:    8,
	windowWalk:    true,
	lateralFirsts: true,
	indexOnly:     []string{"SET LOCAL random_page_cost = 1.1", "SET LOCAL random_page_cost = DEFAULT"},
	probeFence:    " OFFSET 0",
	inList:        func(col, sub string) string { return col + " = ANY (ARRAY(" + sub + "))" },
	coalesce:      true,
	forUpdate:     " FOR UPDATE",
	forShare:      " FOR SHARE",
	stringAgg:     "string_agg(%s, %s)",
	noParallel:    []string{"SET LOCAL max_parallel_workers_per_gather = 0", "SET LOCAL max_parallel_workers_per_gather = DEFAULT"},
	trigramSearch: true,
	customPlans:   []string{"SET LOCAL plan_cache_mode = force_custom_plan", "SET LOCAL plan_cache_mode = DEFAULT"},
	rebind:        numberPlaceholders,
	sessionLocker: func() (lock.SessionLocker, error) {
		return lock.NewPostgresSessionLocker()
	},
	readTx:           []*sql.TxOptions{{Isolation: sql.LevelRepeatableRead, ReadOnly: true}},
	sharedWatcher:    true,
	microsecondTimes: true,
	identities:       true,
	tablesSQL:        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
	columnsSQL:       `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`,
	indexesSQL: `SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema()
AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) AND i.tablename IN `,
	analyze: `VACUUM ANALYZE`,
	auditSubjectsSQL: `UPDATE audit_events e SET app_id = z.client_id, user_id = z.user_id
  FROM authorizations z WHERE e.target_type = 'authorization' AND z.id = e.target_id`,
	retryable: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
	},
	uniqueViolation: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
	shared: true,
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
