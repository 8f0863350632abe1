package oauth

import (
	"context"
	"log/slog"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// Store is the storage the protocol needs. Methods join the transaction
// carried by ctx (see WriteTx). Lookups return an apperr NotFound error
// when nothing matches.
type Store interface {
	WriteTx(ctx context.Context, fn func(ctx context.Context) error) error
	// BatchTx is WriteTx that may share one transaction with concurrent
	// calls (group commit); it returns after the commit, and fn's writes
	// are rolled back alone when fn fails.
	BatchTx(ctx context.Context, fn func(ctx context.Context) error) error
	ClientByID(ctx context.Context, clientID string) (domain.App, error)
	ActiveAuthorization(ctx context.Context, userID, clientID string) (domain.Authorization, error)
	AuthorizationByID(ctx context.Context, id string) (domain.Authorization, error)
	CreateAuthorization(ctx context.Context, a domain.Authorization) error
	UpdateAuthorizationGrant(ctx context.Context, id string, scopes []string, redirectURI string, at time.Time) error
	RevokeAuthorization(ctx context.Context, id, by string, at time.Time) (bool, error)
	CreateCode(ctx context.Context, c domain.AuthCode) error
	CodeByHash(ctx context.Context, hash []byte) (domain.AuthCode, error)
	MarkCodeUsed(ctx context.Context, id string, at time.Time) (bool, error)
	CreateRefreshToken(ctx context.Context, t domain.RefreshToken) error
	RefreshTokenByHash(ctx context.Context, hash []byte) (domain.RefreshToken, error)
	RefreshTokenWithAuthorization(ctx context.Context, hash []byte) (domain.RefreshToken, domain.Authorization, error)
	MarkRefreshTokenUsed(ctx context.Context, id string, at time.Time) (bool, error)
	RevokeFamily(ctx context.Context, familyID string, at time.Time) error
	TouchSecret(ctx context.Context, id string, at time.Time) error
	AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error)
}

// Config holds the protocol's lifetimes and identity. Zero lifetimes take
// the defaults of PROTOCOL.md: code 15 minutes, access token 1 hour,
// refresh token 1 year. RefreshGrace is the refresh grace window (see
// refreshGrant): how long after its rotation a refresh token presented
// again by its client still yields a new pair instead of revoking the
// authorization; zero or negative turns the window off.
type Config struct {
	Issuer       string // base URL; the iss and aud of access tokens
	CodeTTL      time.Duration
	AccessTTL    time.Duration
	RefreshTTL   time.Duration
	RefreshGrace time.Duration
}

func (c Config) withDefaults() Config {
	if c.CodeTTL <= 0 {
		c.CodeTTL = 15 * time.Minute
	}
	if c.AccessTTL <= 0 {
		c.AccessTTL = time.Hour
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = 365 * 24 * time.Hour
	}
	return c
}

// Service implements the authorization endpoint, the token endpoint and
// the Bearer check. It is safe for concurrent use.
type Service struct {
	cfg    Config
	store  Store
	scopes *scope.Catalog
	keys   *KeySet
	guard  *Guard
	usage  *Usage
	tokens *tokenCache
	now    func() time.Time
	log    *slog.Logger
}

// NewService wires the protocol. now is the clock (time.Now in
// production, a fixed clock in tests); one reading is taken per request.
func NewService(cfg Config, st Store, cat *scope.Catalog, keys *KeySet, guard *Guard, usage *Usage, now func() time.Time, log *slog.Logger) *Service {
	return &Service{cfg: cfg.withDefaults(), store: st, scopes: cat, keys: keys, guard: guard, usage: usage,
		tokens: newTokenCache(DefaultTokenCacheSize), now: now, log: log}
}

// Keys returns the signing key set (for /.well-known/jwks.json).
func (s *Service) Keys() *KeySet { return s.keys }

// record appends an audit event for ctx's actor inside the caller's
// transaction.
func (s *Service) record(ctx context.Context, at time.Time, action, targetType, targetID string, details map[string]any) error {
	_, err := s.store.AppendAudit(ctx, audit.New(ctx, at, action, targetType, targetID, details))
	return err
}
