package store

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type userRow struct {
	ID           string `gorm:"column:id;primaryKey"`
	Username     string `gorm:"column:username"`
	DisplayName  string `gorm:"column:display_name"`
	Email        string `gorm:"column:email"`
	Role         string `gorm:"column:role"`
	PasswordHash string `gorm:"column:password_hash"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Revision     int64
}

func (userRow) TableName() string { return "users" }

func (r userRow) domain() domain.User {
	return domain.User{ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, Email: r.Email,
		Role: domain.Role(r.Role), PasswordHash: r.PasswordHash, CreatedAt: utc(r.CreatedAt),
		UpdatedAt: utc(r.UpdatedAt), Revision: r.Revision}
}

// CreateUser inserts u. Errors: Conflict when the username (compared
// case-insensitively) is taken.
func (db *DB) CreateUser(ctx context.Context, u domain.User) error {
	row := userRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
		Role: string(u.Role), PasswordHash: u.PasswordHash, CreatedAt: utc(u.CreatedAt),
		UpdatedAt: utc(u.UpdatedAt), Revision: max(u.Revision, 1)}
	return translate(db.wr(ctx).Create(&row).Error, "user "+u.Username)
}

// UserByUsername returns the user with that username (case-insensitive).
// Errors: NotFound.
func (db *DB) UserByUsername(ctx context.Context, username string) (domain.User, error) {
	var row userRow
	err := db.rd(ctx).Where(db.fl.nocase("username")+" = "+db.fl.nocase("?"), username).Take(&row).Error
	return row.domain(), translate(err, "user")
}

// UserByID returns the user with that GUID. Errors: NotFound.
func (db *DB) UserByID(ctx context.Context, id string) (domain.User, error) {
	var row userRow
	err := db.rd(ctx).Where("id = ?", id).Take(&row).Error
	return row.domain(), translate(err, "user")
}

// CountUsersByRole returns how many users hold role.
func (db *DB) CountUsersByRole(ctx context.Context, role domain.Role) (int64, error) {
	var n int64
	err := db.rd(ctx).Model(&userRow{}).Where("role = ?", string(role)).Count(&n).Error
	return n, translate(err, "users")
}

// ListUsers returns every user, by username, with active authorization
// counts.
func (db *DB) ListUsers(ctx context.Context) ([]domain.UserSummary, error) {
	var rows []struct {
		User                 userRow `gorm:"embedded"`
		ActiveAuthorizations int64
	}
	err := db.rd(ctx).Raw(`SELECT u.*, (SELECT COUNT(*) FROM authorizations z WHERE z.user_id = u.id AND z.revoked_at IS NULL) AS active_authorizations
FROM users u ORDER BY ` + db.fl.nocase("u.username")).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "users")
	}
	out := make([]domain.UserSummary, len(rows))
	for i, r := range rows {
		out[i] = domain.UserSummary{User: r.User.domain(), ActiveAuthorizations: r.ActiveAuthorizations}
	}
	return out, nil
}
