package admin

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// SoleOwnerStore finds the apps a user alone owns (internal/store
// implements it on SQLite and PostgreSQL).
type SoleOwnerStore interface {
	// LockOwnedApps locks the owner rows of every app the user owns
	// until the write transaction ends (PostgreSQL SELECT … FOR UPDATE;
	// nothing on SQLite, whose writers are serialized already).
	LockOwnedApps(ctx context.Context, userID string) error
	SoleOwnedApps(ctx context.Context, userID string, limit int) ([]domain.App, error)
	// CoOwnedApps: the undeleted apps the user owns with at least one
	// other active owner, by name, at most limit (≤ 0: all).
	CoOwnedApps(ctx context.Context, userID string, limit int) ([]domain.App, error)
}

// Offboarding deletes or disables a user who may be the only active owner
// of apps: those apps are handed over to the successors an administrator
// names, in the same transaction as the delete or disable, so that no app
// is left with nobody who can manage it. That transaction first locks the
// owner rows of every app the user owns (store.LockOwnedApps), before the
// user's change and its audit event, in the order every other change of
// an app's owners takes them (owner rows, then the audit chain): a
// concurrent removal or hand-over of one of those apps, or the offboarding
// of a co-owner, on any replica, runs wholly before or after it, so the
// read of "no other active owner" is never stale.
type Offboarding struct {
	store interface {
		Transactor
		AuditAppender
		SoleOwnerStore
		handOverStore
	}
	recorder
	now    func() time.Time
	users  *UserService
	owners *OwnerService
}

// handOverStore moves an app to its new primary owner.
type handOverStore interface {
	AddAppOwner(ctx context.Context, clientID, userID string, at time.Time) error
	SetAppPrimaryOwner(ctx context.Context, clientID, userID string) error
	RemoveAppOwner(ctx context.Context, clientID, userID string) (bool, error)
}

// NewOffboarding returns the offboarding use cases over svc's users
// slice (the delete or disable) and owners slice (the successors), and st
// (sole-owned apps, the hand-over and its audit events).
func NewOffboarding(svc *Service, st interface {
	Transactor
	AuditAppender
	SoleOwnerStore
	handOverStore
}) *Offboarding {
	return &Offboarding{store: st, recorder: recorder{st}, now: svc.UserService.now, users: svc.UserService, owners: svc.OwnerService}
}

// HandOff is one app handed over and the user who took it over.
type HandOff struct {
	App domain.App // client id and name only
	To  domain.User
}

// Successors names who takes over each app a user alone owns: client id →
// username; the key AllApps names the successor of every app not named
// on its own.
type Successors map[string]string

// AllApps is the Successors key for every app without its own successor.
const AllApps = "*"

// NewOwnerField is the form field (and apperr field) of the successor of
// every app without its own: "new_owner".
const NewOwnerField = "new_owner"

// AppOwnerField is the form field (and apperr field) of the successor of
// one app: "new_owner." followed by its client id.
func AppOwnerField(clientID string) string { return NewOwnerField + "." + clientID }

// of returns the successor named for the app, else the one for all apps,
// and the field that named it (AppOwnerField or NewOwnerField).
func (s Successors) of(clientID string) (string, string) {
	if v := strings.TrimSpace(s[clientID]); v != "" {
		return v, AppOwnerField(clientID)
	}
	return strings.TrimSpace(s[AllApps]), NewOwnerField
}

// SoleOwnedApps returns the undeleted apps the user owns with no other
// active owner (co-owners deleted or disabled do not count), by name, at
// most limit (≤ 0: all): what deleting or disabling the user would leave
// without a manager.
func (o *Offboarding) SoleOwnedApps(ctx context.Context, userID string, limit int) ([]domain.App, error) {
	return o.store.SoleOwnedApps(ctx, userID, limit)
}

// CoOwnedApps returns the undeleted apps the user owns with at least one
// other active owner, by name, at most limit (≤ 0: all): the apps
// deleting the user removes them from (their other owners keep them).
func (o *Offboarding) CoOwnedApps(ctx context.Context, userID string, limit int) ([]domain.App, error) {
	return o.store.CoOwnedApps(ctx, userID, limit)
}

// DeleteUser hands every app the user alone owns over to its successor
// (who becomes its primary owner; the user stops owning it; audited as
// app.hand_over with reason "user deleted"), removes the user from the
// owners of every app with another active owner (audited per app as
// app.owner_remove with reason "user deleted"; a primary's place goes to
// the longest-standing active owner) and deletes the user
// (Service.DeleteUser), all in one transaction, so that a deleted user
// owns no app. Returns how many authorizations were revoked and the apps
// handed over, by name. Errors:
// Invalid, nothing changed, with a field per successor at fault
// (NewOwnerField when apps have no successor, or for the one named for
// all apps; AppOwnerField for one app's) when a successor is unknown,
// disabled, deleted or the user; those of Service.DeleteUser.
func (o *Offboarding) DeleteUser(ctx context.Context, id string, to Successors) (int, []HandOff, error) {
	var revoked int
	var moved []HandOff
	err := o.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := o.store.LockOwnedApps(ctx, id); err != nil {
			return err
		}
		u, err := o.users.User(ctx, id)
		if err != nil {
			return err
		}
		// The user's own rules (the last administrator, a deleted user)
		// answer first; the hand-over joins the same transaction.
		if revoked, err = o.users.DeleteUser(ctx, id); err != nil {
			return err
		}
		if moved, err = o.handOver(ctx, u, to, "user deleted"); err != nil {
			return err
		}
		return o.leaveCoOwned(ctx, u, "user deleted")
	})
	if err != nil {
		return 0, nil, err
	}
	return revoked, moved, nil
}

