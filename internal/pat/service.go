package pat

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// Store is what the personal access token use cases need (implemented by
// *store.DB). Methods join the transaction carried by ctx.
type Store interface {
	WriteTx(ctx context.Context, fn func(ctx context.Context) error) error
	CreatePAT(ctx context.Context, p domain.PAT) error
	PATByID(ctx context.Context, id string) (domain.PAT, error)
	PATByHash(ctx context.Context, hash []byte) (domain.PAT, error)
	UpdatePAT(ctx context.Context, p domain.PAT) error
	RevokePATs(ctx context.Context, ids []string, by string, at time.Time) ([]domain.PAT, error)
	ListPATs(ctx context.Context, f domain.PATFilter) (domain.PATPage, error)
	CountPATs(ctx context.Context, f domain.PATFilter, max int) (int, error)
	PATIDs(ctx context.Context, f domain.PATFilter, max int) ([]string, error)
	WalkLivePATs(ctx context.Context, before time.Time, fn func(domain.PAT) error) error
	PATScopeCombos(ctx context.Context, now time.Time) (map[string]int, error)
	UserByID(ctx context.Context, id string) (domain.User, error)
	UserByUsername(ctx context.Context, username string) (domain.User, error)
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string, at time.Time) error
	AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error)
	AddRevocationRule(ctx context.Context, r domain.RevocationRule) error
	RevocationRules(ctx context.Context) ([]domain.RevocationRule, error)
	CreateScannerToken(ctx context.Context, t domain.ScannerToken) error
	ScannerTokens(ctx context.Context) ([]domain.ScannerToken, error)
	ScannerTokenByHash(ctx context.Context, hash []byte) (domain.ScannerToken, error)
	RevokeScannerToken(ctx context.Context, name string, at time.Time) (domain.ScannerToken, error)
	AddPATNotice(ctx context.Context, n domain.PATNotice) error
	PATNoticeExists(ctx context.Context, patID, kind string) (bool, error)
	UnseenPATNotices(ctx context.Context, userID string) ([]domain.PATNotice, error)
	DismissPATNotices(ctx context.Context, userID string, at time.Time) error
	SetPATAllowed(ctx context.Context, userID string, allowed bool, at time.Time) (bool, error)
	PATAllowed(ctx context.Context, userID string) (bool, error)
	PATAllowlist(ctx context.Context) ([]string, error)
}

// Mailer sends one plain-text mail (nil: mail is not configured).
type Mailer func(ctx context.Context, to, subject, body string) error

// Audit actions and target of personal access tokens.
const (
	ActionCreate        = "pat.create"
	ActionUpdate        = "pat.update"
	ActionRevoke        = "pat.revoke"
	ActionLeaked        = "pat.leaked"
	ActionRule          = "revocation_rule.add"
	ActionScannerCreate = "scanner_token.create"
	ActionScannerRevoke = "scanner_token.revoke"
	ActionAllowlist     = "pat_allowlist.change"
	TargetPAT           = "pat"
	TargetScanner       = "scanner_token"
)

// Revoked-by values.
const (
	ByOwner  = "owner"
	ByAdmin  = "admin"
	ByLeaked = "leaked"
)

// MaxLifetime is the longest lifetime of a token without a stricter
// policy: one year.
const MaxLifetime = 365 * 24 * time.Hour

// Error is a refusal the Lifecycle API reports in PatTokenResult's
// patTokenError (tokens.json 7.1 SessionTokenError), e.g.
// fullScopePatPolicyViolation; Policy names the organization policy that
// refused, when one did.
type Error struct {
	Name   string
	Policy string
	err    *apperr.Error
}

func (e *Error) Error() string { return e.err.Error() }

// Unwrap lets the edge map the apperr code (Invalid → 400, …).
func (e *Error) Unwrap() error { return e.err }

func refuse(name, policy string, code apperr.Code, format string, args ...any) error {
	return &Error{Name: name, Policy: policy, err: apperr.Errorf(code, format, args...)}
}

// ErrorName returns the patTokenError name of err ("" when none).
func ErrorName(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Name
	}
	return ""
}

// Service runs the personal access token use cases. Every change is one
// transaction with its audit event.
type Service struct {
	store  Store
	scopes *scope.Catalog
	now    func() time.Time
	mail   Mailer
}

// NewService returns the use cases over st. now is the clock.
func NewService(st Store, cat *scope.Catalog, now func() time.Time) *Service {
	return &Service{store: st, scopes: cat, now: now}
}

// SetMailer makes the service mail token owners (leaked, expiring).
func (s *Service) SetMailer(m Mailer) { s.mail = m }

func (s *Service) record(ctx context.Context, at time.Time, action, target, id string, details map[string]any) error {
	_, err := s.store.AppendAudit(ctx, audit.New(ctx, at, action, target, id, details))
	return err
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
func (s *Service) normScopes(in []string) ([]string, error) {
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
func (s *Service) checkExpiry(ctx context.Context, now, exp time.Time) error {
	if !exp.After(now) {
		return refuse("invalidValidTo", "", apperr.Invalid, "The expiry must be in the future.")
	}
	p, err := s.Policy(ctx)
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

func (s *Service) checkFullScope(ctx context.Context, scopes []string) error {
	if len(scopes) != 1 || scopes[0] != domain.ScopeFullAccess {
		return nil
	}
	p, err := s.Policy(ctx)
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
func (s *Service) Create(ctx context.Context, u domain.User, req Request) (Created, error) {
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
	p, err := s.Policy(ctx)
	if err != nil {
		return Created{}, err
	}
	if p.CreationAllowlist {
		ok, err := s.store.PATAllowed(ctx, u.ID)
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
func (s *Service) Get(ctx context.Context, id, ownerID string) (domain.PAT, error) {
	p, err := s.store.PATByID(ctx, id)
	if err != nil || (ownerID != "" && p.UserID != ownerID) {
		return domain.PAT{}, refuse("authorizationNotFound", "", apperr.NotFound, "No such personal access token.")
	}
	return p, nil
}

// List returns one page of tokens (domain.PATFilter). A Scope filter
// keeps the tokens holding that scope: carrying it, a wider scope that
// includes it, or full access.
func (s *Service) List(ctx context.Context, f domain.PATFilter) (domain.PATPage, error) {
	return s.store.ListPATs(ctx, s.holders(f))
}

func (s *Service) holders(f domain.PATFilter) domain.PATFilter {
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
func (s *Service) Update(ctx context.Context, id, ownerID string, req Request) (domain.PAT, error) {
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
func (s *Service) Revoke(ctx context.Context, id, ownerID string) (bool, error) {
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
func (s *Service) RevokeIDs(ctx context.Context, ids []string, by string) (int, error) {
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
func (s *Service) RevokeWhere(ctx context.Context, f domain.PATFilter, max int) (int, error) {
	f.State = domain.PATActive
	ids, err := s.store.PATIDs(ctx, s.holders(f), max)
	if err != nil {
		return 0, err
	}
	return s.RevokeIDs(ctx, ids, ByAdmin)
}

// Count counts the tokens f selects, at most max+1.
func (s *Service) Count(ctx context.Context, f domain.PATFilter, max int) (int, error) {
	return s.store.CountPATs(ctx, s.holders(f), max)
}

// Refusal is an Invalid *Error named name (a SessionTokenError) with msg.
func Refusal(name, msg string) error { return refuse(name, "", apperr.Invalid, "%s", msg) }
