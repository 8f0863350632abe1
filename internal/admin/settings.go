package admin

import (
	"context"
	"strconv"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// SettingStore keeps the policy settings (domain's setting keys).
type SettingStore interface {
	Writer
	AuditAppender
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string, at time.Time) error
	// LockSettings serializes the settings' changes until the write
	// transaction ends (across replicas; nothing on SQLite).
	LockSettings(ctx context.Context) error
}

// SettingService is the settings and policies slice: third-party OAuth
// access, the lifetime of new client secrets and who may register apps.
// secretLifetime is the configured default lifetime (0: five years).
type SettingService struct {
	store SettingStore
	recorder
	now            func() time.Time
	secretLifetime time.Duration
	pats           PATPolicies // nil: personal access tokens off (SetPATPolicies)
}

// RegistrationPolicy returns who may register apps: domain.PolicyMembers
// (the default), PolicyApproval or PolicyAdmins.
func (s *SettingService) RegistrationPolicy(ctx context.Context) (string, error) {
	v, ok, err := s.store.Setting(ctx, domain.SettingAppRegistration)
	if err != nil || !ok || !domain.ValidRegistrationPolicy(v) {
		return domain.PolicyMembers, err
	}
	return v, nil
}

// SetRegistrationPolicy sets who may register apps. Apps already
// registered keep their status. Errors: Invalid for another value.
func (s *SettingService) SetRegistrationPolicy(ctx context.Context, policy string) error {
	if !domain.ValidRegistrationPolicy(policy) {
		return apperr.Errorf(apperr.Invalid, "app-registration must be members, approval or admins")
	}
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockSettings(ctx); err != nil {
			return err
		}
		before, err := s.RegistrationPolicy(ctx)
		if err != nil {
			return err
		}
		now := s.now()
		if err := s.store.SetSetting(ctx, domain.SettingAppRegistration, policy, now); err != nil {
			return err
		}
		return s.record(ctx, now, audit.ActionPolicySet, audit.TargetPolicy, domain.SettingAppRegistration,
			map[string]any{"before": before, "after": policy})
	})
}

// MaxSecretLifetimeDays is the longest secret lifetime the policy allows:
// five years, the seeds' lifetime. No secret lives without an expiry.
const MaxSecretLifetimeDays = 1827

// SecretLifetime returns the lifetime new secrets get: the policy setting
// in days, else the configured default (five years when 0).
func (s *SettingService) SecretLifetime(ctx context.Context) (time.Duration, error) {
	v, ok, err := s.store.Setting(ctx, domain.SettingSecretLifetimeDays)
	if err != nil || !ok {
		return s.secretLifetime, err
	}
	days, err := strconv.Atoi(v)
	if err != nil || days < 1 {
		return s.secretLifetime, nil
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// ThirdPartyOAuth reports the organization policy "Third-party application
// access via OAuth" (on unless set off).
func (s *SettingService) ThirdPartyOAuth(ctx context.Context) (bool, error) {
	v, ok, err := s.store.Setting(ctx, domain.SettingThirdPartyOAuth)
	return !ok || v != "off", err
}

// SetThirdPartyOAuth turns the policy on or off. While off, authorize and
// token still work but every /_apis/ call answers 401 TF400813 (seed 001
// FAQ). Takes effect on the next request.
func (s *SettingService) SetThirdPartyOAuth(ctx context.Context, on bool) error {
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockSettings(ctx); err != nil {
			return err
		}
		before, err := s.ThirdPartyOAuth(ctx)
		if err != nil {
			return err
		}
		v := map[bool]string{true: "on", false: "off"}
		now := s.now()
		if err := s.store.SetSetting(ctx, domain.SettingThirdPartyOAuth, v[on], now); err != nil {
			return err
		}
		return s.record(ctx, now, audit.ActionPolicySet, audit.TargetPolicy, domain.SettingThirdPartyOAuth,
			map[string]any{"before": v[before], "after": v[on]})
	})
}

// SetSecretLifetimeDays sets the lifetime of new client secrets, 1 to
// MaxSecretLifetimeDays days. Existing secrets keep their expiry.
// Errors: Invalid out of range.
func (s *SettingService) SetSecretLifetimeDays(ctx context.Context, days int) error {
	if days < 1 || days > MaxSecretLifetimeDays {
		return apperr.Errorf(apperr.Invalid, "secret lifetime must be 1 to %d days (five years)", MaxSecretLifetimeDays)
	}
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockSettings(ctx); err != nil {
			return err
		}
		now := s.now()
		if err := s.store.SetSetting(ctx, domain.SettingSecretLifetimeDays, strconv.Itoa(days), now); err != nil {
			return err
		}
		return s.record(ctx, now, audit.ActionPolicySet, audit.TargetPolicy, domain.SettingSecretLifetimeDays, map[string]any{"after": days})
	})
}
