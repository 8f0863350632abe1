package pat

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// TokenStore is what the token use cases need (implemented by
// *store.DB). Lookups return NotFound.
type TokenStore interface {
	Transactor
	AuditAppender
	CreatePAT(ctx context.Context, p domain.PAT) error
	PATByID(ctx context.Context, id string) (domain.PAT, error)
	UpdatePAT(ctx context.Context, p domain.PAT) error
	RevokePATs(ctx context.Context, ids []string, by string, at time.Time) ([]domain.PAT, error)
	ListPATs(ctx context.Context, f domain.PATFilter) (domain.PATPage, error)
	CountPATs(ctx context.Context, f domain.PATFilter, max int) (int, error)
	PATIDs(ctx context.Context, f domain.PATFilter, max int) ([]string, error)
}

// TokenService is the tokens themselves: a person creates, lists, edits
// and revokes their own (the dashboard and the Lifecycle API); an
// administrator lists, counts and revokes anyone's, one by one or in bulk
// (/admin/tokens, the admin API). Creation and edits are checked against
// the policies (PolicyService). Every change is one transaction with its
// audit event.
type TokenService struct {
	recorder
	store    TokenStore
	scopes   *scope.Catalog
	now      func() time.Time
	policies *PolicyService
}

// Request is a token to create or the changes to one: a name, an expiry
// and scopes (catalog scopes, or [ScopeFullAccess]).
type Request struct {
	Name      string
	Scopes    []string
	ExpiresAt time.Time
}

// Created is a new token: the record and the token itself, shown once.
type Created struct {
	PAT   domain.PAT
	Token string
}

// MaxNameLen bounds a token's name (characters).
const MaxNameLen = 100

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", refuse("displayNameRequired", "", apperr.Invalid, "Give the token a name.")
	}
	if utf8.RuneCountInString(name) > MaxNameLen || strings.ContainsAny(name, "\x00\r\n") {
		return "", refuse("invalidDisplayName", "", apperr.Invalid, "The name must be one line of at most %d characters.", MaxNameLen)
	}
	return name, nil
}

// normScopes validates scopes: [app_token] alone, or catalog scopes.
func (s *TokenService) normScopes(in []string) ([]string, error) {
	var list []string
	for _, v := range in {
		list = append(list, strings.Fields(v)...)
	}
	if len(list) == 0 {
		return nil, refuse("invalidScope", "", apperr.Invalid, "Choose full access or at least one scope.")
	}
	for _, v := range list {
		if v == domain.ScopeFullAccess {
			if len(list) > 1 {
				return nil, refuse("invalidScope", "", apperr.Invalid, "Full access (app_token) already includes every scope: choose it alone.")
			}
			return []string{domain.ScopeFullAccess}, nil
		}
	}
	out, err := s.scopes.Validate(list)
	if err != nil {
		return nil, refuse("invalidScope", "", apperr.Invalid, "%s", apperr.ErrorMessage(err))
	}
	return out, nil
}

// checkExpiry applies the one-year bound and the lifespan policy.
func (s *TokenService) checkExpiry(ctx context.Context, now, exp time.Time) error {
	if !exp.After(now) {
		return refuse("invalidValidTo", "", apperr.Invalid, "The expiry must be in the future.")
	}
	p, err := s.policies.Policy(ctx)
	if err != nil {
		return err
	}
	if p.MaxLifespanDays > 0 && exp.After(now.AddDate(0, 0, p.MaxLifespanDays).Add(time.Minute)) {
		return refuse("patLifespanPolicyViolation", "pat-max-lifespan", apperr.Invalid,
			"The organization's policy pat-max-lifespan allows tokens of at most %d days; choose an earlier expiry.", p.MaxLifespanDays)
	}
	if exp.After(now.Add(MaxLifetime).Add(time.Minute)) {
		return refuse("invalidValidTo", "", apperr.Invalid, "A token lives at most one year; choose an earlier expiry.")
	}
	return nil
}

