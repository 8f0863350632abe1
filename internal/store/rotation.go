package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// RotateRefreshToken is the refresh grant's write (RFC 6749 §6): it marks
// the unused, unrevoked, unforked refresh token parentID used at
// next.CreatedAt and inserts its successor next, both or neither, and
// reports whether it did. false: parentID was used, revoked or forked
// meanwhile (or is gone), and nothing was written; the caller judges the
// token again (flow_refresh.go). Of concurrent calls with one parentID,
// on any number of replicas, at most one gets true. next.ParentID and
// next.Forked are set from parentID (a fork is rotated by ClaimFork and
// MarkForkUsed instead).
//
// When it returns true the rotation is committed (a successor handed to a
// client survives a crash). Inside a write transaction it joins it.
// Concurrent calls share commits: on SQLite through BatchTx; on
// PostgreSQL the rotations waiting at once go to the database in one
// pipeline, one statement each, ended by one commit (flavor.coalesce),
// so a batch costs one round trip instead of two per call plus BEGIN and
// COMMIT; rotationLoops batches run at once. Errors: a storage error,
// ErrClosed.
func (db *DB) RotateRefreshToken(ctx context.Context, parentID string, next domain.RefreshToken) (bool, error) {
	next.ParentID, next.Forked = parentID, false
	if db.fl.coalesce && !db.inWriteTx(ctx) {
		return db.rotations.do(ctx, rotationLoops, db.runRotations, rotation{parent: parentID, next: next})
	}
	var won bool
	err := db.BatchTx(ctx, func(ctx context.Context) error {
		won = false // fn may run twice (BatchTx)
		ok, err := db.MarkRefreshTokenUsed(ctx, parentID, next.CreatedAt)
		if err != nil || !ok {
			return err
		}
		if err := db.CreateRefreshToken(ctx, next); err != nil {
			return err
		}
		won = true
		return nil
	})
	return won && err == nil, err
}

// rotationLoops is how many batches of rotations run at once on
// PostgreSQL: two, where BatchTx runs the flavor's committers (eight). A
// batch is one round trip, so one batch can be sent while the other
// commits; more batches at once only make each smaller: more commits and
// round trips per refresh, and more open transactions taking the
// key-share lock of the foreign key on the same authorization row (a
// batch takes it once, however many of its rotations share it).
// Measured with BenchmarkRotateRefresh on PostgreSQL 15 (32 callers, one
// authorization, a quiet 2-CPU machine, 20,000 refreshes a run, CPU per
// refresh of the database server): 8 loops 160–175 µs and 136–149 µs of
// wall time an operation; 4 loops 135–162 µs; 2 loops 106–127 µs and
// 104–121 µs an operation; 1 loop 99–131 µs but up to 151 µs an
// operation (one commit's wait holds every rotation).
const rotationLoops = 2

// rotation is one RotateRefreshToken call for PostgreSQL's batches.
type rotation struct {
	parent string
	next   domain.RefreshToken
}

// runRotations runs one batch of rotations (db.rotations) and answers
// each call. Of two calls in the batch with one parent the later is
// answered false (the earlier one decides). A batch the database aborted
// as a deadlock victim runs again, up to maxBatchAttempts times; one that
// failed otherwise runs call by call, so that one bad call does not fail
// the others.
func (db *DB) runRotations(batch []*call[rotation, bool]) {
	send := make([]*call[rotation, bool], 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, c := range batch {
		if seen[c.in.parent] {
			c.answer(false, nil)
			continue
		}
		seen[c.in.parent] = true
		send = append(send, c)
	}
	won, err := db.rotateWithRetry(send)
	if err != nil && len(send) > 1 {
		for _, c := range send {
			w, err := db.rotateWithRetry([]*call[rotation, bool]{c})
			c.answer(w[c.in.next.ID] && err == nil, err)
		}
		return
	}
	for _, c := range send {
		c.answer(won[c.in.next.ID] && err == nil, err)
	}
}

func (db *DB) rotateWithRetry(batch []*call[rotation, bool]) (map[string]bool, error) {
	for attempt := 1; ; attempt++ {
		won, err := db.rotateOnce(batch)
		if err == nil || attempt >= maxBatchAttempts || !db.fl.retryable(err) {
			return won, err
		}
		retryPause(attempt)
	}
}

// rotateSQL marks the parent $1 used at $2 when it is still unused,
// unrevoked and unforked, and then, in the same statement, inserts its
// successor; it returns the successor's id, or no row when the parent was
// not rotatable. A batch sends one per rotation in one pipeline
// (rotateOnce).
//
// One statement per rotation, each probing the primary key, rather than
// one set-based UPDATE … FROM unnest(…) for the batch: PostgreSQL plans a
// prepared statement once for good (its generic plan) and keeps the plan
// until the table's statistics change. A join with an array of unknown
// length planned on a young table (a new database: the bench's, or a
// replica's first minute) became a sequential scan, or a walk of a whole
// live-token partial index when the test read "used_at IS NULL AND
// revoked_at IS NULL", and stayed one as the table grew: each batch read
// every row (or every live token and every dead entry the rotations left
// behind). An equality on the primary key is the cheapest plan at any
// size. "Unused and unrevoked" is written coalesce(used_at, revoked_at) IS
// NULL so that no partial index's predicate matches it
// (TestRotationPlanPostgres).
const rotateSQL = `WITH used AS (
  UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND coalesce(used_at, revoked_at) IS NULL AND NOT forked
  RETURNING id
)
INSERT INTO refresh_tokens (id, hash, authorization_id, family_id, client_id, user_id, secret_id, scopes, created_at, expires_at,
  parent_id, forked, auth_time)
SELECT $3, $4, $5, $6, $7, $8, $9, $10, $2, $11, used.id, FALSE, $12 FROM used
RETURNING id`

// rotateOnce sends rotateSQL for every rotation of batch in one pipeline:
// one round trip, and one implicit transaction (a single Sync ends it),
// so the batch commits once, all or nothing. It returns the successor ids
// inserted.
func (db *DB) rotateOnce(batch []*call[rotation, bool]) (map[string]bool, error) {
	var b pgx.Batch
	for _, c := range batch {
		t := c.in.next
		var authTime pgtype.Timestamptz
		if t.AuthTime != nil {
			authTime = pgtype.Timestamptz{Time: t.AuthTime.UTC(), Valid: true}
		}
		b.Queue(rotateSQL, c.in.parent, utc(t.CreatedAt), t.ID, t.Hash, t.AuthorizationID, t.FamilyID, t.ClientID, t.UserID,
			t.SecretID, joinScopes(t.Scopes), utc(t.ExpiresAt), authTime)
	}
	won := make(map[string]bool, len(batch))
	// The batch is shared: no one caller's ctx cancels it.
	err := pipeline(context.Background(), db.w, "refresh token", &b, func(br pgx.BatchResults) error {
		for range batch {
			var id string
			switch err := br.QueryRow().Scan(&id); {
			case errors.Is(err, pgx.ErrNoRows): // not rotatable
			case err != nil:
				return err
			default:
				won[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return won, nil
}
