package admin

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// MaxSecretLifetimeDays is the longest secret lifetime the policy allows:
// five years, the seeds' lifetime. No secret lives without an expiry.
const MaxSecretLifetimeDays = 1827

// IssuedSecret is a new client secret, in clear this once.
type IssuedSecret struct {
	ClientID  string
	Slot      string
	Secret    string
	ExpiresAt time.Time
	Replaced  bool // an older secret in the slot was regenerated
}

func validSlot(slot string) error {
	if slot != domain.SlotPrimary && slot != domain.SlotAlternative {
		return apperr.Errorf(apperr.Invalid, "secret slot must be primary or alternative")
	}
	return nil
}

// activeApp returns the app with its active secrets (a lean lookup whose
// cost does not grow with the app's authorizations or tokens), refusing
// deleted ones. Errors: NotFound.
func (s *Service) activeApp(ctx context.Context, clientID string) (domain.App, error) {
	id, err := uuid.Parse(clientID)
	if err != nil {
		return domain.App{}, apperr.Errorf(apperr.NotFound, "No app is registered with client id %q.", clientID)
	}
	app, err := s.store.ClientByID(ctx, id.String())
	if apperr.Is(err, apperr.NotFound) {
		return app, apperr.Errorf(apperr.NotFound, "No app is registered with client id %q.", clientID)
	}
	if err != nil {
		return domain.App{}, err
	}
	if app.DeletedAt != nil {
		return domain.App{}, apperr.Errorf(apperr.NotFound, "The app %s was deleted.", app.ClientID)
	}
	return app, nil
}

// SecretLifetime returns the lifetime new secrets get: the policy setting
// in days, else the configured default (five years when 0).
func (s *Service) SecretLifetime(ctx context.Context) (time.Duration, error) {
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

// IssueSecret puts a new secret in slot (primary or alternative). When the
// slot holds a secret and replace is true, that secret is regenerated: it
// stops working and every token minted with it dies on the next request
// (seed 001, "Regenerate client secret") — O(1), one invalidation whatever
// the number of tokens. Errors: Invalid slot; NotFound app; Conflict when
// the slot is taken and replace is false.
func (s *Service) IssueSecret(ctx context.Context, clientID, slot string, replace bool) (IssuedSecret, error) {
	if err := validSlot(slot); err != nil {
		return IssuedSecret{}, err
	}
	var out IssuedSecret
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		now := s.now()
		lifetime, err := s.SecretLifetime(ctx)
		if err != nil {
			return err
		}
		action := audit.ActionSecretCreate
		details := map[string]any{"slot": slot}
		for _, old := range app.Secrets {
			if old.Slot != slot {
				continue
			}
			// An imported app's placeholder (its real secret lives
			// elsewhere) is always replaced.
			if !replace && !app.External {
				return apperr.Errorf(apperr.Conflict, "The app already has a %s secret; regenerate it instead.", slot)
			}
			if _, err := s.store.RetireSecret(ctx, app.ClientID, slot, now); err != nil {
				return err
			}
			action, out.Replaced = audit.ActionSecretRegenerate, true
			details["replaced_secret_id"] = old.ID
		}
		value := secret.New(secret.PrefixClientSecret)
		sec := domain.Secret{ID: uuid.NewString(), ClientID: app.ClientID, Slot: slot, Hash: secret.Hash(value),
			CreatedAt: now, ExpiresAt: domain.SecretExpiry(now, lifetime)}
		if err := s.store.CreateSecret(ctx, sec); err != nil {
			return err
		}
		if app.External {
			if err := s.store.SetAppNative(ctx, app.ClientID); err != nil {
				return err
			}
			details["was_external"] = true
		}
		details["secret_id"] = sec.ID
		details["expires_at"] = sec.ExpiresAt.Format(time.RFC3339)
		out = IssuedSecret{ClientID: app.ClientID, Slot: slot, Secret: value, ExpiresAt: sec.ExpiresAt, Replaced: out.Replaced}
		return s.record(ctx, now, action, audit.TargetSecret, app.ClientID, details)
	})
	return out, err
}

