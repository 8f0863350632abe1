package store

import (
	"context"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"
	"gorm.io/gorm"
)

// SessionStore keeps alexedwards/scs dashboard sessions in the sessions
// table. It implements scs.CtxStore.
type SessionStore struct{ db *DB }

var _ scs.CtxStore = SessionStore{}

// Sessions returns the session store of db.
func (db *DB) Sessions() SessionStore { return SessionStore{db: db} }

type sessionRow struct {
	Token  string `gorm:"column:token;primaryKey"`
	Data   []byte
	Expiry time.Time
}

func (sessionRow) TableName() string { return "sessions" }

// FindCtx returns the data of an unexpired session.
func (s SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row sessionRow
	err := s.db.rd(ctx).Where("token = ? AND expiry > ?", token, time.Now().UTC()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return row.Data, true, nil
}

// CommitCtx saves a session.
func (s SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return s.db.wr(ctx).Exec(`INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)
ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, token, b, expiry.UTC()).Error
}

// DeleteCtx removes a session.
func (s SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.db.wr(ctx).Where("token = ?", token).Delete(&sessionRow{}).Error
}

// Find implements scs.Store.
func (s SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (s SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (s SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// PruneSessions deletes expired sessions.
func (db *DB) PruneSessions(ctx context.Context) error {
	return db.wr(ctx).Where("expiry <= ?", time.Now().UTC()).Delete(&sessionRow{}).Error
}