func (s *TokenService) checkFullScope(ctx context.Context, scopes []string) error {
	if len(scopes) != 1 || scopes[0] != domain.ScopeFullAccess {
		return nil
	}
	p, err := s.policies.Policy(ctx)
	if err != nil {
		return err
	}
	if p.FullScopeDenied {
		return refuse("fullScopePatPolicyViolation", "pat-full-scope", apperr.Invalid,
			"The organization's policy pat-full-scope refuses full-access tokens; choose the scopes the token needs.")
	}
	return nil
}

// Create makes a token for u. Errors (*Error): displayNameRequired,
// invalidDisplayName, invalidScope, invalidValidTo,
// patLifespanPolicyViolation, fullScopePatPolicyViolation (Invalid);
// accessDenied (Forbidden) under pat-creation allowlist for a user not on
// it, or for a disabled user.
func (s *TokenService) Create(ctx context.Context, u domain.User, req Request) (Created, error) {
	name, err := validName(req.Name)
	if err != nil {
		return Created{}, err
	}
	scopes, err := s.normScopes(req.Scopes)
	if err != nil {
		return Created{}, err
	}
	now := s.now().UTC()
	if err := s.checkExpiry(ctx, now, req.ExpiresAt); err != nil {
		return Created{}, err
	}
	if err := s.checkFullScope(ctx, scopes); err != nil {
		return Created{}, err
	}
	if u.DisabledAt != nil || u.DeletedAt != nil {
		return Created{}, refuse("accessDenied", "", apperr.Forbidden, "A disabled or deleted user cannot create tokens.")
	}
	p, err := s.policies.Policy(ctx)
	if err != nil {
		return Created{}, err
	}
	if p.CreationAllowlist {
		ok, err := s.policies.allowed(ctx, u.ID)
		if err != nil {
			return Created{}, err
		}
		if !ok {
			return Created{}, refuse("accessDenied", "pat-creation", apperr.Forbidden,
				"The organization's policy pat-creation lets only allowlisted users create personal access tokens; ask an administrator.")
		}
	}
	tok := Generate()
	rec := domain.PAT{ID: uuid.NewString(), UserID: u.ID, Username: u.Username, Name: name, Hash: Hash(tok), Display: Display(tok),
		Scopes: scopes, CreatedAt: now, ExpiresAt: req.ExpiresAt.UTC()}
	err = s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreatePAT(ctx, rec); err != nil {
			return err
		}
		return s.record(ctx, now, ActionCreate, TargetPAT, rec.ID, map[string]any{"name": name, "owner": u.Username,
			"scopes": strings.Join(scopes, " "), "expires_at": rec.ExpiresAt.Format(time.RFC3339)})
	})
	if err != nil {
		return Created{}, err
	}
	return Created{PAT: rec, Token: tok}, nil
}

// Get returns one token; ownerID, when set, must own it. Errors: NotFound.
func (s *TokenService) Get(ctx context.Context, id, ownerID string) (domain.PAT, error) {
	p, err := s.store.PATByID(ctx, id)
	if err != nil || (ownerID != "" && p.UserID != ownerID) {
		return domain.PAT{}, refuse("authorizationNotFound", "", apperr.NotFound, "No such personal access token.")
	}
	return p, nil
}

// List returns one page of tokens (domain.PATFilter). A Scope filter
// keeps the tokens holding that scope: carrying it, a wider scope that
// includes it, or full access.
func (s *TokenService) List(ctx context.Context, f domain.PATFilter) (domain.PATPage, error) {
	return s.store.ListPATs(ctx, s.holders(f))
}

func (s *TokenService) holders(f domain.PATFilter) domain.PATFilter {
	if f.Scope != "" {
		f.ScopeAny = append(s.scopes.Holders(f.Scope), domain.ScopeFullAccess)
		f.Scope = ""
	}
	return f
}

