package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// postgresSuffix marks the rows measured against PostgreSQL.
const postgresSuffix = " · PostgreSQL"

// runPostgres measures every scenario but the ceiling again with the
// server on a fresh PostgreSQL database of the server named by base (a
// postgres:// URL whose user may create databases, OAUTHDESK_TEST_POSTGRES),
// reusing the binaries b built; the database is dropped afterwards. Its
// rows are named scenario + postgresSuffix, so they print beside SQLite's
// and the ratios divide by the same ceiling.
func runPostgres(ctx context.Context, b *bench, base string) ([]row, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("OAUTHDESK_TEST_POSTGRES: %w", err)
	}
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	name := "oauthdesk_bench_" + hex.EncodeToString(rb[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return nil, fmt.Errorf("create the bench database on %s: %w", u.Redacted(), err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			logf("drop %s: %v", name, err)
		}
	}()
	u.Path = "/" + name
	dir := filepath.Join(b.dir, "postgres")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	o := b.o
	o.db = u.String()
	pb := &bench{o: o, dir: dir, wrk: b.wrk, oauthdesk: b.oauthdesk, ceiling: b.ceiling}
	defer pb.stopAll()
	if err := os.WriteFile(filepath.Join(dir, "load.lua"), loadLua, 0o644); err != nil {
		return nil, err
	}
	var rows []row
	for _, sc := range scenarios() {
		if sc.ceiling || !selected(o.only, sc.name) {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		logf("scenario on PostgreSQL: %s", sc.name)
		r, err := pb.runScenario(ctx, sc)
		if err != nil {
			return nil, fmt.Errorf("%s on PostgreSQL: %w", sc.name, err)
		}
		r.Scenario += postgresSuffix
		rows = append(rows, r)
	}
	return rows, nil
}