// RetireSecret retires the secret in slot: it stops working and the tokens
// minted with it die on the next request. Retiring the primary while an
// alternative exists promotes the alternative to primary (the end of a
// staged rotation). Errors: Invalid slot; NotFound app or empty slot.
func (s *Service) RetireSecret(ctx context.Context, clientID, slot string) (domain.Secret, error) {
	if err := validSlot(slot); err != nil {
		return domain.Secret{}, err
	}
	var out domain.Secret
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		now := s.now()
		if out, err = s.store.RetireSecret(ctx, app.ClientID, slot, now); err != nil {
			return err
		}
		details := map[string]any{"slot": slot, "secret_id": out.ID}
		if slot == domain.SlotPrimary {
			for _, other := range app.Secrets {
				if other.Slot == domain.SlotAlternative {
					if err := s.store.MoveSecretSlot(ctx, app.ClientID, domain.SlotAlternative, domain.SlotPrimary); err != nil {
						return err
					}
					details["promoted_secret_id"] = other.ID
				}
			}
		}
		return s.record(ctx, now, audit.ActionSecretRetire, audit.TargetSecret, app.ClientID, details)
	})
	return out, err
}

// SecretUse returns, for each active authorization of the app, the slot
// of the secret it last refreshed with ("" when that secret is gone).
func (s *Service) SecretUse(ctx context.Context, app domain.App) (map[string]string, error) {
	used, err := s.store.LastSecretUse(ctx, app.ClientID)
	if err != nil {
		return nil, err
	}
	return secretSlots(app, used), nil
}

// secretSlots maps each authorization's last secret id (used) to that
// secret's slot in app ("" when the secret is gone).
func secretSlots(app domain.App, used map[string]string) map[string]string {
	slotOf := make(map[string]string, len(app.Secrets))
	for _, sec := range app.Secrets {
		slotOf[sec.ID] = sec.Slot
	}
	out := make(map[string]string, len(used))
	for authz, secretID := range used {
		out[authz] = slotOf[secretID]
	}
	return out
}

// SecretUseOf is SecretUse for the given authorizations of app only (the
// page shown).
func (s *Service) SecretUseOf(ctx context.Context, app domain.App, authorizationIDs []string) (map[string]string, error) {
	used, err := s.store.LastSecretUseOf(ctx, authorizationIDs)
	if err != nil {
		return nil, err
	}
	return secretSlots(app, used), nil
}

// Authorizations lists authorizations (see domain.AuthorizationFilter).
func (s *Service) Authorizations(ctx context.Context, f domain.AuthorizationFilter) ([]domain.Authorization, string, error) {
	return s.store.ListAuthorizations(ctx, f)
}

// RevocationImpact says what revoking the active authorizations matching
// f would affect, for the confirmation shown before it happens.
func (s *Service) RevocationImpact(ctx context.Context, f domain.AuthorizationFilter) (domain.RevocationImpact, error) {
	return s.store.CountRevocationImpact(ctx, f, s.now())
}

// RevokeAuthorizations revokes every active authorization matching f (at
// least one of UserID, ClientID must be set, or use RevokeAuthorization)
// in one transaction, and returns how many were revoked. Their access
// tokens get 401 on the next request; their refresh tokens invalid_grant.
// Errors: Invalid for an empty filter.
func (s *Service) RevokeAuthorizations(ctx context.Context, f domain.AuthorizationFilter) (int, error) {
	if f.UserID == "" && f.ClientID == "" {
		return 0, apperr.Errorf(apperr.Invalid, "say whose authorizations to revoke: a user, an app, or both")
	}
	n := 0
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		n = 0
		ids, err := s.store.ActiveAuthorizationIDs(ctx, f)
		if err != nil {
			return err
		}
		now := s.now()
		for _, id := range ids {
			if err := s.revokeOne(ctx, id, now, map[string]any{"bulk_user_id": f.UserID, "bulk_client_id": f.ClientID}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// RevokeAuthorization revokes one authorization. ownerID, when set,
// restricts it to that user's own authorizations (the profile page).
// Returns false when it was already revoked. Errors: NotFound (also for
// someone else's authorization).
func (s *Service) RevokeAuthorization(ctx context.Context, id, ownerID string) (bool, error) {
	revoked := false
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		a, err := s.store.AuthorizationByID(ctx, id)
		if apperr.Is(err, apperr.NotFound) || (err == nil && ownerID != "" && a.UserID != ownerID) {
			return apperr.Errorf(apperr.NotFound, "No such authorization.")
		}
		if err != nil || !a.Active() {
			return err
		}
		revoked = true
		return s.revokeOne(ctx, id, s.now(), nil)
	})
	return revoked, err
}

func (s *Service) revokeOne(ctx context.Context, id string, now time.Time, details map[string]any) error {
	a, err := s.store.AuthorizationByID(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.store.RevokeAuthorization(ctx, id, audit.ActorFrom(ctx).Name, now); err != nil {
		return err
	}
	if details == nil {
		details = map[string]any{}
	}
	details["user_id"], details["client_id"], details["scopes"] = a.UserID, a.ClientID, a.Scopes
	return s.record(ctx, now, audit.ActionAuthorizationRevoke, audit.TargetAuthorization, id, details)
}

// DeleteApp deletes an app registration after the caller typed its name
// (confirmName must equal the app name exactly). In one transaction every
// authorization is revoked, the secrets retired and the app marked deleted:
// no new tokens, every minted token rejected on the next request,
// /oauth2/authorize answers 400. The record is kept for the audit trail.
// Errors: NotFound; Invalid when the typed name differs; Conflict when
// already deleted.
func (s *Service) DeleteApp(ctx context.Context, clientID, confirmName string) (int, error) {
	revoked := 0
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		if confirmName != app.Name {
			return &apperr.Error{Code: apperr.Invalid, Message: "Type the app name exactly to confirm the deletion.",
				Fields: map[string]string{"confirm": "Type “" + app.Name + "” exactly."}}
		}
		now := s.now()
		ids, err := s.store.ActiveAuthorizationIDs(ctx, domain.AuthorizationFilter{ClientID: app.ClientID})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := s.store.RevokeAuthorization(ctx, id, audit.ActorFrom(ctx).Name, now); err != nil {
				return err
			}
		}
		revoked = len(ids)
		if err := s.store.DeleteApp(ctx, app.ClientID, now); err != nil {
			return err
		}
		return s.record(ctx, now, audit.ActionAppDelete, audit.TargetApp, app.ClientID,
			map[string]any{"name": app.Name, "revoked_authorizations": revoked})
	})
	return revoked, err
}

