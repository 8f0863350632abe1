package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/pat"
)

// PATPolicies is the personal access token policies' use cases a
// settings change calls (implemented by *pat.PolicyService): the ones the
// settings page calls, each of which joins the caller's write
// transaction.
type PATPolicies interface {
	PolicyWithAllowlist(ctx context.Context) (pat.Policy, error)
	SetMaxLifespan(ctx context.Context, days int) error
	SetFullScope(ctx context.Context, v string) error
	SetCreation(ctx context.Context, v string) error
	SetAllowed(ctx context.Context, username string, allowed bool) error
}

// SetPATPolicies gives the settings slice the personal access token
// policies, so that UpdateSettings changes them with the other settings
// in one transaction. Without it (personal access tokens off) a change
// of a PAT policy is refused. Call it before serving.
func (s *SettingService) SetPATPolicies(p PATPolicies) { s.pats = p }

// SettingsChange is a change of several settings and policies at once,
// as the admin REST API's PATCH /settings sends it: a nil field keeps its
// value.
type SettingsChange struct {
	// AppRegistration is who may register apps: domain.PolicyMembers,
	// PolicyApproval or PolicyAdmins.
	AppRegistration *string
	// SecretLifetimeDays is the lifetime of new client secrets, 1 to
	// MaxSecretLifetimeDays days.
	SecretLifetimeDays *int
	// ThirdPartyOAuth turns third-party application access via OAuth on
	// or off.
	ThirdPartyOAuth *bool
	// PATMaxLifespanDays is pat-max-lifespan, 0 (none) to 365 days.
	PATMaxLifespanDays *int
	// PATFullScope is pat-full-scope: allow or deny.
	PATFullScope *string
	// PATCreation is pat-creation: everyone or allowlist.
	PATCreation *string
	// PATAllowlist replaces the creation allowlist (usernames).
	PATAllowlist *[]string
}

// Validate checks every given field; the Invalid error's Fields name
// each refused one (by its REST API name). pats tells whether personal
// access tokens are on: when off, any PAT field is refused.
func (ch SettingsChange) Validate(pats bool) error {
	bad := map[string]string{}
	if ch.AppRegistration != nil && !domain.ValidRegistrationPolicy(*ch.AppRegistration) {
		bad["app_registration"] = "must be members, approval or admins"
	}
	if ch.SecretLifetimeDays != nil && (*ch.SecretLifetimeDays < 1 || *ch.SecretLifetimeDays > MaxSecretLifetimeDays) {
		bad["secret_lifetime_days"] = fmt.Sprintf("must be 1 to %d days", MaxSecretLifetimeDays)
	}
	if ch.PATMaxLifespanDays != nil && (*ch.PATMaxLifespanDays < 0 || *ch.PATMaxLifespanDays > 365) {
		bad["pat_max_lifespan_days"] = "must be 0 (none) to 365 days"
	}
	if ch.PATFullScope != nil && *ch.PATFullScope != "allow" && *ch.PATFullScope != "deny" {
		bad["pat_full_scope"] = "must be allow or deny"
	}
	if ch.PATCreation != nil && *ch.PATCreation != "everyone" && *ch.PATCreation != "allowlist" {
		bad["pat_creation"] = "must be everyone or allowlist"
	}
	if ch.PATAllowlist != nil {
		for _, u := range *ch.PATAllowlist {
			if strings.TrimSpace(u) == "" {
				bad["pat_allowlist"] = "usernames must not be empty"
			}
		}
	}
	if !pats {
		for k, v := range map[string]bool{"pat_max_lifespan_days": ch.PATMaxLifespanDays != nil, "pat_full_scope": ch.PATFullScope != nil,
			"pat_creation": ch.PATCreation != nil, "pat_allowlist": ch.PATAllowlist != nil} {
			if v {
				bad[k] = "personal access tokens are off on this server"
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "Some settings are not valid; nothing was changed.", Fields: bad}
}

// UpdateSettings applies ch in one write transaction, after validating
// every field (Validate: nothing changes when one is refused). Inside
// the transaction it first serializes with every other settings change
// (store.LockSettings, across replicas), then calls check with the
// transaction's ctx (the caller's precondition on the settings as they
// are now, an HTTP If-Match; nil: none; its error aborts with nothing
// changed), then sets each field that differs from its current value
// through the same use case the settings page calls, so each is audited
// as there (policy.set per setting, pat.allowlist per user added or
// removed). The allowlist changes first; an unknown username is NotFound
// and rolls everything back. Errors: Invalid (with Fields); NotFound;
// check's.
func (s *SettingService) UpdateSettings(ctx context.Context, ch SettingsChange, check func(ctx context.Context) error) error {
	if err := ch.Validate(s.pats != nil); err != nil {
		return err
	}
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockSettings(ctx); err != nil {
			return err
		}
		if check != nil {
			if err := check(ctx); err != nil {
				return err
			}
		}
		if err := s.changePATPolicies(ctx, ch); err != nil {
			return err
		}
		if v := ch.AppRegistration; v != nil {
			cur, err := s.RegistrationPolicy(ctx)
			if err != nil {
				return err
			}
			if *v != cur {
				if err := s.SetRegistrationPolicy(ctx, *v); err != nil {
					return err
				}
			}
		}
		if v := ch.SecretLifetimeDays; v != nil {
			cur, err := s.SecretLifetime(ctx)
			if err != nil {
				return err
			}
			days := int(cur / (24 * time.Hour))
			if cur == 0 {
				days = 1826 // the default, five years (as the settings page shows it)
			}
			if *v != days {
				if err := s.SetSecretLifetimeDays(ctx, *v); err != nil {
					return err
				}
			}
		}
		if v := ch.ThirdPartyOAuth; v != nil {
			cur, err := s.ThirdPartyOAuth(ctx)
			if err != nil {
				return err
			}
			if *v != cur {
				if err := s.SetThirdPartyOAuth(ctx, *v); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// changePATPolicies sets the personal access token fields of ch that
// differ from the current policies, inside the caller's transaction.
func (s *SettingService) changePATPolicies(ctx context.Context, ch SettingsChange) error {
	if s.pats == nil || (ch.PATAllowlist == nil && ch.PATMaxLifespanDays == nil && ch.PATFullScope == nil && ch.PATCreation == nil) {
		return nil
	}
	cur, err := s.pats.PolicyWithAllowlist(ctx)
	if err != nil {
		return err
	}
	if ch.PATAllowlist != nil {
		for _, u := range *ch.PATAllowlist {
			if !slices.Contains(cur.Allowlist, u) {
				if err := s.pats.SetAllowed(ctx, u, true); err != nil {
					return err
				}
			}
		}
		for _, u := range cur.Allowlist {
			if !slices.Contains(*ch.PATAllowlist, u) {
				if err := s.pats.SetAllowed(ctx, u, false); err != nil {
					return err
				}
			}
		}
	}
	if v := ch.PATMaxLifespanDays; v != nil && *v != cur.MaxLifespanDays {
		if err := s.pats.SetMaxLifespan(ctx, *v); err != nil {
			return err
		}
	}
	if v := ch.PATFullScope; v != nil && (*v == "deny") != cur.FullScopeDenied {
		if err := s.pats.SetFullScope(ctx, *v); err != nil {
			return err
		}
	}
	if v := ch.PATCreation; v != nil && (*v == "allowlist") != cur.CreationAllowlist {
		if err := s.pats.SetCreation(ctx, *v); err != nil {
			return err
		}
	}
	return nil
}
