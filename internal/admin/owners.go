package admin

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// RegistrationPolicy returns who may register apps: domain.PolicyMembers
// (the default), PolicyApproval or PolicyAdmins.
func (s *Service) RegistrationPolicy(ctx context.Context) (string, error) {
	v, ok, err := s.store.Setting(ctx, domain.SettingAppRegistration)
	if err != nil || !ok || !domain.ValidRegistrationPolicy(v) {
		return domain.PolicyMembers, err
	}
	return v, nil
}

// SetRegistrationPolicy sets who may register apps. Apps already
// registered keep their status. Errors: Invalid for another value.
func (s *Service) SetRegistrationPolicy(ctx context.Context, policy string) error {
	if !domain.ValidRegistrationPolicy(policy) {
		return apperr.Errorf(apperr.Invalid, "app-registration must be members, approval or admins")
	}
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
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

// RegisterOwnApp registers an app owned by the signed-in user u, as the
// app-registration policy allows: under "members" it is active at once;
// under "approval" a non-admin's app is pending until an administrator
// approves it; under "admins" only administrators may register.
// Errors: Forbidden (policy "admins"); those of RegisterApp.
func (s *Service) RegisterOwnApp(ctx context.Context, u domain.User, reg domain.Registration) (RegisteredApp, error) {
	policy, err := s.RegistrationPolicy(ctx)
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
func (s *Service) ReviewApp(ctx context.Context, clientID string, approve bool, reason string) (domain.App, error) {
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
func (s *Service) UpdateApp(ctx context.Context, clientID string, reg domain.Registration) (AppEdit, error) {
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
			return err
		}
		if scopesChanged {
			ch, err := s.changeScopes(ctx, app, reg.Scopes, now)
			if err != nil {
				return err
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
				return err
			}
			app.Status, app.ReviewNote = domain.AppPending, ""
			details["status"] = map[string]any{"before": domain.AppRejected, "after": domain.AppPending}
		}
		app.Registration = reg
		out.App, out.Changes = app, changes
		return s.record(ctx, now, audit.ActionAppUpdate, audit.TargetApp, app.ClientID, map[string]any{"changes": details})
	})
	return out, err
}

// IsOwner reports whether the user owns or co-owns the app.
func (s *Service) IsOwner(ctx context.Context, clientID, userID string) (bool, error) {
	return s.store.IsAppOwner(ctx, strings.ToLower(clientID), userID)
}

// AppOwners returns the app's owners, the primary owner first.
func (s *Service) AppOwners(ctx context.Context, clientID string) ([]domain.AppOwner, error) {
	return s.store.AppOwners(ctx, strings.ToLower(clientID))
}

// AddOwner makes the user named username a co-owner of the app.
// Errors: NotFound (app or user); Invalid for a disabled or deleted user;
// Conflict when the user already owns it.
func (s *Service) AddOwner(ctx context.Context, clientID, username string) (domain.User, error) {
	var u domain.User
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		if u, err = s.activeUser(ctx, username); err != nil {
			return err
		}
		if ok, err := s.store.IsAppOwner(ctx, app.ClientID, u.ID); err != nil || ok {
			if ok {
				return apperr.Errorf(apperr.Conflict, "%s already owns %s.", u.Username, app.Name)
			}
			return err
		}
		now := s.now()
		if err := s.store.AddAppOwner(ctx, app.ClientID, u.ID, now); err != nil {
			return err
		}
		return s.record(ctx, now, audit.ActionAppOwnerAdd, audit.TargetApp, app.ClientID, map[string]any{"user_id": u.ID, "username": u.Username})
	})
	return u, err
}

func (s *Service) activeUser(ctx context.Context, username string) (domain.User, error) {
	u, err := s.UserByUsername(ctx, strings.TrimSpace(username))
	if err != nil {
		return u, err
	}
	if !u.Active() {
		return u, apperr.Errorf(apperr.Invalid, "%s is disabled or deleted and cannot own apps", u.Username)
	}
	return u, nil
}

// RemoveOwner removes a user from the app's owners. An app always keeps
// at least one owner; removing the primary owner makes the longest-standing
// remaining owner primary. Errors: NotFound (app, or not an owner);
// Conflict for the last owner.
func (s *Service) RemoveOwner(ctx context.Context, clientID, userID string) error {
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		return s.removeOwner(ctx, app, userID, s.now(), audit.ActionAppOwnerRemove)
	})
}

