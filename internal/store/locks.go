package store

import (
	"context"
	"errors"
)

// The locks below make a read-check-write use case one step under
// concurrent requests on several replicas: the use case takes the lock
// first inside its write transaction, then reads what it is about to
// change (and checks the caller's precondition, such as an HTTP
// If-Match), then writes. A second writer of the same thing waits for
// the first to commit and then reads what it committed (PostgreSQL READ
// COMMITTED reads each statement's newest committed rows). On SQLite
// every write transaction is serialized already and the locks do nothing.

// errLockOutsideWrite is returned by a lock taken outside a write
// transaction, where it would protect nothing.
var errLockOutsideWrite = errors.New("store: a lock needs a write transaction")

// LockApp locks the app's row until the write transaction in ctx ends
// (PostgreSQL SELECT … FOR UPDATE). An unknown client id locks nothing
// and is no error: the use case's read reports NotFound.
func (db *DB) LockApp(ctx context.Context, clientID string) error {
	return db.lockRow(ctx, `SELECT client_id FROM apps WHERE client_id = ?`, clientID)
}

// LockUser locks the user's row until the write transaction in ctx ends
// (PostgreSQL SELECT … FOR UPDATE). An unknown id locks nothing and is no
// error: the use case's read reports NotFound.
func (db *DB) LockUser(ctx context.Context, id string) error {
	return db.lockRow(ctx, `SELECT id FROM users WHERE id = ?`, id)
}

// LockSettings serializes, until the write transaction in ctx ends, the
// changes of the organization's settings and policies (the settings
// table and the personal access token allowlist), across replicas
// (PostgreSQL transaction-level advisory lock: a setting that was never
// set has no row to lock).
func (db *DB) LockSettings(ctx context.Context) error {
	if !db.inWriteTx(ctx) {
		return errLockOutsideWrite
	}
	return translate(db.lock(ctx, "settings"), "settings")
}

func (db *DB) lockRow(ctx context.Context, query string, id string) error {
	if !db.inWriteTx(ctx) {
		return errLockOutsideWrite
	}
	if db.fl.forUpdate == "" {
		return nil
	}
	var ids []string
	return translate(db.wr(ctx).Raw(query+db.fl.forUpdate, id).Scan(&ids).Error, "lock")
}

// LockOwnedApps locks the owner rows (app_owners) of every app the user
// owns, the user's own and every other owner's, in one order, until the
// write transaction in ctx ends (PostgreSQL SELECT … FOR UPDATE). The
// offboarding of a user takes it first, before the user's change, so
// that its "no other active owner" read (SoleOwnedApps, CoOwnedApps) and
// any other change of those apps' owners (a removal or a hand-over, which
// lock the same rows through AppOwners, or another owner's offboarding)
// run one after the other: none acts on the other's stale view.
func (db *DB) LockOwnedApps(ctx context.Context, userID string) error {
	if !db.inWriteTx(ctx) {
		return errLockOutsideWrite
	}
	if db.fl.forUpdate == "" {
		return nil
	}
	var locked []struct{ ClientID, UserID string }
	return translate(db.wr(ctx).Raw(`SELECT client_id, user_id FROM app_owners
WHERE client_id IN (SELECT client_id FROM app_owners WHERE user_id = ?) ORDER BY client_id, user_id`+db.fl.forUpdate, userID).Scan(&locked).Error, "lock")
}
