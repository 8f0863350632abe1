// Package db embeds oauthdesk's versioned SQL schema migrations.
//
// Files are numbered goose migrations (migrations/NNNNN_name.sql), applied
// in order by internal/store at start-up and by `oauthdesk migrate`.
// A migration, once released, is never edited: add a new one.
package db

import "embed"

// Migrations holds migrations/*.sql; goose reads it with the directory
// "migrations".
//
//go:embed migrations/*.sql
var Migrations embed.FS
