package store

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type connectorRow struct {
	Name          string `gorm:"column:name;primaryKey"`
	Type          string
	Config        string
	Secret        []byte
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastSyncAt    *time.Time
	LastSyncError string
}

func (connectorRow) TableName() string { return "connectors" }

func (r connectorRow) domain() domain.Connector {
	return domain.Connector{Name: r.Name, Type: r.Type, Config: []byte(r.Config), Secret: r.Secret,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), LastSyncAt: utcPtr(r.LastSyncAt), LastSyncError: r.LastSyncError}
}

// CreateConnector inserts c. Errors: Conflict when the name is taken.
func (db *DB) CreateConnector(ctx context.Context, c domain.Connector) error {
	row := connectorRow{Name: c.Name, Type: c.Type, Config: string(c.Config), Secret: c.Secret,
		CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt)}
	return translate(db.wr(ctx).Create(&row).Error, "connector "+c.Name)
}

// Connectors returns every connector, by name.
func (db *DB) Connectors(ctx context.Context) ([]domain.Connector, error) {
	var rows []connectorRow
	if err := db.rd(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, translate(err, "connectors")
	}
	out := make([]domain.Connector, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ConnectorByName returns one connector. Errors: NotFound.
func (db *DB) ConnectorByName(ctx context.Context, name string) (domain.Connector, error) {
	var row connectorRow
	err := db.rd(ctx).Where("name = ?", name).Take(&row).Error
	return row.domain(), translate(err, "connector "+name)
}

// DeleteConnector removes a connector; its users stay (they can no longer
// sign in through it). Errors: NotFound.
func (db *DB) DeleteConnector(ctx context.Context, name string) error {
	res := db.wr(ctx).Where("name = ?", name).Delete(&connectorRow{})
	if res.Error != nil {
		return translate(res.Error, "connector")
	}
	if res.RowsAffected == 0 {
		return apperr.Errorf(apperr.NotFound, "connector %s not found", name)
	}
	return nil
}

// SetConnectorSync records the outcome of a directory sync of name: its
// time and the error ("" when the directory was reached).
func (db *DB) SetConnectorSync(ctx context.Context, name string, at time.Time, syncErr string) error {
	return translate(db.wr(ctx).Model(&connectorRow{}).Where("name = ?", name).
		Updates(map[string]any{"last_sync_at": utc(at), "last_sync_error": syncErr}).Error, "connector")
}

// UserBySubject returns the user linked to the identity subject of the
// connector source. Errors: NotFound.
func (db *DB) UserBySubject(ctx context.Context, source, subject string) (domain.User, error) {
	var row userRow
	err := db.rd(ctx).Where("source = ? AND subject = ? AND subject <> ''", source, subject).Take(&row).Error
	return row.domain(), translate(err, "user")
}

// UsersBySource returns the users of a connector that are neither
// disabled nor deleted, by id.
func (db *DB) UsersBySource(ctx context.Context, source string) ([]domain.User, error) {
	var rows []userRow
	if err := db.rd(ctx).Where("source = ? AND disabled_at IS NULL AND deleted_at IS NULL", source).Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err, "users")
	}
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// TouchUserSignIn records a successful sign-in time without bumping the
// user's revision (which would end their other sessions).
func (db *DB) TouchUserSignIn(ctx context.Context, id string, at time.Time) error {
	return translate(db.wr(ctx).Model(&userRow{}).Where("id = ?", id).Update("last_signin_at", utc(at)).Error, "user")
}

// TouchUsersSync records that a directory sync found the users ids
// upstream at at (no revision bump).
func (db *DB) TouchUsersSync(ctx context.Context, ids []string, at time.Time) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		if err := db.wr(ctx).Model(&userRow{}).Where("id IN ?", ids[:n]).Update("last_sync_at", utc(at)).Error; err != nil {
			return translate(err, "users")
		}
		ids = ids[n:]
	}
	return nil
}

// LinkUser links the user id to the identity subject of connector source
// (the admin's explicit action). Errors: NotFound; Conflict when another
// user holds that identity.
func (db *DB) LinkUser(ctx context.Context, id, source, subject string, at time.Time) error {
	res := db.wr(ctx).Model(&userRow{}).Where("id = ?", id).Updates(map[string]any{"source": source, "subject": subject, "updated_at": utc(at)})
	if res.Error != nil {
		return translate(res.Error, "user link")
	}
	if res.RowsAffected == 0 {
		return apperr.Errorf(apperr.NotFound, "user not found")
	}
	return nil
}
