package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// openAt opens the database file at path and closes it when the test ends.
func openAt(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close %s: %v", path, err)
		}
	})
	return db
}

// newDB returns a migrated SQLite database on a fresh file in t.TempDir().
func newDB(t testing.TB) *DB {
	t.Helper()
	db := openAt(t, filepath.Join(t.TempDir(), "oauthdesk.db"))
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// second opens another *DB on db's file, as another process (the CLI)
// would.
func second(t testing.TB, db *DB) *DB {
	t.Helper()
	other := openAt(t, db.Path())
	if n, err := other.Migrate(context.Background()); err != nil || n != 0 {
		t.Fatalf("migrate from the second handle: applied %d, err %v; want 0, nil", n, err)
	}
	return other
}

var now0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func mkUser(t testing.TB, ctx context.Context, db *DB, username string) domain.User {
	t.Helper()
	u, err := createUser(ctx, db, username)
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return u
}

func createUser(ctx context.Context, db *DB, username string) (domain.User, error) {
	u := domain.User{ID: uuid.NewString(), Username: username, DisplayName: username, Email: username + "@example.com",
		Role: domain.RoleMember, PasswordHash: "$argon2id$dummy", CreatedAt: now0, UpdatedAt: now0}
	return u, db.CreateUser(ctx, u)
}

func newApp(owner domain.User, name, company string) domain.App {
	id := uuid.NewString()
	return domain.App{
		ClientID: id,
		Registration: domain.Registration{Name: name, Company: company, AppURL: "https://app.example",
			CallbackURL: "https://app.example/cb", Scopes: []string{"vso.work", "vso.profile"}},
		OwnerID: owner.ID, OwnerUsername: owner.Username, CreatedAt: now0,
		Secrets: []domain.Secret{{ID: uuid.NewString(), ClientID: id, Slot: domain.SlotPrimary, Hash: []byte("h-" + id),
			CreatedAt: now0, ExpiresAt: now0.AddDate(5, 0, 0)}},
	}
}

func mkApp(t testing.TB, ctx context.Context, db *DB, owner domain.User, name, company string) domain.App {
	t.Helper()
	a := newApp(owner, name, company)
	if err := db.CreateApp(ctx, a); err != nil {
		t.Fatalf("create app %s: %v", name, err)
	}
	return a
}

func newAuthz(u domain.User, a domain.App) domain.Authorization {
	return domain.Authorization{ID: uuid.NewString(), UserID: u.ID, ClientID: a.ClientID, Scopes: []string{"vso.work"},
		RedirectURI: a.CallbackURL, GrantedAt: now0}
}

func mkAuthz(t testing.TB, ctx context.Context, db *DB, u domain.User, a domain.App) domain.Authorization {
	t.Helper()
	z := newAuthz(u, a)
	if err := db.CreateAuthorization(ctx, z); err != nil {
		t.Fatalf("create authorization: %v", err)
	}
	return z
}

func mkRefresh(t testing.TB, ctx context.Context, db *DB, z domain.Authorization, family string) domain.RefreshToken {
	t.Helper()
	id := uuid.NewString()
	rt := domain.RefreshToken{ID: id, Hash: []byte("rt-" + id), AuthorizationID: z.ID, FamilyID: family, ClientID: z.ClientID,
		UserID: z.UserID, SecretID: "s", Scopes: z.Scopes, CreatedAt: now0, ExpiresAt: now0.AddDate(1, 0, 0)}
	if err := db.CreateRefreshToken(ctx, rt); err != nil {
		t.Fatalf("create refresh token: %v", err)
	}
	return rt
}

// count returns the number of rows of table, read through the write
// connection (so it sees everything committed).
func count(t testing.TB, db *DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.w.Raw("SELECT COUNT(*) FROM " + table).Scan(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func testMigrateIsIdempotentAndCreatesTables(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t) // migrated once
	files, err := fs.Glob(db.fl.migrations, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v %v", files, err)
	}
	var applied int64
	if err := db.r.Raw(`SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied).Error; err != nil || applied != int64(len(files)) {
		t.Fatalf("first Migrate applied %d (%v); want %d", applied, err, len(files))
	}
	for i := range 2 {
		if n, err := db.Migrate(ctx); err != nil || n != 0 {
			t.Fatalf("Migrate #%d again: applied %d, err %v; want 0, nil", i+2, n, err)
		}
	}
	// Another process opening the migrated database applies nothing either.
	second(t, db)

	for _, table := range []string{"users", "apps", "client_secrets", "authorizations", "authorization_codes",
		"refresh_tokens", "signing_keys", "invalidations", "settings", "sessions", "audit_events", "scope_usage",
		"report_runs", "job_locks"} {
		var n int64
		if err := db.r.Raw(`SELECT COUNT(*) FROM ` + table).Scan(&n).Error; err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.Context(), ""); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("empty path: %v, want Invalid", err)
	}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "missing", "x.db")); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("missing directory: %v, want Invalid", err)
	}
}

// pragmas returns journal_mode, foreign_keys, query_only and busy_timeout
// of one connection.
func pragmas(t *testing.T, c *sql.Conn) (mode string, fk, qo, busy int64) {
	t.Helper()
	ctx := t.Context()
	for q, dst := range map[string]any{"PRAGMA journal_mode": &mode, "PRAGMA foreign_keys": &fk,
		"PRAGMA query_only": &qo, "PRAGMA busy_timeout": &busy} {
		if err := c.QueryRowContext(ctx, q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return
}

func TestPoolsSettings(t *testing.T) {
	ctx := t.Context()
	db := newDB(t)

	wdb, err := db.w.DB()
	if err != nil {
		t.Fatal(err)
	}
	if got := wdb.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("write pool MaxOpenConnections = %d, want 1", got)
	}
	wc, err := wdb.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mode, fk, qo, busy := pragmas(t, wc)
	if mode != "wal" || fk != 1 || qo != 0 || busy != BusyTimeout.Milliseconds() {
		t.Errorf("write connection: journal_mode=%s foreign_keys=%d query_only=%d busy_timeout=%d; want wal 1 0 %d",
			mode, fk, qo, busy, BusyTimeout.Milliseconds())
	}
	_ = wc.Close()

	// Every connection of the read pool: hold them all at once so that each
	// is a distinct connection.
	rdb, err := db.r.DB()
	if err != nil {
		t.Fatal(err)
	}
	n := rdb.Stats().MaxOpenConnections
	if n < 2 {
		t.Errorf("read pool MaxOpenConnections = %d, want several", n)
	}
	var conns []*sql.Conn
	for range n {
		c, err := rdb.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		mode, fk, qo, busy := pragmas(t, c)
		if mode != "wal" || fk != 1 || qo != 1 || busy != BusyTimeout.Milliseconds() {
			t.Errorf("read connection %d: journal_mode=%s foreign_keys=%d query_only=%d busy_timeout=%d; want wal 1 1 %d",
				i, mode, fk, qo, busy, BusyTimeout.Milliseconds())
		}
		if _, err := c.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', '2026-01-01')`); err == nil {
			t.Errorf("read connection %d accepted a write", i)
		}
	}
	for _, c := range conns {
		_ = c.Close()
	}

	// Through the package's handles too.
	if err := db.r.Exec(`INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', '2026-01-01')`).Error; err == nil {
		t.Error("a write through the read pool succeeded")
	}
	if got := count(t, db, "settings"); got != 0 {
		t.Errorf("settings has %d rows after refused writes", got)
	}

	// Foreign keys are enforced on the write connection.
	ghost := domain.User{ID: uuid.NewString(), Username: "ghost"}
	if err := db.CreateApp(ctx, newApp(ghost, "Orphan", "Nobody")); err == nil {
		t.Error("an app whose owner does not exist was stored: foreign keys are off")
	}
}

func testWriteInsideReadTxFails(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	err := db.ReadTx(ctx, func(ctx context.Context) error {
		_, err := createUser(ctx, db, "carol")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "write inside a read transaction") {
		t.Errorf("CreateUser in a ReadTx: %v, want the write-inside-read error", err)
	}
	if got := count(t, db, "users"); got != 0 {
		t.Errorf("%d users after a refused write", got)
	}
}

func testUsernameUniqueCaseInsensitive(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	alice := mkUser(t, ctx, db, "Alice")
	for _, name := range []string{"alice", "ALICE", "Alice"} {
		if _, err := createUser(ctx, db, name); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("CreateUser %q after Alice: %v, want Conflict", name, err)
		}
	}
	got, err := db.UserByUsername(ctx, "aLiCe")
	if err != nil || got.ID != alice.ID || got.Username != "Alice" {
		t.Errorf("UserByUsername(aLiCe) = %+v, %v; want Alice", got, err)
	}
	if _, err := db.UserByUsername(ctx, "bob"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown user: %v, want NotFound", err)
	}
	// Conflict inside a transaction too, and the transaction rolls back.
	err = db.WriteTx(ctx, func(ctx context.Context) error {
		if _, err := createUser(ctx, db, "dave"); err != nil {
			return err
		}
		_, err := createUser(ctx, db, "ALICE")
		return err
	})
	if !apperr.Is(err, apperr.Conflict) {
		t.Errorf("duplicate inside WriteTx: %v, want Conflict", err)
	}
	if _, err := db.UserByUsername(ctx, "dave"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("dave survived the rolled-back transaction: %v", err)
	}
}

func testWriteTxRollbackAndNesting(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	boom := errors.New("boom")

	t.Run("error after writing rolls everything back", func(t *testing.T) {
		err := db.WriteTx(ctx, func(ctx context.Context) error {
			u := mkUser(t, ctx, db, "erin")
			a := mkApp(t, ctx, db, u, "Erin's app", "Erin Inc.")
			mkAuthz(t, ctx, db, u, a)
			// The transaction sees its own writes; the read pool does not.
			if _, err := db.UserByUsername(ctx, "erin"); err != nil {
				t.Errorf("own write not visible inside the transaction: %v", err)
			}
			if _, err := db.UserByUsername(context.Background(), "erin"); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("uncommitted write visible to the read pool: %v", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("WriteTx returned %v, want boom", err)
		}
		for _, table := range []string{"users", "apps", "client_secrets", "authorizations"} {
			if n := count(t, db, table); n != 0 {
				t.Errorf("%s has %d rows after rollback", table, n)
			}
		}
	})

	t.Run("a panic rolls back and releases the write connection", func(t *testing.T) {
		func() {
			defer func() { _ = recover() }()
			_ = db.WriteTx(ctx, func(ctx context.Context) error {
				mkUser(t, ctx, db, "panicky")
				panic("boom")
			})
		}()
		done := make(chan error, 1)
		go func() { _, err := createUser(ctx, db, "after-panic"); done <- err }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the write connection is still held after a panic in WriteTx")
		}
		if _, err := db.UserByUsername(ctx, "panicky"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("write before the panic was committed: %v", err)
		}
	})

	t.Run("nested WriteTx joins the outer one", func(t *testing.T) {
		err := db.WriteTx(ctx, func(outer context.Context) error {
			var inner context.Context
			err := db.WriteTx(outer, func(ctx context.Context) error {
				inner = ctx
				_, err := createUser(ctx, db, "frank")
				return err
			})
			if err != nil {
				return err
			}
			if inner.Value(txKey{}) != outer.Value(txKey{}) {
				t.Error("the inner WriteTx opened its own transaction")
			}
			// Committed by the inner call it would be visible from the read
			// pool now; joined, it is not.
			if _, err := db.UserByUsername(context.Background(), "frank"); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("the inner WriteTx committed on its own: %v", err)
			}
			if _, err := db.UserByUsername(outer, "frank"); err != nil {
				t.Errorf("inner write not visible in the outer transaction: %v", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("WriteTx returned %v, want boom", err)
		}
		if _, err := db.UserByUsername(ctx, "frank"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("inner write survived the outer rollback: %v", err)
		}
		// The inner error reaches the outer caller and rolls back too.
		err = db.WriteTx(ctx, func(outer context.Context) error {
			mkUser(t, outer, db, "grace")
			return db.WriteTx(outer, func(context.Context) error { return boom })
		})
		if !errors.Is(err, boom) {
			t.Fatalf("WriteTx returned %v, want boom", err)
		}
		if _, err := db.UserByUsername(ctx, "grace"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("outer write survived the inner error: %v", err)
		}
		// And a successful nest commits once.
		err = db.WriteTx(ctx, func(outer context.Context) error {
			mkUser(t, outer, db, "heidi")
			return db.WriteTx(outer, func(ctx context.Context) error { _, err := createUser(ctx, db, "ivan"); return err })
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"heidi", "ivan"} {
			if _, err := db.UserByUsername(ctx, name); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})

	t.Run("ReadTx inside WriteTx joins it", func(t *testing.T) {
		err := db.WriteTx(ctx, func(wctx context.Context) error {
			mkUser(t, wctx, db, "judy")
			return db.ReadTx(wctx, func(ctx context.Context) error {
				_, err := db.UserByUsername(ctx, "judy")
				return err
			})
		})
		if err != nil {
			t.Fatalf("ReadTx in WriteTx does not see the write: %v", err)
		}
	})
}

// testConcurrentWritersAndReaders runs 16 goroutines of transactions and
// reads in this process while a second *DB on the same file (another
// process, such as the CLI) writes too: nothing may fail — in particular
// no "database is locked" — and every row must be there.
func testConcurrentWritersAndReaders(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	cli := second(t, db)

	const workers, iters, cliWorkers = 16, 25, 4
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		start  = make(chan struct{})
		reads  atomic.Int64
		locked atomic.Int64
	)
	fail := func(err error) {
		if err == nil {
			return
		}
		if strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") {
			locked.Add(1)
		}
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	// one iteration: a user, an app (with its secret) and an authorization
	// in one transaction, then reads of what was written.
	one := func(h *DB, name string, autocommit bool) {
		var u domain.User
		var a domain.App
		var z domain.Authorization
		write := func(ctx context.Context) error {
			var err error
			if u, err = createUser(ctx, h, name); err != nil {
				return err
			}
			a = newApp(u, "App of "+name, "Company "+name)
			if err := h.CreateApp(ctx, a); err != nil {
				return err
			}
			z = newAuthz(u, a)
			if err := h.CreateAuthorization(ctx, z); err != nil {
				return err
			}
			// A read through the transaction.
			if _, err := h.ActiveAuthorization(ctx, u.ID, a.ClientID); err != nil {
				return fmt.Errorf("read own authorization: %w", err)
			}
			return nil
		}
		var err error
		if autocommit {
			// The same statements outside WriteTx: each its own transaction
			// on the write connection.
			err = write(ctx)
		} else {
			err = h.WriteTx(ctx, write)
		}
		if err != nil {
			fail(fmt.Errorf("%s: write: %w", name, err))
			return
		}
		if err := h.TouchAuthorization(ctx, z.ID, now0.Add(time.Minute)); err != nil {
			fail(fmt.Errorf("%s: touch: %w", name, err))
		}
		// Reads through the read pool, after the commit.
		if got, err := h.UserByID(ctx, u.ID); err != nil || got.Username != name {
			fail(fmt.Errorf("%s: read user: %+v %w", name, got, err))
		}
		// The authorization has no code and no token: it needs
		// re-authorization, so it does not count as active.
		if got, err := h.AppByClientID(ctx, a.ClientID); err != nil || len(got.Secrets) != 1 || got.ActiveAuthorizations != 0 {
			fail(fmt.Errorf("%s: read app: %+v %w", name, got, err))
		}
		if _, err := h.ListApps(ctx, domain.AppFilter{Limit: 5}); err != nil {
			fail(fmt.Errorf("%s: list apps: %w", name, err))
		}
		err = h.ReadTx(ctx, func(ctx context.Context) error {
			if _, err := h.AuthorizationByID(ctx, z.ID); err != nil {
				return err
			}
			_, err := h.Invalidations(ctx, 0, now0)
			return err
		})
		if err != nil {
			fail(fmt.Errorf("%s: read tx: %w", name, err))
		}
		reads.Add(1)
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range iters {
				one(db, fmt.Sprintf("srv-%02d-%02d", w, i), i%5 == 4)
			}
		}()
	}
	for w := range cliWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range iters {
				one(cli, fmt.Sprintf("cli-%02d-%02d", w, i), i%5 == 4)
			}
		}()
	}
	close(start)
	wg.Wait()

	for i, err := range errs {
		if i == 10 {
			t.Errorf("… and %d more errors", len(errs)-10)
			break
		}
		t.Error(err)
	}
	if n := locked.Load(); n > 0 {
		t.Errorf("%d operations failed with database is locked/busy", n)
	}
	want := int64((workers + cliWorkers) * iters)
	for _, table := range []string{"users", "apps", "client_secrets", "authorizations"} {
		if got := count(t, db, table); got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
	var touched int64
	if err := db.w.Raw(`SELECT COUNT(*) FROM authorizations WHERE last_used_at IS NOT NULL`).Scan(&touched).Error; err != nil || touched != want {
		t.Errorf("touched authorizations: %d (%v), want %d", touched, err, want)
	}
	if reads.Load() != want {
		t.Errorf("%d iterations completed their reads, want %d", reads.Load(), want)
	}
}

// testSameStatementInAndOutOfTransaction runs an autocommit write while a
// WriteTx holds the single write connection, then runs the same statement
// inside the transaction. The autocommit write must simply wait for the
// connection; it must not make the transaction wait for it (GORM's
// PrepareStmt cache is shared by both: a statement being prepared outside
// the transaction needs the connection the transaction holds).
func testSameStatementInAndOutOfTransaction(t *testing.T, newDB func(testing.TB) *DB) {
	for _, warm := range []bool{false, true} {
		t.Run(map[bool]string{false: "cold statement cache", true: "statement first prepared in a transaction"}[warm], func(t *testing.T) {
			db := newDB(t) // opening and migrating a fresh database is not part of the 5 s bound
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if warm {
				if err := db.WriteTx(ctx, func(ctx context.Context) error { _, err := createUser(ctx, db, "first"); return err }); err != nil {
					t.Fatal(err)
				}
			}
			outside := make(chan error, 1)
			began := time.Now()
			err := db.WriteTx(ctx, func(txctx context.Context) error {
				go func() { _, err := createUser(ctx, db, "outside"); outside <- err }()
				time.Sleep(100 * time.Millisecond) // the autocommit insert now waits for the write connection
				_, err := createUser(txctx, db, "inside")
				return err
			})
			errOut := <-outside
			if err != nil || errOut != nil {
				t.Fatalf("after %v: transaction: %v; autocommit write: %v — the transaction waited for a statement "+
					"being prepared outside it, which waited for the connection the transaction holds (deadlock broken only by the context deadline)",
					time.Since(began).Round(time.Millisecond), err, errOut)
			}
			if got := count(t, db, "users"); got != map[bool]int64{false: 2, true: 3}[warm] {
				t.Errorf("%d users", got)
			}
		})
	}
}

// testReadTxWhileReadPoolIsFull is the read-pool twin of
// testSameStatementInAndOutOfTransaction: every read connection is held by
// a ReadTx when a plain read of a statement not yet in GORM's cache
// arrives; it must wait for a connection without making the transactions
// wait for it. The server's ChangeWatcher holds one read connection for
// good, so in production one ReadTx fewer is enough. (It deadlocked while
// the read pool used GORM's shared PrepareStmt cache.)
func testReadTxWhileReadPoolIsFull(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	mkUser(t, t.Context(), db, "alice")
	rdb, err := db.r.DB()
	if err != nil {
		t.Fatal(err)
	}
	n := rdb.Stats().MaxOpenConnections
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	held, release := make(chan struct{}, n), make(chan struct{})
	errc := make(chan error, n+1)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- db.ReadTx(ctx, func(ctx context.Context) error {
				if _, err := db.CountUsersByRole(ctx, domain.RoleAdmin); err != nil { // holds a connection from here on
					return err
				}
				held <- struct{}{}
				<-release
				_, err := db.UserByUsername(ctx, "alice")
				return err
			})
		}()
	}
	for range n {
		<-held
	}
	wg.Add(1)
	go func() { defer wg.Done(); _, err := db.UserByUsername(ctx, "alice"); errc <- err }()
	time.Sleep(100 * time.Millisecond) // the plain read now waits for a connection
	close(release)
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("%v — the ReadTxs waited for a statement being prepared outside them, which waited for a connection they hold", err)
		}
	}
}

