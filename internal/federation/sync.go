package federation

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// SyncStore is what the directory sync needs (implemented by
// *store.DB).
type SyncStore interface {
	Transactor
	Connectors(ctx context.Context) ([]domain.Connector, error)
	UsersBySource(ctx context.Context, source string) ([]domain.User, error)
	TouchUsersSync(ctx context.Context, ids []string, at time.Time) error
	SetConnectorSync(ctx context.Context, name string, at time.Time, syncErr string) error
	AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error)
}

// SyncService is the directory sync: it checks the linked users of every
// connector that can look people up and disables leavers through the
// admin disable path (Disabler).
type SyncService struct {
	store    SyncStore
	disabler Disabler
	conns    *upstreams
	now      func() time.Time
	log      *slog.Logger
	// SyncFailures, when set, counts syncs that could not reach a
	// directory (a Prometheus counter).
	SyncFailures func(connector string)
}

// SyncResult is what one directory sync did for one connector. Err is
// set when the directory could not be reached or read: then nobody of
// that connector was disabled.
type SyncResult struct {
	Connector string
	Checked   int
	Disabled  []string // usernames
	Err       error
}

// Reasons a sync disables a user (the audit event's reason).
const (
	ReasonGone     = "gone upstream"
	ReasonDisabled = "disabled upstream"
	ReasonNoGroup  = "no longer in an allowed group"
)

// Sync checks every active user of every connector that can look people
// up (LDAP; OpenID Connect offers no lookup, so its users are checked at
// each sign-in) and disables, through the admin disable path, those gone
// or disabled upstream or no longer in an allowed group. A directory that
// cannot be reached disables nobody: its error is recorded on the
// connector (the admin banner), logged, counted (SyncFailures) and
// audited (directory.sync). One result per connector that syncs.
func (s *SyncService) Sync(ctx context.Context) ([]SyncResult, error) {
	cs, err := s.store.Connectors(ctx)
	if err != nil {
		return nil, err
	}
	var out []SyncResult
	for _, c := range cs {
		conn, cfg, err := s.conns.instance(ctx, c.Name)
		if err != nil {
			out = append(out, s.failed(ctx, c.Name, err))
			continue
		}
		look, ok := conn.(connector.Looker)
		if !ok {
			continue
		}
		res, err := s.syncOne(ctx, c.Name, cfg, look)
		if err != nil {
			out = append(out, s.failed(ctx, c.Name, err))
			continue
		}
		out = append(out, res)
	}
	return out, nil
}

func (s *SyncService) syncOne(ctx context.Context, name string, cfg connector.Config, look connector.Looker) (SyncResult, error) {
	res := SyncResult{Connector: name}
	users, err := s.store.UsersBySource(ctx, name)
	if err != nil {
		return res, err
	}
	subjects := make([]string, len(users))
	for i, u := range users {
		subjects[i] = u.Subject
	}
	found, err := look.Lookup(ctx, subjects)
	if err != nil {
		return res, err
	}
	if len(users) >= 3 && len(found) == 0 {
		// Everyone gone at once is far likelier a wrong base or filter
		// than a company without staff: disable nobody.
		return res, apperr.Errorf(apperr.Unavailable, "the directory found none of the %d linked users; check the user base and filter (nobody was disabled)", len(users))
	}
	now := s.now()
	var seen []string
	for _, u := range users {
		res.Checked++
		reason := ""
		id, ok := found[u.Subject]
		switch {
		case !ok:
			reason = ReasonGone
		case id.Disabled:
			reason = ReasonDisabled
		default:
			if _, allowed := cfg.Role(id.Groups); !allowed {
				reason = ReasonNoGroup
			}
		}
		if reason == "" {
			seen = append(seen, u.ID)
			continue
		}
		if _, err := s.disabler.DisableForDirectory(ctx, u.ID, reason); err != nil {
			return res, err
		}
		s.log.Info("directory sync disabled a user", "connector", name, "username", u.Username, "reason", reason)
		res.Disabled = append(res.Disabled, u.Username)
	}
	err = s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.TouchUsersSync(ctx, seen, now); err != nil {
			return err
		}
		return s.store.SetConnectorSync(ctx, name, now, "")
	})
	return res, err
}

// failed records a sync that could not reach the directory.
func (s *SyncService) failed(ctx context.Context, name string, err error) SyncResult {
	msg := apperr.ErrorMessage(err)
	if apperr.ErrorCode(err) == apperr.Internal {
		msg = err.Error()
	}
	s.log.Error("directory sync failed: nobody was disabled", "connector", name, "err", msg)
	if s.SyncFailures != nil {
		s.SyncFailures(name)
	}
	werr := s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.SetConnectorSync(ctx, name, s.now(), msg); err != nil {
			return err
		}
		_, err := s.store.AppendAudit(ctx, audit.New(ctx, s.now(), audit.ActionDirectorySync, audit.TargetConnector, name,
			map[string]any{"error": msg, "disabled": 0}))
		return err
	})
	if werr != nil {
		s.log.Error("directory sync: record the failure", "connector", name, "err", werr)
	}
	return SyncResult{Connector: name, Err: fmt.Errorf("%s: %s", name, msg)}
}
