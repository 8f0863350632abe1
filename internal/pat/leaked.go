package pat

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// ScannerPrefix starts every scanner token (`token scanner create`).
const ScannerPrefix = "odscan_"

// MaxLeaked bounds the strings one leaked-token report may carry.
const MaxLeaked = 1000

// CreateScanner makes a scanner token named name for the leaked-token
// endpoint and returns it (shown once). Errors: Invalid name; Conflict
// when the name is taken.
func (s *Service) CreateScanner(ctx context.Context, name string) (domain.ScannerToken, string, error) {
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
func (s *Service) Scanners(ctx context.Context) ([]domain.ScannerToken, error) {
	return s.store.ScannerTokens(ctx)
}

// RevokeScanner revokes the live scanner token named name. Errors:
// NotFound.
func (s *Service) RevokeScanner(ctx context.Context, name string) error {
	now := s.now().UTC()
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		t, err := s.store.RevokeScannerToken(ctx, name, now)
		if err != nil {
			return err
		}
		return s.record(ctx, now, ActionScannerRevoke, TargetScanner, t.ID, map[string]any{"name": t.Name})
	})
}

// AuthenticateScanner checks a scanner token and returns it. Errors:
// Unauthorized.
func (s *Service) AuthenticateScanner(ctx context.Context, token string) (domain.ScannerToken, error) {
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
func (s *Service) Leaked(ctx context.Context, scanner domain.ScannerToken, tokens []string) error {
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

// mailOwner mails the token's owner when mail is configured and the owner
// has an address; a failure is not the caller's failure.
func (s *Service) mailOwner(ctx context.Context, p domain.PAT, subject, body string) bool {
	if s.mail == nil {
		return false
	}
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil || u.Email == "" {
		return false
	}
	return s.mail(ctx, u.Email, subject, body) == nil
}

// Notices returns the user's unseen notices (the banner).
func (s *Service) Notices(ctx context.Context, userID string) ([]domain.PATNotice, error) {
	return s.store.UnseenPATNotices(ctx, userID)
}

// DismissNotices hides the user's banner.
func (s *Service) DismissNotices(ctx context.Context, userID string) error {
	return s.store.DismissPATNotices(ctx, userID, s.now().UTC())
}

// NotifyExpiring tells the owner of every live token expiring within
// seven days (once per token): a banner, and a mail when mail is
// configured. It returns how many owners it told.
func (s *Service) NotifyExpiring(ctx context.Context) (int, error) {
	now := s.now().UTC()
	var due []domain.PAT
	err := s.store.WalkLivePATs(ctx, now.AddDate(0, 0, 7), func(p domain.PAT) error {
		if p.ExpiresAt.After(now) {
			due = append(due, p)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range due {
		exists, err := s.store.PATNoticeExists(ctx, p.ID, domain.NoticeExpiring)
		if err != nil {
			return n, err
		}
		if exists {
			continue
		}
		if err := s.store.AddPATNotice(ctx, domain.PATNotice{ID: uuid.NewString(), UserID: p.UserID, PATID: p.ID, Kind: domain.NoticeExpiring, CreatedAt: now}); err != nil {
			return n, err
		}
		s.mailOwner(ctx, p, "Your personal access token "+p.Name+" expires on "+p.ExpiresAt.Format("2006-01-02"),
			"Your personal access token \""+p.Name+"\" ("+p.Display+") expires on "+p.ExpiresAt.Format(time.RFC1123)+
				". Extend it on your Personal access tokens page if you still need it.\n")
		n++
	}
	return n, nil
}

// AddRule adds a revocation rule: every token issued at or before
// createdBefore that carries one of scopes — personal access tokens, and
// OAuth access and refresh tokens alike — is refused from the next
// request on. Errors: Invalid (no scopes, unknown scope, a time in the
// future).
func (s *Service) AddRule(ctx context.Context, scopes []string, createdBefore time.Time) (domain.RevocationRule, error) {
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
func (s *Service) Rules(ctx context.Context) ([]domain.RevocationRule, error) {
	return s.store.RevocationRules(ctx)
}
