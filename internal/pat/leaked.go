package pat

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// LeakStore is what the leaked-token report needs (implemented by
// *store.DB). Lookups return NotFound.
type LeakStore interface {
	Transactor
	AuditAppender
	ScannerTokenByHash(ctx context.Context, hash []byte) (domain.ScannerToken, error)
	PATByHash(ctx context.Context, hash []byte) (domain.PAT, error)
	RevokePATs(ctx context.Context, ids []string, by string, at time.Time) ([]domain.PAT, error)
	AddPATNotice(ctx context.Context, n domain.PATNotice) error
}

// LeakService is the leaked-token endpoint: it authenticates the secret
// scanner and revokes at once the live tokens it reports, telling their
// owners.
type LeakService struct {
	recorder
	*ownerMailer
	store LeakStore
	now   func() time.Time
}

// MaxLeaked bounds the strings one leaked-token report may carry.
const MaxLeaked = 1000

// AuthenticateScanner checks a scanner token and returns it. Errors:
// Unauthorized.
func (s *LeakService) AuthenticateScanner(ctx context.Context, token string) (domain.ScannerToken, error) {
	if !strings.HasPrefix(token, ScannerPrefix) || len(token) > 128 {
		return domain.ScannerToken{}, apperr.Errorf(apperr.Unauthorized, "A scanner token is required.")
	}
	t, err := s.store.ScannerTokenByHash(ctx, Hash(token))
	if apperr.Is(err, apperr.NotFound) || (err == nil && t.RevokedAt != nil) {
		return domain.ScannerToken{}, apperr.Errorf(apperr.Unauthorized, "A scanner token is required.")
	}
	return t, err
}

// Leaked handles a secret scanner's report (POST
// /_apis/tokens/pats/leaked): each live personal access token among
// tokens is revoked at once, audited as leaked, and its owner is told (a
// banner on their next visit, and a mail when mail is configured). It
// returns nothing about which strings were tokens. Strings that fail the
// offline checksum cost no lookup.
func (s *LeakService) Leaked(ctx context.Context, scanner domain.ScannerToken, tokens []string) error {
	var ids []string
	seen := map[string]bool{}
	for _, t := range tokens {
		if !Valid(t) {
			continue
		}
		p, err := s.store.PATByHash(ctx, Hash(t))
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if p.RevokedAt == nil && !seen[p.ID] {
			seen[p.ID] = true
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	now := s.now().UTC()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "scanner:" + scanner.Name})
	var done []domain.PAT
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		var err error
		done, err = s.store.RevokePATs(ctx, ids, ByLeaked, now)
		if err != nil {
			return err
		}
		for _, p := range done {
			if err := s.record(ctx, now, ActionLeaked, TargetPAT, p.ID, map[string]any{"name": p.Name, "scanner": scanner.Name}); err != nil {
				return err
			}
			if err := s.store.AddPATNotice(ctx, domain.PATNotice{ID: uuid.NewString(), UserID: p.UserID, PATID: p.ID, Kind: domain.NoticeLeaked, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range done {
		s.mailOwner(ctx, p, "Your personal access token "+p.Name+" was revoked",
			"Your personal access token \""+p.Name+"\" ("+p.Display+") was found exposed by the secret scanner "+scanner.Name+
				" and has been revoked. Create a new token if you still need one.\n")
	}
	return nil
}
