// Package web is oauthdesk's HTTP edge, built on Echo v4: the OAuth 2.0
// endpoints (/oauth2/authorize, /oauth2/token), the REST API under
// /_apis/ with Bearer authentication, /.well-known/jwks.json, and the
// dashboard pages rendered with templ (package views).
//
// It is the only package that imports Echo. Errors from the services are
// mapped to responses in exactly one place, errorHandler (errors.go); one
// function builds the middleware stack (Server.routes).
package web
