package store

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type codeRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	Hash            []byte
	AuthorizationID string `gorm:"column:authorization_id"`
	ClientID        string `gorm:"column:client_id"`
	UserID          string `gorm:"column:user_id"`
	SecretID        string `gorm:"column:secret_id"`
	Scopes          string
	RedirectURI     string `gorm:"column:redirect_uri"`
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
}

func (codeRow) TableName() string { return "authorization_codes" }

type refreshTokenRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	Hash            []byte
	AuthorizationID string `gorm:"column:authorization_id"`
	FamilyID        string `gorm:"column:family_id"`
	ClientID        string `gorm:"column:client_id"`
	UserID          string `gorm:"column:user_id"`
	SecretID        string `gorm:"column:secret_id"`
	Scopes          string
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
	RevokedAt       *time.Time
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

// CreateCode inserts an authorization code (its hash only).
func (db *DB) CreateCode(ctx context.Context, c domain.AuthCode) error {
	row := codeRow{ID: c.ID, Hash: c.Hash, AuthorizationID: c.AuthorizationID, ClientID: c.ClientID,
		UserID: c.UserID, SecretID: c.SecretID, Scopes: joinScopes(c.Scopes), RedirectURI: c.RedirectURI,
		CreatedAt: utc(c.CreatedAt), ExpiresAt: utc(c.ExpiresAt)}
	return translate(db.wr(ctx).Create(&row).Error, "authorization code")
}

// CodeByHash returns the code whose SHA-256 hash is hash. Errors: NotFound.
func (db *DB) CodeByHash(ctx context.Context, hash []byte) (domain.AuthCode, error) {
	var r codeRow
	err := db.rd(ctx).Where("hash = ?", hash).Take(&r).Error
	return domain.AuthCode{ID: r.ID, Hash: r.Hash, AuthorizationID: r.AuthorizationID, ClientID: r.ClientID,
		UserID: r.UserID, SecretID: r.SecretID, Scopes: splitScopes(r.Scopes), RedirectURI: r.RedirectURI,
		CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt), UsedAt: utcPtr(r.UsedAt)}, translate(err, "authorization code")
}

// MarkCodeUsed sets used_at on an unused code and reports whether this call
// did it (false: it was already used — the caller lost a race or sees a
// replay).
func (db *DB) MarkCodeUsed(ctx context.Context, id string, at time.Time) (bool, error) {
	res := db.wr(ctx).Model(&codeRow{}).Where("id = ? AND used_at IS NULL", id).Update("used_at", utc(at))
	return res.RowsAffected == 1, translate(res.Error, "authorization code")
}

// CreateRefreshToken inserts a refresh token (its hash only).
func (db *DB) CreateRefreshToken(ctx context.Context, t domain.RefreshToken) error {
	row := refreshTokenRow{ID: t.ID, Hash: t.Hash, AuthorizationID: t.AuthorizationID, FamilyID: t.FamilyID,
		ClientID: t.ClientID, UserID: t.UserID, SecretID: t.SecretID, Scopes: joinScopes(t.Scopes),
		CreatedAt: utc(t.CreatedAt), ExpiresAt: utc(t.ExpiresAt)}
	return translate(db.wr(ctx).Create(&row).Error, "refresh token")
}

// RefreshTokenByHash returns the refresh token whose SHA-256 hash is hash.
// Errors: NotFound.
func (db *DB) RefreshTokenByHash(ctx context.Context, hash []byte) (domain.RefreshToken, error) {
	var r refreshTokenRow
	err := db.rd(ctx).Where("hash = ?", hash).Take(&r).Error
	return domain.RefreshToken{ID: r.ID, Hash: r.Hash, AuthorizationID: r.AuthorizationID, FamilyID: r.FamilyID,
		ClientID: r.ClientID, UserID: r.UserID, SecretID: r.SecretID, Scopes: splitScopes(r.Scopes),
		CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt), UsedAt: utcPtr(r.UsedAt),
		RevokedAt: utcPtr(r.RevokedAt)}, translate(err, "refresh token")
}

// MarkRefreshTokenUsed sets used_at on an unused, unrevoked refresh token
// and reports whether this call did it: of concurrent refreshes with one
// token exactly one gets true.
func (db *DB) MarkRefreshTokenUsed(ctx context.Context, id string, at time.Time) (bool, error) {
	res := db.wr(ctx).Model(&refreshTokenRow{}).Where("id = ? AND used_at IS NULL AND revoked_at IS NULL", id).
		Update("used_at", utc(at))
	return res.RowsAffected == 1, translate(res.Error, "refresh token")
}

// RevokeFamily revokes every refresh token of the chain that began with
// the authorization code familyID and appends a "family" invalidation so
// the chain's access tokens die on the next request (RFC 6749 §4.1.2:
// tokens issued from a reused code).
func (db *DB) RevokeFamily(ctx context.Context, familyID string, at time.Time) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		if err := db.wr(ctx).Model(&refreshTokenRow{}).Where("family_id = ? AND revoked_at IS NULL", familyID).
			Update("revoked_at", utc(at)).Error; err != nil {
			return translate(err, "refresh tokens")
		}
		return db.AddInvalidation(ctx, domain.KindFamily, familyID, at)
	})
}

// TouchSecret records one use of a client secret at the token endpoint.
func (db *DB) TouchSecret(ctx context.Context, id string, at time.Time) error {
	err := db.wr(ctx).Exec(`UPDATE client_secrets SET last_used_at = ?, use_count = use_count + 1 WHERE id = ?`, utc(at), id).Error
	return translate(err, "client secret")
}
