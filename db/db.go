// Package db embeds oauthdesk's versioned SQL schema migrations, one set
// per dialect with the same goose version numbers:
//
//   - migrations/NNNNN_name.sql: SQLite (the embedded default);
//   - migrations_postgres/NNNNN_name.sql: PostgreSQL, the twin of each.
//
// internal/store applies the set of its dialect at start-up and in
// `oauthdesk migrate`. A migration, once released, is never edited: add a
// new one, in both directories (a test fails when the version lists differ).
package db

import "embed"

// Migrations holds migrations/*.sql (SQLite); goose reads it with the
// directory "migrations".
//
//go:embed migrations/*.sql
var Migrations embed.FS

// PostgresMigrations holds migrations_postgres/*.sql; goose reads it with
// the directory "migrations_postgres".
//
//go:embed migrations_postgres/*.sql
var PostgresMigrations embed.FS
