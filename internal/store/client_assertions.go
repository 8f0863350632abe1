package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

type clientAssertionRow struct {
	ClientID  string    `gorm:"column:client_id;primaryKey"`
	JTIHash   string    `gorm:"column:jti_hash;primaryKey"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
}

func (clientAssertionRow) TableName() string { return "client_assertion_jtis" }

// UseClientAssertion records that the client assertion (private_key_jwt)
// with jti hash jtiHash was accepted, until expires. Returns false when it
// was already used and has not expired (a replay). One row per key: two
// replicas racing with the same jti get one true and one false.
func (db *DB) UseClientAssertion(ctx context.Context, clientID, jtiHash string, expires, now time.Time) (bool, error) {
	fresh := false
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		if err := db.wr(ctx).Where("client_id = ? AND jti_hash = ? AND expires_at <= ?", clientID, jtiHash, utc(now)).
			Delete(&clientAssertionRow{}).Error; err != nil {
			return translate(err, "client assertion")
		}
		res := db.wr(ctx).Clauses(clause.OnConflict{DoNothing: true}).
			Create(&clientAssertionRow{ClientID: clientID, JTIHash: jtiHash, ExpiresAt: utc(expires)})
		if res.Error != nil {
			return translate(res.Error, "client assertion")
		}
		fresh = res.RowsAffected == 1
		return nil
	})
	return fresh, err
}

// PruneClientAssertions deletes the jtis of client assertions that expired
// before before; returns how many.
func (db *DB) PruneClientAssertions(ctx context.Context, before time.Time) (int64, error) {
	res := db.wr(ctx).Where("expires_at < ?", utc(before)).Delete(&clientAssertionRow{})
	return res.RowsAffected, translate(res.Error, "client assertions")
}
