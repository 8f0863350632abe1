package pat

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// NoticeStore is what the owners' notices need (implemented by
// *store.DB).
type NoticeStore interface {
	AddPATNotice(ctx context.Context, n domain.PATNotice) error
	PATNoticeExists(ctx context.Context, patID, kind string) (bool, error)
	UnseenPATNotices(ctx context.Context, userID string) ([]domain.PATNotice, error)
	DismissPATNotices(ctx context.Context, userID string, at time.Time) error
	WalkLivePATs(ctx context.Context, before time.Time, fn func(domain.PAT) error) error
}

// OwnerStore finds a token's owner to mail (implemented by *store.DB).
type OwnerStore interface {
	UserByID(ctx context.Context, id string) (domain.User, error)
}

// ownerMailer mails token owners, shared by the leaked-token and notice
// slices; mail is nil until the server configures it (SetMailer).
type ownerMailer struct {
	store OwnerStore
	mail  Mailer
}

// NoticeService is what token owners are told: the banner of unseen
// notices (a leaked token revoked, one about to expire) and the expiry
// notices themselves (a banner and a mail, seven days ahead).
type NoticeService struct {
	*ownerMailer
	store NoticeStore
	now   func() time.Time
}

// mailOwner mails the token's owner when mail is configured and the owner
// has an address; a failure is not the caller's failure.
func (s *ownerMailer) mailOwner(ctx context.Context, p domain.PAT, subject, body string) bool {
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
func (s *NoticeService) Notices(ctx context.Context, userID string) ([]domain.PATNotice, error) {
	return s.store.UnseenPATNotices(ctx, userID)
}

// DismissNotices hides the user's banner.
func (s *NoticeService) DismissNotices(ctx context.Context, userID string) error {
	return s.store.DismissPATNotices(ctx, userID, s.now().UTC())
}

// NotifyExpiring tells the owner of every live token expiring within
// seven days (once per token): a banner, and a mail when mail is
// configured. It returns how many owners it told.
func (s *NoticeService) NotifyExpiring(ctx context.Context) (int, error) {
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
