package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/pat"
)

// PATStore finds a personal access token by the SHA-256 of the token and
// reads its owner.
type PATStore interface {
	PATByHash(ctx context.Context, hash []byte) (domain.PAT, error)
	UserByID(ctx context.Context, id string) (domain.User, error)
}

// patMaxAge bounds how long a token read from the database is trusted
// without reading it again. It is far below the guard's window (the
// access-token lifetime, at least an hour), so every invalidation of the
// token or its user after the read is still in the guard's sets.
const patMaxAge = time.Minute

// patEntry is a personal access token as read at loaded, with whether its
// owner could use it then.
type patEntry struct {
	pat    domain.PAT
	userOK bool
	loaded time.Time
}

// patCache remembers personal access tokens read from the database, keyed
// by the SHA-256 of the token (never the token), bounded like tokenCache.
// Only tokens that exist enter it, so random strings cannot fill it.
type patCache struct {
	mu  sync.RWMutex
	max int
	m   map[[sha256.Size]byte]patEntry
}

func (c *patCache) get(k [sha256.Size]byte) (patEntry, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	return e, ok
}

func (c *patCache) put(k [sha256.Size]byte, e patEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[[sha256.Size]byte]patEntry, 64) // whole-cache drop: a reload each, then warm again
	}
	c.m[k] = e
}

// SetPATs makes Authenticate accept personal access tokens found in st.
// Call it before use.
func (s *Service) SetPATs(st PATStore) {
	s.pats = st
	s.patCache = &patCache{max: DefaultTokenCacheSize}
	s.AddIntrospector(patIntrospector{s})
}

// credential returns the token of an Authorization header: "Bearer
// <token>" (RFC 6750 §2.1), or "Basic base64(user:token)" with any user
// name, as the hosted service accepts a personal access token (seed 003:
// "use your PAT in place of your password"). basic reports the latter.
func credential(header string) (raw string, basic bool, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(header), " ")
	rest = strings.TrimSpace(rest)
	if !found || rest == "" {
		return "", false, false
	}
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return rest, false, true
	case strings.EqualFold(scheme, "Basic"):
		if len(rest) > 512 {
			return "", true, true
		}
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", true, true
		}
		_, pw, _ := strings.Cut(string(b), ":")
		return pw, true, true
	}
	return "", false, false
}

// authenticatePAT checks a personal access token: its checksum offline
// (a typo costs no lookup), then the token from the PAT cache — read from
// the database only on first use, after patMaxAge, or when the guard's
// feed says the token or its user was invalidated since the read — and
// the revocation rules. The third-party OAuth policy does not apply to
// personal access tokens (seed 001 FAQ).
//
// Errors: *BearerError "invalid_token" when the token is malformed,
// unknown, revoked, expired, covered by a revocation rule or its user is
// disabled or deleted.
func (s *Service) authenticatePAT(ctx context.Context, raw string, now time.Time) (Principal, error) {
	invalid := func(why string) (Principal, error) {
		return Principal{}, &BearerError{Code: "invalid_token", Description: why}
	}
	if s.pats == nil || !pat.Valid(raw) {
		return invalid("The personal access token is not valid.")
	}
	key := tokenKey(raw)
	e, ok := s.patCache.get(key)
	if ok {
		if now.Sub(e.loaded) >= patMaxAge {
			ok = false
		} else {
			stale, ruled, err := s.guard.PATVerdict(ctx, e.pat.ID, e.pat.UserID, e.loaded, e.pat.CreatedAt, e.pat.Scopes)
			if err != nil {
				s.log.ErrorContext(ctx, "bearer check: invalidation feed", "err", err)
				return invalid("The personal access token could not be verified; try again.")
			}
			if ruled {
				return invalid("The personal access token has been revoked.")
			}
			ok = !stale
		}
	}
	if !ok {
		p, err := s.pats.PATByHash(ctx, key[:])
		if apperr.Is(err, apperr.NotFound) {
			return invalid("The personal access token is not valid.")
		}
		if err != nil {
			s.log.ErrorContext(ctx, "bearer check: personal access token", "err", err)
			return invalid("The personal access token could not be verified; try again.")
		}
		u, err := s.pats.UserByID(ctx, p.UserID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			s.log.ErrorContext(ctx, "bearer check: personal access token owner", "err", err)
			return invalid("The personal access token could not be verified; try again.")
		}
		e = patEntry{pat: p, userOK: err == nil && u.DisabledAt == nil && u.DeletedAt == nil, loaded: now}
		s.patCache.put(key, e)
		if ruled, err := s.guard.RuleRevoked(ctx, p.CreatedAt, p.Scopes); ruled || err != nil {
			return invalid("The personal access token has been revoked.")
		}
	}
	switch {
	case e.pat.RevokedAt != nil:
		return invalid("The personal access token has been revoked.")
	case !now.Before(e.pat.ExpiresAt):
		return invalid("The personal access token has expired.")
	case !e.userOK:
		return invalid("The personal access token's user is disabled or deleted.")
	}
	return Principal{UserID: e.pat.UserID, PATID: e.pat.ID, Scopes: e.pat.Scopes, FullAccess: e.pat.FullAccess(), ExpiresAt: e.pat.ExpiresAt,
		IssuedAt: e.pat.CreatedAt}, nil
}

// patIntrospector answers the introspection endpoint (RFC 7662) for
// personal access tokens: the Bearer check's verdict, so a token refused
// there is inactive here (revoked, expired, rule-matched, user disabled).
type patIntrospector struct{ s *Service }

// IntrospectToken implements TokenIntrospector: ok=false for anything
// without the token prefix; token_type "personal_access_token".
func (p patIntrospector) IntrospectToken(ctx context.Context, token string) (Introspection, bool, error) {
	if !pat.LooksLike(token) {
		return Introspection{}, false, nil
	}
	pr, err := p.s.authenticatePAT(ctx, token, p.s.now())
	if err != nil {
		return inactive, true, nil
	}
	in := Introspection{Active: true, Scope: strings.Join(pr.Scopes, " "), TokenType: "personal_access_token",
		Exp: pr.ExpiresAt.Unix(), Sub: pr.UserID, Iss: p.s.cfg.Issuer, Aud: p.s.cfg.Issuer, Jti: pr.PATID}
	if !pr.IssuedAt.IsZero() {
		in.Iat = pr.IssuedAt.Unix()
	}
	if u, err := p.s.pats.UserByID(ctx, pr.UserID); err == nil {
		in.Username = u.Username
	}
	return in, true, nil
}
