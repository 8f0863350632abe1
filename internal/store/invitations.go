package store

import (
	"context"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// Invitations to co-own an app (app_owner_invitations, migration 00013).

type invitationRow struct {
	ID        string
	ClientID  string
	AppName   string
	Username  string
	InvitedBy string
	Inviter   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (r invitationRow) domain() domain.OwnerInvitation {
	return domain.OwnerInvitation{ID: r.ID, ClientID: r.ClientID, AppName: r.AppName, Username: r.Username, InvitedBy: r.InvitedBy,
		InvitedByName: r.Inviter, CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt)}
}

const invitationSelect = `SELECT i.id, i.client_id, a.name AS app_name, i.username, i.invited_by, u.username AS inviter, i.created_at, i.expires_at
FROM app_owner_invitations i JOIN apps a ON a.client_id = i.client_id JOIN users u ON u.id = i.invited_by
WHERE a.deleted_at IS NULL AND i.expires_at > ?`

// PutInvitation stores inv, replacing an invitation of the same app to
// the same username (case-insensitively): a repeated invitation starts its
// 14 days again. Expired invitations of the app are dropped first.
func (db *DB) PutInvitation(ctx context.Context, inv domain.OwnerInvitation) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		if err := db.wr(ctx).Exec(`DELETE FROM app_owner_invitations WHERE client_id = ? AND expires_at <= ?`, inv.ClientID, utc(inv.CreatedAt)).Error; err != nil {
			return translate(err, "invitation")
		}
		return translate(db.wr(ctx).Exec(`INSERT INTO app_owner_invitations (id, client_id, username, username_key, invited_by, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (client_id, username_key) DO UPDATE SET id = excluded.id, username = excluded.username, invited_by = excluded.invited_by,
created_at = excluded.created_at, expires_at = excluded.expires_at`,
			inv.ID, inv.ClientID, inv.Username, strings.ToLower(inv.Username), inv.InvitedBy, utc(inv.CreatedAt), utc(inv.ExpiresAt)).Error, "invitation")
	})
}

// AppInvitations returns the app's invitations unexpired at now, oldest
// first.
func (db *DB) AppInvitations(ctx context.Context, clientID string, now time.Time) ([]domain.OwnerInvitation, error) {
	return db.invitations(ctx, invitationSelect+` AND i.client_id = ? ORDER BY i.created_at, i.id`, utc(now), clientID)
}

// UserInvitations returns the invitations to the username (matched
// case-insensitively) unexpired at now, oldest first.
func (db *DB) UserInvitations(ctx context.Context, username string, now time.Time) ([]domain.OwnerInvitation, error) {
	return db.invitations(ctx, invitationSelect+` AND i.username_key = ? ORDER BY i.created_at, i.id`, utc(now), strings.ToLower(username))
}

// InvitationByID returns the invitation if it is unexpired at now and its
// app not deleted. Errors: NotFound.
func (db *DB) InvitationByID(ctx context.Context, id string, now time.Time) (domain.OwnerInvitation, error) {
	out, err := db.invitations(ctx, invitationSelect+` AND i.id = ?`, utc(now), id)
	if err != nil {
		return domain.OwnerInvitation{}, err
	}
	if len(out) == 0 {
		return domain.OwnerInvitation{}, apperr.Errorf(apperr.NotFound, "That invitation does not exist or has expired.")
	}
	return out[0], nil
}

// CountAppInvitations returns how many invitations of the app are
// unexpired at now.
func (db *DB) CountAppInvitations(ctx context.Context, clientID string, now time.Time) (int64, error) {
	var n int64
	err := db.rd(ctx).Raw(`SELECT COUNT(*) FROM app_owner_invitations WHERE client_id = ? AND expires_at > ?`, clientID, utc(now)).Scan(&n).Error
	return n, translate(err, "invitations")
}

// DeleteInvitation drops the invitation and reports whether it existed.
func (db *DB) DeleteInvitation(ctx context.Context, id string) (bool, error) {
	res := db.wr(ctx).Exec(`DELETE FROM app_owner_invitations WHERE id = ?`, id)
	return res.RowsAffected > 0, translate(res.Error, "invitation")
}

func (db *DB) invitations(ctx context.Context, q string, args ...any) ([]domain.OwnerInvitation, error) {
	var rows []invitationRow
	if err := db.rd(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "invitations")
	}
	out := make([]domain.OwnerInvitation, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
