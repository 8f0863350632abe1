// Package storetest gives tests a fresh PostgreSQL database of their own.
//
// The server to use comes from OAUTHDESK_TEST_POSTGRES, a postgres:// URL
// whose user may create databases (CI sets it when 127.0.0.1:5432
// answers; see .ci/run). Without it, PostgreSQL tests skip. Each call of
// NewPostgres creates a database named oauthdesk_test_<random> and drops
// it when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// EnvVar names the variable holding the test server's URL.
const EnvVar = "OAUTHDESK_TEST_POSTGRES"

// PostgresURL returns the test server's URL, or "" when EnvVar is unset.
func PostgresURL() string { return os.Getenv(EnvVar) }

// NewPostgres creates an empty database on the test server and returns its
// URL; the database is dropped (with any connections left) when t ends.
// It skips t when EnvVar is unset and fails t when the server does not
// answer.
func NewPostgres(t testing.TB) string {
	t.Helper()
	base := PostgresURL()
	if base == "" {
		t.Skip(EnvVar + " is not set: PostgreSQL tests skipped")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "oauthdesk_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		_ = admin.Close()
		t.Fatalf("create test database on %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
		_ = admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}