// leaveCoOwned removes u from the owners of every app it owns with
// another active owner, inside the caller's write transaction (which
// locked those apps' owner rows first, see Offboarding). Errors: Conflict when an app's other
// owners were removed meanwhile (nothing changed).
func (o *Offboarding) leaveCoOwned(ctx context.Context, u domain.User, reason string) error {
	apps, err := o.store.CoOwnedApps(ctx, u.ID, 0)
	if err != nil {
		return err
	}
	now := o.now()
	for _, app := range apps {
		if err := o.owners.removeOwner(ctx, app, u.ID, now, audit.ActionAppOwnerRemove,
			map[string]any{"name": app.Name, "reason": reason, "by": "administrator"}); err != nil {
			return err
		}
	}
	return nil
}

// DisableUser hands every app the user alone owns over to its successor
// as DeleteUser does (reason "user disabled") and disables the user
// (Service.SetDisabled), in one transaction. Errors: as DeleteUser's,
// and those of Service.SetDisabled.
func (o *Offboarding) DisableUser(ctx context.Context, id string, to Successors) (domain.User, []HandOff, error) {
	var u domain.User
	var moved []HandOff
	err := o.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := o.store.LockOwnedApps(ctx, id); err != nil {
			return err
		}
		var err error
		if u, err = o.users.SetDisabled(ctx, id, true); err != nil {
			return err
		}
		moved, err = o.handOver(ctx, u, to, "user disabled")
		return err
	})
	if err != nil {
		return domain.User{}, nil, err
	}
	return u, moved, nil
}

// handOver moves every app the user u alone owns to its successor,
// inside the caller's write transaction (after the user's own change;
// the transaction locked the apps' owner rows first, see Offboarding).
// Every successor is checked before anything moves; the refusal names
// each field at fault (NewOwnerField, AppOwnerField) so that the
// confirmation can show each reason beside its app.
func (o *Offboarding) handOver(ctx context.Context, u domain.User, to Successors, reason string) ([]HandOff, error) {
	apps, err := o.store.SoleOwnedApps(ctx, u.ID, 0)
	if err != nil {
		return nil, err
	}
	moves := make([]HandOff, 0, len(apps))
	users := map[string]domain.User{} // by lower-cased username
	refused := map[string]string{}    // by lower-cased username: why not
	fields := map[string]string{}
	missing := 0
	for _, app := range apps {
		name, field := to.of(app.ClientID)
		if name == "" {
			missing++
			continue
		}
		key := strings.ToLower(name)
		if why, ok := refused[key]; ok {
			fields[field] = why
			continue
		}
		next, ok := users[key]
		if !ok {
			next, err = o.owners.activeUser(ctx, name)
			switch {
			case apperr.Is(err, apperr.NotFound):
				refused[key] = "No user is named " + name + "."
			case apperr.Is(err, apperr.Invalid):
				refused[key] = next.Username + " is disabled or deleted and cannot own apps."
			case err != nil:
				return nil, err
			case next.ID == u.ID:
				refused[key] = u.Username + " is the one leaving: name someone else."
			default:
				users[key] = next
			}
			if why, bad := refused[key]; bad {
				fields[field] = why
				continue
			}
		}
		moves = append(moves, HandOff{App: app, To: next})
	}
	if missing > 0 && fields[NewOwnerField] == "" {
		fields[NewOwnerField] = "Name who takes over " + countApps(missing, "the app", "the apps") + " without a new owner of " + pronounOf(missing) + " own."
	}
	if len(fields) > 0 {
		return nil, &apperr.Error{Code: apperr.Invalid,
			Message: "Nothing changed: " + u.Username + " alone owns apps, and each needs an active user to take it over. Fix the new owners marked below.",
			Fields:  fields}
	}
	now := o.now()
	for _, m := range moves {
		app, next := m.App, m.To
		if err := o.store.AddAppOwner(ctx, app.ClientID, next.ID, now); err != nil {
			return nil, err
		}
		if err := o.store.SetAppPrimaryOwner(ctx, app.ClientID, next.ID); err != nil {
			return nil, err
		}
		if _, err := o.store.RemoveAppOwner(ctx, app.ClientID, u.ID); err != nil {
			return nil, err
		}
		if err := o.record(ctx, now, audit.ActionAppHandOver, audit.TargetApp, app.ClientID, map[string]any{
			"name": app.Name, "user_id": u.ID, "from_user_id": u.ID, "from_username": u.Username, "to_user_id": next.ID, "to_username": next.Username,
			"reason": reason, "by": "administrator"}); err != nil {
			return nil, err
		}
	}
	return moves, nil
}

// countApps is "the app" for one, else "the 3 apps" (with many's words).
func countApps(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return strings.Replace(many, "the ", "the "+strconv.Itoa(n)+" ", 1)
}

func pronounOf(n int) string {
	if n == 1 {
		return "its"
	}
	return "their"
}
