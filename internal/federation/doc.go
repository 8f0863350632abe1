// Package federation signs people in through the organization's
// directory: it keeps the connectors (internal/connector) in the
// database with their secrets sealed by the key file, links each upstream
// identity to one oauthdesk user by the connector's stable subject (never
// by name or e-mail), creates that user on first sign-in, maps upstream
// groups to a role at every sign-in, and runs the directory sync that
// disables leavers through the admin service's disable path.
package federation
