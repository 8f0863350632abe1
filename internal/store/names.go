package store

import (
	"context"
)

// AppNames returns the name of each app of clientIDs that exists (deleted
// ones too), by client id: one primary-key probe per id, for labelling a
// page of links (at most a page's worth of ids).
func (db *DB) AppNames(ctx context.Context, clientIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(clientIDs))
	if len(clientIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ClientID string
		Name     string
	}
	if err := db.rd(ctx).Raw(`SELECT client_id, name FROM apps WHERE client_id IN ?`, clientIDs).Scan(&rows).Error; err != nil {
		return nil, translate(err, "apps")
	}
	for _, r := range rows {
		out[r.ClientID] = r.Name
	}
	return out, nil
}

// UserNames returns the username of each user of ids that exists, by id,
// with " (deleted)" appended for a deleted user: one primary-key probe per
// id, for labelling a page of links.
func (db *DB) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID       string
		Username string
		Deleted  bool
	}
	if err := db.rd(ctx).Raw(`SELECT id, username, deleted_at IS NOT NULL AS deleted FROM users WHERE id IN ?`, ids).Scan(&rows).Error; err != nil {
		return nil, translate(err, "users")
	}
	for _, r := range rows {
		out[r.ID] = r.Username
		if r.Deleted {
			out[r.ID] += " (deleted)"
		}
	}
	return out, nil
}