// ThirdPartyOAuth reports the organization policy "Third-party application
// access via OAuth" (on unless set off).
func (s *Service) ThirdPartyOAuth(ctx context.Context) (bool, error) {
	v, ok, err := s.store.Setting(ctx, domain.SettingThirdPartyOAuth)
	return !ok || v != "off", err
}

// SetThirdPartyOAuth turns the policy on or off. While off, authorize and
// token still work but every /_apis/ call answers 401 TF400813 (seed 001
// FAQ). Takes effect on the next request.
func (s *Service) SetThirdPartyOAuth(ctx context.Context, on bool) error {
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
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
func (s *Service) SetSecretLifetimeDays(ctx context.Context, days int) error {
	if days < 1 || days > MaxSecretLifetimeDays {
		return apperr.Errorf(apperr.Invalid, "secret lifetime must be 1 to %d days (five years)", MaxSecretLifetimeDays)
	}
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		now := s.now()
		if err := s.store.SetSetting(ctx, domain.SettingSecretLifetimeDays, strconv.Itoa(days), now); err != nil {
			return err
		}
		return s.record(ctx, now, audit.ActionPolicySet, audit.TargetPolicy, domain.SettingSecretLifetimeDays, map[string]any{"after": days})
	})
}

// AuditEvents lists audit events, newest first (see audit.Filter).
func (s *Service) AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Event, bool, error) {
	return s.store.AuditEvents(ctx, f)
}

// WalkAudit calls fn for every event since since, oldest first.
func (s *Service) WalkAudit(ctx context.Context, since time.Time, fn func(audit.Event) bool) error {
	return s.store.WalkAudit(ctx, since, fn)
}

// VerifyAudit walks the whole chain and returns how many events it checked
// and the first broken link (nil when intact).
func (s *Service) VerifyAudit(ctx context.Context) (int64, *audit.Break, error) {
	return s.verifyAuditWith(ctx, audit.NewVerifier())
}

// VerifyAuditReaches is VerifyAudit that also fails (a Break) when the
// chain no longer reaches the signed checkpoint cp: event cp.Seq is
// missing (the newest events were deleted) or its hash is not cp.Head.
func (s *Service) VerifyAuditReaches(ctx context.Context, cp audit.Checkpoint) (int64, *audit.Break, error) {
	return s.verifyAuditWith(ctx, audit.NewCheckReaches(cp))
}

type chainWalk interface {
	Add(audit.Event) bool
	Result() (int64, *audit.Break)
}

func (s *Service) verifyAuditWith(ctx context.Context, v chainWalk) (int64, *audit.Break, error) {
	if err := s.store.WalkAudit(ctx, time.Time{}, v.Add); err != nil {
		return 0, nil, err
	}
	n, b := v.Result()
	return n, b, nil
}
