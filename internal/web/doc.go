// Package web is oauthdesk's HTTP edge, built on Echo v4: the OAuth 2.0
// endpoints (/oauth2/authorize, /oauth2/token), the REST API under
// /_apis/ with Bearer authentication, /.well-known/jwks.json, and the
// dashboard pages rendered with templ (package views).
//
// Handlers are grouped by slice, one file per resource (apps.go,
// owners.go, secrets.go, authorizations.go, users.go, settings.go,
// scopes.go, audit_pages.go, import.go, …); each file declares the
// interface of the use cases its handlers call (Apps, Owners, Secrets,
// …), and Config takes one field per slice (internal/server wires the
// internal/admin use cases into them).
//
// It is the only package that imports Echo. Errors from the services are
// mapped to responses in exactly one place, errorHandler (errors.go); one
// function builds the middleware stack (Server.routes).
package web
