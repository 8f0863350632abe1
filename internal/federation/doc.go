// Package federation signs people in through the organization's
// directory: it keeps the connectors (internal/connector) in the
// database with their secrets sealed by the key file, links each upstream
// identity to one oauthdesk user by the connector's stable subject (never
// by name or e-mail), creates that user on first sign-in, maps upstream
// groups to a role at every sign-in, and runs the directory sync that
// disables leavers through the admin service's disable path.
//
// It is cut into slices, each a use-case type holding only the small
// store interface it declares beside it (internal/store implements them
// all, checked in stores_test.go):
//
//   - connector configuration (connectors.go: ConnectorService): add,
//     list, test and remove connectors, the local-signin policy, the last
//     syncs' problems for the admin banner;
//   - sign-in (signin.go, state.go: SignInService): the options on
//     /signin, the redirect login with its sealed state and the password
//     login, users linked by (connector, subject) and created just in
//     time, and the administrator's explicit link (LinkUser);
//   - directory sync (sync.go: SyncService).
//
// They share the upstreams built from the stored configuration
// (upstreams.go). Service (federation.go) is a thin facade embedding the
// slices for the CLI; the server wires the web handlers with the slices.
package federation
