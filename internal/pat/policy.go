package pat

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// PolicyStore is what the policy use cases need (implemented by
// *store.DB). Lookups return NotFound.
type PolicyStore interface {
	Transactor
	AuditAppender
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string, at time.Time) error
	// LockSettings serializes the settings' changes until the write
	// transaction ends (across replicas; nothing on SQLite).
	LockSettings(ctx context.Context) error
	UserByUsername(ctx context.Context, username string) (domain.User, error)
	SetPATAllowed(ctx context.Context, userID string, allowed bool, at time.Time) (bool, error)
	PATAllowed(ctx context.Context, userID string) (bool, error)
	PATAllowlist(ctx context.Context) ([]string, error)
	WalkLivePATs(ctx context.Context, before time.Time, fn func(domain.PAT) error) error
}

// PolicyService is the organization's personal access token policies:
// reading and setting them (maximum lifespan, full-scope tokens, who may
// create tokens and the allowlist), the live tokens that break them and
// their revocation (through TokenService).
type PolicyService struct {
	recorder
	store  PolicyStore
	now    func() time.Time
	tokens *TokenService
}

// Policy is the organization's personal access token policies
// (`oauthdesk policy set pat-…`, the admin Settings page).
type Policy struct {
	MaxLifespanDays   int  // 0: none (one year)
	FullScopeDenied   bool // pat-full-scope deny
	CreationAllowlist bool // pat-creation allowlist
	Allowlist         []string
}

// Policy reads the current policies.
func (s *PolicyService) Policy(ctx context.Context) (Policy, error) {
	var p Policy
	if v, ok, err := s.store.Setting(ctx, domain.SettingPATMaxLifespan); err != nil {
		return p, err
	} else if ok {
		p.MaxLifespanDays, _ = strconv.Atoi(v)
	}
	if v, ok, err := s.store.Setting(ctx, domain.SettingPATFullScope); err != nil {
		return p, err
	} else if ok {
		p.FullScopeDenied = v == "deny"
	}
	if v, ok, err := s.store.Setting(ctx, domain.SettingPATCreation); err != nil {
		return p, err
	} else if ok {
		p.CreationAllowlist = v == "allowlist"
	}
	return p, nil
}

// PolicyWithAllowlist is Policy with the allowlisted usernames.
func (s *PolicyService) PolicyWithAllowlist(ctx context.Context) (Policy, error) {
	p, err := s.Policy(ctx)
	if err != nil {
		return p, err
	}
	p.Allowlist, err = s.store.PATAllowlist(ctx)
	return p, err
}

// allowed reports whether the user userID is on the creation allowlist.
func (s *PolicyService) allowed(ctx context.Context, userID string) (bool, error) {
	return s.store.PATAllowed(ctx, userID)
}

func (s *PolicyService) setPolicy(ctx context.Context, key, name, value string) error {
	now := s.now().UTC()
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockSettings(ctx); err != nil {
			return err
		}
		if err := s.store.SetSetting(ctx, key, value, now); err != nil {
			return err
		}
		_, err := s.store.AppendAudit(ctx, audit.New(ctx, now, audit.ActionPolicySet, audit.TargetPolicy, key, map[string]any{"policy": name, "value": value}))
		return err
	})
}

// SetMaxLifespan sets pat-max-lifespan (days, 0 = none; at most 365).
// Errors: Invalid.
func (s *PolicyService) SetMaxLifespan(ctx context.Context, days int) error {
	if days < 0 || days > 365 {
		return apperr.Errorf(apperr.Invalid, "pat-max-lifespan must be a number of days from 0 (none) to 365")
	}
	return s.setPolicy(ctx, domain.SettingPATMaxLifespan, "pat-max-lifespan", strconv.Itoa(days))
}

// SetFullScope sets pat-full-scope: "allow" or "deny". Errors: Invalid.
func (s *PolicyService) SetFullScope(ctx context.Context, v string) error {
	v = strings.ToLower(strings.TrimSpace(v))
	if v != "allow" && v != "deny" {
		return apperr.Errorf(apperr.Invalid, "pat-full-scope must be allow or deny")
	}
	return s.setPolicy(ctx, domain.SettingPATFullScope, "pat-full-scope", v)
}

// SetCreation sets pat-creation: "everyone" or "allowlist". Errors: Invalid.
func (s *PolicyService) SetCreation(ctx context.Context, v string) error {
	v = strings.ToLower(strings.TrimSpace(v))
	if v != "everyone" && v != "allowlist" {
		return apperr.Errorf(apperr.Invalid, "pat-creation must be everyone or allowlist")
	}
	return s.setPolicy(ctx, domain.SettingPATCreation, "pat-creation", v)
}

// SetAllowed adds username to (or removes them from) the creation
// allowlist. Errors: NotFound for an unknown user.
func (s *PolicyService) SetAllowed(ctx context.Context, username string, allowed bool) error {
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil {
		return apperr.Errorf(apperr.NotFound, "no user named %q", username)
	}
	now := s.now().UTC()
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockSettings(ctx); err != nil {
			return err
		}
		changed, err := s.store.SetPATAllowed(ctx, u.ID, allowed, now)
		if err != nil || !changed {
			return err
		}
		return s.record(ctx, now, ActionAllowlist, audit.TargetUser, u.ID, map[string]any{"username": u.Username, "allowed": allowed})
	})
}

// Violation is a live token that breaks the current policies: the
// policies never revoke silently, an admin revokes these (one click).
type Violation struct {
	PAT    domain.PAT
	Policy string // pat-max-lifespan, pat-full-scope
}

// MaxViolations bounds the list Violations returns.
const MaxViolations = 1000

// Violations lists the live tokens that break the current policies (at
// most MaxViolations) and how many there are in all.
func (s *PolicyService) Violations(ctx context.Context) ([]Violation, int, error) {
	p, err := s.Policy(ctx)
	if err != nil {
		return nil, 0, err
	}
	if p.MaxLifespanDays == 0 && !p.FullScopeDenied {
		return nil, 0, nil
	}
	now := s.now().UTC()
	var out []Violation
	total := 0
	err = s.store.WalkLivePATs(ctx, time.Time{}, func(t domain.PAT) error {
		if !now.Before(t.ExpiresAt) {
			return nil
		}
		pol := ""
		switch {
		case p.FullScopeDenied && t.FullAccess():
			pol = "pat-full-scope"
		case p.MaxLifespanDays > 0 && t.ExpiresAt.Sub(t.CreatedAt) > time.Duration(p.MaxLifespanDays)*24*time.Hour+time.Minute:
			pol = "pat-max-lifespan"
		}
		if pol != "" {
			total++
			if len(out) < MaxViolations {
				out = append(out, Violation{PAT: t, Policy: pol})
			}
		}
		return nil
	})
	return out, total, err
}

// RevokeViolations revokes every live token that breaks the current
// policies and returns how many.
func (s *PolicyService) RevokeViolations(ctx context.Context) (int, error) {
	n := 0
	for {
		list, _, err := s.Violations(ctx)
		if err != nil || len(list) == 0 {
			return n, err
		}
		ids := make([]string, len(list))
		for i, v := range list {
			ids[i] = v.PAT.ID
		}
		k, err := s.tokens.RevokeIDs(ctx, ids, ByAdmin)
		n += k
		if err != nil || k == 0 {
			return n, err
		}
	}
}
