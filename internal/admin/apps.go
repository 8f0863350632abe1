package admin

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// AppStore is what the apps slice reads and writes: app registrations
// and their review status.
type AppStore interface {
	Writer
	AuditAppender
	CreateApp(ctx context.Context, app domain.App) error
	AppByClientID(ctx context.Context, clientID string) (domain.App, error)
	ClientByID(ctx context.Context, clientID string) (domain.App, error)
	ListApps(ctx context.Context, f domain.AppFilter) (domain.AppPage, error)
	UpdateAppRegistration(ctx context.Context, clientID string, r domain.Registration) error
	// LockApp locks the app's row until the write transaction ends
	// (PostgreSQL SELECT … FOR UPDATE; nothing on SQLite).
	LockApp(ctx context.Context, clientID string) error
	SetAppStatus(ctx context.Context, clientID, status, note string) error
	CountApps(ctx context.Context, status string) (int64, error)
	DeleteApp(ctx context.Context, clientID string, at time.Time) error
}

// AppService is the apps slice: registration (with the first client
// secret), the registration policy's review of pending apps, edits with
// their field-by-field changes, the listing and detail, and deletion. It
// calls the users slice (owners by name), the settings slice (secret
// lifetime, registration policy), the app scopes slice (a registration's
// new scopes) and the authorizations slice (an app's authorizations, the
// revocation cascade of a deletion).
type AppService struct {
	store AppStore
	recorder
	now       func() time.Time
	users     *UserService
	settings  *SettingService
	authz     *AuthorizationService
	appScopes *AppScopeService
}

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
func (s *AppService) RegisterApp(ctx context.Context, ownerUsername string, reg domain.Registration) (RegisteredApp, error) {
	return s.registerApp(ctx, ownerUsername, reg, domain.AppActive)
}

func (s *AppService) registerApp(ctx context.Context, ownerUsername string, reg domain.Registration, status string) (RegisteredApp, error) {
	reg, err := domain.ValidateRegistration(reg)
	if err != nil {
		return RegisteredApp{}, err
	}
	var out RegisteredApp
	err = s.store.WriteTx(ctx, func(ctx context.Context) error {
		owner, err := s.users.UserByUsername(ctx, ownerUsername)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.Errorf(apperr.NotFound, "owner %q is not a user; add it with `oauthdesk user add`", ownerUsername)
		}
		if err != nil {
			return err
		}
		now := s.now()
		lifetime, err := s.settings.SecretLifetime(ctx)
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
func (s *AppService) ListApps(ctx context.Context, f domain.AppFilter) (domain.AppPage, error) {
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
func (s *AppService) App(ctx context.Context, clientID string) (AppDetail, error) {
	return s.AppPage(ctx, clientID, "", "", 200)
}

// AppPage returns one app registration with one page (limit) of its
// authorizations after the cursor after (keyset: a deep page costs what
// the first does). Errors: NotFound for an unknown or malformed client
// id; Invalid for a malformed cursor.
func (s *AppService) AppPage(ctx context.Context, clientID, userQuery, after string, limit int) (AppDetail, error) {
	app, err := s.appByID(ctx, clientID)
	if err != nil {
		return AppDetail{}, err
	}
	auths, next, err := s.authz.appAuthorizations(ctx, app.ClientID, userQuery, after, limit)
	if err != nil {
		return AppDetail{}, err
	}
	return AppDetail{App: app, Authorizations: auths, Next: next}, nil
}

// appByID returns the app registration of clientID, deleted or not.
// Errors: NotFound for an unknown or malformed client id.
func (s *AppService) appByID(ctx context.Context, clientID string) (domain.App, error) {
	id, err := uuid.Parse(clientID)
	if err != nil {
		return domain.App{}, apperr.Errorf(apperr.NotFound, "No app is registered with client id %q.", clientID)
	}
	return s.store.AppByClientID(ctx, strings.ToLower(id.String()))
}

// RegisterOwnApp registers an app owned by the signed-in user u, as the
// app-registration policy allows: under "members" it is active at once;
// under "approval" a non-admin's app is pending until an administrator
// approves it; under "admins" only administrators may register.
// Errors: Forbidden (policy "admins"); those of RegisterApp.
func (s *AppService) RegisterOwnApp(ctx context.Context, u domain.User, reg domain.Registration) (RegisteredApp, error) {
	policy, err := s.settings.RegistrationPolicy(ctx)
	if err != nil {
		return RegisteredApp{}, err
	}
	status := domain.AppActive
	if u.Role != domain.RoleAdmin {
		switch policy {
		case domain.PolicyAdmins:
			return RegisteredApp{}, ErrOnlyAdminsRegister
		case domain.PolicyApproval:
			status = domain.AppPending
		}
	}
	return s.registerApp(ctx, u.Username, reg, status)
}

// ErrOnlyAdminsRegister is the answer to a non-administrator registering
// an app (or asking for the registration form) under the "admins" policy.
var ErrOnlyAdminsRegister = apperr.Errorf(apperr.Forbidden, "Only administrators may register apps here. Ask an administrator to register yours.")

// MaxReviewNote is the longest rejection reason, in characters.
const MaxReviewNote = 500

// ReviewApp approves (the app becomes active: it can be authorized and
// get tokens) or rejects a pending app. A rejection needs a reason, which
// the app's owners see on their page. Errors: NotFound; Conflict when the
// app is not pending; Invalid for a missing or too long reason.
func (s *AppService) ReviewApp(ctx context.Context, clientID string, approve bool, reason string) (domain.App, error) {
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return domain.App{}, &apperr.Error{Code: apperr.Invalid, Message: "Say why the app is rejected; its owners see the reason.",
			Fields: map[string]string{"reason": "Give a reason the owners can act on."}}
	}
	if utf8.RuneCountInString(reason) > MaxReviewNote {
		return domain.App{}, apperr.Errorf(apperr.Invalid, "the reason must be at most %d characters", MaxReviewNote)
	}
	var app domain.App
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		var err error
		if app, err = s.activeApp(ctx, clientID); err != nil {
			return err
		}
		if app.Status != domain.AppPending {
			return apperr.Errorf(apperr.Conflict, "%s is not waiting for approval (it is %s).", app.Name, app.Status)
		}
		now := s.now()
		status, action := domain.AppActive, audit.ActionAppApprove
		if !approve {
			status, action = domain.AppRejected, audit.ActionAppReject
		}
		if err := s.store.SetAppStatus(ctx, app.ClientID, status, reason); err != nil {
			return err
		}
		app.Status, app.ReviewNote = status, reason
		return s.record(ctx, now, action, audit.TargetApp, app.ClientID, map[string]any{"name": app.Name, "reason": reason})
	})
	return app, err
}

