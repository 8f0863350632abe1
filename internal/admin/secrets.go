package admin

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// SecretStore keeps client secrets and their slots.
type SecretStore interface {
	Writer
	AuditAppender
	CreateSecret(ctx context.Context, s domain.Secret) error
	RetireSecret(ctx context.Context, clientID, slot string, at time.Time) (domain.Secret, error)
	MoveSecretSlot(ctx context.Context, clientID, from, to string) error
	SetAppNative(ctx context.Context, clientID string) error
	LastSecretUse(ctx context.Context, clientID string) (map[string]string, error)
	LastSecretUseOf(ctx context.Context, authorizationIDs []string) (map[string]string, error)
}

// SecretService is the client secrets slice: issue, regenerate and
// retire a secret (shown once, stored hashed), and which secret each
// authorization last used. It calls the apps slice (the app) and the
// settings slice (the secret lifetime).
type SecretService struct {
	store SecretStore
	recorder
	now      func() time.Time
	apps     *AppService
	settings *SettingService
}

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

// IssueSecret puts a new secret in slot (primary or alternative). When the
// slot holds a secret and replace is true, that secret is regenerated: it
// stops working and every token minted with it dies on the next request
// (seed 001, "Regenerate client secret") — O(1), one invalidation whatever
// the number of tokens. Errors: Invalid slot; NotFound app; Conflict when
// the slot is taken and replace is false.
func (s *SecretService) IssueSecret(ctx context.Context, clientID, slot string, replace bool) (IssuedSecret, error) {
	if err := validSlot(slot); err != nil {
		return IssuedSecret{}, err
	}
	var out IssuedSecret
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.apps.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		now := s.now()
		lifetime, err := s.settings.SecretLifetime(ctx)
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
func (s *SecretService) RetireSecret(ctx context.Context, clientID, slot string) (domain.Secret, error) {
	if err := validSlot(slot); err != nil {
		return domain.Secret{}, err
	}
	var out domain.Secret
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.apps.activeApp(ctx, clientID)
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
func (s *SecretService) SecretUse(ctx context.Context, app domain.App) (map[string]string, error) {
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
func (s *SecretService) SecretUseOf(ctx context.Context, app domain.App, authorizationIDs []string) (map[string]string, error) {
	used, err := s.store.LastSecretUseOf(ctx, authorizationIDs)
	if err != nil {
		return nil, err
	}
	return secretSlots(app, used), nil
}

// checkedApp runs change (IssueSecret or RetireSecret, which join the
// transaction) when check accepts the app as it is when the change
// applies: inside one write transaction the app is locked
// (store.LockApp) and read as App returns it, then check runs (an HTTP
// If-Match; nil: none); its error aborts with nothing changed.
func (s *SecretService) checkedApp(ctx context.Context, clientID string, check func(current domain.App) error, change func(ctx context.Context) error) error {
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		cur, err := s.apps.lockedApp(ctx, clientID)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		return change(ctx)
	})
}

// IssueSecretIf is IssueSecret when check accepts the app as it is when
// the secret is issued (see checkedApp). Errors: check's; IssueSecret's.
func (s *SecretService) IssueSecretIf(ctx context.Context, clientID, slot string, replace bool, check func(current domain.App) error) (IssuedSecret, error) {
	var out IssuedSecret
	err := s.checkedApp(ctx, clientID, check, func(ctx context.Context) error {
		var err error
		out, err = s.IssueSecret(ctx, clientID, slot, replace)
		return err
	})
	return out, err
}

// RetireSecretIf is RetireSecret when check accepts the app as it is when
// the secret is retired (see checkedApp). Errors: check's; RetireSecret's.
func (s *SecretService) RetireSecretIf(ctx context.Context, clientID, slot string, check func(current domain.App) error) (domain.Secret, error) {
	var out domain.Secret
	err := s.checkedApp(ctx, clientID, check, func(ctx context.Context) error {
		var err error
		out, err = s.RetireSecret(ctx, clientID, slot)
		return err
	})
	return out, err
}
