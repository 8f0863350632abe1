package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// Pending changes of approved apps (app_pending_changes, migration
// 00013): one per app, the proposed registration kept as JSON.

type pendingChangeRow struct {
	ClientID     string
	Registration string
	RequestedBy  string
	Username     string
	RequestedAt  time.Time
	Status       string
	ReviewNote   string
}

func (r pendingChangeRow) domain() (domain.PendingChange, error) {
	pc := domain.PendingChange{ClientID: r.ClientID, RequestedBy: r.RequestedBy, RequestedByName: r.Username,
		RequestedAt: utc(r.RequestedAt), Status: r.Status, ReviewNote: r.ReviewNote}
	if err := json.Unmarshal([]byte(r.Registration), &pc.Proposed); err != nil {
		return pc, translate(err, "pending change")
	}
	return pc, nil
}

const pendingChangeSelect = `SELECT c.client_id, c.registration, c.requested_by, u.username, c.requested_at, c.status, c.review_note
FROM app_pending_changes c JOIN apps a ON a.client_id = c.client_id JOIN users u ON u.id = c.requested_by
WHERE a.deleted_at IS NULL`

// PutPendingChange stores c as the app's pending change, replacing the one
// it had (a rejected one included: the new one is pending again).
func (db *DB) PutPendingChange(ctx context.Context, c domain.PendingChange) error {
	reg, err := json.Marshal(c.Proposed)
	if err != nil {
		return translate(err, "pending change")
	}
	return translate(db.wr(ctx).Exec(`INSERT INTO app_pending_changes (client_id, registration, requested_by, requested_at, status, review_note)
VALUES (?, ?, ?, ?, ?, '')
ON CONFLICT (client_id) DO UPDATE SET registration = excluded.registration, requested_by = excluded.requested_by,
requested_at = excluded.requested_at, status = excluded.status, review_note = ''`,
		c.ClientID, string(reg), c.RequestedBy, utc(c.RequestedAt), domain.ChangePending).Error, "pending change")
}

// PendingChangeOf returns the app's pending (or rejected) change.
// Errors: NotFound when it has none, or the app was deleted.
func (db *DB) PendingChangeOf(ctx context.Context, clientID string) (domain.PendingChange, error) {
	var rows []pendingChangeRow
	if err := db.rd(ctx).Raw(pendingChangeSelect+` AND c.client_id = ?`, clientID).Scan(&rows).Error; err != nil {
		return domain.PendingChange{}, translate(err, "pending change")
	}
	if len(rows) == 0 {
		return domain.PendingChange{}, apperr.Errorf(apperr.NotFound, "The app has no change waiting for approval.")
	}
	return rows[0].domain()
}

// DeletePendingChange drops the app's change and reports whether it had one.
func (db *DB) DeletePendingChange(ctx context.Context, clientID string) (bool, error) {
	res := db.wr(ctx).Exec(`DELETE FROM app_pending_changes WHERE client_id = ?`, clientID)
	return res.RowsAffected > 0, translate(res.Error, "pending change")
}

// SetPendingChangeStatus sets the status (domain.ChangePending or
// ChangeRejected) and review note of the app's change. Errors: NotFound.
func (db *DB) SetPendingChangeStatus(ctx context.Context, clientID, status, note string) error {
	res := db.wr(ctx).Exec(`UPDATE app_pending_changes SET status = ?, review_note = ? WHERE client_id = ?`, status, note, clientID)
	if res.Error == nil && res.RowsAffected == 0 {
		return apperr.Errorf(apperr.NotFound, "The app has no change waiting for approval.")
	}
	return translate(res.Error, "pending change")
}

// PendingChanges returns up to limit changes in the status, oldest
// first (the approval queue, from app_pending_changes_queue), and
// whether there are more.
func (db *DB) PendingChanges(ctx context.Context, status string, limit int) ([]domain.PendingChange, bool, error) {
	var rows []pendingChangeRow
	err := db.rd(ctx).Raw(pendingChangeSelect+` AND c.status = ? ORDER BY c.requested_at, c.client_id LIMIT ?`, status, limit+1).Scan(&rows).Error
	if err != nil {
		return nil, false, translate(err, "pending changes")
	}
	more := len(rows) > limit
	rows = rows[:min(len(rows), limit)]
	out := make([]domain.PendingChange, 0, len(rows))
	for _, r := range rows {
		pc, err := r.domain()
		if err != nil {
			return nil, false, err
		}
		out = append(out, pc)
	}
	return out, more, nil
}

// PendingChangeStatuses returns the status of the pending (or rejected)
// change of each of clientIDs that has one, by client id (an app's lists
// and the member's home say a change waits). At most 500 ids are asked
// at once.
func (db *DB) PendingChangeStatuses(ctx context.Context, clientIDs []string) (map[string]string, error) {
	out := map[string]string{}
	for len(clientIDs) > 0 {
		n := min(len(clientIDs), 500)
		var rows []struct{ ClientID, Status string }
		err := db.rd(ctx).Raw(`SELECT client_id, status FROM app_pending_changes WHERE client_id IN ?`, clientIDs[:n]).Scan(&rows).Error
		if err != nil {
			return nil, translate(err, "pending changes")
		}
		for _, r := range rows {
			out[r.ClientID] = r.Status
		}
		clientIDs = clientIDs[n:]
	}
	return out, nil
}

// CountPendingChanges returns how many changes of undeleted apps wait for
// an administrator.
func (db *DB) CountPendingChanges(ctx context.Context) (int64, error) {
	var n int64
	err := db.rd(ctx).Raw(`SELECT COUNT(*) FROM app_pending_changes c JOIN apps a ON a.client_id = c.client_id
WHERE a.deleted_at IS NULL AND c.status = ?`, domain.ChangePending).Scan(&n).Error
	return n, translate(err, "pending changes")
}
