// Package admin holds oauthdesk's administration use cases, shared by the
// dashboard (internal/web), the CLI (internal/cli) and the REST API, so a
// rule holds the same way from each. Every state change runs in one
// transaction with its audit event.
//
// It is cut into slices by resource. Each slice is a use-case type that
// holds only the small store interface it declares beside it (at most
// about ten methods; internal/store implements them all, checked in
// stores_test.go) and the other slices it calls:
//
//   - apps (apps.go, clients.go: AppService): registration with its first
//     client secret (shown once), the registration policy's review of
//     pending apps, edits with their field-by-field changes (including the
//     OpenID Connect client fields), the listing and detail, deletion;
//   - owners (owners.go: OwnerService): owners, co-owners, the primary
//     owner and the hand-over; Invitations (invitations.go: co-owner
//     invitations) and Offboarding (offboarding.go: a leaver's apps handed
//     over with the delete or disable);
//   - secrets (secrets.go: SecretService): issue, regenerate and retire
//     client secrets, which secret each authorization last used;
//   - authorizations and revocation (authorizations.go:
//     AuthorizationService): listings, the impact shown before a
//     revocation, and the revocation cascade that revoking by user or
//     app, deleting a user and deleting an app share in one transaction;
//     ClientGrants (client_grants.go: an app's own client_credentials
//     grants);
//   - users (users.go, usermgmt.go: UserService): create, the bootstrap
//     admin, roles with the last-admin rule, disable and enable, password
//     reset and change (at least 12 characters), delete;
//   - sign-in (signin.go: SignInService): password checks, failed
//     sign-ins audited in batches per (username, address) and minute;
//     password hashes (argon2id) bounded by hashing slots shared with the
//     users slice (password_hashing.go, hashmem.go);
//   - scopes (scopes.go: ScopeService, the inventory, who holds a scope and
//     the scope report; app_scopes.go: AppScopeService, an app's
//     registered / granted / used scopes and narrowing);
//   - settings and policies (settings.go: SettingService): third-party
//     OAuth access, the secret lifetime, the app registration policy;
//   - pending changes (pending_changes.go: ChangeReview): owners' changes
//     to approved apps, waiting for an administrator;
//   - audit (audit.go: AuditService): the log's listing, export and
//     verification (with checkpoints); Activity (activity.go: the events
//     of one app or user with the names they mention);
//   - reports (expiry.go: ExpiryService, the secret-expiry read model;
//     attention.go: Attention, the overview's secrets to act on);
//   - import (import.go: ImportService): registrations that live
//     elsewhere, from CSV or JSON, validated whole before anything is
//     written.
//
// Service (admin.go) is a thin facade embedding the slices, so that the
// CLI and the federation call every use case through one value; the
// server wires the dashboard with the slices one by one.
//
// What each of these does as people see it: internal/admin/README.md.
package admin
