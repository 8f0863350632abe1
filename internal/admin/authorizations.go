package admin

import (
	"context"
	"maps"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// AuthorizationStore keeps users' authorizations and revokes them.
type AuthorizationStore interface {
	Writer
	AuditAppender
	AuthorizationByID(ctx context.Context, id string) (domain.Authorization, error)
	ListAppAuthorizations(ctx context.Context, clientID, userQuery, after string, limit int) ([]domain.Authorization, string, error)
	ListAuthorizations(ctx context.Context, f domain.AuthorizationFilter) ([]domain.Authorization, string, error)
	CountRevocationImpact(ctx context.Context, f domain.AuthorizationFilter, now time.Time) (domain.RevocationImpact, error)
	ActiveAuthorizationIDs(ctx context.Context, f domain.AuthorizationFilter) ([]string, error)
	RevokeAuthorization(ctx context.Context, id, by string, at time.Time) (bool, error)
}

// AuthorizationService is the authorizations and revocation slice: the
// listings, the impact shown before a revocation, and the revocation
// cascade (revokeCascade) that revoking by user or app, deleting a user
// and deleting an app share, in one transaction.
type AuthorizationService struct {
	store AuthorizationStore
	recorder
	now func() time.Time
}

// Authorizations lists authorizations (see domain.AuthorizationFilter).
func (s *AuthorizationService) Authorizations(ctx context.Context, f domain.AuthorizationFilter) ([]domain.Authorization, string, error) {
	return s.store.ListAuthorizations(ctx, f)
}

// RevocationImpact says what revoking the active authorizations matching
// f would affect, for the confirmation shown before it happens.
func (s *AuthorizationService) RevocationImpact(ctx context.Context, f domain.AuthorizationFilter) (domain.RevocationImpact, error) {
	return s.store.CountRevocationImpact(ctx, f, s.now())
}

// RevokeAuthorizations revokes every active authorization matching f (at
// least one of UserID, ClientID must be set, or use RevokeAuthorization)
// in one transaction, and returns how many were revoked. Their access
// tokens get 401 on the next request; their refresh tokens invalid_grant.
// Errors: Invalid for an empty filter.
func (s *AuthorizationService) RevokeAuthorizations(ctx context.Context, f domain.AuthorizationFilter) (int, error) {
	if f.UserID == "" && f.ClientID == "" {
		return 0, apperr.Errorf(apperr.Invalid, "say whose authorizations to revoke: a user, an app, or both")
	}
	return s.revokeCascade(ctx, f, s.now(), map[string]any{"bulk_user_id": f.UserID, "bulk_client_id": f.ClientID})
}

// revokeCascade revokes every active authorization matching f at now and
// returns how many it revoked: their access tokens get 401 on the next
// request, their refresh tokens invalid_grant. It owns its transaction,
// which a caller's write transaction (deleting a user or an app) joins,
// so the cascade and the deletion commit together or not at all. With
// each set, every revocation is audited (authorization.revoke with each's
// details, the user, the app and the scopes); with each nil, the
// caller's own event counts them (app.delete).
func (s *AuthorizationService) revokeCascade(ctx context.Context, f domain.AuthorizationFilter, now time.Time, each map[string]any) (int, error) {
	n := 0
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		n = 0
		ids, err := s.store.ActiveAuthorizationIDs(ctx, f)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if each == nil {
				if _, err := s.store.RevokeAuthorization(ctx, id, audit.ActorFrom(ctx).Name, now); err != nil {
					return err
				}
			} else if err := s.revokeOne(ctx, id, now, maps.Clone(each)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// appAuthorizations returns one page (limit) of the app's authorizations
// after the cursor after, active first, then newest grant first; with a
// userQuery, only those of users whose username or display name contains
// it. Errors: Invalid for a malformed cursor.
func (s *AuthorizationService) appAuthorizations(ctx context.Context, clientID, userQuery, after string, limit int) ([]domain.Authorization, string, error) {
	return s.store.ListAppAuthorizations(ctx, clientID, userQuery, after, limit)
}

// RevokeAuthorization revokes one authorization. ownerID, when set,
// restricts it to that user's own authorizations (the profile page).
// Returns false when it was already revoked. Errors: NotFound (also for
// someone else's authorization).
func (s *AuthorizationService) RevokeAuthorization(ctx context.Context, id, ownerID string) (bool, error) {
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

func (s *AuthorizationService) revokeOne(ctx context.Context, id string, now time.Time, details map[string]any) error {
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

// activeAuthorizations returns every active authorization matching f.
func (s *AuthorizationService) activeAuthorizations(ctx context.Context, f domain.AuthorizationFilter) ([]domain.Authorization, error) {
	f.ActiveOnly, f.Limit = true, 1000
	var out []domain.Authorization
	for {
		page, next, err := s.store.ListAuthorizations(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		f.After = next
	}
}