func testListAppsKeysetPagination(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	owner := mkUser(t, ctx, db, "owner")
	var apps []domain.App
	for i := 1; i <= 30; i++ {
		apps = append(apps, mkApp(t, ctx, db, owner, fmt.Sprintf("app %02d", i), "Fabrikam"))
		apps = append(apps, mkApp(t, ctx, db, owner, fmt.Sprintf("App %02d", i), "Contoso"))
	}
	slices.SortFunc(apps, func(a, b domain.App) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ClientID, b.ClientID)
	})
	ids := func(p domain.AppPage) []string {
		var out []string
		for _, a := range p.Apps {
			out = append(out, a.ClientID)
		}
		return out
	}
	want := func(from, to int) []string {
		var out []string
		for _, a := range apps[from:to] {
			out = append(out, a.ClientID)
		}
		return out
	}

	// Forward.
	var pages []domain.AppPage
	p, err := db.ListApps(ctx, domain.AppFilter{Limit: 25})
	if err != nil {
		t.Fatal(err)
	}
	if p.Prev != "" {
		t.Errorf("first page has a Prev cursor %q", p.Prev)
	}
	pages = append(pages, p)
	for p.Next != "" && len(pages) < 10 {
		if p, err = db.ListApps(ctx, domain.AppFilter{Limit: 25, After: p.Next}); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	if len(pages) != 3 {
		t.Fatalf("walked %d pages forward, want 3", len(pages))
	}
	var seen []string
	for i, p := range pages {
		if i > 0 && p.Prev == "" {
			t.Errorf("page %d has no Prev cursor", i+1)
		}
		for _, a := range p.Apps {
			if a.OwnerUsername != "owner" || len(a.Secrets) != 1 || a.Secrets[0].Slot != domain.SlotPrimary {
				t.Errorf("app %s: owner %q, secrets %+v", a.Name, a.OwnerUsername, a.Secrets)
			}
		}
		seen = append(seen, ids(p)...)
	}
	if last := pages[2]; last.Next != "" || len(last.Apps) != 10 {
		t.Errorf("last page: %d apps, Next %q; want 10 and none", len(last.Apps), last.Next)
	}
	if !slices.Equal(seen, want(0, 60)) {
		t.Errorf("forward walk order:\n got %v\nwant %v", seen, want(0, 60))
	}

	// Backward from the last page.
	p = pages[2]
	var back []domain.AppPage
	for p.Prev != "" && len(back) < 10 {
		if p, err = db.ListApps(ctx, domain.AppFilter{Limit: 25, Before: p.Prev}); err != nil {
			t.Fatal(err)
		}
		back = append(back, p)
	}
	if len(back) != 2 {
		t.Fatalf("walked %d pages back, want 2", len(back))
	}
	if !slices.Equal(ids(back[0]), want(25, 50)) || !slices.Equal(ids(back[1]), want(0, 25)) {
		t.Errorf("backward pages differ from the forward ones:\n%v\n%v", ids(back[0]), ids(back[1]))
	}
	if back[1].Prev != "" {
		t.Errorf("first page reached backward has a Prev cursor")
	}
	if back[0].Next == "" || back[1].Next == "" {
		t.Errorf("pages reached backward lack a Next cursor")
	}
	// Next from a page reached backward continues forward exactly.
	if p, err := db.ListApps(ctx, domain.AppFilter{Limit: 25, After: back[1].Next}); err != nil || !slices.Equal(ids(p), want(25, 50)) {
		t.Errorf("Next from the first page reached backward: %v %v", ids(p), err)
	}

	// Page sizes: a limit of 1 walks all 60 one by one; out-of-range limits take 25.
	n, cur := 0, ""
	var one []string
	for {
		p, err := db.ListApps(ctx, domain.AppFilter{Limit: 1, After: cur})
		if err != nil {
			t.Fatal(err)
		}
		one = append(one, ids(p)...)
		n++
		if p.Next == "" || n > 100 {
			break
		}
		cur = p.Next
	}
	if !slices.Equal(one, want(0, 60)) {
		t.Errorf("limit 1 walk: %d apps, order differs", len(one))
	}
	for _, limit := range []int{0, -1, 201} {
		if p, err := db.ListApps(ctx, domain.AppFilter{Limit: limit}); err != nil || len(p.Apps) != 25 {
			t.Errorf("limit %d: %d apps, %v; want 25", limit, len(p.Apps), err)
		}
	}

	// Malformed cursors.
	for _, c := range []string{"!!!", "bm9udWw", "%%%", "a"} { // "bm9udWw" = "nonul": valid base64 without the separator
		for _, f := range []domain.AppFilter{{After: c}, {Before: c}} {
			if _, err := db.ListApps(ctx, f); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("cursor %+v: %v, want Invalid", f, err)
			}
		}
	}

	// Deleted apps are left out unless asked for.
	gone := apps[0]
	if err := db.w.Exec(`UPDATE apps SET deleted_at = ? WHERE client_id = ?`, now0, gone.ClientID).Error; err != nil {
		t.Fatal(err)
	}
	p, err = db.ListApps(ctx, domain.AppFilter{Limit: 200})
	if err != nil || len(p.Apps) != 59 || slices.Contains(ids(p), gone.ClientID) {
		t.Errorf("after deleting one: %d apps, contains deleted: %v, err %v", len(p.Apps), slices.Contains(ids(p), gone.ClientID), err)
	}
	p, err = db.ListApps(ctx, domain.AppFilter{Limit: 200, IncludeDeleted: true})
	if err != nil || len(p.Apps) != 60 || p.Apps[0].ClientID != gone.ClientID || p.Apps[0].DeletedAt == nil {
		t.Errorf("IncludeDeleted: %d apps, err %v; want 60 with the deleted one first and DeletedAt set", len(p.Apps), err)
	}
	if a, err := db.AppByClientID(ctx, gone.ClientID); err != nil || a.DeletedAt == nil {
		t.Errorf("AppByClientID of a deleted app: %+v %v; want it with DeletedAt", a.DeletedAt, err)
	}
}

