package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The scope inventory's personal access tokens come from an aggregate, not
// from the tokens (migration 00025): pat_scope_sets counts, per distinct
// scope set (pats.scopes as stored), the tokens that are unrevoked, of a
// user neither disabled nor deleted, and expire after the watermark
// (pat_scope_watermark.expires_after); pats.counted marks exactly those
// tokens. Every store method that changes one of the three (CreatePAT,
// UpdatePAT, RevokePATs, UpdateUser, SweepPATScopeSets, Seed) moves the
// mark and the count in its own transaction, so PATScopeCombos costs
// O(scope sets) plus the few tokens that expired since the last sweep.
//
// Each move flips pats.counted with an UPDATE guarded by its old value
// (counted tokens are uncounted once, whoever gets there first: the row
// lock orders two transactions, and the second finds nothing to flip).
// What may set the mark reads the watermark and the token's owner FOR
// SHARE (PostgreSQL), so that a sweep or a disable waits for it, or it
// for them, and none acts on the other's stale view.

// patWatermark returns pat_scope_watermark.expires_after; inside a write
// transaction it holds a share lock on it (PostgreSQL), so a sweep waits
// for the writer's commit.
func (db *DB) patWatermark(ctx context.Context) (time.Time, error) {
	q, g := `SELECT expires_after FROM pat_scope_watermark WHERE id = 1`, db.rd(ctx)
	if db.inWriteTx(ctx) {
		q, g = q+db.fl.forShare, db.wr(ctx)
	}
	var row struct{ ExpiresAfter time.Time }
	if err := g.Raw(q).Scan(&row).Error; err != nil {
		return time.Time{}, translate(err, "personal access token watermark")
	}
	return utc(row.ExpiresAfter), nil
}

// patOwnerActive reports whether the user is neither disabled nor
// deleted, holding a share lock on the user's row (PostgreSQL) until the
// write transaction ends, so that a concurrent disable (UpdateUser, which
// locks the row for update) is ordered before or after the caller.
func (db *DB) patOwnerActive(ctx context.Context, userID string) (bool, error) {
	var rows []struct {
		DisabledAt *time.Time
		DeletedAt  *time.Time
	}
	err := db.wr(ctx).Raw(`SELECT disabled_at, deleted_at FROM users WHERE id = ?`+db.fl.forShare, userID).Scan(&rows).Error
	if err != nil {
		return false, translate(err, "user")
	}
	return len(rows) == 1 && rows[0].DisabledAt == nil && rows[0].DeletedAt == nil, nil
}

// markPATs sets pats.counted to counted on the tokens that match where
// (conditions on pats' own columns, no subquery: PostgreSQL checks them
// again on the row a concurrent writer left) and are not marked so yet, and moves pat_scope_sets by one
// per token flipped (up when counted, down otherwise). Call it in a write
// transaction.
func (db *DB) markPATs(ctx context.Context, counted bool, where string, args ...any) error {
	to, from := "TRUE", "FALSE"
	if !counted {
		to, from = from, to
	}
	rows, err := db.wr(ctx).Raw(`UPDATE pats SET counted = `+to+` WHERE counted = `+from+` AND `+where+` RETURNING scopes`, args...).Rows()
	if err != nil {
		return translate(err, "personal access tokens")
	}
	moved := map[string]int64{}
	for rows.Next() {
		var set string
		if err := rows.Scan(&set); err != nil {
			rows.Close()
			return translate(err, "personal access tokens")
		}
		moved[set]++
	}
	if err := rows.Close(); err != nil {
		return translate(err, "personal access tokens")
	}
	if err := rows.Err(); err != nil {
		return translate(err, "personal access tokens")
	}
	// In one order, so that two writers moving the same sets on
	// PostgreSQL wait for each other instead of deadlocking.
	for _, set := range slices.Sorted(func(yield func(string) bool) {
		for s := range moved {
			if !yield(s) {
				return
			}
		}
	}) {
		n := moved[set]
		if !counted {
			n = -n
		}
		if err := db.bumpPATSet(ctx, set, n); err != nil {
			return err
		}
	}
	return nil
}

// bumpPATSet moves pat_scope_sets' count of set by delta, creating the row
// at its first token and removing it at zero.
func (db *DB) bumpPATSet(ctx context.Context, set string, delta int64) error {
	w := db.wr(ctx)
	if err := w.Exec(`INSERT INTO pat_scope_sets (scopes, tokens) VALUES (?, ?)
ON CONFLICT (scopes) DO UPDATE SET tokens = pat_scope_sets.tokens + excluded.tokens`, set, delta).Error; err != nil {
		return translate(err, "personal access token scope sets")
	}
	if delta < 0 {
		return translate(w.Exec(`DELETE FROM pat_scope_sets WHERE scopes = ? AND tokens <= 0`, set).Error, "personal access token scope sets")
	}
	return nil
}

// countPAT marks the token id counted when it should be (unrevoked, of an
// active user, expiring after the watermark), after a write that may have
// made it so. Call it in a write transaction.
func (db *DB) countPAT(ctx context.Context, id, userID string) error {
	w, err := db.patWatermark(ctx)
	if err != nil {
		return err
	}
	active, err := db.patOwnerActive(ctx, userID)
	if err != nil || !active {
		return err
	}
	return db.markPATs(ctx, true, `id = ? AND revoked_at IS NULL AND expires_at > ?`, id, utc(w))
}

// markUserPATs moves the user's tokens into (active) or out of the
// aggregate after the user was enabled, or disabled or deleted. Call it
// in the write transaction that changed the user's row.
func (db *DB) markUserPATs(ctx context.Context, userID string, active bool) error {
	if !active {
		return db.markPATs(ctx, false, `user_id = ?`, userID)
	}
	w, err := db.patWatermark(ctx)
	if err != nil {
		return err
	}
	return db.markPATs(ctx, true, `user_id = ? AND revoked_at IS NULL AND expires_at > ?`, userID, utc(w))
}

