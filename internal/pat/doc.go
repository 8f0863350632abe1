// Package pat is the personal access token slice (issue 19): the token
// format (prefix, 32 random bytes, CRC32 checksum, base62; format.go) and
// the use cases — create, list, update, revoke; the organization's
// policies (maximum lifespan, full-scope tokens, who may create them);
// revocation rules; secret scanners and leaked tokens (service.go,
// policy.go, leaked.go). The Bearer check itself lives with the OAuth
// access token's in internal/oauth (pat.go), sharing its guard.
package pat
