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

// postgresRun is the PostgreSQL half of a run: a second oauthdesk server
// on a fresh database of the server OAUTHDESK_TEST_POSTGRES names, built
// from the same binaries and measured against the same ceiling process.
// Its rows are named scenario + postgresSuffix, and their ratios divide
// by the ceiling measured just before each, as SQLite's do.
type postgresRun struct {
	pb    *bench
	admin *sql.DB
	name  string // the database, dropped by close
}

// startPostgres creates the database on base (a postgres:// URL whose user
// may create databases) and the bench that measures against it; the
// server itself starts with the first row. close drops the database.
func startPostgres(ctx context.Context, b *bench, base string) (*postgresRun, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("OAUTHDESK_TEST_POSTGRES: %w", err)
	}
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	p := &postgresRun{name: "oauthdesk_bench_" + hex.EncodeToString(rb[:])}
	if p.admin, err = sql.Open("pgx", base); err != nil {
		return nil, err
	}
	if _, err := p.admin.ExecContext(ctx, `CREATE DATABASE `+p.name); err != nil {
		p.admin.Close()
		return nil, fmt.Errorf("create the bench database on %s: %w", u.Redacted(), err)
	}
	u.Path = "/" + p.name
	dir := filepath.Join(b.dir, "postgres")
	o := b.o
	o.db = u.String()
	p.pb = &bench{o: o, dir: dir, wrk: b.wrk, oauthdesk: b.oauthdesk, ceiling: b.ceiling, ceilingProc: b.ceilingProc}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.close()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "load.lua"), loadLua, 0o644); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// row measures sc on PostgreSQL.
func (p *postgresRun) row(ctx context.Context, sc scenario) (row, error) {
	logf("scenario on PostgreSQL: %s", sc.name)
	r, err := p.pb.runScenario(ctx, sc)
	if err != nil {
		return row{}, fmt.Errorf("%s on PostgreSQL: %w", sc.name, err)
	}
	r.Scenario += postgresSuffix
	return r, nil
}

// close stops the PostgreSQL server and drops its database.
func (p *postgresRun) close() {
	p.pb.stopAll()
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.admin.ExecContext(dctx, `DROP DATABASE IF EXISTS `+p.name+` WITH (FORCE)`); err != nil {
		logf("drop %s: %v", p.name, err)
	}
	p.admin.Close()
}
