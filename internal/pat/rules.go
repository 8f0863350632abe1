package pat

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// RuleStore is what revocation rules need (implemented by *store.DB).
type RuleStore interface {
	Transactor
	AuditAppender
	AddRevocationRule(ctx context.Context, r domain.RevocationRule) error
	RevocationRules(ctx context.Context) ([]domain.RevocationRule, error)
}

// RuleService is the revocation rules of the Token Admin API: every
// token issued before a time that carries one of some scopes is refused
// from the next request on.
type RuleService struct {
	recorder
	store  RuleStore
	scopes *scope.Catalog
	now    func() time.Time
}

// AddRule adds a revocation rule: every token issued at or before
// createdBefore that carries one of scopes — personal access tokens, and
// OAuth access and refresh tokens alike — is refused from the next
// request on. Errors: Invalid (no scopes, unknown scope, a time in the
// future).
func (s *RuleService) AddRule(ctx context.Context, scopes []string, createdBefore time.Time) (domain.RevocationRule, error) {
	var list []string
	for _, v := range scopes {
		list = append(list, strings.Fields(v)...)
	}
	if len(list) == 0 {
		return domain.RevocationRule{}, apperr.Errorf(apperr.Invalid, "A revocation rule needs at least one scope.")
	}
	for _, v := range list {
		if _, ok := s.scopes.Lookup(v); !ok && v != domain.ScopeFullAccess {
			return domain.RevocationRule{}, apperr.Errorf(apperr.Invalid, "unknown scope %q", v)
		}
	}
	now := s.now().UTC()
	if createdBefore.IsZero() {
		createdBefore = now
	}
	if createdBefore.After(now.Add(time.Minute)) {
		return domain.RevocationRule{}, apperr.Errorf(apperr.Invalid, "createdBefore must not be in the future")
	}
	r := domain.RevocationRule{ID: uuid.NewString(), Scopes: list, CreatedBefore: createdBefore.UTC(), CreatedAt: now, CreatedBy: audit.ActorFrom(ctx).Name}
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.AddRevocationRule(ctx, r); err != nil {
			return err
		}
		return s.record(ctx, now, ActionRule, "revocation_rule", r.ID, map[string]any{"scopes": strings.Join(list, " "), "created_before": r.CreatedBefore.Format(time.RFC3339)})
	})
	return r, err
}

// Rules lists the revocation rules.
func (s *RuleService) Rules(ctx context.Context) ([]domain.RevocationRule, error) {
	return s.store.RevocationRules(ctx)
}
