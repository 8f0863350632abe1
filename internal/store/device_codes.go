package store

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type deviceCodeRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	DeviceHash      []byte `gorm:"column:device_hash"`
	UserCodeHash    []byte `gorm:"column:user_code_hash"`
	ClientID        string `gorm:"column:client_id"`
	Scopes          string
	Status          string
	UserID          string     `gorm:"column:user_id"`
	AuthorizationID string     `gorm:"column:authorization_id"`
	AuthTime        *time.Time `gorm:"column:auth_time"`
	CreatedAt       time.Time
	ExpiresAt       time.Time
	PolledAt        *time.Time `gorm:"column:polled_at"`
}

func (deviceCodeRow) TableName() string { return "device_codes" }

func (r deviceCodeRow) domain() domain.DeviceCode {
	return domain.DeviceCode{ID: r.ID, DeviceHash: r.DeviceHash, UserCodeHash: r.UserCodeHash, ClientID: r.ClientID,
		Scopes: splitScopes(r.Scopes), Status: r.Status, UserID: r.UserID, AuthorizationID: r.AuthorizationID,
		AuthTime: utcPtr(r.AuthTime), CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt), PolledAt: utcPtr(r.PolledAt)}
}

// CreateDeviceCode inserts a device authorization request (hashes only).
func (db *DB) CreateDeviceCode(ctx context.Context, d domain.DeviceCode) error {
	row := deviceCodeRow{ID: d.ID, DeviceHash: d.DeviceHash, UserCodeHash: d.UserCodeHash, ClientID: d.ClientID,
		Scopes: joinScopes(d.Scopes), Status: domain.DeviceCodePending, CreatedAt: utc(d.CreatedAt), ExpiresAt: utc(d.ExpiresAt)}
	return translate(db.wr(ctx).Create(&row).Error, "device code")
}

// DeviceCodeByDeviceHash returns the device code whose device code hashes
// to hash. Errors: NotFound.
func (db *DB) DeviceCodeByDeviceHash(ctx context.Context, hash []byte) (domain.DeviceCode, error) {
	var row deviceCodeRow
	if err := db.rd(ctx).Where("device_hash = ?", hash).Take(&row).Error; err != nil {
		return domain.DeviceCode{}, translate(err, "device code")
	}
	return row.domain(), nil
}

// DeviceCodeByUserCodeHash returns the device code whose user code hashes
// to hash. Errors: NotFound.
func (db *DB) DeviceCodeByUserCodeHash(ctx context.Context, hash []byte) (domain.DeviceCode, error) {
	var row deviceCodeRow
	if err := db.rd(ctx).Where("user_code_hash = ?", hash).Take(&row).Error; err != nil {
		return domain.DeviceCode{}, translate(err, "device code")
	}
	return row.domain(), nil
}

// DecideDeviceCode moves a pending, unexpired device code to status
// (approved, with the user, authorization and auth_time, or denied) and
// reports whether this call did it.
func (db *DB) DecideDeviceCode(ctx context.Context, id, status, userID, authorizationID string, authTime, at time.Time) (bool, error) {
	res := db.wr(ctx).Model(&deviceCodeRow{}).Where("id = ? AND status = ? AND expires_at > ?", id, domain.DeviceCodePending, utc(at)).
		Updates(map[string]any{"status": status, "user_id": userID, "authorization_id": authorizationID, "auth_time": utc(authTime)})
	return res.RowsAffected == 1, translate(res.Error, "device code")
}

// MarkDeviceCodeUsed moves an approved device code to used and reports
// whether this call did it: of concurrent polls exactly one gets true.
func (db *DB) MarkDeviceCodeUsed(ctx context.Context, id string) (bool, error) {
	res := db.wr(ctx).Model(&deviceCodeRow{}).Where("id = ? AND status = ?", id, domain.DeviceCodeApproved).
		Update("status", domain.DeviceCodeUsed)
	return res.RowsAffected == 1, translate(res.Error, "device code")
}

// TouchDeviceCodePoll records a poll at at and returns the previous
// poll's time (nil for the first).
func (db *DB) TouchDeviceCodePoll(ctx context.Context, id string, at time.Time) error {
	return translate(db.wr(ctx).Model(&deviceCodeRow{}).Where("id = ?", id).Update("polled_at", utc(at)).Error, "device code")
}

// PruneDeviceCodes deletes device codes that expired before before (RFC
// 8628 codes live 10 minutes; the rows would otherwise pile up, one per
// device authorization request) and returns how many.
func (db *DB) PruneDeviceCodes(ctx context.Context, before time.Time) (int64, error) {
	res := db.wr(ctx).Where("expires_at < ?", utc(before)).Delete(&deviceCodeRow{})
	return res.RowsAffected, translate(res.Error, "device codes")
}
