package domain

import (
	"encoding/base64"
	"strings"
	"time"
)

// ScopeFullAccess is the scope of a full-access personal access token, as
// the hosted service spells it (tokens.json 7.1: "app_token"): it
// satisfies every API scope.
const ScopeFullAccess = "app_token"

// Invalidation kinds of personal access tokens and revocation rules.
const (
	KindPAT  = "pat"  // the personal access token with id Ref
	KindRule = "rule" // a revocation rule was added (Ref: its id)
)

// PAT states as the lists and the Lifecycle API show them.
const (
	PATActive  = "active"
	PATExpired = "expired"
	PATRevoked = "revoked"
)

// PAT is a personal access token: a user's own credential for
// the REST APIs. Only the SHA-256 of the token is kept (Hash); Display is
// its first characters, shown to tell tokens apart.
type PAT struct {
	ID           string // GUID; the Lifecycle API's authorizationId
	UserID       string
	Username     string // filled by listings
	Name         string
	Hash         []byte
	Display      string
	Scopes       []string // catalog scopes, or [ScopeFullAccess]
	CreatedAt    time.Time
	ExpiresAt    time.Time
	RevokedAt    *time.Time
	RevokedBy    string // "user", "admin", "leaked", …
	LastUsedAt   *time.Time
	LastUsedAddr string
}

// FullAccess reports whether the token carries ScopeFullAccess.
func (p PAT) FullAccess() bool {
	for _, s := range p.Scopes {
		if s == ScopeFullAccess {
			return true
		}
	}
	return false
}

// State is active, expired or revoked at now.
func (p PAT) State(now time.Time) string {
	switch {
	case p.RevokedAt != nil:
		return PATRevoked
	case !now.Before(p.ExpiresAt):
		return PATExpired
	}
	return PATActive
}

// PATFilter selects personal access tokens. Zero fields do not filter.
type PATFilter struct {
	ID     string
	UserID string
	// Query matches the token name or the owner's username (substring,
	// case-insensitive).
	Query string
	Scope string // tokens carrying this scope (exactly)
	// ScopeAny keeps tokens carrying any of these scopes (exactly): the
	// use case fills it with a scope's holders (the scope, the wider
	// scopes that include it, app_token).
	ScopeAny []string
	// State: PATActive, PATExpired, PATRevoked or "" (all).
	State string
	// ExpiringDays keeps active tokens expiring within that many days.
	ExpiringDays int
	FullAccess   bool
	// UnusedDays keeps tokens not used in that many days (never used
	// included).
	UnusedDays int
	// Sort: "created" (default, newest first), "name", "expires".
	Sort string
	// Asc reverses the default direction.
	Asc   bool
	After string // keyset cursor from a previous page
	Limit int    // at most 1000; default 100
}

// PATPage is one page of tokens and the cursor of the next ("" at the end).
type PATPage struct {
	Tokens []PAT
	Next   string
}

// RevocationRule refuses every token issued before CreatedBefore (strictly;
// JWT iat has second precision) that
// carries one of Scopes (a full-access token carries them all): personal
// access tokens and OAuth access and refresh tokens alike (tokenAdmin.json
// 7.1, revocation rules).
type RevocationRule struct {
	ID            string
	Scopes        []string
	CreatedBefore time.Time
	CreatedAt     time.Time
	CreatedBy     string
}

// Matches reports whether a token issued at issued with scopes falls
// under the rule.
func (r RevocationRule) Matches(issued time.Time, scopes []string) bool {
	if !issued.Before(r.CreatedBefore) {
		return false
	}
	for _, s := range scopes {
		if s == ScopeFullAccess {
			return true
		}
		for _, want := range r.Scopes {
			if strings.EqualFold(s, want) {
				return true
			}
		}
	}
	return false
}

// ScannerToken is a secret scanner's credential for the leaked-token
// endpoint: stored as a SHA-256, shown once.
type ScannerToken struct {
	ID         string
	Name       string
	Hash       []byte
	CreatedAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// PATNotice is something a token's owner is told on their next visit (a
// banner): a token found leaked and revoked, or one about to expire.
type PATNotice struct {
	ID        string
	UserID    string
	PATID     string
	PATName   string
	Kind      string // NoticeLeaked, NoticeExpiring
	CreatedAt time.Time
}

// Notice kinds.
const (
	NoticeLeaked   = "leaked"
	NoticeExpiring = "expiring"
)

// Settings of the personal access token policies.
const (
	// SettingPATMaxLifespan is the longest lifetime of a new or extended
	// token in days; "0" or unset: one year.
	SettingPATMaxLifespan = "pat_max_lifespan_days"
	// SettingPATFullScope is "allow" (default) or "deny" (app_token refused).
	SettingPATFullScope = "pat_full_scope"
	// SettingPATCreation is "everyone" (default) or "allowlist".
	SettingPATCreation = "pat_creation"
)

// PATUse is a batched last use of a token: when and from which address.
type PATUse struct {
	At   time.Time
	Addr string
}

// SubjectDescriptor is a user's subject descriptor, as the Token Admin
// API names users: "odu." + the base64url (unpadded) of the user id.
func SubjectDescriptor(userID string) string {
	return "odu." + base64.RawURLEncoding.EncodeToString([]byte(userID))
}

// ParseSubjectDescriptor returns the user id of a subject descriptor; a
// value that is not one is returned unchanged (the user id is accepted in
// its place).
func ParseSubjectDescriptor(d string) string {
	if rest, ok := strings.CutPrefix(d, "odu."); ok {
		if b, err := base64.RawURLEncoding.DecodeString(rest); err == nil {
			return string(b)
		}
	}
	return d
}