// AppEdit is the outcome of UpdateApp: the fields that changed (before
// and after) and, when the scopes changed, what that did.
type AppEdit struct {
	App     domain.App
	Changes map[string][2]any
	Scopes  *ScopeChange
}

// UpdateApp replaces an app's registration after exactly the
// registration's validation (domain.ValidateRegistration). A new callback
// URL applies to new authorize requests; a code issued for the old one
// fails at exchange. Narrowed scopes narrow every authorization at once
// (ChangeAppScopes); widened scopes never widen a grant, so users consent
// again. A rejected app goes back to pending review. One transaction;
// audited with each changed field's before and after.
// Errors: Invalid with per-field messages; NotFound.
func (s *AppService) UpdateApp(ctx context.Context, clientID string, reg domain.Registration) (AppEdit, error) {
	reg, err := domain.ValidateRegistration(reg)
	if err != nil {
		return AppEdit{}, err
	}
	var out AppEdit
	err = s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		out, err = s.updateApp(ctx, app, reg)
		return err
	})
	return out, err
}

// EditApp is UpdateApp for a change made against the app as it is when
// the change applies — optimistic concurrency (an HTTP If-Match, RFC 9110
// §13.1.1) without a lost update. Inside the write transaction it locks
// the app (PostgreSQL SELECT … FOR UPDATE; a concurrent edit of the same
// app waits, then sees this one's result), reads it as App returns it
// (owner, secrets; deleted or not) and calls edit with it: edit checks
// the caller's precondition and returns the new registration, or an
// error that aborts the change with nothing written. The registration is
// then validated and applied exactly as UpdateApp does, in the same
// transaction. Errors: edit's; NotFound (unknown or deleted app);
// Invalid with per-field messages.
func (s *AppService) EditApp(ctx context.Context, clientID string, edit func(current domain.App) (domain.Registration, error)) (AppEdit, error) {
	var out AppEdit
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		cur, err := s.lockedApp(ctx, clientID)
		if err != nil {
			return err
		}
		reg, err := edit(cur)
		if err != nil {
			return err
		}
		if reg, err = domain.ValidateRegistration(reg); err != nil {
			return err
		}
		app, err := s.activeApp(ctx, cur.ClientID)
		if err != nil {
			return err
		}
		out, err = s.updateApp(ctx, app, reg)
		return err
	})
	return out, err
}

// lockedApp locks the app's row until the write transaction in ctx ends
// (store.LockApp), then returns it as App does, deleted or not. Errors:
// NotFound for an unknown or malformed client id.
func (s *AppService) lockedApp(ctx context.Context, clientID string) (domain.App, error) {
	if id, err := uuid.Parse(clientID); err == nil {
		if err := s.store.LockApp(ctx, strings.ToLower(id.String())); err != nil {
			return domain.App{}, err
		}
	}
	return s.appByID(ctx, clientID)
}

