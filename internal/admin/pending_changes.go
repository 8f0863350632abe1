package admin

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// PendingChangeStore keeps the changes of approved apps that wait for an
// administrator (internal/store implements it on SQLite and PostgreSQL).
// PendingChangeOf answers NotFound when the app has none.
type PendingChangeStore interface {
	PutPendingChange(ctx context.Context, c domain.PendingChange) error
	PendingChangeOf(ctx context.Context, clientID string) (domain.PendingChange, error)
	DeletePendingChange(ctx context.Context, clientID string) (bool, error)
	SetPendingChangeStatus(ctx context.Context, clientID, status, note string) error
	PendingChanges(ctx context.Context, status string, limit int) ([]domain.PendingChange, bool, error)
	CountPendingChanges(ctx context.Context) (int64, error)
	PendingChangeStatuses(ctx context.Context, clientIDs []string) (map[string]string, error)
}

// ChangeReview holds members' edits of approved apps for review (issue
// 16): under the "approval" and "admins" registration policies a member's
// change to an active app's domain.ReviewedFields (name, company, logo,
// callback and redirect URIs, scopes, grant types, client type) waits as
// a pending change while the app keeps serving exactly its approved
// registration — consent, codes and tokens included — until an
// administrator approves it (then it applies as an administrator's edit
// would: UpdateApp) or rejects it, or an owner withdraws it. The other
// fields (description, URLs of the app's pages, PKCE) apply at once.
// Administrators' edits always apply at once.
type ChangeReview struct {
	store interface {
		Transactor
		AuditAppender
		PendingChangeStore
	}
	recorder
	now      func() time.Time
	apps     *AppService
	settings *SettingService
}

// NewChangeReview returns the review of pending changes over svc's apps
// slice (the app edits it applies) and settings slice (the registration
// policy), and st (pending changes and audit events).
func NewChangeReview(svc *Service, st interface {
	Transactor
	AuditAppender
	PendingChangeStore
}) *ChangeReview {
	return &ChangeReview{store: st, recorder: recorder{st}, now: svc.AppService.now, apps: svc.AppService, settings: svc.SettingService}
}

// OwnEdit is the outcome of EditOwnApp: what applied at once (Applied,
// as UpdateApp reports it) and what waits for an administrator (Held: the
// reviewed fields' before and after; empty when nothing waits).
type OwnEdit struct {
	Applied AppEdit
	Held    []domain.FieldChange
	// Withdrawn is set when the edit put the reviewed fields back to the
	// live values, which dropped a waiting change.
	Withdrawn bool
}

// ReviewRequired reports whether a non-administrator's edits of approved
// apps wait for review under the current registration policy.
func (r *ChangeReview) ReviewRequired(ctx context.Context) (bool, error) {
	policy, err := r.settings.RegistrationPolicy(ctx)
	return policy == domain.PolicyApproval || policy == domain.PolicyAdmins, err
}

// EditOwnApp saves u's edit of an app u owns (the owner's edit form).
// When review is required, u is not an administrator and the app is
// active, the reviewed fields that differ from the live registration are
// held as the app's pending change (replacing one it had) and the rest
// applies at once; an edit whose reviewed fields equal the live ones
// withdraws a waiting change. Otherwise it is UpdateApp. One transaction;
// the held change is audited as app.change_request with each field's
// before and after. Errors: those of UpdateApp.
func (r *ChangeReview) EditOwnApp(ctx context.Context, u domain.User, clientID string, reg domain.Registration) (OwnEdit, error) {
	required, err := r.ReviewRequired(ctx)
	if err != nil {
		return OwnEdit{}, err
	}
	if !required || u.Role == domain.RoleAdmin {
		ed, err := r.apps.UpdateApp(ctx, clientID, reg)
		return OwnEdit{Applied: ed}, err
	}
	reg, err = domain.ValidateRegistration(reg)
	if err != nil {
		return OwnEdit{}, err
	}
	var out OwnEdit
	err = r.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := r.apps.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		if app.Status != domain.AppActive {
			// Not yet approved (or rejected): the whole app is reviewed.
			out.Applied, err = r.apps.UpdateApp(ctx, clientID, reg)
			return err
		}
		live := app.Registration
		proposed := keepClientFields(live, reg)
		now := r.now()
		out.Held = domain.ReviewedDiff(live, proposed)
		if len(out.Held) == 0 {
			if out.Withdrawn, err = r.store.DeletePendingChange(ctx, app.ClientID); err != nil {
				return err
			}
			if out.Withdrawn {
				if err := r.record(ctx, now, audit.ActionAppChangeWithdraw, audit.TargetApp, app.ClientID,
					map[string]any{"name": app.Name, "by": "edit"}); err != nil {
					return err
				}
			}
		} else {
			if err := r.store.PutPendingChange(ctx, domain.PendingChange{ClientID: app.ClientID, Proposed: proposed,
				RequestedBy: u.ID, RequestedAt: now}); err != nil {
				return err
			}
			if err := r.record(ctx, now, audit.ActionAppChangeRequest, audit.TargetApp, app.ClientID,
				map[string]any{"name": app.Name, "changes": changeDetails(out.Held)}); err != nil {
				return err
			}
		}
		now2 := proposed.WithReviewedFrom(live)
		if registrationsEqual(live, now2) {
			out.Applied = AppEdit{App: app, Changes: map[string][2]any{}}
			return nil
		}
		out.Applied, err = r.apps.UpdateApp(ctx, clientID, now2)
		return err
	})
	return out, err
}

