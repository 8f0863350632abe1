// Package pat is the personal access token slice: the token format
// (prefix, 32 random bytes, CRC32 checksum, base62; format.go) and the
// use cases, each a type holding only the small store interface it
// declares beside it (internal/store implements them all, checked in
// stores_test.go):
//
//   - tokens (tokens.go: TokenService): a person's own — create, list,
//     update, revoke (the dashboard, the Lifecycle API) — and everyone's
//     for administrators: listing, counting, bulk revocation;
//   - policies (policy.go: PolicyService): maximum lifespan, full-scope
//     tokens, who may create them (the allowlist), the live tokens that
//     break them;
//   - revocation rules (rules.go: RuleService), the Token Admin API's;
//   - scanner tokens (scanners.go: ScannerService) and the leaked-token
//     report (leaked.go: LeakService);
//   - owners' notices (notices.go: NoticeService): the banner and the
//     expiry notices, with the mail shared with LeakService.
//
// Service (service.go) is a thin facade embedding the slices for the
// CLI; the server wires the web handlers with the slices one by one. The
// Bearer check itself lives with the OAuth access token's in
// internal/oauth (pat.go), sharing its guard.
package pat
