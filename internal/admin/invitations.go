package admin

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// InvitationStore keeps invitations to co-own apps (internal/store
// implements it on SQLite and PostgreSQL). Reads return only invitations
// unexpired at now whose app is not deleted; InvitationByID answers
// NotFound otherwise.
type InvitationStore interface {
	PutInvitation(ctx context.Context, inv domain.OwnerInvitation) error
	AppInvitations(ctx context.Context, clientID string, now time.Time) ([]domain.OwnerInvitation, error)
	UserInvitations(ctx context.Context, username string, now time.Time) ([]domain.OwnerInvitation, error)
	InvitationByID(ctx context.Context, id string, now time.Time) (domain.OwnerInvitation, error)
	CountAppInvitations(ctx context.Context, clientID string, now time.Time) (int64, error)
	DeleteInvitation(ctx context.Context, id string) (bool, error)
}

// Invitations are how an app gains a co-owner: an owner
// invites a username and the invitee accepts or declines on their own
// /profile/apps page. Whatever name is typed — a user's or not, disabled,
// deleted or an administrator's — the inviter gets the same answer and
// sees the invitation listed as typed until it is answered, cancelled or
// expires (domain.InvitationLifetime), so inviting is no oracle of who
// exists; and nobody becomes an owner without saying yes.
type Invitations struct {
	store interface {
		Transactor
		AuditAppender
		InvitationStore
		AppOwners(ctx context.Context, clientID string) ([]domain.AppOwner, error)
		AddAppOwner(ctx context.Context, clientID, userID string, at time.Time) error
	}
	recorder
	now  func() time.Time
	apps *AppService
}

// NewInvitations returns the co-owner invitations over svc's apps slice
// (the app) and st (invitations, owners and audit events).
func NewInvitations(svc *Service, st interface {
	Transactor
	AuditAppender
	InvitationStore
	AppOwners(ctx context.Context, clientID string) ([]domain.AppOwner, error)
	AddAppOwner(ctx context.Context, clientID, userID string, at time.Time) error
}) *Invitations {
	return &Invitations{store: st, recorder: recorder{st}, now: svc.AppService.now, apps: svc.AppService}
}

// MaxInvitationsPerApp bounds an app's unexpired invitations.
const MaxInvitationsPerApp = 20

// Invite invites username to co-own the app, on behalf of inviter (one of
// its owners). The answer never depends on whether the username is a
// user's: only its form is checked (the username rules of `user add`),
// and inviting a name again renews its invitation. Audited as
// app.owner_invite with the name as typed. Errors: Invalid (not a
// possible username, or the inviter's own); NotFound (app); Conflict
// when the name is one of the owners listed on the app's page, or
// MaxInvitationsPerApp are open.
func (iv *Invitations) Invite(ctx context.Context, clientID string, inviter domain.User, username string) (domain.OwnerInvitation, error) {
	username = strings.TrimSpace(username)
	if !usernameRE.MatchString(username) {
		return domain.OwnerInvitation{}, &apperr.Error{Code: apperr.Invalid, Message: "That is not a username: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
			Fields: map[string]string{"username": "Type the person's username."}}
	}
	if strings.EqualFold(username, inviter.Username) {
		return domain.OwnerInvitation{}, apperr.Errorf(apperr.Invalid, "You already own this app.")
	}
	var inv domain.OwnerInvitation
	err := iv.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := iv.apps.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		// The owners are on the inviter's page already: saying one of them
		// owns the app tells nothing new.
		owners, err := iv.store.AppOwners(ctx, app.ClientID)
		if err != nil {
			return err
		}
		for _, o := range owners {
			if strings.EqualFold(o.Username, username) {
				return apperr.Errorf(apperr.Conflict, "%s already owns %s.", o.Username, app.Name)
			}
		}
		now := iv.now()
		n, err := iv.store.CountAppInvitations(ctx, app.ClientID, now)
		if err != nil {
			return err
		}
		if n >= MaxInvitationsPerApp {
			return apperr.Errorf(apperr.Conflict, "%s has %d open invitations; cancel some first.", app.Name, n)
		}
		inv = domain.OwnerInvitation{ID: uuid.NewString(), ClientID: app.ClientID, AppName: app.Name, Username: username,
			InvitedBy: inviter.ID, InvitedByName: inviter.Username, CreatedAt: now, ExpiresAt: now.Add(domain.InvitationLifetime)}
		if err := iv.store.PutInvitation(ctx, inv); err != nil {
			return err
		}
		return iv.record(ctx, now, audit.ActionAppOwnerInvite, audit.TargetApp, app.ClientID,
			map[string]any{"username": username, "invitation_id": inv.ID, "expires_at": inv.ExpiresAt.Format(time.RFC3339)})
	})
	return inv, err
}

