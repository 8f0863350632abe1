package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// prepareFile makes sure the database file at path is private and
// writable before SQLite opens it: a missing file is created 0600 (SQLite
// gives its -wal and -shm files the database file's mode), an existing
// file (or -wal/-shm) that group or others can write is refused, and so is
// one this process cannot write. Errors: Invalid with one line saying what
// to do.
func prepareFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return apperr.Errorf(apperr.Invalid, "cannot create the database file %s: %v", path, unwrapPath(err))
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && p != path {
			continue
		}
		if err != nil {
			return apperr.Errorf(apperr.Invalid, "database file %s: %v", p, unwrapPath(err))
		}
		if !st.Mode().IsRegular() {
			return apperr.Errorf(apperr.Invalid, "database file %s is not a regular file", p)
		}
		if st.Mode().Perm()&0o022 != 0 {
			return apperr.Errorf(apperr.Invalid, "refusing to start: database file %s is writable by group or others (mode %04o); run chmod 600 %s", p, st.Mode().Perm(), p)
		}
	}
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return apperr.Errorf(apperr.Invalid, "database file %s is not writable (%v); oauthdesk needs to write it", path, unwrapPath(err))
	}
	return f.Close()
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ProbeWrite proves the database takes a write: it updates the one row of
// the readiness table in a write transaction (a full disk or a read-only
// file fails here). For /readyz.
func (db *DB) ProbeWrite(ctx context.Context) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		return db.wr(ctx).Exec(`INSERT INTO readiness (id, checked_at) VALUES (1, ?)
ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, time.Now().UTC()).Error
	})
}
