package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
)

// copyOrder lists the tables migrate-db copies, parents before children
// (foreign keys). Tables a later migration adds and this list does not
// name are copied after these, in name order. Leases (job_locks) and
// failed sign-in counts (signin_failures) are transient and not copied.
var copyOrder = []string{
	"users", "apps", "client_secrets", "authorizations", "authorization_codes", "refresh_tokens",
	"signing_keys", "sessions", "settings", "scope_usage", "invalidations", "audit_events", "report_runs",
}

var copySkip = map[string]bool{"goose_db_version": true, "job_locks": true, "signin_failures": true}

// copyReplace lists the tables whose rows a migration writes into an empty
// database (the one watermark row of pat_scope_watermark, migration
// 00025): the target's are replaced by the source's.
var copyReplace = map[string]bool{"pat_scope_watermark": true}

// CopyProgress is told about each table as it is copied: its name and the
// number of rows written.
type CopyProgress func(table string, rows int64)

// CopyTo copies every row of every table of src into dst, which must be
// migrated to the same schema versions and hold no data, in one
// transaction on dst: either everything is copied or nothing is. Values
// are converted to dst's column types (SQLite's 0/1 to PostgreSQL's
// BOOLEAN, text times to TIMESTAMPTZ). Errors: Conflict when dst holds
// data; Invalid when the schema versions differ, or src's audit log has
// times finer than dst keeps (its chain would no longer verify).
func CopyTo(ctx context.Context, src, dst *DB, progress CopyProgress) error {
	sv, err := src.appliedVersions(ctx)
	if err != nil {
		return err
	}
	dv, err := dst.appliedVersions(ctx)
	if err != nil {
		return err
	}
	if !slices.Equal(sv, dv) {
		return apperr.Errorf(apperr.Invalid, "the two databases are at different schema versions (%v and %v): migrate both with this oauthdesk first", sv, dv)
	}
	tables, err := src.tables(ctx)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if copyReplace[t] {
			continue
		}
		var n int64
		if err := dst.rd(ctx).Raw(`SELECT COUNT(*) FROM ` + t).Scan(&n).Error; err != nil {
			return fmt.Errorf("count %s on the target: %w", t, err)
		}
		if n > 0 {
			return apperr.Errorf(apperr.Conflict, "the target database already holds data (%d rows in %s): migrate-db only copies into an empty database", n, t)
		}
	}
	if dst.fl.microsecondTimes {
		if err := src.checkAuditPrecision(ctx); err != nil {
			return err
		}
	}
	// The source is read outside the target's transaction (a context
	// carries one transaction, of one database).
	srcCtx := context.WithValue(ctx, txKey{}, nil)
	return dst.WriteTx(ctx, func(ctx context.Context) error {
		for _, t := range tables {
			n, err := copyTable(srcCtx, ctx, src, dst, t)
			if err != nil {
				return fmt.Errorf("copy %s: %w", t, err)
			}
			if progress != nil {
				progress(t, n)
			}
		}
		return dst.resetSequences(ctx)
	})
}

// tables returns the tables to copy, in copy order.
func (db *DB) tables(ctx context.Context) ([]string, error) {
	var names []string
	if err := db.rd(ctx).Raw(db.fl.tablesSQL).Scan(&names).Error; err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out, rest []string
	for _, t := range copyOrder {
		if slices.Contains(names, t) {
			out = append(out, t)
		}
	}
	for _, t := range names {
		if !slices.Contains(copyOrder, t) && !copySkip[t] {
			rest = append(rest, t)
		}
	}
	slices.Sort(rest)
	return append(out, rest...), nil
}

func (db *DB) appliedVersions(ctx context.Context) ([]int64, error) {
	var v []int64
	err := db.rd(ctx).Raw(`SELECT DISTINCT version_id FROM goose_db_version WHERE is_applied AND version_id > 0 ORDER BY version_id`).Scan(&v).Error
	if err != nil {
		return nil, fmt.Errorf("schema versions of %s: %w", redactURL(db.path), err)
	}
	return v, nil
}

