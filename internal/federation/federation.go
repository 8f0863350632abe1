package federation

import (
	"context"
	"log/slog"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// Transactor runs fn in one write transaction (implemented by
// *store.DB); the store methods called with its ctx join it.
type Transactor interface {
	WriteTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Disabler disables a user through the admin service's disable path,
// and counts failed sign-ins with the local ones (implemented by
// *admin.Service).
type Disabler interface {
	DisableForDirectory(ctx context.Context, id, reason string) (domain.User, error)
	NoteFailedSignIn(ctx context.Context, username string) error
}

// Sealer seals connector secrets at rest (implemented by
// *keyseal.Sealer).
type Sealer interface {
	Seal(plain []byte, label string) []byte
	Open(blob []byte, label string) ([]byte, error)
}

// Store is every store method the federation slices call: the union of
// ConnectorStore, SignInStore, SyncStore and UpstreamStore (implemented
// by *store.DB), taken whole only by New.
type Store interface {
	ConnectorStore
	SignInStore
	SyncStore
	UpstreamStore
}

// Service is a thin facade over the federation slices, so that the CLI
// and the server reach every use case through one value: connector
// configuration (ConnectorService, connectors.go), sign-in through a
// connector and identity linking (SignInService, signin.go) and the
// directory sync (SyncService, sync.go). They share the built upstreams
// (upstreams.go).
type Service struct {
	*ConnectorService
	*SignInService
	*SyncService

	conns *upstreams
}

// New returns the federation slices over st, sharing one cache of built
// upstreams.
func New(st Store, sealer Sealer, d Disabler, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conns := &upstreams{store: st, sealer: sealer, built: map[string]built{}, build: connector.New}
	return &Service{
		ConnectorService: &ConnectorService{store: st, sealer: sealer, conns: conns, now: now},
		SignInService:    &SignInService{store: st, sealer: sealer, disabler: d, conns: conns, now: now},
		SyncService:      &SyncService{store: st, disabler: d, conns: conns, now: now, log: log},
		conns:            conns,
	}
}

// ConnectorType returns the type of the connector name (the sign-in
// slice's answer; the connector slice gives the same). Errors: NotFound.
func (s *Service) ConnectorType(ctx context.Context, name string) (string, error) {
	return s.SignInService.ConnectorType(ctx, name)
}

func label(name string) string { return "connector:" + name }

// CallbackPath is the path of a connector's callback (the redirect URI to
// register upstream, after the base URL).
func CallbackPath(name string) string { return "/signin/" + name + "/callback" }
