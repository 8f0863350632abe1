package store

import (
	"context"
	"strings"
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
	CodeChallenge   string `gorm:"column:code_challenge"`
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
	Flow            string
	Nonce           string
	AuthTime        *time.Time `gorm:"column:auth_time"`
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
	AuthTime        *time.Time `gorm:"column:auth_time"`
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

// CreateCode inserts an authorization code (its hash only).
func (db *DB) CreateCode(ctx context.Context, c domain.AuthCode) error {
	row := codeRow{ID: c.ID, Hash: c.Hash, AuthorizationID: c.AuthorizationID, ClientID: c.ClientID,
		UserID: c.UserID, SecretID: c.SecretID, Scopes: joinScopes(c.Scopes), RedirectURI: c.RedirectURI, CodeChallenge: c.CodeChallenge,
		CreatedAt: utc(c.CreatedAt), ExpiresAt: utc(c.ExpiresAt), Flow: c.Flow, Nonce: c.Nonce, AuthTime: utcPtr(c.AuthTime)}
	return translate(db.wr(ctx).Create(&row).Error, "authorization code")
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
		if strings.HasPrefix(familyID, "cc-") { // an app's own grant (client_credentials)
			if err := db.wr(ctx).Model(&clientGrantRow{}).Where("id = ? AND revoked_at IS NULL", familyID).
				Update("revoked_at", utc(at)).Error; err != nil {
				return translate(err, "client credentials grant")
			}
		}
		return db.AddInvalidation(ctx, domain.KindFamily, familyID, at)
	})
}
