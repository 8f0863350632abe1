package federation

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// UpstreamStore is what the built upstreams read (implemented by
// *store.DB). Errors: NotFound.
type UpstreamStore interface {
	ConnectorByName(ctx context.Context, name string) (domain.Connector, error)
}

// upstreams are the connectors built from their stored configuration and
// sealed secret, shared by the connector, sign-in and sync slices.
type upstreams struct {
	store  UpstreamStore
	sealer Sealer

	mu    sync.Mutex
	built map[string]built // connector name → instance, rebuilt when UpdatedAt moves
	// build makes a connector from its config and secret (connector.New;
	// tests put a fake upstream here).
	build func(cfg connector.Config, secret string) (connector.Connector, error)
}

type built struct {
	updated time.Time
	cfg     connector.Config
	conn    connector.Connector
}

// instance returns the built connector of name. Errors: NotFound;
// Internal when the secret does not open (another key file).
func (s *upstreams) instance(ctx context.Context, name string) (connector.Connector, connector.Config, error) {
	c, err := s.store.ConnectorByName(ctx, name)
	if err != nil {
		return nil, connector.Config{}, err
	}
	s.mu.Lock()
	b, ok := s.built[name]
	s.mu.Unlock()
	if ok && b.updated.Equal(c.UpdatedAt) {
		return b.conn, b.cfg, nil
	}
	cfg, err := connector.ParseConfig(c.Config)
	if err != nil {
		return nil, cfg, fmt.Errorf("connector %s: %w", name, err)
	}
	secret, err := s.sealer.Open(c.Secret, label(name))
	if err != nil {
		return nil, cfg, fmt.Errorf("connector %s: its secret does not open with this key file: %w", name, err)
	}
	conn, err := s.build(cfg, string(secret))
	if err != nil {
		return nil, cfg, err
	}
	s.mu.Lock()
	s.built[name] = built{updated: c.UpdatedAt, cfg: cfg, conn: conn}
	s.mu.Unlock()
	return conn, cfg, nil
}