// updateApp applies the validated registration reg to app inside the
// caller's write transaction and audits each changed field.
func (s *AppService) updateApp(ctx context.Context, app domain.App, reg domain.Registration) (AppEdit, error) {
	var out AppEdit
	now := s.now()
	old := app.Registration
	reg = keepClientFields(old, reg)
	changes := map[string][2]any{}
	for _, f := range []struct {
		name   string
		before string
		after  string
	}{
		{domain.FieldName, old.Name, reg.Name}, {domain.FieldCompany, old.Company, reg.Company},
		{domain.FieldDescription, old.Description, reg.Description}, {domain.FieldCompanyURL, old.CompanyURL, reg.CompanyURL},
		{domain.FieldAppURL, old.AppURL, reg.AppURL}, {domain.FieldCallbackURL, old.CallbackURL, reg.CallbackURL},
		{domain.FieldLogoURL, old.LogoURL, reg.LogoURL}, {domain.FieldTermsURL, old.TermsURL, reg.TermsURL},
		{domain.FieldPrivacyURL, old.PrivacyURL, reg.PrivacyURL},
	} {
		if f.before != f.after {
			changes[f.name] = [2]any{f.before, f.after}
		}
	}
	if old.RequirePKCE != reg.RequirePKCE {
		changes[domain.FieldRequirePKCE] = [2]any{old.RequirePKCE, reg.RequirePKCE}
	}
	clientFieldChanges(old, reg, changes)
	scopesChanged := !slices.Equal(old.Scopes, reg.Scopes)
	keep := reg
	keep.Scopes = old.Scopes
	if err := s.store.UpdateAppRegistration(ctx, app.ClientID, keep); err != nil {
		return out, err
	}
	if scopesChanged {
		ch, err := s.appScopes.changeScopes(ctx, app, reg.Scopes, now)
		if err != nil {
			return out, err
		}
		out.Scopes = &ch
		changes[domain.FieldScopes] = [2]any{old.Scopes, reg.Scopes}
	}
	details := map[string]any{}
	for k, v := range changes {
		details[k] = map[string]any{"before": v[0], "after": v[1]}
	}
	if app.Status == domain.AppRejected {
		if err := s.store.SetAppStatus(ctx, app.ClientID, domain.AppPending, ""); err != nil {
			return out, err
		}
		app.Status, app.ReviewNote = domain.AppPending, ""
		details["status"] = map[string]any{"before": domain.AppRejected, "after": domain.AppPending}
	}
	app.Registration = reg
	out.App, out.Changes = app, changes
	return out, s.record(ctx, now, audit.ActionAppUpdate, audit.TargetApp, app.ClientID, map[string]any{"changes": details})
}

// Overview counts what the admin overview shows beside secret expiry:
// the apps waiting for approval (from the index apps_by_status).
type Overview struct {
	PendingApps int64
}

// OverviewCounts returns the overview's counts.
func (s *AppService) OverviewCounts(ctx context.Context) (Overview, error) {
	n, err := s.store.CountApps(ctx, domain.AppPending)
	return Overview{PendingApps: n}, err
}

// activeApp returns the app with its active secrets (a lean lookup whose
// cost does not grow with the app's authorizations or tokens), refusing
// deleted ones. Errors: NotFound.
func (s *AppService) activeApp(ctx context.Context, clientID string) (domain.App, error) {
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

// DeleteApp deletes an app registration after the caller typed its name
// (confirmName must equal the app name exactly). In one transaction every
// authorization is revoked, the secrets retired and the app marked deleted:
// no new tokens, every minted token rejected on the next request,
// /oauth2/authorize answers 400. The record is kept for the audit trail.
// Errors: NotFound; Invalid when the typed name differs; Conflict when
// already deleted.
func (s *AppService) DeleteApp(ctx context.Context, clientID, confirmName string) (int, error) {
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
		if revoked, err = s.authz.revokeCascade(ctx, domain.AuthorizationFilter{ClientID: app.ClientID}, now, nil); err != nil {
			return err
		}
		if err := s.store.DeleteApp(ctx, app.ClientID, now); err != nil {
			return err
		}
		return s.record(ctx, now, audit.ActionAppDelete, audit.TargetApp, app.ClientID,
			map[string]any{"name": app.Name, "revoked_authorizations": revoked})
	})
	return revoked, err
}

// DeleteAppIf is DeleteApp (confirmed by the app's own name) when check
// accepts the app as it is when the deletion applies: inside the write
// transaction the app is locked (store.LockApp) and read as App returns
// it, then check runs (an HTTP If-Match; nil: none); its error aborts
// with nothing changed. Errors: check's; those of DeleteApp.
func (s *AppService) DeleteAppIf(ctx context.Context, clientID string, check func(current domain.App) error) (int, error) {
	revoked := 0
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		cur, err := s.lockedApp(ctx, clientID)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		revoked, err = s.DeleteApp(ctx, cur.ClientID, cur.Name) // joins this transaction
		return err
	})
	return revoked, err
}
