package store

import (
	"context"
	"database/sql"
	"time"
)

// Failed sign-ins (and wrong current passwords) per key, shared by the
// replicas of one PostgreSQL database: limit.SharedFailures keeps its
// counts here. Keys are SHA-256 hashes of the limiter key.

// AddFailure records one failure of key at at and returns wait(count)
// (limit.FailureStore). One write transaction: the row is created if
// missing, then locked (PostgreSQL SELECT … FOR UPDATE), so concurrent
// failures on several replicas each count once.
func (db *DB) AddFailure(ctx context.Context, key []byte, at time.Time, window time.Duration, wait func(count int) time.Duration) (time.Duration, error) {
	at = utc(at)
	var d time.Duration
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		c := db.sqlConn(ctx, true)
		if _, err := c.ExecContext(ctx, db.sqlText(`INSERT INTO signin_failures (key_hash, first_at, last_at, until_at, count)
VALUES (?, ?, ?, ?, 0) ON CONFLICT (key_hash) DO NOTHING`), key, at, at, at); err != nil {
			return translate(err, "sign-in failures")
		}
		var first, until time.Time
		var count int
		if err := c.QueryRowContext(ctx, db.sqlText(`SELECT first_at, until_at, count FROM signin_failures WHERE key_hash = ?`+db.fl.forUpdate), key).
			Scan(&first, &until, &count); err != nil {
			return translate(err, "sign-in failures")
		}
		if at.Sub(first) >= window && !at.Before(until) {
			first, count = at, 0
		}
		count++
		d = wait(count)
		if d > 0 {
			until = at.Add(d)
		}
		_, err := c.ExecContext(ctx, db.sqlText(`UPDATE signin_failures SET first_at = ?, last_at = ?, until_at = ?, count = ? WHERE key_hash = ?`),
			utc(first), at, utc(until), count, key)
		return translate(err, "sign-in failures")
	})
	return d, err
}

// FailureUntil returns until when key waits; zero when it has no row
// (limit.FailureStore).
func (db *DB) FailureUntil(ctx context.Context, key []byte) (time.Time, error) {
	var until time.Time
	err := db.sqlConn(ctx, false).QueryRowContext(ctx, db.sqlText(`SELECT until_at FROM signin_failures WHERE key_hash = ?`), key).Scan(&until)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	return utc(until), translate(err, "sign-in failures")
}

// ResetFailures forgets key (limit.FailureStore).
func (db *DB) ResetFailures(ctx context.Context, key []byte) error {
	_, err := db.execHot(ctx, "sign-in failures", `DELETE FROM signin_failures WHERE key_hash = ?`, key)
	return err
}

// PruneFailures deletes the rows whose window began before windowStart
// and whose wait is over (limit.FailureStore).
func (db *DB) PruneFailures(ctx context.Context, windowStart, now time.Time) (int64, error) {
	return db.execHot(ctx, "sign-in failures", `DELETE FROM signin_failures WHERE first_at < ? AND until_at < ?`, utc(windowStart), utc(now))
}
