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

// ActionClientGrantRevoke is audited when an owner or administrator
// revokes one of an app's own grants (client_credentials).
const ActionClientGrantRevoke = "client_grant.revoke"

// ClientGrantStore keeps the app's own grants (client_credentials,
// RFC 6749 §4.4); internal/store implements it. RevokeClientGrant appends
// the invalidation itself and answers false when no such live grant exists.
type ClientGrantStore interface {
	ClientGrants(ctx context.Context, clientID string) ([]domain.ClientGrant, error)
	RevokeClientGrant(ctx context.Context, clientID, id string, at time.Time) (bool, error)
}

// ClientGrants shows and revokes the app's own grants and switches the
// client_credentials grant type on or off.
type ClientGrants struct {
	store interface {
		Transactor
		AuditAppender
		ClientGrantStore
	}
	recorder
	now  func() time.Time
	apps *AppService
}

// NewClientGrants returns the slice over svc's apps slice (the app and
// its edits) and st (its grants and audit events).
func NewClientGrants(svc *Service, st interface {
	Transactor
	AuditAppender
	ClientGrantStore
}) *ClientGrants {
	return &ClientGrants{store: st, recorder: recorder{st}, now: svc.AppService.now, apps: svc.AppService}
}

// List returns the app's own grants, live ones first (at most 500).
func (g *ClientGrants) List(ctx context.Context, clientID string) ([]domain.ClientGrant, error) {
	return g.store.ClientGrants(ctx, strings.ToLower(clientID))
}

// Revoke revokes one live grant of the app: its tokens are refused on the
// next request (Bearer check, introspection); the app may get a new one
// while client_credentials stays on. Audited as client_grant.revoke.
// Errors: NotFound (app, or no such live grant).
func (g *ClientGrants) Revoke(ctx context.Context, clientID, id string) error {
	return g.store.WriteTx(ctx, func(ctx context.Context) error {
		app, err := g.apps.activeApp(ctx, clientID)
		if err != nil {
			return err
		}
		now := g.now()
		ok, err := g.store.RevokeClientGrant(ctx, app.ClientID, id, now)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Errorf(apperr.NotFound, "The app has no live client credentials grant %q.", id)
		}
		return g.record(ctx, now, ActionClientGrantRevoke, audit.TargetApp, app.ClientID, map[string]any{"grant_id": id, "client_id": app.ClientID})
	})
}

// SetEnabled switches the app's client_credentials grant type on or off
// through UpdateApp (so it is audited as app.update with the grant types
// before and after). Switching off revokes every live grant of the app in
// the same transaction: its tokens are refused on the next request.
// Errors: Invalid (a public client cannot have it); NotFound.
func (g *ClientGrants) SetEnabled(ctx context.Context, clientID string, on bool) (domain.App, error) {
	app, err := g.apps.activeApp(ctx, clientID)
	if err != nil {
		return domain.App{}, err
	}
	reg := app.Registration
	grants := slices.DeleteFunc(slices.Clone(reg.EffectiveGrantTypes()), func(s string) bool { return s == domain.GrantClientCredentials })
	if on {
		grants = append(grants, domain.GrantClientCredentials)
	}
	reg.GrantTypes = grants
	edit, err := g.apps.UpdateApp(ctx, app.ClientID, reg)
	return edit.App, err
}