// registrationsEqual reports whether a and b hold the same values in
// every field UpdateApp compares.
func registrationsEqual(a, b domain.Registration) bool {
	ch := map[string][2]any{}
	clientFieldChanges(a, b, ch)
	return len(ch) == 0 && len(domain.ReviewedDiff(a, b)) == 0 && a.Description == b.Description && a.CompanyURL == b.CompanyURL &&
		a.AppURL == b.AppURL && a.TermsURL == b.TermsURL && a.PrivacyURL == b.PrivacyURL && a.RequirePKCE == b.RequirePKCE
}

func changeDetails(ch []domain.FieldChange) map[string]any {
	out := make(map[string]any, len(ch))
	for _, c := range ch {
		out[c.Field] = map[string]any{"before": c.Before, "after": c.After}
	}
	return out
}

// PendingChangeDetail is a pending change with the app it would change:
// the reviewed fields' before (live) and after (proposed) values.
type PendingChangeDetail struct {
	Change  domain.PendingChange
	App     domain.App
	Changes []domain.FieldChange
}

// Change returns the app's pending (or rejected) change with its diff
// against the live registration. ok is false when there is none.
func (r *ChangeReview) Change(ctx context.Context, clientID string) (PendingChangeDetail, bool, error) {
	app, err := r.apps.activeApp(ctx, clientID)
	if err != nil {
		return PendingChangeDetail{}, false, err
	}
	pc, err := r.store.PendingChangeOf(ctx, app.ClientID)
	if apperr.Is(err, apperr.NotFound) {
		return PendingChangeDetail{}, false, nil
	}
	if err != nil {
		return PendingChangeDetail{}, false, err
	}
	return r.detail(app, pc), true, nil
}

func (r *ChangeReview) detail(app domain.App, pc domain.PendingChange) PendingChangeDetail {
	return PendingChangeDetail{Change: pc, App: app, Changes: domain.ReviewedDiff(app.Registration, app.Registration.WithReviewedFrom(pc.Proposed))}
}

// QueueLimit is how many pending changes the approval queue shows.
const QueueLimit = 50

// Queue returns the changes waiting for an administrator, oldest first
// (at most QueueLimit), each with its diff, and whether there are more.
func (r *ChangeReview) Queue(ctx context.Context) ([]PendingChangeDetail, bool, error) {
	return r.Oldest(ctx, QueueLimit)
}

// Oldest returns the limit oldest changes waiting for an administrator,
// each with its diff, and whether there are more (the overview shows a
// few).
func (r *ChangeReview) Oldest(ctx context.Context, limit int) ([]PendingChangeDetail, bool, error) {
	list, more, err := r.store.PendingChanges(ctx, domain.ChangePending, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]PendingChangeDetail, 0, len(list))
	for _, pc := range list {
		app, err := r.apps.activeApp(ctx, pc.ClientID)
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		out = append(out, r.detail(app, pc))
	}
	return out, more, nil
}

