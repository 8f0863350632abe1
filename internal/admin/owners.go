package admin

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// OwnerStore keeps who owns which app.
type OwnerStore interface {
	Writer
	AuditAppender
	AddAppOwner(ctx context.Context, clientID, userID string, at time.Time) error
	RemoveAppOwner(ctx context.Context, clientID, userID string) (bool, error)
	AppOwners(ctx context.Context, clientID string) ([]domain.AppOwner, error)
	IsAppOwner(ctx context.Context, clientID, userID string) (bool, error)
	SetAppPrimaryOwner(ctx context.Context, clientID, userID string) error
}

// OwnerService is the owners slice: an app's owners, co-owners added or
// removed, the primary owner and the hand-over. It calls the apps slice
// (the app) and the users slice (the owner by name).
type OwnerService struct {
	store OwnerStore
	recorder
	now   func() time.Time
	apps  *AppService
	users *UserService
}

// IsOwner reports whether the user owns or co-owns the app.
func (s *OwnerService) IsOwner(ctx context.Context, clientID, userID string) (bool, error) {
	return s.store.IsAppOwner(ctx, strings.ToLower(clientID), userID)
}

// AppOwners returns the app's owners, the primary owner first.
func (s *OwnerService) AppOwners(ctx context.Context, clientID string) ([]domain.AppOwner, error) {
	return s.store.AppOwners(ctx, strings.ToLower(clientID))
}

// AddOwner makes the user named username a co-owner of the app.
// Errors: NotFound (app or user); Invalid for a disabled or deleted user;
// Conflict when the user already owns it.
func (s *OwnerService) AddOwner(ctx context.Context, clientID, username string) (domain.User, error) {
	var u domain.User
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.apps.activeApp(ctx, clientID)
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

func (s *OwnerService) activeUser(ctx context.Context, username string) (domain.User, error) {
	u, err := s.users.UserByUsername(ctx, strings.TrimSpace(username))
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
// remaining active owner primary (else the longest-standing one). Errors: NotFound (app, or not an owner);
// Conflict for the last owner.
func (s *OwnerService) RemoveOwner(ctx context.Context, clientID, userID string) error {
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.apps.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		return s.removeOwner(ctx, app, userID, s.now(), audit.ActionAppOwnerRemove, nil)
	})
}

// RemovalRefused returns why userID, one of owners (the app's, as
// AppOwners lists them), may not stop owning the app, or nil: a Conflict
// for its only owner, or for its only active one while the others are
// disabled or deleted (domain.LastActiveOwner). The confirmation page
// asks it before offering the removal; removeOwner before doing it.
func RemovalRefused(app domain.App, owners []domain.AppOwner, userID string) error {
	idx := slices.IndexFunc(owners, func(o domain.AppOwner) bool { return o.UserID == userID })
	switch {
	case idx < 0:
		return nil
	case len(owners) == 1:
		return apperr.Errorf(apperr.Conflict, "%s is the only owner of %s: an app always keeps at least one owner. Add another owner or hand it over first.", owners[idx].Username, app.Name)
	case domain.LastActiveOwner(owners, userID):
		return apperr.Errorf(apperr.Conflict, "%s is the only active owner of %s (no other owner is active): an app always keeps an owner who can manage it. Add another owner or hand it over first.", owners[idx].Username, app.Name)
	}
	return nil
}

// removeOwner removes userID from the app's owners inside the caller's
// write transaction (the owner rows locked first, see AppOwners) and
// records action with the removed owner and, if it was the primary, the
// new one (the longest-standing active owner left, else the
// longest-standing one); extra details are added to the event. Errors:
// NotFound (not an owner); Conflict for the last owner, or the last
// active one (domain.LastActiveOwner).
func (s *OwnerService) removeOwner(ctx context.Context, app domain.App, userID string, now time.Time, action string, extra map[string]any) error {
	owners, err := s.store.AppOwners(ctx, app.ClientID)
	if err != nil {
		return err
	}
	idx := slices.IndexFunc(owners, func(o domain.AppOwner) bool { return o.UserID == userID })
	if idx < 0 {
		return apperr.Errorf(apperr.NotFound, "That user does not own %s.", app.Name)
	}
	if err := RemovalRefused(app, owners, userID); err != nil {
		return err
	}
	gone := owners[idx]
	if _, err := s.store.RemoveAppOwner(ctx, app.ClientID, userID); err != nil {
		return err
	}
	details := map[string]any{"user_id": gone.UserID, "username": gone.Username}
	for k, v := range extra {
		details[k] = v
	}
	if gone.Primary {
		rest := slices.Delete(slices.Clone(owners), idx, idx+1)
		active := func(o domain.AppOwner) int {
			if o.Active() {
				return 0
			}
			return 1
		}
		slices.SortStableFunc(rest, func(a, b domain.AppOwner) int {
			if d := active(a) - active(b); d != 0 {
				return d
			}
			return a.AddedAt.Compare(b.AddedAt)
		})
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
func (s *OwnerService) HandOver(ctx context.Context, clientID, fromUserID, toUsername string) (domain.User, error) {
	var to domain.User
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.apps.activeApp(ctx, clientID)
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

// SetPrimaryOwner makes the user named username the app's primary owner
// (adding them as an owner if needed; other owners stay). Errors:
// NotFound; Invalid for a disabled or deleted user.
func (s *OwnerService) SetPrimaryOwner(ctx context.Context, clientID, username string) (domain.User, error) {
	var u domain.User
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := s.apps.activeApp(ctx, clientID)
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
