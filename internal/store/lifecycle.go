package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// CreateSecret inserts an active secret. Errors: Conflict when the slot
// already holds an active secret.
func (db *DB) CreateSecret(ctx context.Context, s domain.Secret) error {
	row := secretRowOf(s)
	return translate(db.wr(ctx).Create(&row).Error, "the "+s.Slot+" client secret")
}

// RetireSecret retires the active secret in slot and appends a "secret"
// invalidation, so every token minted with it dies on the next request —
// O(1) whatever the number of tokens. Returns the retired secret.
// Errors: NotFound when the slot is empty.
func (db *DB) RetireSecret(ctx context.Context, clientID, slot string, at time.Time) (domain.Secret, error) {
	var out domain.Secret
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		var row secretRow
		err := db.wr(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("client_id = ? AND slot = ? AND retired_at IS NULL", clientID, slot).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.Errorf(apperr.NotFound, "The app has no %s client secret.", slot)
		}
		if err != nil {
			return translate(err, "client secret")
		}
		if err := db.wr(ctx).Model(&secretRow{}).Where("id = ?", row.ID).Update("retired_at", utc(at)).Error; err != nil {
			return translate(err, "client secret")
		}
		out = row.domain()
		out.RetiredAt = &at
		return db.AddInvalidation(ctx, domain.KindSecret, row.ID, at)
	})
	return out, err
}

// MoveSecretSlot moves the active secret in slot from to slot to (the
// alternative becomes primary once the primary is retired).
func (db *DB) MoveSecretSlot(ctx context.Context, clientID, from, to string) error {
	err := db.wr(ctx).Model(&secretRow{}).Where("client_id = ? AND slot = ? AND retired_at IS NULL", clientID, from).
		Update("slot", to).Error
	return translate(err, "client secret")
}

func (db *DB) authorizationQuery(ctx context.Context, f domain.AuthorizationFilter) *gorm.DB {
	q := db.rd(ctx).Table("authorizations z").
		Joins("JOIN users u ON u.id = z.user_id").Joins("JOIN apps a ON a.client_id = z.client_id")
	if f.ID != "" {
		q = q.Where("z.id = ?", f.ID)
	}
	if f.UserID != "" {
		q = q.Where("z.user_id = ?", f.UserID)
	}
	if f.ClientID != "" {
		q = q.Where("z.client_id = ?", f.ClientID)
	}
	if v := strings.TrimSpace(f.AppQuery); v != "" {
		q = q.Where("a.name "+db.fl.like+" ? ESCAPE '\\'", "%"+escapeLike(v)+"%")
	}
	if v := strings.TrimSpace(f.UserQuery); v != "" {
		like := "%" + escapeLike(v) + "%"
		q = q.Where("(u.username "+db.fl.like+" ? ESCAPE '\\' OR u.display_name "+db.fl.like+" ? ESCAPE '\\')", like, like)
	}
	if f.Scope != "" {
		q = q.Where("(' ' || z.scopes || ' ') LIKE ? ESCAPE '\\'", "% "+escapeLike(f.Scope)+" %")
	}
	if f.ActiveOnly {
		q = q.Where("z.revoked_at IS NULL")
	}
	return q
}

// ListAuthorizations returns authorizations matching f, newest grant
// first, with usernames and app names, and the cursor of the next page
// ("" on the last page). Errors: Invalid for a malformed cursor.
func (db *DB) ListAuthorizations(ctx context.Context, f domain.AuthorizationFilter) ([]domain.Authorization, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := db.authorizationQuery(ctx, f)
	if f.After != "" {
		granted, id, err := decodeCursor(f.After)
		if err != nil {
			return nil, "", err
		}
		at, err := time.Parse(time.RFC3339Nano, granted)
		if err != nil {
			return nil, "", apperr.Errorf(apperr.Invalid, "The continuation token is not valid; start from the first page.")
		}
		// The leading <= only gives PostgreSQL an index range start.
		q = q.Where("z.granted_at <= ? AND (z.granted_at < ? OR (z.granted_at = ? AND z.id < ?))", at.UTC(), at.UTC(), at.UTC(), id)
	}
	now := f.Now
	if now.IsZero() {
		now = db.now()
	}
	var rows []authorizationListRow
	err := q.Select("z.*, u.username, u.display_name AS user_display_name, a.name AS app_name, a.company AS app_company, a.app_url").
		Order("z.granted_at DESC, z.id DESC").Limit(limit + 1).Scan(&rows).Error
	if err != nil {
		return nil, "", translate(err, "authorizations")
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1].Authorization
		next = encodeCursor(last.GrantedAt.UTC().Format(time.RFC3339Nano), last.ID)
	}
	out := make([]domain.Authorization, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, db.fillStates(ctx, out, now)
}

