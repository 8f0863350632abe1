package pat

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// ScannerStore is what scanner tokens need (implemented by *store.DB).
type ScannerStore interface {
	Transactor
	AuditAppender
	CreateScannerToken(ctx context.Context, t domain.ScannerToken) error
	ScannerTokens(ctx context.Context) ([]domain.ScannerToken, error)
	RevokeScannerToken(ctx context.Context, name string, at time.Time) (domain.ScannerToken, error)
}

// ScannerService is the scanner tokens a secret scanner presents to
// report leaked tokens (`token scanner create|list|revoke`).
type ScannerService struct {
	recorder
	store ScannerStore
	now   func() time.Time
}

// ScannerPrefix starts every scanner token (`token scanner create`).
const ScannerPrefix = "odscan_"

// CreateScanner makes a scanner token named name for the leaked-token
// endpoint and returns it (shown once). Errors: Invalid name; Conflict
// when the name is taken.
func (s *ScannerService) CreateScanner(ctx context.Context, name string) (domain.ScannerToken, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxNameLen || strings.ContainsAny(name, "\x00\r\n") {
		return domain.ScannerToken{}, "", apperr.Errorf(apperr.Invalid, "a scanner token needs a one-line name of at most %d characters", MaxNameLen)
	}
	tok := ScannerPrefix + rand.Text() + rand.Text()
	now := s.now().UTC()
	t := domain.ScannerToken{ID: uuid.NewString(), Name: name, Hash: Hash(tok), CreatedAt: now}
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateScannerToken(ctx, t); err != nil {
			return err
		}
		return s.record(ctx, now, ActionScannerCreate, TargetScanner, t.ID, map[string]any{"name": name})
	})
	return t, tok, err
}

// Scanners lists the scanner tokens.
func (s *ScannerService) Scanners(ctx context.Context) ([]domain.ScannerToken, error) {
	return s.store.ScannerTokens(ctx)
}

// RevokeScanner revokes the live scanner token named name. Errors:
// NotFound.
func (s *ScannerService) RevokeScanner(ctx context.Context, name string) error {
	now := s.now().UTC()
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		t, err := s.store.RevokeScannerToken(ctx, name, now)
		if err != nil {
			return err
		}
		return s.record(ctx, now, ActionScannerRevoke, TargetScanner, t.ID, map[string]any{"name": t.Name})
	})
}
