package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// genericPlan returns the plan PostgreSQL keeps for q prepared (its generic
// plan, forced), executed with the SQL literals args.
func genericPlan(t *testing.T, ctx context.Context, db *DB, q, args string) string {
	t.Helper()
	sqlDB, err := db.w.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{`SET plan_cache_mode = force_generic_plan`, `PREPARE plan_check AS ` + db.sqlText(q)} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatal(s, err)
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DEALLOCATE plan_check; RESET plan_cache_mode`) //nolint:errcheck
	return explain(t, ctx, conn, `EXPLAIN EXECUTE plan_check(`+args+`)`)
}

func explain(t *testing.T, ctx context.Context, conn *sql.Conn, q string) string {
	t.Helper()
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}

// TestCodeExchangePlanPostgres: on a young authorization_codes table that
// was never analyzed (a new database), the plans PostgreSQL keeps for the
// code exchange's prepared statements (the code's read, its
// authorization's, the used mark) each probe one unique index: no
// sequential scan and no walk of the live-code partial index
// (authorization_codes_live), which would read every live code on each
// exchange as the table grows.
func TestCodeExchangePlanPostgres(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set")
	}
	ctx := t.Context()
	db := newPostgresDB(t)
	for range 100 {
		mkCode(t, ctx, db)
	}
	for _, c := range []struct {
		name, q, args, index string
	}{
		{"code by hash", codeByHashSQL, `'\x00'::bytea`, "authorization_codes_hash_key"},
		{"authorization by id", authorizationByIDSQL, `'z'`, "authorizations_pkey"},
		{"mark code used", markCodeUsedSQL, `now(), 'c'`, "authorization_codes_pkey"},
	} {
		p := genericPlan(t, ctx, db, c.q, c.args)
		t.Logf("%s:\n%s", c.name, p)
		if !strings.Contains(p, "Index Scan using "+c.index) || strings.Contains(p, "Seq Scan") || strings.Contains(p, "_live") {
			t.Errorf("%s: the generic plan does not probe %s:\n%s", c.name, c.index, p)
		}
	}
}
