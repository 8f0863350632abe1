// Package admin holds oauthdesk's administration use cases: users and
// their passwords (argon2id), the bootstrap admin, app registration with
// its first client secret (shown once), and the read models of the
// dashboard (app listing, app detail with authorizations). The dashboard
// (internal/web) and the CLI (internal/cli) both call it, so a rule holds
// the same way from either.
package admin