// SweepPATScopeSets moves the watermark of pat_scope_sets forward to now
// and takes out the tokens that expired up to it (a range of
// pats_live_by_expiry), so that PATScopeCombos subtracts only those that
// expired since. A watermark already at or after now stays. One write
// transaction; the server runs it hourly.
func (db *DB) SweepPATScopeSets(ctx context.Context, now time.Time) error {
	now = utc(now)
	return db.WriteTx(ctx, func(ctx context.Context) error {
		var row struct{ ExpiresAfter time.Time }
		if err := db.wr(ctx).Raw(`SELECT expires_after FROM pat_scope_watermark WHERE id = 1` + db.fl.forUpdate).Scan(&row).Error; err != nil {
			return translate(err, "personal access token watermark")
		}
		old := utc(row.ExpiresAfter)
		if !now.After(old) {
			return nil
		}
		if err := db.wr(ctx).Exec(`UPDATE pat_scope_watermark SET expires_after = ? WHERE id = 1`, now).Error; err != nil {
			return translate(err, "personal access token watermark")
		}
		return db.markPATs(ctx, false, `revoked_at IS NULL AND expires_at > ? AND expires_at <= ?`, old, now)
	})
}

// patScopeSetsRebuild are the statements that compute pat_scope_sets and
// pats.counted from scratch with the watermark at their one placeholder
// (the bulk seed; migration 00025 does the same).
var patScopeSetsRebuild = []string{
	`DELETE FROM pat_scope_sets`,
	`UPDATE pat_scope_watermark SET expires_after = ? WHERE id = 1`,
	`UPDATE pats SET counted = FALSE WHERE counted`,
	`UPDATE pats SET counted = TRUE WHERE revoked_at IS NULL
  AND expires_at > (SELECT expires_after FROM pat_scope_watermark WHERE id = 1)
  AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL AND deleted_at IS NULL)`,
	`INSERT INTO pat_scope_sets (scopes, tokens) SELECT scopes, COUNT(*) FROM pats WHERE counted GROUP BY scopes`,
}

// PATScopeCombos counts the live personal access tokens (unrevoked,
// unexpired at now, of active users) per distinct scope set, as stored:
// pat_scope_sets (one row per set), less the counted tokens that expired
// between the watermark and now, or plus the live ones expiring between
// now and a watermark ahead of now (a replica's clock behind the
// sweeper's), each a range of pats_live_by_expiry. One read transaction.
func (db *DB) PATScopeCombos(ctx context.Context, now time.Time) (map[string]int, error) {
	now = utc(now)
	out := map[string]int{}
	err := db.ReadTx(ctx, func(ctx context.Context) error {
		w, err := db.patWatermark(ctx)
		if err != nil {
			return err
		}
		if err := db.readPATSets(ctx, out); err != nil {
			return err
		}
		switch {
		case now.After(w):
			err = db.scanSetCounts(ctx, `SELECT p.scopes, COUNT(*) FROM pats p
WHERE p.revoked_at IS NULL AND p.expires_at > ? AND p.expires_at <= ? AND p.counted GROUP BY p.scopes`, out, -1, w, now)
		case now.Before(w):
			err = db.scanSetCounts(ctx, `SELECT p.scopes, COUNT(*) FROM pats p
WHERE p.revoked_at IS NULL AND p.expires_at > ? AND p.expires_at <= ?
  AND p.user_id IN (SELECT id FROM users WHERE disabled_at IS NULL AND deleted_at IS NULL) GROUP BY p.scopes`, out, 1, now, w)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for set, n := range out {
		if n <= 0 {
			delete(out, set)
		}
	}
	return out, nil
}

// readPATSets adds pat_scope_sets to out, read as one text value
// ("set<TAB>count" lines) joined by the database: one row instead of one
// per set (10,000 at bench scale, each a step of the driver; SQLite spent
// 13 ms a page stepping and scanning them one by one).
func (db *DB) readPATSets(ctx context.Context, out map[string]int) error {
	var all *string
	// Tab and newline, which no scope token holds (RFC 6749 §3.3), bound
	// as parameters.
	q := `SELECT ` + fmt.Sprintf(db.fl.stringAgg, `scopes || CAST(? AS TEXT) || CAST(tokens AS TEXT)`, `CAST(? AS TEXT)`) + ` FROM pat_scope_sets`
	if err := db.rd(ctx).Raw(q, "\t", "\n").Scan(&all).Error; err != nil {
		return translate(err, "personal access token scope sets")
	}
	if all == nil {
		return nil
	}
	for line := range strings.SplitSeq(*all, "\n") {
		set, n, ok := strings.Cut(line, "\t")
		k, err := strconv.Atoi(n)
		if !ok || err != nil {
			return fmt.Errorf("personal access token scope sets: bad row %q", line)
		}
		out[set] += k
	}
	return nil
}

// scanSetCounts adds sign × the count of each (scope set, count) row of q
// to out. Scanned row by row (thousands of sets in a big tenant): no
// reflection per row.
func (db *DB) scanSetCounts(ctx context.Context, q string, out map[string]int, sign int, args ...any) error {
	rows, err := db.rd(ctx).Raw(q, args...).Rows()
	if err != nil {
		return translate(err, "personal access tokens")
	}
	defer rows.Close()
	for rows.Next() {
		var set string
		var n int
		if err := rows.Scan(&set, &n); err != nil {
			return translate(err, "personal access tokens")
		}
		out[set] += sign * n
	}
	return translate(rows.Err(), "personal access tokens")
}
