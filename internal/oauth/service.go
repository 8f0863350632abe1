package oauth

import (
	"context"
	"log/slog"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// Store is everything the protocol stores: the union of the small
// interfaces its parts declare where they use them (ConsentStore in
// authorize.go, CodeStore in flow_code.go, RefreshStore in
// flow_refresh.go, TokenStore in token.go, AuditLog here). Methods join
// the transaction carried by ctx (see WriteTx). Lookups return an apperr
// NotFound error when nothing matches.
type Store interface {
	ConsentStore
	CodeStore
	RefreshStore
	TokenStore
	AuditLog
	UserStore
	DeviceStore
}

// AuditLog appends to the audit hash chain (joining ctx's transaction).
type AuditLog interface {
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
	cfg          Config
	consents     ConsentStore
	codes        CodeStore
	refresh      RefreshStore
	grants       TokenStore
	auditLog     AuditLog
	users        UserStore
	devices      DeviceStore
	scopes       *scope.Catalog
	keys         *KeySet
	guard        *Guard
	usage        *Usage
	clientGrants ClientGrantStore     // nil: client_credentials grants unrecorded
	assertions   ClientAssertionStore // nil: private_key_jwt refused
	grantCache   *clientGrantCache
	tokens       *tokenCache
	pats         PATStore // nil: personal access tokens are refused
	patCache     *patCache
	now          func() time.Time
	log          *slog.Logger
	more         introspectors
	// OnIssue, when set, is told about every token response given: the
	// flow (FlowDialect or FlowOIDC) and the grant type (for metrics). Set
	// it while wiring.
	OnIssue func(flow, grantType string)
}

// Flow names of OnIssue.
const (
	FlowDialect = "azure_devops"
	FlowOIDC    = "oidc"
)

func (s *Service) issued(flow, grantType string) {
	if s.OnIssue != nil {
		s.OnIssue(flow, grantType)
	}
}

// NewService wires the protocol. now is the clock (time.Now in
// production, a fixed clock in tests); one reading is taken per request.
func NewService(cfg Config, st Store, cat *scope.Catalog, keys *KeySet, guard *Guard, usage *Usage, now func() time.Time, log *slog.Logger) *Service {
	return &Service{cfg: cfg.withDefaults(), consents: st, codes: st, refresh: st, grants: st, auditLog: st, users: st, devices: st,
		scopes: cat, keys: keys, guard: guard, usage: usage,
		tokens: newTokenCache(DefaultTokenCacheSize), now: now, log: log}
}

// Keys returns the signing key set (for /.well-known/jwks.json).
func (s *Service) Keys() *KeySet { return s.keys }

// record appends an audit event for ctx's actor inside the caller's
// transaction.
func (s *Service) record(ctx context.Context, at time.Time, action, targetType, targetID string, details map[string]any) error {
	_, err := s.auditLog.AppendAudit(ctx, audit.New(ctx, at, action, targetType, targetID, details))
	return err
}
