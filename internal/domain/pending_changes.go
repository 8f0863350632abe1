package domain

import (
	"slices"
	"strings"
	"time"
)

// Pending change statuses.
const (
	ChangePending  = "pending"  // waiting for an administrator
	ChangeRejected = "rejected" // an administrator said no, with a note the owners see
)

// PendingChange is a member's edit of an approved app that waits for an
// administrator: the app keeps serving its approved
// registration until the change is approved (its ReviewedFields then
// apply), rejected, or withdrawn by an owner. One per app.
type PendingChange struct {
	ClientID        string
	Proposed        Registration // the registration as the owner submitted it
	RequestedBy     string       // user id
	RequestedByName string       // username (read only)
	RequestedAt     time.Time
	Status          string // ChangePending or ChangeRejected
	ReviewNote      string // why it was rejected
}

// ReviewedFields are the registration fields a member may not change on
// an approved app without an administrator's approval, under the
// "approval" and "admins" registration policies: what users see on the
// consent page and where codes and tokens go or what they carry.
var ReviewedFields = []string{FieldName, FieldCompany, FieldLogoURL, FieldCallbackURL, FieldRedirectURIs,
	FieldPostLogoutRedirectURIs, FieldScopes, FieldGrantTypes, FieldClientType}

// WithReviewedFrom returns r with the ReviewedFields taken from src and
// every other field kept.
func (r Registration) WithReviewedFrom(src Registration) Registration {
	r.Name, r.Company, r.LogoURL, r.CallbackURL = src.Name, src.Company, src.LogoURL, src.CallbackURL
	r.RedirectURIs = slices.Clone(src.RedirectURIs)
	r.PostLogoutRedirectURIs = slices.Clone(src.PostLogoutRedirectURIs)
	r.Scopes = slices.Clone(src.Scopes)
	r.GrantTypes = slices.Clone(src.GrantTypes)
	r.ClientType = src.ClientType
	return r
}

// FieldChange is one field's value before and after a change, lists
// space-joined.
type FieldChange struct {
	Field         string // a Field… name (FieldCallbackURL, …)
	Before, After string
}

// ReviewedDiff returns the ReviewedFields whose values differ between
// before and after, in ReviewedFields order; empty when none does.
// Lists compare as sets in order (scopes as sorted by validation); the
// effective client type and grant types are compared, so "" and their
// defaults are the same.
func ReviewedDiff(before, after Registration) []FieldChange {
	var out []FieldChange
	for _, f := range ReviewedFields {
		b, a := reviewedValue(before, f), reviewedValue(after, f)
		if b != a {
			out = append(out, FieldChange{Field: f, Before: b, After: a})
		}
	}
	return out
}

func reviewedValue(r Registration, field string) string {
	switch field {
	case FieldName:
		return r.Name
	case FieldCompany:
		return r.Company
	case FieldLogoURL:
		return r.LogoURL
	case FieldCallbackURL:
		return r.CallbackURL
	case FieldRedirectURIs:
		return strings.Join(r.RedirectURIs, " ")
	case FieldPostLogoutRedirectURIs:
		return strings.Join(r.PostLogoutRedirectURIs, " ")
	case FieldScopes:
		return strings.Join(r.Scopes, " ")
	case FieldGrantTypes:
		return strings.Join(r.EffectiveGrantTypes(), " ")
	case FieldClientType:
		return r.EffectiveClientType()
	}
	return ""
}

// InvitationLifetime is how long an invitation to co-own an app waits
// for its answer.
const InvitationLifetime = 14 * 24 * time.Hour

// OwnerInvitation invites whoever has the username Username (as the
// inviter typed it; matched case-insensitively) to co-own an app. It is
// stored and listed whether or not such a user exists, so that the
// inviter learns nothing about who does; only the invitee, on their own
// page, can accept or decline it.
type OwnerInvitation struct {
	ID            string
	ClientID      string
	AppName       string // read only
	Username      string // as typed
	InvitedBy     string // user id
	InvitedByName string // username (read only)
	CreatedAt     time.Time
	ExpiresAt     time.Time
}
