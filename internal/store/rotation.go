package store

import (
	"context"
	"time"

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
// PostgreSQL the rotations waiting at once go to the database as one
// statement (flavor.coalesce), so a batch costs one round trip instead
// of two per call plus BEGIN and COMMIT. Errors: a storage error, ErrClosed.
func (db *DB) RotateRefreshToken(ctx context.Context, parentID string, next domain.RefreshToken) (bool, error) {
	next.ParentID, next.Forked = parentID, false
	if db.fl.coalesce && !db.inWriteTx(ctx) {
		return db.rotations.do(ctx, db.fl.committers, db.runRotations, rotation{parent: parentID, next: next})
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

// rotateSQL marks every listed parent that is still unused, unrevoked and
// unforked used and inserts its successor, in one statement (so one
// implicit transaction), and returns the successors inserted. RETURNING
// i.id names the input row the UPDATE used, so a parent listed twice gets
// one successor at most.
//
// "Unused and unrevoked" is written coalesce(used_at, revoked_at) IS NULL
// so that it does not match the predicate of the live-token
// partial indexes: on a table without fresh statistics (a new database,
// or one that grew since autovacuum's last ANALYZE) PostgreSQL otherwise
// plans the UPDATE as a walk of a whole live index, every live token and
// every dead entry the rotations left, filtering by id, instead of one
// primary-key probe per parent (the bench's fresh database: a batch read
// hundreds to thousands of index entries, and the database's CPU per
// refresh fell by a third without it).
const rotateSQL = `WITH i AS (
  SELECT * FROM unnest(?::text[], ?::text[], ?::bytea[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
    ?::timestamptz[], ?::timestamptz[], ?::timestamptz[])
  AS i(parent_id, id, hash, authorization_id, family_id, client_id, user_id, secret_id, scopes, created_at, expires_at, auth_time)
), used AS (
  UPDATE refresh_tokens t SET used_at = i.created_at FROM i
  WHERE t.id = i.parent_id AND coalesce(t.used_at, t.revoked_at) IS NULL AND NOT t.forked
  RETURNING i.id
)
INSERT INTO refresh_tokens (id, hash, authorization_id, family_id, client_id, user_id, secret_id, scopes, created_at, expires_at,
  parent_id, forked, auth_time)
SELECT i.id, i.hash, i.authorization_id, i.family_id, i.client_id, i.user_id, i.secret_id, i.scopes, i.created_at, i.expires_at,
  i.parent_id, FALSE, i.auth_time
FROM i JOIN used ON used.id = i.id
RETURNING id`

// rotateOnce runs rotateSQL for batch and returns the successor ids
// inserted.
func (db *DB) rotateOnce(batch []*call[rotation, bool]) (map[string]bool, error) {
	n := len(batch)
	var (
		parents, ids, authzs, families, clients, users, secrets, scopes = make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		hashes                      = make([][]byte, n)
		created, expires, authTimes = make([]time.Time, n), make([]time.Time, n), make([]pgtype.Timestamptz, n)
	)
	for k, c := range batch {
		t := c.in.next
		parents[k], ids[k], hashes[k], authzs[k], families[k] = c.in.parent, t.ID, t.Hash, t.AuthorizationID, t.FamilyID
		clients[k], users[k], secrets[k], scopes[k] = t.ClientID, t.UserID, t.SecretID, joinScopes(t.Scopes)
		created[k], expires[k] = utc(t.CreatedAt), utc(t.ExpiresAt)
		if t.AuthTime != nil {
			authTimes[k] = pgtype.Timestamptz{Time: t.AuthTime.UTC(), Valid: true}
		}
	}
	ctx := context.Background() // the batch is shared: no one caller's ctx cancels it
	rows, err := db.w.Statement.ConnPool.QueryContext(ctx, db.sqlText(rotateSQL),
		parents, ids, hashes, authzs, families, clients, users, secrets, scopes, created, expires, authTimes)
	if err != nil {
		return nil, translate(err, "refresh token")
	}
	defer rows.Close()
	won := make(map[string]bool, n)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, translate(err, "refresh token")
		}
		won[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "refresh token")
	}
	return won, nil
}