// Update changes a token of ownerID ("" for an admin): a new name, a
// later or earlier expiry (within the policy), narrower scopes (a scope
// the token does not already cover is refused). Zero fields of req stay.
// Errors: NotFound; Conflict for a revoked token; the *Error of Create.
func (s *TokenService) Update(ctx context.Context, id, ownerID string, req Request) (domain.PAT, error) {
	p, err := s.Get(ctx, id, ownerID)
	if err != nil {
		return domain.PAT{}, err
	}
	now := s.now().UTC()
	if p.RevokedAt != nil {
		return domain.PAT{}, refuse("invalidToken", "", apperr.Conflict, "The token was revoked; create a new one.")
	}
	changes := map[string]any{}
	if req.Name != "" {
		name, err := validName(req.Name)
		if err != nil {
			return domain.PAT{}, err
		}
		if name != p.Name {
			changes["name"], p.Name = name, name
		}
	}
	if len(req.Scopes) > 0 {
		scopes, err := s.normScopes(req.Scopes)
		if err != nil {
			return domain.PAT{}, err
		}
		if !p.FullAccess() {
			if len(scopes) == 1 && scopes[0] == domain.ScopeFullAccess {
				return domain.PAT{}, refuse("invalidScope", "", apperr.Invalid, "A token's scopes can only be narrowed; create a new token for full access.")
			}
			if missing := s.scopes.Covers(p.Scopes, scopes); len(missing) > 0 {
				return domain.PAT{}, refuse("invalidScope", "", apperr.Invalid, "A token's scopes can only be narrowed; %s is not among them. Create a new token instead.", strings.Join(missing, ", "))
			}
		}
		if err := s.checkFullScope(ctx, scopes); err != nil {
			return domain.PAT{}, err
		}
		if strings.Join(scopes, " ") != strings.Join(p.Scopes, " ") {
			changes["scopes"], p.Scopes = strings.Join(scopes, " "), scopes
		}
	}
	if !req.ExpiresAt.IsZero() && !req.ExpiresAt.Equal(p.ExpiresAt) {
		if err := s.checkExpiry(ctx, now, req.ExpiresAt); err != nil {
			return domain.PAT{}, err
		}
		changes["expires_at"], p.ExpiresAt = req.ExpiresAt.UTC().Format(time.RFC3339), req.ExpiresAt.UTC()
	}
	if len(changes) == 0 {
		return p, nil
	}
	err = s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.UpdatePAT(ctx, p); err != nil {
			return err
		}
		return s.record(ctx, now, ActionUpdate, TargetPAT, p.ID, changes)
	})
	return p, err
}

// Revoke revokes one token of ownerID ("" for an admin) and reports
// whether it was live. Errors: NotFound.
func (s *TokenService) Revoke(ctx context.Context, id, ownerID string) (bool, error) {
	if _, err := s.Get(ctx, id, ownerID); err != nil {
		return false, err
	}
	by := ByOwner
	if ownerID == "" {
		by = ByAdmin
	}
	n, err := s.RevokeIDs(ctx, []string{id}, by)
	return n > 0, err
}

// RevokeIDs revokes the live tokens among ids in one transaction, each
// audited, and returns how many it revoked.
func (s *TokenService) RevokeIDs(ctx context.Context, ids []string, by string) (int, error) {
	now := s.now().UTC()
	var n int
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		done, err := s.store.RevokePATs(ctx, ids, by, now)
		if err != nil {
			return err
		}
		n = len(done)
		for _, p := range done {
			if err := s.record(ctx, now, ActionRevoke, TargetPAT, p.ID, map[string]any{"name": p.Name, "by": by}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// RevokeWhere revokes every live token f selects (at most max) and
// returns how many.
func (s *TokenService) RevokeWhere(ctx context.Context, f domain.PATFilter, max int) (int, error) {
	f.State = domain.PATActive
	ids, err := s.store.PATIDs(ctx, s.holders(f), max)
	if err != nil {
		return 0, err
	}
	return s.RevokeIDs(ctx, ids, ByAdmin)
}

// Count counts the tokens f selects, at most max+1.
func (s *TokenService) Count(ctx context.Context, f domain.PATFilter, max int) (int, error) {
	return s.store.CountPATs(ctx, s.holders(f), max)
}
