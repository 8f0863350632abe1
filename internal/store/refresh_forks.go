package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// Forks of a refresh chain (RFC 9700 §4.14.2). A rotated refresh token
// replayed inside the grace window gets another successor: a fork, a
// sibling of the successor its first rotation minted. Siblings are marked
// forked; exactly one of them may be rotated (ClaimFork records it on the
// parent as next_used_id), and once one was, presenting any other is
// reuse. A parent mints at most a capped number of forks. Every statement
// is a conditional UPDATE on one row, so concurrent callers on any number
// of replicas are decided by the row lock: the parent's row for the claim
// and the fork count, the successor's row between its own rotation and
// being marked forked.

// ForkRefreshToken decides whether the rotated token parent may mint one
// more successor (a grace replay), counting it when allowed: not once a
// successor of parent was rotated, and at most maxForks times. Every
// existing unrotated successor of parent is marked forked, so from now on
// only one of the siblings can be rotated. Run it inside the token
// endpoint's write transaction.
func (db *DB) ForkRefreshToken(ctx context.Context, parent domain.RefreshToken, maxForks int) (domain.ForkOutcome, error) {
	n, err := db.execHot(ctx, "refresh token", `UPDATE refresh_tokens SET forks = forks + 1
WHERE id = ? AND forks < ? AND next_used_id IS NULL`, parent.ID, maxForks)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		var next sql.NullString
		if err := db.sqlConn(ctx, true).QueryRowContext(ctx, db.sqlText(`SELECT next_used_id FROM refresh_tokens WHERE id = ?`), parent.ID).
			Scan(&next); err != nil {
			return 0, notFound(err, "refresh token")
		}
		if next.Valid {
			return domain.ForkSuccessorUsed, nil
		}
		return domain.ForkCapReached, nil
	}
	// The first successor (minted unforked) becomes a sibling; one that
	// was rotated already makes this replay reuse.
	if _, err := db.execHot(ctx, "refresh token", `UPDATE refresh_tokens SET forked = TRUE
WHERE authorization_id = ? AND parent_id = ? AND NOT forked AND used_at IS NULL`, parent.AuthorizationID, parent.ID); err != nil {
		return 0, err
	}
	var used int
	if err := db.sqlConn(ctx, true).QueryRowContext(ctx, db.sqlText(`SELECT COUNT(*) FROM refresh_tokens
WHERE authorization_id = ? AND parent_id = ? AND used_at IS NOT NULL`), parent.AuthorizationID, parent.ID).Scan(&used); err != nil {
		return 0, notFound(err, "refresh token")
	}
	if used > 0 {
		return domain.ForkSuccessorUsed, nil
	}
	return domain.ForkAllowed, nil
}

// ClaimFork records the forked token id as the one successor of its
// parent that may be rotated, and reports whether it is (true also when
// it claimed before); false: a sibling was rotated first.
func (db *DB) ClaimFork(ctx context.Context, parentID, id string) (bool, error) {
	n, err := db.execHot(ctx, "refresh token", `UPDATE refresh_tokens SET next_used_id = ?
WHERE id = ? AND (next_used_id IS NULL OR next_used_id = ?)`, id, parentID, id)
	return n == 1, err
}

// MarkForkUsed sets used_at on an unused, unrevoked forked refresh token
// (after ClaimFork) and reports whether this call did it. Unused and
// unrevoked is written as in rotateSQL, so that PostgreSQL probes the
// primary key.
func (db *DB) MarkForkUsed(ctx context.Context, id string, at time.Time) (bool, error) {
	n, err := db.execHot(ctx, "refresh token", `UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND coalesce(used_at, revoked_at) IS NULL AND forked`, utc(at), id)
	return n == 1, err
}