// Statuses returns, by client id, the status (domain.ChangePending or
// domain.ChangeRejected) of the change of each of clientIDs that has one.
func (r *ChangeReview) Statuses(ctx context.Context, clientIDs []string) (map[string]string, error) {
	if len(clientIDs) == 0 {
		return map[string]string{}, nil
	}
	return r.store.PendingChangeStatuses(ctx, clientIDs)
}

// CountWaiting returns how many changes wait for an administrator.
func (r *ChangeReview) CountWaiting(ctx context.Context) (int64, error) {
	return r.store.CountPendingChanges(ctx)
}

// Approve applies the app's pending change: its reviewed fields replace
// the live ones exactly as an administrator's edit (UpdateApp: a new
// callback applies to new requests, narrowed scopes narrow every grant,
// widened ones need consent again), and the change is gone. One
// transaction, audited as app.change_approve (and app.update).
// Errors: NotFound (app, or no change); Conflict when the change was
// rejected; those of UpdateApp (the change no longer validates).
func (r *ChangeReview) Approve(ctx context.Context, clientID string) (AppEdit, error) {
	var ed AppEdit
	err := r.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := r.apps.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		pc, err := r.store.PendingChangeOf(ctx, app.ClientID)
		if err != nil {
			return err
		}
		if pc.Status != domain.ChangePending {
			return apperr.Errorf(apperr.Conflict, "The change to %s was rejected; its owners may submit it again.", app.Name)
		}
		diff := domain.ReviewedDiff(app.Registration, app.Registration.WithReviewedFrom(pc.Proposed))
		if ed, err = r.apps.UpdateApp(ctx, app.ClientID, app.Registration.WithReviewedFrom(pc.Proposed)); err != nil {
			return err
		}
		if _, err := r.store.DeletePendingChange(ctx, app.ClientID); err != nil {
			return err
		}
		return r.record(ctx, r.now(), audit.ActionAppChangeApprove, audit.TargetApp, app.ClientID,
			map[string]any{"name": app.Name, "requested_by": pc.RequestedByName, "changes": changeDetails(diff)})
	})
	return ed, err
}

// Reject turns the app's pending change down with a reason its owners
// see; the live registration stays. Errors: NotFound; Invalid for a
// missing or too long reason; Conflict when it was already rejected.
func (r *ChangeReview) Reject(ctx context.Context, clientID, reason string) (domain.App, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return domain.App{}, &apperr.Error{Code: apperr.Invalid, Message: "Say why the change is rejected; the app's owners see the reason.",
			Fields: map[string]string{"reason": "Give a reason the owners can act on."}}
	}
	if utf8.RuneCountInString(reason) > MaxReviewNote {
		return domain.App{}, apperr.Errorf(apperr.Invalid, "the reason must be at most %d characters", MaxReviewNote)
	}
	var app domain.App
	err := r.store.WriteTx(ctx, func(ctx context.Context) error {
		var err error
		if app, err = r.apps.activeApp(ctx, clientID); err != nil {
			return err
		}
		pc, err := r.store.PendingChangeOf(ctx, app.ClientID)
		if err != nil {
			return err
		}
		if pc.Status != domain.ChangePending {
			return apperr.Errorf(apperr.Conflict, "The change to %s was already rejected.", app.Name)
		}
		if err := r.store.SetPendingChangeStatus(ctx, app.ClientID, domain.ChangeRejected, reason); err != nil {
			return err
		}
		return r.record(ctx, r.now(), audit.ActionAppChangeReject, audit.TargetApp, app.ClientID,
			map[string]any{"name": app.Name, "requested_by": pc.RequestedByName, "reason": reason})
	})
	return app, err
}

// Withdraw drops the app's pending (or rejected) change: the owner takes
// it back. Errors: NotFound (app, or no change).
func (r *ChangeReview) Withdraw(ctx context.Context, clientID string) error {
	return r.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := r.apps.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		ok, err := r.store.DeletePendingChange(ctx, app.ClientID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Errorf(apperr.NotFound, "%s has no change waiting for approval.", app.Name)
		}
		return r.record(ctx, r.now(), audit.ActionAppChangeWithdraw, audit.TargetApp, app.ClientID,
			map[string]any{"name": app.Name, "by": "owner"})
	})
}
