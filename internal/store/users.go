package store

import (
	"cmp"
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
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
	DisabledAt   *time.Time
	DeletedAt    *time.Time
	MustChange   bool `gorm:"column:must_change_password"`
	Source       string
	Subject      string
	LastSigninAt *time.Time `gorm:"column:last_signin_at"`
	LastSyncAt   *time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) domain() domain.User {
	return domain.User{ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, Email: r.Email,
		Role: domain.Role(r.Role), PasswordHash: r.PasswordHash, CreatedAt: utc(r.CreatedAt),
		UpdatedAt: utc(r.UpdatedAt), Revision: r.Revision, DisabledAt: utcPtr(r.DisabledAt),
		DeletedAt: utcPtr(r.DeletedAt), MustChangePassword: r.MustChange,
		Source: cmp.Or(r.Source, domain.SourceLocal), Subject: r.Subject,
		LastSignInAt: utcPtr(r.LastSigninAt), LastSyncAt: utcPtr(r.LastSyncAt)}
}

// CreateUser inserts u. Errors: Conflict when the username (compared
// case-insensitively) is taken.
func (db *DB) CreateUser(ctx context.Context, u domain.User) error {
	row := userRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
		Role: string(u.Role), PasswordHash: u.PasswordHash, CreatedAt: utc(u.CreatedAt),
		UpdatedAt: utc(u.UpdatedAt), Revision: max(u.Revision, 1),
		Source: cmp.Or(u.Source, domain.SourceLocal), Subject: u.Subject, LastSigninAt: utcPtr(u.LastSignInAt), MustChange: u.MustChangePassword}
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
//
// Outside a transaction it reads through a small in-process cache (the
// profile API reads the caller's user on every call; see versionCache): an
// entry is used only while DB.Version has not moved since it was read, so
// a user change committed by this process is seen by the very next call,
// and one committed by another process within PollInterval.
func (db *DB) UserByID(ctx context.Context, id string) (domain.User, error) {
	_, inTx := ctx.Value(txKey{}).(*txState)
	v := db.Version()
	if !inTx {
		if u, ok := db.users.get(id, v); ok {
			return u, nil
		}
	}
	var row userRow
	err := db.rd(ctx).Where("id = ?", id).Take(&row).Error
	if err != nil {
		return domain.User{}, translate(err, "user")
	}
	u := row.domain()
	if !inTx {
		db.users.put(id, u, v)
	}
	return u, nil
}

// CountUsersByRole returns how many users hold role.
func (db *DB) CountUsersByRole(ctx context.Context, role domain.Role) (int64, error) {
	var n int64
	err := db.rd(ctx).Model(&userRow{}).Where("role = ?", string(role)).Count(&n).Error
	return n, translate(err, "users")
}

// ListUsers returns one page of users ordered by username
// (case-insensitive) then id — keyset pagination, no OFFSET — each with
// the number of its authorizations in the true state active. Errors:
// Invalid for a malformed cursor.
func (db *DB) ListUsers(ctx context.Context, f domain.UserFilter) (domain.UserPage, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q := `SELECT u.* FROM users u WHERE 1=1`
	var args []any
	if v := strings.TrimSpace(f.Query); v != "" {
		like, l := "%"+escapeLike(v)+"%", db.fl.like
		q += ` AND (u.username ` + l + ` ? ESCAPE '\' OR u.display_name ` + l + ` ? ESCAPE '\' OR u.email ` + l + ` ? ESCAPE '\')`
		args = append(args, like, like, like)
	}
	if f.After != "" {
		name, id, err := decodeCursor(f.After)
		if err != nil {
			return domain.UserPage{}, err
		}
		n, p := db.fl.nocase("u.username"), db.fl.nocase("?")
		// The leading >= only gives PostgreSQL an index range start.
		q += ` AND ` + n + ` >= ` + p + ` AND (` + n + ` > ` + p + ` OR (` + n + ` = ` + p + ` AND u.id > ?))`
		args = append(args, name, name, name, id)
	}
	q += ` ORDER BY ` + db.fl.nocase("u.username") + `, u.id LIMIT ?`
	args = append(args, limit+1)
	var rows []struct {
		User userRow `gorm:"embedded"`
	}
	if err := db.rd(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return domain.UserPage{}, translate(err, "users")
	}
	var page domain.UserPage
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1].User
		page.Next = encodeCursor(last.Username, last.ID)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.User.ID
	}
	counts, err := db.activeCounts(ctx, "z.user_id", ids, db.now())
	if err != nil {
		return domain.UserPage{}, err
	}
	page.Users = make([]domain.UserSummary, len(rows))
	for i, r := range rows {
		page.Users[i] = domain.UserSummary{User: r.User.domain(), ActiveAuthorizations: counts[r.User.ID]}
	}
	return page, nil
}

