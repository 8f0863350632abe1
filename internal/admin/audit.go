package admin

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
)

// AuditLog appends to and reads the hash-chained audit log.
type AuditLog interface {
	AuditAppender
	AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Event, bool, error)
	WalkAudit(ctx context.Context, since time.Time, fn func(audit.Event) bool) error
}

// AuditService is the audit slice: the log's listing and export, and the
// verification of its hash chain (with checkpoints). Every other slice
// appends its own events in the transaction of its change.
type AuditService struct {
	store AuditLog
}

// AuditEvents lists audit events, newest first (see audit.Filter).
func (s *AuditService) AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Event, bool, error) {
	return s.store.AuditEvents(ctx, f)
}

// WalkAudit calls fn for every event since since, oldest first.
func (s *AuditService) WalkAudit(ctx context.Context, since time.Time, fn func(audit.Event) bool) error {
	return s.store.WalkAudit(ctx, since, fn)
}

// VerifyAudit walks the whole chain and returns how many events it checked
// and the first broken link (nil when intact).
func (s *AuditService) VerifyAudit(ctx context.Context) (int64, *audit.Break, error) {
	return s.verifyAuditWith(ctx, audit.NewVerifier())
}

// VerifyAuditReaches is VerifyAudit that also fails (a Break) when the
// chain no longer reaches the signed checkpoint cp: event cp.Seq is
// missing (the newest events were deleted) or its hash is not cp.Head.
func (s *AuditService) VerifyAuditReaches(ctx context.Context, cp audit.Checkpoint) (int64, *audit.Break, error) {
	return s.verifyAuditWith(ctx, audit.NewCheckReaches(cp))
}

type chainWalk interface {
	Add(audit.Event) bool
	Result() (int64, *audit.Break)
}

func (s *AuditService) verifyAuditWith(ctx context.Context, v chainWalk) (int64, *audit.Break, error) {
	if err := s.store.WalkAudit(ctx, time.Time{}, v.Add); err != nil {
		return 0, nil, err
	}
	n, b := v.Result()
	return n, b, nil
}
