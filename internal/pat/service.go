package pat

import (
	"context"
	"errors"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

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

// Transactor runs fn in one write transaction (implemented by
// *store.DB); the store methods called with its ctx join it.
type Transactor interface {
	WriteTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// AuditAppender appends to the audit log, in the transaction of ctx
// (implemented by *store.DB).
type AuditAppender interface {
	AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error)
}

// recorder writes a slice's audit events.
type recorder struct{ log AuditAppender }

func (r recorder) record(ctx context.Context, at time.Time, action, target, id string, details map[string]any) error {
	_, err := r.log.AppendAudit(ctx, audit.New(ctx, at, action, target, id, details))
	return err
}

// Store is every store method the personal access token slices call: the
// union of their small stores (implemented by *store.DB), taken whole
// only by NewService.
type Store interface {
	TokenStore
	PolicyStore
	RuleStore
	ScannerStore
	LeakStore
	NoticeStore
	OwnerStore
}

// Service is a thin facade over the personal access token slices, so
// that the CLI and the server reach every use case through one value:
// the tokens (TokenService, tokens.go), the policies (PolicyService,
// policy.go), revocation rules (RuleService, rules.go), scanner tokens
// (ScannerService, scanners.go), leaked tokens (LeakService, leaked.go)
// and the owners' notices (NoticeService, notices.go).
type Service struct {
	*TokenService
	*PolicyService
	*RuleService
	*ScannerService
	*LeakService
	*NoticeService

	mailer *ownerMailer
}

// NewService returns the use cases over st. now is the clock.
func NewService(st Store, cat *scope.Catalog, now func() time.Time) *Service {
	rec := recorder{st}
	mailer := &ownerMailer{store: st}
	tokens := &TokenService{recorder: rec, store: st, scopes: cat, now: now}
	policies := &PolicyService{recorder: rec, store: st, now: now, tokens: tokens}
	tokens.policies = policies
	return &Service{
		TokenService:   tokens,
		PolicyService:  policies,
		RuleService:    &RuleService{recorder: rec, store: st, scopes: cat, now: now},
		ScannerService: &ScannerService{recorder: rec, store: st, now: now},
		LeakService:    &LeakService{recorder: rec, ownerMailer: mailer, store: st, now: now},
		NoticeService:  &NoticeService{ownerMailer: mailer, store: st, now: now},
		mailer:         mailer,
	}
}

// SetMailer makes the service mail token owners (leaked, expiring).
func (s *Service) SetMailer(m Mailer) { s.mailer.mail = m }

// Refusal is an Invalid *Error named name (a SessionTokenError) with msg.
func Refusal(name, msg string) error { return refuse(name, "", apperr.Invalid, "%s", msg) }