// UpdateUser stores u's role, display name, e-mail, password hash,
// must-change flag, disabled and deleted times, bumping its revision and
// updated time to at, in one write transaction. It writes every one of
// those columns: read u in the same write transaction after LockUser,
// or a concurrent change of another column is lost. Disabling or deleting
// takes the user's tokens out of the scope inventory's counts
// (pat_scope_sets), enabling puts them back. Errors: NotFound.
func (db *DB) UpdateUser(ctx context.Context, u domain.User, at time.Time) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		// The row locked first (PostgreSQL), so that a token write that
		// read the user's state FOR SHARE is ordered before or after.
		var before []struct {
			DisabledAt *time.Time
			DeletedAt  *time.Time
		}
		if err := db.wr(ctx).Raw(`SELECT disabled_at, deleted_at FROM users WHERE id = ?`+db.fl.forUpdate, u.ID).Scan(&before).Error; err != nil {
			return translate(err, "user")
		}
		if len(before) == 0 {
			return apperr.Errorf(apperr.NotFound, "user not found")
		}
		res := db.wr(ctx).Model(&userRow{}).Where("id = ?", u.ID).Updates(map[string]any{
			"role": string(u.Role), "display_name": u.DisplayName, "email": u.Email, "password_hash": u.PasswordHash,
			"must_change_password": u.MustChangePassword, "disabled_at": utcPtr(u.DisabledAt), "deleted_at": utcPtr(u.DeletedAt),
			"updated_at": utc(at), "revision": gorm.Expr("revision + 1")})
		if res.Error != nil {
			return translate(res.Error, "user")
		}
		if res.RowsAffected == 0 {
			return apperr.Errorf(apperr.NotFound, "user not found")
		}
		was := before[0].DisabledAt == nil && before[0].DeletedAt == nil
		if is := u.DisabledAt == nil && u.DeletedAt == nil; is != was {
			return db.markUserPATs(ctx, u.ID, is)
		}
		return nil
	})
}

// CountActiveAdmins returns how many admins may sign in (neither disabled
// nor deleted). Inside a write transaction it locks the rows it counts
// until the transaction ends (PostgreSQL SELECT … FOR UPDATE; SQLite's
// writers are serialized already), so that the "last active admin" rule
// holds when two replicas demote two admins at once: the second waits,
// then counts what the first committed.
func (db *DB) CountActiveAdmins(ctx context.Context) (int64, error) {
	if db.inWriteTx(ctx) && db.fl.forUpdate != "" {
		var ids []string
		err := db.wr(ctx).Raw(`SELECT id FROM users WHERE role = ? AND disabled_at IS NULL AND deleted_at IS NULL ORDER BY id`+db.fl.forUpdate,
			string(domain.RoleAdmin)).Scan(&ids).Error
		return int64(len(ids)), translate(err, "users")
	}
	var n int64
	err := db.rd(ctx).Model(&userRow{}).Where("role = ? AND disabled_at IS NULL AND deleted_at IS NULL", string(domain.RoleAdmin)).Count(&n).Error
	return n, translate(err, "users")
}

// RevokeUserRefreshTokens revokes every live refresh token of the user
// and appends a "user" invalidation, so the user's access tokens die on
// the next request (disable, delete).
func (db *DB) RevokeUserRefreshTokens(ctx context.Context, userID string, at time.Time) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		if err := db.wr(ctx).Model(&refreshTokenRow{}).Where("user_id = ? AND revoked_at IS NULL", userID).
			Update("revoked_at", utc(at)).Error; err != nil {
			return translate(err, "refresh tokens")
		}
		if err := db.wr(ctx).Model(&codeRow{}).Where("user_id = ? AND used_at IS NULL", userID).
			Update("expires_at", utc(at)).Error; err != nil {
			return translate(err, "authorization codes")
		}
		return db.AddInvalidation(ctx, domain.KindUser, userID, at)
	})
}