func testListAppsSearch(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	owner := mkUser(t, ctx, db, "owner")
	board := mkApp(t, ctx, db, owner, "Fabrikam Boards", "Fabrikam, Inc.")
	wall := mkApp(t, ctx, db, owner, "Wall Display", "Fabrikam, Inc.")
	mkApp(t, ctx, db, owner, "Build Monitor", "Contoso")
	pct := mkApp(t, ctx, db, owner, "100% Pure", "Northwind")
	under := mkApp(t, ctx, db, owner, "snake_case tool", "Tailspin")
	back := mkApp(t, ctx, db, owner, `back\slash`, "Litware")
	mkApp(t, ctx, db, owner, "Plain 1000", "Adatum") // would match "0%", "e_1" or "%" as wildcards
	mkApp(t, ctx, db, owner, "Line 1 app", "Proseware")

	search := func(q string) []string {
		t.Helper()
		p, err := db.ListApps(ctx, domain.AppFilter{Query: q, Limit: 200})
		if err != nil {
			t.Fatalf("query %q: %v", q, err)
		}
		var names []string
		for _, a := range p.Apps {
			names = append(names, a.Name)
		}
		return names
	}
	for q, want := range map[string][]string{
		"board":                        {board.Name},                                                                                          // a word's start, case-insensitive
		"oards":                        nil,                                                                                                   // not a word's start
		"fab":                          {board.Name, wall.Name},                                                                               // name or company word
		"slash":                        {back.Name},                                                                                           // a word after punctuation
		"wall fab":                     {wall.Name},                                                                                           // every word must match
		"  BOARD ":                     {board.Name},                                                                                          // trimmed
		"fabrikam, inc":                {board.Name, wall.Name},                                                                               // company
		"northwind":                    {pct.Name},                                                                                            // company
		board.ClientID[:8]:             {board.Name},                                                                                          // client id prefix
		strings.ToUpper(wall.ClientID): {wall.Name},                                                                                           // whole client id, any case
		"%":                            {pct.Name},                                                                                            // literal percent
		"100%":                         {pct.Name, "Plain 1000"},                                                                              // words starting "100"
		"0%":                           nil,                                                                                                   // no word starts with 0
		"_":                            {under.Name},                                                                                          // literal underscore
		"e_1":                          nil,                                                                                                   // not "e?1" (Line 1 app)
		`\`:                            {back.Name},                                                                                           // literal backslash
		`k\s`:                          nil,                                                                                                   // "k" starts no word
		"nothing like this":            nil,                                                                                                   // no match
		"":                             {pct.Name, back.Name, "Build Monitor", board.Name, "Line 1 app", "Plain 1000", under.Name, wall.Name}, // all, ordered
	} {
		if got := search(q); !slices.Equal(got, want) {
			t.Errorf("query %q: got %q, want %q", q, got, want)
		}
	}
	// A client id is matched as a prefix, not as a substring.
	if got := search(board.ClientID[4:12]); slices.Contains(got, board.Name) {
		t.Errorf("a middle part of the client id matched: %q", got)
	}
	// Paging within a search.
	p, err := db.ListApps(ctx, domain.AppFilter{Query: "fabrikam", Limit: 1})
	if err != nil || len(p.Apps) != 1 || p.Apps[0].Name != board.Name || p.Next == "" {
		t.Fatalf("search page 1: %+v %v", p, err)
	}
	p, err = db.ListApps(ctx, domain.AppFilter{Query: "fabrikam", Limit: 1, After: p.Next})
	if err != nil || len(p.Apps) != 1 || p.Apps[0].Name != wall.Name || p.Next != "" || p.Prev == "" {
		t.Fatalf("search page 2: %+v %v", p, err)
	}
}

// mkCode creates an unused authorization code for a fresh user, app and
// authorization.
func mkCode(t testing.TB, ctx context.Context, db *DB) (domain.AuthCode, domain.Authorization) {
	t.Helper()
	u := mkUser(t, ctx, db, "u-"+uuid.NewString()[:8])
	a := mkApp(t, ctx, db, u, "Code app", "Code Co")
	z := mkAuthz(t, ctx, db, u, a)
	id := uuid.NewString()
	c := domain.AuthCode{ID: id, Hash: []byte("code-" + id), AuthorizationID: z.ID, ClientID: a.ClientID, UserID: u.ID,
		SecretID: a.Secrets[0].ID, Scopes: z.Scopes, RedirectURI: a.CallbackURL, CreatedAt: now0, ExpiresAt: now0.Add(15 * time.Minute)}
	if err := db.CreateCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c, z
}

// race runs f on n goroutines at once (alternating between the handles,
// so that two "processes" compete) and returns how many got true.
func race(t *testing.T, n int, handles []*DB, f func(h *DB) (bool, error)) int {
	t.Helper()
	var wins atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := f(handles[i%len(handles)])
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	return int(wins.Load())
}

func testMarkUsedHasOneWinner(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	cli := second(t, db)
	at := now0.Add(time.Minute)

	t.Run("code", func(t *testing.T) {
		for round := range 5 {
			c, _ := mkCode(t, ctx, db)
			wins := race(t, 10, []*DB{db, cli}, func(h *DB) (bool, error) {
				if round%2 == 1 { // inside a transaction, as the token endpoint does
					var ok bool
					err := h.WriteTx(ctx, func(ctx context.Context) error {
						var err error
						ok, err = h.MarkCodeUsed(ctx, c.ID, at)
						return err
					})
					return ok, err
				}
				return h.MarkCodeUsed(ctx, c.ID, at)
			})
			if wins != 1 {
				t.Errorf("round %d: %d of 10 callers marked the code used, want 1", round, wins)
			}
			got, err := db.CodeByHash(ctx, c.Hash)
			if err != nil || got.UsedAt == nil || !got.UsedAt.Equal(at) {
				t.Errorf("round %d: code after marking: used_at %v, err %v", round, got.UsedAt, err)
			}
			if ok, err := db.MarkCodeUsed(ctx, c.ID, at); ok || err != nil {
				t.Errorf("marking a used code again: %v %v", ok, err)
			}
		}
		if _, err := db.CodeByHash(ctx, []byte("nope")); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unknown code: %v, want NotFound", err)
		}
	})

	t.Run("refresh token", func(t *testing.T) {
		for round := range 5 {
			_, z := mkCode(t, ctx, db)
			rt := mkRefresh(t, ctx, db, z, "fam")
			wins := race(t, 10, []*DB{db, cli}, func(h *DB) (bool, error) {
				return h.MarkRefreshTokenUsed(ctx, rt.ID, at)
			})
			if wins != 1 {
				t.Errorf("round %d: %d of 10 callers marked the refresh token used, want 1", round, wins)
			}
			got, err := db.RefreshTokenByHash(ctx, rt.Hash)
			if err != nil || got.UsedAt == nil {
				t.Errorf("round %d: refresh token after marking: %+v %v", round, got, err)
			}
		}
		// A revoked token cannot be marked.
		_, z := mkCode(t, ctx, db)
		rt := mkRefresh(t, ctx, db, z, "fam2")
		if err := db.RevokeFamily(ctx, "fam2", at); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.MarkRefreshTokenUsed(ctx, rt.ID, at); ok || err != nil {
			t.Errorf("marking a revoked refresh token: %v %v; want false", ok, err)
		}
	})
}

func testRevokeAuthorization(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	_, z := mkCode(t, ctx, db)
	_, other := mkCode(t, ctx, db)
	rts := []domain.RefreshToken{mkRefresh(t, ctx, db, z, "f1"), mkRefresh(t, ctx, db, z, "f2")}
	otherRT := mkRefresh(t, ctx, db, other, "f3")
	at := now0.Add(time.Hour)

	before, err := db.Invalidations(ctx, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := db.RevokeAuthorization(ctx, z.ID, "alice", at)
	if err != nil || !ok {
		t.Fatalf("first revoke: %v %v; want true", ok, err)
	}
	got, err := db.AuthorizationByID(ctx, z.ID)
	if err != nil || got.Active() || !got.RevokedAt.Equal(at) || got.RevokedBy != "alice" {
		t.Errorf("authorization after revoke: %+v %v", got, err)
	}
	if _, err := db.ActiveAuthorization(ctx, z.UserID, z.ClientID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("ActiveAuthorization after revoke: %v, want NotFound", err)
	}
	for _, rt := range rts {
		r, err := db.RefreshTokenByHash(ctx, rt.Hash)
		if err != nil || r.RevokedAt == nil || !r.RevokedAt.Equal(at) {
			t.Errorf("refresh token %s: revoked_at %v, err %v", rt.ID, r.RevokedAt, err)
		}
	}
	if r, err := db.RefreshTokenByHash(ctx, otherRT.Hash); err != nil || r.RevokedAt != nil {
		t.Errorf("another authorization's refresh token was revoked: %+v %v", r.RevokedAt, err)
	}
	after, err := db.Invalidations(ctx, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("invalidations: %d → %d, want one more", len(before), len(after))
	}
	if inv := after[len(after)-1]; inv.Kind != domain.KindAuthorization || inv.Ref != z.ID || !inv.At.Equal(at) {
		t.Errorf("invalidation %+v, want authorization %s at %v", inv, z.ID, at)
	}

	ok, err = db.RevokeAuthorization(ctx, z.ID, "bob", at.Add(time.Hour))
	if err != nil || ok {
		t.Errorf("second revoke: %v %v; want false", ok, err)
	}
	again, _ := db.Invalidations(ctx, 0, time.Time{})
	if len(again) != len(after) {
		t.Errorf("second revoke appended %d invalidations, want none", len(again)-len(after))
	}
	if got, _ := db.AuthorizationByID(ctx, z.ID); got.RevokedBy != "alice" || !got.RevokedAt.Equal(at) {
		t.Errorf("second revoke changed the record: %+v", got)
	}
	if ok, err := db.RevokeAuthorization(ctx, uuid.NewString(), "x", at); ok || err != nil {
		t.Errorf("revoking an unknown authorization: %v %v", ok, err)
	}
	// A new consent may follow a revocation (the unique index covers active ones only).
	if err := db.CreateAuthorization(ctx, domain.Authorization{ID: uuid.NewString(), UserID: z.UserID, ClientID: z.ClientID,
		Scopes: z.Scopes, RedirectURI: z.RedirectURI, GrantedAt: at}); err != nil {
		t.Errorf("new authorization after revoke: %v", err)
	}
	if err := db.CreateAuthorization(ctx, newAuthz(domain.User{ID: z.UserID}, domain.App{ClientID: z.ClientID})); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("second active authorization: %v, want Conflict", err)
	}
	// The feed filters by seq and time.
	if list, err := db.Invalidations(ctx, after[len(after)-1].Seq, time.Time{}); err != nil || len(list) != 0 {
		t.Errorf("Invalidations after the last seq: %v %v", list, err)
	}
	if list, err := db.Invalidations(ctx, 0, at.Add(time.Second)); err != nil || len(list) != 0 {
		t.Errorf("Invalidations since after the revocation: %v %v", list, err)
	}
}

func TestChangeWatcher(t *testing.T) {
	ctx := t.Context()
	db := newDB(t)
	w, err := db.NewChangeWatcher(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	check := func(step string, want bool) {
		t.Helper()
		got, err := w.Changed(ctx)
		if err != nil || got != want {
			t.Fatalf("%s: Changed = %v, %v; want %v", step, got, err, want)
		}
	}
	check("first call", true)
	check("nothing happened", false)
	check("still nothing", false)

	mkUser(t, ctx, db, "alice")
	check("after a commit through the write pool", true)
	check("then", false)

	// A rolled-back transaction commits nothing.
	_ = db.WriteTx(ctx, func(ctx context.Context) error {
		mkUser(t, ctx, db, "rolled-back")
		return errors.New("no")
	})
	if changed, _ := w.Changed(ctx); changed {
		t.Log("Changed reported true after a rollback (harmless: one extra feed read)")
	}

	cli := second(t, db)
	if _, err := w.Changed(ctx); err != nil { // opening and migrating may or may not commit
		t.Fatal(err)
	}
	mkUser(t, ctx, cli, "bob")
	check("after a commit from another process", true)
	check("then", false)

	// A revocation from the other process: the feed shows it.
	_, z := mkCode(t, ctx, cli)
	check("fixtures from the other process", true)
	if ok, err := cli.RevokeAuthorization(ctx, z.ID, "cli", now0); err != nil || !ok {
		t.Fatal(ok, err)
	}
	check("after a revocation from another process", true)
	list, err := db.Invalidations(ctx, 0, time.Time{})
	if err != nil || len(list) != 1 || list[0].Ref != z.ID {
		t.Errorf("feed after the other process revoked: %+v %v", list, err)
	}

	// Concurrent callers: exactly one sees a given change.
	mkUser(t, ctx, cli, "carol")
	var trues atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := w.Changed(ctx); err != nil {
				t.Error(err)
			} else if ok {
				trues.Add(1)
			}
		}()
	}
	wg.Wait()
	if trues.Load() != 1 {
		t.Errorf("%d of 8 concurrent callers saw the change, want 1", trues.Load())
	}
}

func testSessionStore(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	s := db.Sessions()
	exp := time.Now().Add(time.Hour)
	if err := s.CommitCtx(ctx, "tok", []byte("a"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitCtx(ctx, "tok", []byte("b"), exp); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := s.FindCtx(ctx, "tok"); err != nil || !ok || string(b) != "b" {
		t.Errorf("find: %q %v %v", b, ok, err)
	}
	if err := s.CommitCtx(ctx, "old", []byte("x"), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.FindCtx(ctx, "old"); ok || err != nil {
		t.Errorf("expired session found: %v %v", ok, err)
	}
	if err := db.PruneSessions(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "sessions"); n != 1 {
		t.Errorf("%d sessions after prune, want 1", n)
	}
	if err := s.DeleteCtx(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.FindCtx(ctx, "tok"); ok {
		t.Error("deleted session found")
	}
}