func (s *Service) removeOwner(ctx context.Context, app domain.App, userID string, now time.Time, action string) error {
	owners, err := s.store.AppOwners(ctx, app.ClientID)
	if err != nil {
		return err
	}
	idx := slices.IndexFunc(owners, func(o domain.AppOwner) bool { return o.UserID == userID })
	if idx < 0 {
		return apperr.Errorf(apperr.NotFound, "That user does not own %s.", app.Name)
	}
	if len(owners) == 1 {
		return apperr.Errorf(apperr.Conflict, "%s is the only owner of %s: an app always keeps at least one owner. Add another owner or hand it over first.", owners[0].Username, app.Name)
	}
	gone := owners[idx]
	if _, err := s.store.RemoveAppOwner(ctx, app.ClientID, userID); err != nil {
		return err
	}
	details := map[string]any{"user_id": gone.UserID, "username": gone.Username}
	if gone.Primary {
		rest := slices.Delete(slices.Clone(owners), idx, idx+1)
		slices.SortStableFunc(rest, func(a, b domain.AppOwner) int { return a.AddedAt.Compare(b.AddedAt) })
		if err := s.store.SetAppPrimaryOwner(ctx, app.ClientID, rest[0].UserID); err != nil {
			return err
		}
		details["new_primary"] = rest[0].Username
	}
	return s.record(ctx, now, action, audit.TargetApp, app.ClientID, details)
}

// HandOver gives the app to the co-owner named toUsername: they become
// its primary owner and fromUserID stops owning it. Only a co-owner —
// someone who accepted an invitation (Invitations) — can be handed an
// app, so nobody gets one without consent, and the answer for any other
// name is the same whether or not it is a user's. Errors: NotFound;
// Invalid (not a co-owner, oneself, or a disabled co-owner).
func (s *Service) HandOver(ctx context.Context, clientID, fromUserID, toUsername string) (domain.User, error) {
	var to domain.User
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		owners, err := s.store.AppOwners(ctx, app.ClientID)
		if err != nil {
			return err
		}
		toUsername = strings.TrimSpace(toUsername)
		if !slices.ContainsFunc(owners, func(o domain.AppOwner) bool { return strings.EqualFold(o.Username, toUsername) }) {
			return apperr.Errorf(apperr.Invalid, "Hand %s over to one of its co-owners: invite %s first, and once they accept, hand it over.", app.Name, toUsername)
		}
		if to, err = s.activeUser(ctx, toUsername); err != nil {
			return err
		}
		if to.ID == fromUserID {
			return apperr.Errorf(apperr.Invalid, "You already own %s; name someone else to hand it over to.", app.Name)
		}
		if ok, err := s.store.IsAppOwner(ctx, app.ClientID, fromUserID); err != nil || !ok {
			if err == nil {
				err = apperr.Errorf(apperr.NotFound, "You do not own %s.", app.Name)
			}
			return err
		}
		now := s.now()
		if err := s.store.AddAppOwner(ctx, app.ClientID, to.ID, now); err != nil {
			return err
		}
		if err := s.store.SetAppPrimaryOwner(ctx, app.ClientID, to.ID); err != nil {
			return err
		}
		if _, err := s.store.RemoveAppOwner(ctx, app.ClientID, fromUserID); err != nil {
			return err
		}
		return s.record(ctx, now, audit.ActionAppHandOver, audit.TargetApp, app.ClientID,
			map[string]any{"from_user_id": fromUserID, "to_user_id": to.ID, "to_username": to.Username})
	})
	return to, err
}

// Overview counts what the admin overview shows beside secret expiry:
// the apps waiting for approval (from the index apps_by_status).
type Overview struct {
	PendingApps int64
}

// OverviewCounts returns the overview's counts.
func (s *Service) OverviewCounts(ctx context.Context) (Overview, error) {
	n, err := s.store.CountApps(ctx, domain.AppPending)
	return Overview{PendingApps: n}, err
}

// SetPrimaryOwner makes the user named username the app's primary owner
// (adding them as an owner if needed; other owners stay). Errors:
// NotFound; Invalid for a disabled or deleted user.
func (s *Service) SetPrimaryOwner(ctx context.Context, clientID, username string) (domain.User, error) {
	var u domain.User
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		if u, err = s.activeUser(ctx, username); err != nil {
			return err
		}
		if app.OwnerID == u.ID {
			return nil
		}
		now := s.now()
		if err := s.store.AddAppOwner(ctx, app.ClientID, u.ID, now); err != nil {
			return err
		}
		if err := s.store.SetAppPrimaryOwner(ctx, app.ClientID, u.ID); err != nil {
			return err
		}
		return s.record(ctx, now, audit.ActionAppOwnerAdd, audit.TargetApp, app.ClientID,
			map[string]any{"user_id": u.ID, "username": u.Username, "primary": true, "before": app.OwnerUsername})
	})
	return u, err
}
