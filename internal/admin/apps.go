package admin

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// RegisteredApp is the result of RegisterApp: the registration and its
// client secret in clear — the only time the secret exists outside the
// caller's hands.
type RegisteredApp struct {
	App          domain.App
	ClientSecret string
}

// RegisterApp validates reg (domain.ValidateRegistration), gives it a new
// client id (a GUID) and a primary client secret expiring after the secret
// lifetime (five years by default, seed 001), and stores both in one
// transaction. The secret is stored as its SHA-256 hash only.
// Errors: Invalid with per-field messages; NotFound when the owner does
// not exist.
func (s *Service) RegisterApp(ctx context.Context, ownerUsername string, reg domain.Registration) (RegisteredApp, error) {
	return s.registerApp(ctx, ownerUsername, reg, domain.AppActive)
}

func (s *Service) registerApp(ctx context.Context, ownerUsername string, reg domain.Registration, status string) (RegisteredApp, error) {
	reg, err := domain.ValidateRegistration(reg)
	if err != nil {
		return RegisteredApp{}, err
	}
	var out RegisteredApp
	err = s.store.WriteTx(ctx, func(ctx context.Context) error {
		owner, err := s.store.UserByUsername(ctx, ownerUsername)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.Errorf(apperr.NotFound, "owner %q is not a user; add it with `oauthdesk user add`", ownerUsername)
		}
		if err != nil {
			return err
		}
		now := s.now()
		lifetime, err := s.SecretLifetime(ctx)
		if err != nil {
			return err
		}
		if !owner.Active() {
			return apperr.Errorf(apperr.Invalid, "owner %q is disabled or deleted", ownerUsername)
		}
		app := domain.App{ClientID: uuid.NewString(), Registration: reg, OwnerID: owner.ID,
			OwnerUsername: owner.Username, CreatedAt: now, Status: status}
		// A public client (RFC 6749 §2.1) has no secret.
		value, secretID := "", ""
		if !reg.Public() {
			value = secret.New(secret.PrefixClientSecret)
			app.Secrets = []domain.Secret{{ID: uuid.NewString(), ClientID: app.ClientID, Slot: domain.SlotPrimary,
				Hash: secret.Hash(value), CreatedAt: now, ExpiresAt: domain.SecretExpiry(now, lifetime)}}
			secretID = app.Secrets[0].ID
		}
		if err := s.store.CreateApp(ctx, app); err != nil {
			return err
		}
		out = RegisteredApp{App: app, ClientSecret: value}
		return s.record(ctx, now, audit.ActionAppRegister, audit.TargetApp, app.ClientID, map[string]any{
			"name": reg.Name, "callback_url": reg.CallbackURL, "scopes": reg.Scopes, "owner": owner.Username,
			"secret_id": secretID, "status": status, "client_type": reg.EffectiveClientType(),
			"grant_types": reg.EffectiveGrantTypes()})
	})
	return out, err
}

// ListApps returns one page of app registrations (see domain.AppFilter).
func (s *Service) ListApps(ctx context.Context, f domain.AppFilter) (domain.AppPage, error) {
	return s.store.ListApps(ctx, f)
}

// AppDetail is an app with a page of its authorizations (active first,
// then newest grant first); Next is the cursor of the following page.
type AppDetail struct {
	App            domain.App
	Authorizations []domain.Authorization
	Next           string
}

// App returns one app registration with its authorizations. Errors:
// NotFound for an unknown or malformed client id.
func (s *Service) App(ctx context.Context, clientID string) (AppDetail, error) {
	return s.AppPage(ctx, clientID, "", "", 200)
}

// AppPage returns one app registration with one page (limit) of its
// authorizations after the cursor after (keyset: a deep page costs what
// the first does). Errors: NotFound for an unknown or malformed client
// id; Invalid for a malformed cursor.
func (s *Service) AppPage(ctx context.Context, clientID, userQuery, after string, limit int) (AppDetail, error) {
	id, err := uuid.Parse(clientID)
	if err != nil {
		return AppDetail{}, apperr.Errorf(apperr.NotFound, "No app is registered with client id %q.", clientID)
	}
	app, err := s.store.AppByClientID(ctx, strings.ToLower(id.String()))
	if err != nil {
		return AppDetail{}, err
	}
	auths, next, err := s.store.ListAppAuthorizations(ctx, app.ClientID, userQuery, after, limit)
	if err != nil {
		return AppDetail{}, err
	}
	return AppDetail{App: app, Authorizations: auths, Next: next}, nil
}

// SecretExpiries returns every active secret of every active app, soonest
// expiry first.
func (s *Service) SecretExpiries(ctx context.Context) ([]domain.ExpiringSecret, error) {
	return s.store.SecretExpiries(ctx)
}

// ExpiryOverview returns the dashboard's expiry summary at now: counts per
// state and per month from index range counts (no secret is read but the
// ten soonest), so its cost does not grow with the number of apps.
func (s *Service) ExpiryOverview(ctx context.Context, t domain.ExpiryThresholds) (reports.ExpiryOverview, error) {
	var o reports.ExpiryOverview
	err := s.store.ReadTx(ctx, func(ctx context.Context) error {
		var next []domain.ExpiringSecret
		if err := s.store.WalkSecretExpiries(ctx, time.Time{}, 10, func(e domain.ExpiringSecret) error {
			next = append(next, e)
			return nil
		}); err != nil {
			return err
		}
		var err error
		o, err = reports.BuildOverview(t, s.now(), func(after, until time.Time) (int64, error) {
			return s.store.CountSecretsExpiring(ctx, after, until)
		}, next)
		return err
	})
	return o, err
}

// WalkSecretExpiries calls fn with each active secret expiring at or
// before until (zero: all), soonest first, in batches (constant memory).
func (s *Service) WalkSecretExpiries(ctx context.Context, until time.Time, fn func(domain.ExpiringSecret) error) error {
	return s.store.WalkSecretExpiries(ctx, until, 0, fn)
}