// CountRevocationImpact returns the impact of revoking the active
// authorizations matching f (f.ActiveOnly is implied).
func (db *DB) CountRevocationImpact(ctx context.Context, f domain.AuthorizationFilter, now time.Time) (domain.RevocationImpact, error) {
	f.ActiveOnly = true
	var imp domain.RevocationImpact
	err := db.authorizationQuery(ctx, f).Select("COUNT(*) AS authorizations, COUNT(DISTINCT z.user_id) AS users").Scan(&imp).Error
	if err != nil {
		return imp, translate(err, "authorizations")
	}
	err = db.rd(ctx).Table("refresh_tokens r").
		Where("r.authorization_id IN (?)", db.authorizationQuery(ctx, f).Select("z.id")).
		Where("r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > ?", utc(now)).
		Count(&imp.RefreshTokens).Error
	return imp, translate(err, "refresh tokens")
}

// ActiveAuthorizationIDs returns the ids of the active authorizations
// matching f.
func (db *DB) ActiveAuthorizationIDs(ctx context.Context, f domain.AuthorizationFilter) ([]string, error) {
	f.ActiveOnly = true
	var ids []string
	err := db.authorizationQuery(ctx, f).Pluck("z.id", &ids).Error
	return ids, translate(err, "authorizations")
}

// DeleteApp marks the app deleted at at, retires its secrets, and appends
// an "app" invalidation so every token of the app dies on the next
// request. The record stays (for the audit trail); the client id is never
// reused. Errors: NotFound; Conflict when already deleted.
func (db *DB) DeleteApp(ctx context.Context, clientID string, at time.Time) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		res := db.wr(ctx).Model(&appRow{}).Where("client_id = ? AND deleted_at IS NULL", clientID).Update("deleted_at", utc(at))
		if res.Error != nil {
			return translate(res.Error, "app")
		}
		if res.RowsAffected == 0 {
			return apperr.Errorf(apperr.Conflict, "The app is already deleted.")
		}
		if err := db.wr(ctx).Model(&secretRow{}).Where("client_id = ? AND retired_at IS NULL", clientID).
			Update("retired_at", utc(at)).Error; err != nil {
			return translate(err, "client secrets")
		}
		if err := db.syncAppScopes(ctx, clientID, nil); err != nil {
			return err
		}
		return db.AddInvalidation(ctx, domain.KindApp, clientID, at)
	})
}

// Setting returns the value of a setting and whether it is set.
func (db *DB) Setting(ctx context.Context, key string) (string, bool, error) {
	var v []string
	if err := db.rd(ctx).Table("settings").Where("key = ?", key).Limit(1).Pluck("value", &v).Error; err != nil {
		return "", false, translate(err, "setting")
	}
	if len(v) == 0 {
		return "", false, nil
	}
	return v[0], true, nil
}

// SetSetting stores a setting.
func (db *DB) SetSetting(ctx context.Context, key, value string, at time.Time) error {
	return translate(db.wr(ctx).Exec(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, utc(at)).Error, "setting")
}

// LastSecretUse returns, per active authorization of the app, the id of
// the client secret its newest refresh token was minted with: which
// secret each authorization last refreshed with.
func (db *DB) LastSecretUse(ctx context.Context, clientID string) (map[string]string, error) {
	var rows []struct {
		AuthorizationID string
		SecretID        string
	}
	err := db.rd(ctx).Raw(`SELECT r.authorization_id, r.secret_id FROM refresh_tokens r
JOIN authorizations z ON z.id = r.authorization_id AND z.revoked_at IS NULL
WHERE r.client_id = ? AND r.created_at = (SELECT MAX(r2.created_at) FROM refresh_tokens r2 WHERE r2.authorization_id = r.authorization_id)`, clientID).
		Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "refresh tokens")
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.AuthorizationID] = r.SecretID
	}
	return out, nil
}
