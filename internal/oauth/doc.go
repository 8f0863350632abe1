// Package oauth is oauthdesk's OAuth 2.0 protocol core: the authorization
// endpoint's request validation and consent decision (RFC 6749 §4.1.1–4.1.2,
// response_type=Assertion as in seed 001), the token endpoint's two grants
// (the jwt-bearer code exchange and the refresh_token grant, with the
// bodies of seed 001 and the error texts of shared/spec/PROTOCOL.md), the
// access tokens (Ed25519-signed JWTs with the claims of PROTOCOL.md) and the
// Bearer check (RFC 6750).
//
// Layout: token.go is the one skeleton every grant runs through (find,
// client authentication, redirect check, validation and storage in a
// group-committed write transaction, signing after the commit);
// flow_code.go and flow_refresh.go are the two grants, the latter with the
// refresh grace window (Config.RefreshGrace); bearer.go and tokencache.go
// are the Bearer check and its verified-token cache; guard.go answers
// "revoked?" from memory, following the invalidation feed.
//
// It knows nothing of HTTP handlers or of GORM: storage is the Store
// interface declared here, satisfied by internal/store; internal/web maps
// the errors of this package to responses.
package oauth
