// Package cli is oauthdesk's command line (spf13/cobra): one binary for
// the server and its administration.
//
//   - serve, migrate (commands.go) and migrate-db (migratedb.go: every row
//     into an empty database, SQLite → PostgreSQL); the server's log lines
//     are buffered (logwriter.go);
//   - user add|list|passwd|set-role|disable|enable (commands.go,
//     owners.go) and user link (connectors.go);
//   - app register|list (commands.go, with the OpenID Connect client flags
//     of clients.go), app update (owners.go), app
//     rotate-secret|retire-secret|delete (lifecycle.go), app import
//     (import.go);
//   - authz list|revoke, policy set, audit verify|export (lifecycle.go);
//   - token list|revoke|scanner and policy pat-allowlist (pats.go);
//   - connector add oidc|ldap, list, remove, test and directory sync
//     (connectors.go);
//   - report expiry|scopes (report.go), keys list|rotate (keys.go), dev
//     seed (dev.go).
//
// Every command reaches the database through one helper (cli.go):
// withServices opens the command's services through the wiring root
// (server.Open with server.ForCommand: the migrated store, the admin and
// personal access token services, no HTTP server or jobs), runs the
// command and closes them; withNewDatabase may create the database,
// withFederation adds the key file and the federation service. Run maps
// every error to one line on stderr and the exit code.
//
// Every command takes --db (a SQLite file or a postgres:// URL) and
// --key-file; everything a command changes is audited with the actor
// "cli". Commands other than serve, migrate, user add and dev seed refuse
// a SQLite file that does not exist. Flags and output are a stable
// contract that scripts and tests rely on (internal/cli/README.md).
//
// Exit codes: 0 success; 2 bad arguments or invalid values (one line on
// stderr, nothing written); 1 any other failure.
package cli
