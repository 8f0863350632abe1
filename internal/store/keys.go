package store

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type signingKeyRow struct {
	ID         string `gorm:"column:id;primaryKey"`
	Alg        string
	PrivateKey []byte
	CreatedAt  time.Time
}

func (signingKeyRow) TableName() string { return "signing_keys" }

// SigningKeys returns every signing key, newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]domain.SigningKey, error) {
	if tx, ok := ctx.Value(txKey{}).(*txState); ok && tx.write {
		// LoadKeys reads, then creates the first key when there is none:
		// replicas starting together must agree on one key.
		if err := db.lock(ctx, "signing_keys"); err != nil {
			return nil, translate(err, "signing keys")
		}
	}
	var rows []signingKeyRow
	if err := db.rd(ctx).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, translate(err, "signing keys")
	}
	out := make([]domain.SigningKey, len(rows))
	for i, r := range rows {
		out[i] = domain.SigningKey{ID: r.ID, Alg: r.Alg, PrivateKey: r.PrivateKey, CreatedAt: utc(r.CreatedAt)}
	}
	return out, nil
}

// CreateSigningKey inserts k.
func (db *DB) CreateSigningKey(ctx context.Context, k domain.SigningKey) error {
	row := signingKeyRow{ID: k.ID, Alg: k.Alg, PrivateKey: k.PrivateKey, CreatedAt: utc(k.CreatedAt)}
	return translate(db.wr(ctx).Create(&row).Error, "signing key")
}

// UpdateSigningKey replaces the stored private key of id (sealing a legacy
// plain key). Errors: NotFound.
func (db *DB) UpdateSigningKey(ctx context.Context, id string, privateKey []byte) error {
	res := db.wr(ctx).Model(&signingKeyRow{}).Where("id = ?", id).Update("private_key", privateKey)
	if res.Error != nil {
		return translate(res.Error, "signing key")
	}
	if res.RowsAffected == 0 {
		return apperr.Errorf(apperr.NotFound, "signing key %s not found", id)
	}
	return nil
}
