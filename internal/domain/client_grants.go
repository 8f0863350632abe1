package domain

import "time"

// ClientGrant is an app's own grant (RFC 6749 §4.4, client_credentials):
// the scope set it obtained tokens for without a user. One live row per
// client and scope set; its id is the family of every token issued for it,
// so revoking it ends them on the next request.
type ClientGrant struct {
	ID           string
	ClientID     string
	Scopes       []string
	CreatedAt    time.Time  // first token issued
	LastIssuedAt time.Time  // latest token issued
	LastUsedAt   *time.Time // latest allowed API call (batched, may lag a few seconds)
	TokenCount   int64      // tokens issued
	RevokedAt    *time.Time // nil: live
}

// ClientGrantIssues is a batch of tokens issued from one grant: how many
// and the latest.
type ClientGrantIssues struct {
	Count int64
	Last  time.Time
}

// Live reports whether the grant has not been revoked.
func (g ClientGrant) Live() bool { return g.RevokedAt == nil }
