// Package scope is oauthdesk's scope model: the catalog of the 86 Azure
// DevOps OAuth scopes, the inclusion relation between them, and the parsing
// and validation of scope strings.
//
// It implements the scope model of PROTOCOL.md ("Scopes") and seed 000
// ("Scopes"): a scope grants what it includes, transitively — a token with
// vso.code_write may call an API that needs vso.code, vso.hooks_write,
// vso.hooks or vso.profile, and vso.code_manage includes vso.code_write.
// Apps should ask for the fewest scopes ([Catalog.Minimal] computes them).
// vso.authorization_grant ([AuthorizationGrant]) is a marker the token
// endpoint appends to granted scopes; it is not in the catalog and can never
// be registered or requested.
//
// The catalog is the JSON file scopes.json (a copy of spec/scopes.json)
// embedded in the binary and loaded once by [Default]; [Load] validates it,
// including that its precomputed includes_transitive lists agree with the
// closure of the direct includes. [Catalog.Satisfies] is the single
// inclusion check used everywhere (consent, token issuance, Bearer checks);
// it uses per-scope bitsets computed at load time and does not allocate.
//
// Scope strings follow RFC 6749 §3.3: space-separated, case-sensitive
// scope-tokens made of %x21 / %x23-5B / %x5D-7E. [Catalog.Parse] and
// [Catalog.Validate] return *apperr.Error values with code apperr.Invalid
// whose messages are safe to show to the user.
package scope