// checkAuditPrecision refuses an audit log whose times have sub-microsecond
// parts (written by an oauthdesk before microsecond audit times): their
// hashes cannot be recomputed from a TIMESTAMPTZ.
func (db *DB) checkAuditPrecision(ctx context.Context) error {
	var n int64
	err := db.WalkAudit(ctx, time.Time{}, func(e audit.Event) bool {
		if e.At.Nanosecond()%1000 != 0 {
			n++
		}
		return true
	})
	if err != nil {
		return err
	}
	if n > 0 {
		return apperr.Errorf(apperr.Invalid, "%d audit events carry sub-microsecond times that PostgreSQL cannot store; their chain would not verify after the copy", n)
	}
	return nil
}

// columnTypes returns dst's lower-case data type per column of table.
func (db *DB) columnTypes(ctx context.Context, table string) (map[string]string, error) {
	out := map[string]string{}
	var rows []struct{ ColumnName, DataType string }
	err := db.rd(ctx).Raw(db.fl.columnsSQL, table).Scan(&rows).Error
	for _, r := range rows {
		out[r.ColumnName] = strings.ToLower(r.DataType)
	}
	return out, err
}

// copyTable streams table from src to dst in batches of 500 rows.
func copyTable(srcCtx, ctx context.Context, src, dst *DB, table string) (int64, error) {
	types, err := dst.columnTypes(ctx, table)
	if err != nil {
		return 0, err
	}
	rows, err := src.rd(srcCtx).Raw(`SELECT * FROM ` + table).Rows()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	for _, c := range cols {
		if _, ok := types[c]; !ok {
			return 0, fmt.Errorf("column %s is missing on the target", c)
		}
	}
	const batch = 500
	ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	var n int64
	var args []any
	k := 0
	flush := func() error {
		if k == 0 {
			return nil
		}
		q := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES ` + strings.TrimSuffix(strings.Repeat(ph+", ", k), ", ")
		if err := dst.wr(ctx).Exec(q, args...).Error; err != nil {
			return err
		}
		n += int64(k)
		args, k = args[:0], 0
		return nil
	}
	if copyReplace[table] {
		if err := dst.wr(ctx).Exec(`DELETE FROM ` + table).Error; err != nil {
			return 0, err
		}
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			v, err := convert(vals[i], types[c])
			if err != nil {
				return n, fmt.Errorf("column %s: %w", c, err)
			}
			args = append(args, v)
		}
		k++
		if k == batch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// convert adapts a scanned value to the target column type.
func convert(v any, typ string) (any, error) {
	switch {
	case v == nil:
		return nil, nil
	case typ == "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	case strings.Contains(typ, "timestamp"):
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case string:
			return parseTime(x)
		case []byte:
			return parseTime(string(x))
		}
	case typ == "bytea" || typ == "blob":
		switch x := v.(type) {
		case string:
			return []byte(x), nil
		}
	}
	return v, nil
}

func parseTime(s string) (time.Time, error) {
	for _, f := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(f, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q does not parse", s)
}

// resetSequences moves PostgreSQL identity sequences past the copied
// rows, so that the next insert does not reuse a number.
func (db *DB) resetSequences(ctx context.Context) error {
	if !db.fl.identities {
		return nil
	}
	var cols []struct{ TableName, ColumnName string }
	err := db.wr(ctx).Raw(`SELECT table_name, column_name FROM information_schema.columns
WHERE table_schema = current_schema() AND is_identity = 'YES'`).Scan(&cols).Error
	if err != nil {
		return err
	}
	for _, c := range cols {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), COALESCE((SELECT MAX(%s) FROM %s), 0) + 1, false)`,
			c.TableName, c.ColumnName, c.ColumnName, c.TableName)
		if err := db.wr(ctx).Exec(q).Error; err != nil {
			return fmt.Errorf("sequence of %s.%s: %w", c.TableName, c.ColumnName, err)
		}
	}
	return nil
}
