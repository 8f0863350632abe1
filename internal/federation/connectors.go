package federation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// ConnectorStore is what the connector configuration slice needs
// (implemented by *store.DB). Lookups return NotFound; creates return
// Conflict on a duplicate.
type ConnectorStore interface {
	Transactor
	CreateConnector(ctx context.Context, c domain.Connector) error
	Connectors(ctx context.Context) ([]domain.Connector, error)
	ConnectorByName(ctx context.Context, name string) (domain.Connector, error)
	DeleteConnector(ctx context.Context, name string) error
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string, at time.Time) error
	AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error)
}

// ConnectorService is the administrators' configuration of directory
// sign-in: the connectors (add with the secret sealed, list, test,
// remove), the local-signin policy and the last syncs' problems.
type ConnectorService struct {
	store  ConnectorStore
	sealer Sealer
	conns  *upstreams
	now    func() time.Time
}

// NewConnector is the input of AddConnector.
type NewConnector struct {
	Name   string
	Config connector.Config
	Secret string // client secret or service bind password
}

// Info is a connector as listings show it: never its secret.
type Info struct {
	Name          string           `json:"name"`
	Type          string           `json:"type"`
	Config        connector.Config `json:"config"`
	CreatedAt     time.Time        `json:"created_at"`
	LastSyncAt    *time.Time       `json:"last_sync_at"`
	LastSyncError string           `json:"last_sync_error"`
}

// AddConnector validates and stores a connector with its secret sealed,
// audited (connector.add, without the secret). Errors: Invalid; Conflict
// when the name is taken.
func (s *ConnectorService) AddConnector(ctx context.Context, in NewConnector) (Info, error) {
	if err := domain.ValidateConnectorName(in.Name); err != nil {
		return Info{}, err
	}
	cfg := in.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Info{}, err
	}
	if in.Secret == "" || len(in.Secret) > 4096 {
		return Info{}, apperr.Errorf(apperr.Invalid, "the secret (client secret or bind password) must be 1-4096 bytes")
	}
	if _, err := connector.New(cfg, in.Secret); err != nil {
		return Info{}, err
	}
	now := s.now()
	c := domain.Connector{Name: in.Name, Type: cfg.Type, Config: cfg.Marshal(), Secret: s.sealer.Seal([]byte(in.Secret), label(in.Name)),
		CreatedAt: now, UpdatedAt: now}
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateConnector(ctx, c); err != nil {
			if apperr.Is(err, apperr.Conflict) {
				return apperr.Errorf(apperr.Conflict, "a connector named %q exists already", in.Name)
			}
			return err
		}
		_, err := s.store.AppendAudit(ctx, audit.New(ctx, now, audit.ActionConnectorAdd, audit.TargetConnector, in.Name,
			map[string]any{"type": cfg.Type, "issuer": cfg.Issuer, "url": cfg.URL, "default_role": cfg.DefaultRole, "role_map": cfg.RoleMap}))
		return err
	})
	if err != nil {
		return Info{}, err
	}
	return Info{Name: c.Name, Type: c.Type, Config: cfg, CreatedAt: now}, nil
}

// Connectors lists the connectors by name.
func (s *ConnectorService) Connectors(ctx context.Context) ([]Info, error) {
	cs, err := s.store.Connectors(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(cs))
	for _, c := range cs {
		cfg, err := connector.ParseConfig(c.Config)
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", c.Name, err)
		}
		out = append(out, Info{Name: c.Name, Type: c.Type, Config: cfg, CreatedAt: c.CreatedAt,
			LastSyncAt: c.LastSyncAt, LastSyncError: c.LastSyncError})
	}
	return out, nil
}

// RemoveConnector deletes a connector, audited (connector.remove). Its
// users stay, unable to sign in through it. Errors: NotFound.
func (s *ConnectorService) RemoveConnector(ctx context.Context, name string) error {
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteConnector(ctx, name); err != nil {
			return err
		}
		_, err := s.store.AppendAudit(ctx, audit.New(ctx, s.now(), audit.ActionConnectorRemove, audit.TargetConnector, name, nil))
		return err
	})
}

// TestConnector runs a real discovery (OIDC) or service bind (LDAP).
// Errors: NotFound; Unavailable with what failed.
func (s *ConnectorService) TestConnector(ctx context.Context, name string) error {
	conn, _, err := s.conns.instance(ctx, name)
	if err != nil {
		return err
	}
	return conn.Test(ctx)
}

// ConnectorType returns the type of the connector name. Errors: NotFound.
func (s *ConnectorService) ConnectorType(ctx context.Context, name string) (string, error) {
	c, err := s.store.ConnectorByName(ctx, name)
	return c.Type, err
}

// LocalSignIn returns the local-signin policy (default everyone).
func (s *ConnectorService) LocalSignIn(ctx context.Context) (string, error) {
	v, ok, err := s.store.Setting(ctx, domain.SettingLocalSignIn)
	if err != nil || !ok || v == "" {
		return domain.LocalSignInEveryone, err
	}
	return v, nil
}

// SetLocalSignIn sets who may sign in with a local password, audited
// (policy.set). Errors: Invalid.
func (s *ConnectorService) SetLocalSignIn(ctx context.Context, v string) error {
	if !slices.Contains([]string{domain.LocalSignInEveryone, domain.LocalSignInAdminsOnly}, v) {
		return apperr.Errorf(apperr.Invalid, "local-signin takes admins-only or everyone")
	}
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		before, _ := s.LocalSignIn(ctx)
		if err := s.store.SetSetting(ctx, domain.SettingLocalSignIn, v, s.now()); err != nil {
			return err
		}
		_, err := s.store.AppendAudit(ctx, audit.New(ctx, s.now(), audit.ActionPolicySet, audit.TargetPolicy, domain.SettingLocalSignIn,
			map[string]any{"before": before, "after": v}))
		return err
	})
}

// SyncProblems lists, for the admin banner, the connectors whose last
// sync could not reach the directory, as "NAME: error".
func (s *ConnectorService) SyncProblems(ctx context.Context) ([]string, error) {
	cs, err := s.store.Connectors(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cs {
		if c.LastSyncError != "" {
			out = append(out, c.Name+": "+c.LastSyncError)
		}
	}
	return out, nil
}