// ForApp returns the app's open invitations, oldest first.
func (iv *Invitations) ForApp(ctx context.Context, clientID string) ([]domain.OwnerInvitation, error) {
	return iv.store.AppInvitations(ctx, strings.ToLower(clientID), iv.now())
}

// ForUser returns the open invitations to u (by username), oldest first.
func (iv *Invitations) ForUser(ctx context.Context, u domain.User) ([]domain.OwnerInvitation, error) {
	return iv.store.UserInvitations(ctx, u.Username, iv.now())
}

// Cancel withdraws an invitation of the app (any of its owners may).
// Errors: NotFound (also for another app's invitation).
func (iv *Invitations) Cancel(ctx context.Context, clientID, id string) error {
	return iv.store.WriteTx(ctx, func(ctx context.Context) error {
		inv, err := iv.store.InvitationByID(ctx, id, iv.now())
		if err != nil || inv.ClientID != strings.ToLower(clientID) {
			return apperr.Errorf(apperr.NotFound, "That invitation does not exist or has expired.")
		}
		if _, err := iv.store.DeleteInvitation(ctx, inv.ID); err != nil {
			return err
		}
		return iv.record(ctx, iv.now(), audit.ActionAppInviteCancel, audit.TargetApp, inv.ClientID,
			map[string]any{"username": inv.Username, "invitation_id": inv.ID})
	})
}

// Answer accepts (u becomes a co-owner of the app: app.owner_add, by u,
// with the invitation) or declines an
// invitation to u; either way it is gone. Only the invitee can answer:
// anyone else, an expired invitation or a deleted app get NotFound. A
// disabled or deleted user cannot accept (they cannot sign in either).
// Errors: NotFound; Invalid (u is not active).
func (iv *Invitations) Answer(ctx context.Context, u domain.User, id string, accept bool) (domain.OwnerInvitation, error) {
	var inv domain.OwnerInvitation
	err := iv.store.WriteTx(ctx, func(ctx context.Context) error {
		var err error
		now := iv.now()
		inv, err = iv.store.InvitationByID(ctx, id, now)
		if err != nil || !strings.EqualFold(inv.Username, u.Username) {
			return apperr.Errorf(apperr.NotFound, "That invitation does not exist or has expired.")
		}
		if _, err := iv.store.DeleteInvitation(ctx, inv.ID); err != nil {
			return err
		}
		if !accept {
			return iv.record(ctx, now, audit.ActionAppInviteDecline, audit.TargetApp, inv.ClientID,
				map[string]any{"user_id": u.ID, "username": u.Username, "invitation_id": inv.ID})
		}
		if !u.Active() {
			return apperr.Errorf(apperr.Invalid, "%s is disabled or deleted and cannot own apps", u.Username)
		}
		app, err := iv.apps.activeApp(ctx, inv.ClientID)
		if err != nil {
			return err
		}
		if err := iv.store.AddAppOwner(ctx, app.ClientID, u.ID, now); err != nil {
			return err
		}
		return iv.record(ctx, now, audit.ActionAppOwnerAdd, audit.TargetApp, app.ClientID,
			map[string]any{"user_id": u.ID, "username": u.Username, "invitation_id": inv.ID, "invited_by": inv.InvitedByName})
	})
	return inv, err
}
