// Package admin holds oauthdesk's administration use cases, shared by the
// dashboard (internal/web), the CLI (internal/cli) and the REST API, so a
// rule holds the same way from each. Every state change runs in one
// transaction with its audit event.
//
// Service (admin.go) holds the store interfaces it declares there (Store,
// the union of UserStore, AppStore, SecretStore, AuthorizationStore,
// ScopeStore, SettingStore, AuditLog and Transactor) and serves:
//
//   - users (users.go, usermgmt.go): create, the bootstrap admin, roles with
//     the last-admin rule, disable and enable, password reset and change
//     (at least 12 characters), delete;
//   - sign-in (signin.go): password checks, failed sign-ins audited in
//     batches per (username, address) and minute; password hashes (argon2id)
//     bounded by hashing slots (password_hashing.go, hashmem.go);
//   - apps (apps.go, owners.go, clients.go): registration with its first
//     client secret (shown once), the registration policy and the review of
//     pending apps, edits with their field-by-field changes (including the
//     OpenID Connect client fields), owners and hand-over, the listing, app
//     detail and expiry overview read models;
//   - import (import.go): registrations that live elsewhere, from CSV or
//     JSON, validated whole before anything is written;
//   - secrets and revocation (lifecycle.go): issue, regenerate and retire
//     client secrets, the secret-lifetime and third-party OAuth policies,
//     revoking authorizations with their impact, deleting an app, the audit
//     log's listing, export and verification (with checkpoints);
//   - scopes (scopes.go): the scope inventory and report, who holds a
//     scope, an app's registered / granted / used scopes and narrowing.
//
// Smaller use cases hold only the store interface they declare:
// Activity (activity.go: the audit events of one app or user), Attention
// (attention.go: the overview's secrets to act on), Invitations
// (invitations.go: co-owner invitations) and ChangeReview
// (pending_changes.go: owners' changes to approved apps, waiting for an
// administrator).
//
// What each of these does as people see it: internal/admin/README.md.
package admin
