package oauth

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// TokenStore is what the token endpoint's shared skeleton needs: the
// client, one (group-committed) transaction per request, and the new
// refresh token. (The secret's use is counted in memory by Usage and
// written in batches: no shared row is written per request.)
type TokenStore interface {
	// BatchTx is a write transaction that may share one commit with
	// concurrent calls (group commit); it returns after the commit, and
	// fn's writes are rolled back alone when fn fails. fn may run more
	// than once (only its last run counts), so it does nothing outside
	// the transaction: runGrant logs a grant's warnings after the commit
	// (afterCommit).
	BatchTx(ctx context.Context, fn func(ctx context.Context) error) error
	ClientByID(ctx context.Context, clientID string) (domain.App, error)
	CreateRefreshToken(ctx context.Context, t domain.RefreshToken) error
}

// Wire constants of the token request (seed 001, "Get an access and
// refresh token", "Refresh an expired access token").
const (
	GrantTypeJWTBearer           = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantTypeRefreshToken        = "refresh_token"
	ClientAssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	TokenTypeJWTBearer           = "jwt-bearer"
)

// TokenRequest is the form body of POST /oauth2/token: client_assertion
// is the client secret; assertion is the authorization code (grant_type
// jwt-bearer) or the refresh token (grant_type refresh_token).
type TokenRequest struct {
	GrantType           string
	ClientAssertionType string
	ClientAssertion     string
	Assertion           string
	RedirectURI         string
	// CodeVerifier is PKCE's code_verifier (RFC 7636 §4.5), for a code
	// issued with a code_challenge.
	CodeVerifier string
}

// TokenResponse is the token endpoint's success body (PROTOCOL.md, "Token
// response"): expires_in is a JSON string of seconds; scope is the granted
// scopes followed by the marker vso.authorization_grant.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    string `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`

	// Not serialized: for the audit trail and the caller's logs.
	AuthorizationID string `json:"-"`
	ClientID        string `json:"-"`
}

// grant is one grant type of the token endpoint (dex's server/grants
// shape). Token runs every grant through the same skeleton, so a grant
// cannot skip a step: find the presented grant, authenticate the client
// it was issued to, check the redirect URI, let the grant validate itself,
// then issue. A grant value lives for one request.
type grant interface {
	// find looks up the grant presented in assertion, outside any write
	// transaction, and returns the client_id it was issued to. Errors:
	// *Error when nothing matches.
	find(ctx context.Context, assertion string) (clientID string, err error)
	// validate checks the found grant for the authenticated client inside
	// the write transaction and returns what to issue. It settles races
	// with conditional writes (a used mark) and may write more (a reuse
	// revocation); an *Error it returns commits those writes (see Token).
	validate(ctx context.Context, t grantRequest) (issuance, error)
}

// grantRequest is what validate gets: the request, its one clock
// reading, and the authenticated client and the secret that matched.
type grantRequest struct {
	req TokenRequest
	now time.Time
	app domain.App
	sec domain.Secret
	// standard: a request of the standard token endpoint (token_standard.go).
	standard bool
	// after collects what validate does outside the database (log lines),
	// done once the transaction committed: the group commit may run
	// validate twice (BatchTx), and only the run that counts may be heard
	// of. Set by runGrant for each run.
	after *afterCommit
}

// afterCommit is what a grant's run does once its writes committed: its
// warnings, logged then (the group commit may run a grant's function
// twice, and a warning logged inside it would be logged twice; a run
// rolled back must not be heard of at all).
type afterCommit struct {
	log   *slog.Logger
	warns []afterWarn
}

type afterWarn struct {
	ctx  context.Context
	msg  string
	args []any
}

// warn queues a warning for after the commit.
func (a *afterCommit) warn(ctx context.Context, msg string, args ...any) {
	a.warns = append(a.warns, afterWarn{ctx, msg, args})
}

// committed logs what was queued.
func (a *afterCommit) committed() {
	for _, w := range a.warns {
		a.log.WarnContext(w.ctx, w.msg, w.args...)
	}
}

// issuance is what a validated grant asks Token to mint: a refresh token
// in the chain familyID and an access token, for authz and scopes.
type issuance struct {
	authz    domain.Authorization
	familyID string
	// parentID is the refresh token rotated to mint this one ("" for a
	// code exchange); forked marks a grace replay's successor.
	parentID string
	forked   bool
	scopes   []string
	// For the standard flow's ID token: the code's nonce and when the user
	// signed in (kept along the refresh chain).
	nonce    string
	authTime *time.Time
}

// newGrant returns the grant for req after the checks every grant shares
// (RFC 6749 §5.2 and PROTOCOL.md, "Token errors"). Errors: *Error.
func (s *Service) newGrant(req TokenRequest) (grant, error) {
	var g grant
	switch req.GrantType {
	case "":
		return nil, ErrGrantTypeMissing
	case GrantTypeJWTBearer:
		g = &codeGrant{s: s}
	case GrantTypeRefreshToken:
		g = &refreshGrant{s: s}
	default:
		return nil, ErrGrantTypeUnsupported
	}
	switch {
	case req.ClientAssertionType != ClientAssertionTypeJWTBearer:
		return nil, ErrAssertionTypeInvalid
	case req.ClientAssertion == "":
		return nil, ErrSecretMissing
	case req.Assertion == "":
		return nil, ErrAssertionMissing
	case req.RedirectURI == "":
		return nil, ErrRedirectURIMissing
	}
	return g, nil
}

// Token runs the token endpoint: the code exchange (flow_code.go) or the
// refresh (flow_refresh.go), as one skeleton:
//
//  1. find the grant and authenticate the client it was issued to (RFC
//     6749 §2.3.1) — reads, before anything about the grant's state is
//     revealed or changed, so only its client learns that it was used,
//     expired or revoked; then the redirect URI;
//  2. validate the grant and store the new refresh token (its hash) in one
//     write transaction, shared with concurrent token requests (group
//     commit, Store.BatchTx) — the common refresh in one conditional store
//     call instead (RefreshStore.RotateRefreshToken, rotateDirect);
//  3. once that committed, sign the access token and answer.
//
// So every token a client receives was committed first. A protocol error
// (*Error) commits what the grant wrote before it — a reuse revocation
// must stick although the request fails — while any other error rolls the
// request's writes back. Errors: *Error values of errors.go; anything else
// is internal (answered as ErrServer by the web layer).
func (s *Service) Token(ctx context.Context, req TokenRequest) (TokenResponse, error) {
	g, err := s.newGrant(req)
	if err != nil {
		return TokenResponse{}, err
	}
	now := s.now()
	clientID, err := g.find(ctx, req.Assertion)
	if err != nil {
		return TokenResponse{}, err
	}
	app, sec, err := s.authenticateClient(ctx, clientID, req.ClientAssertion, now)
	if err != nil {
		return TokenResponse{}, err
	}
	if !domain.CallbackMatches(app.CallbackURL, req.RedirectURI) {
		return TokenResponse{}, ErrRedirectURIMismatch
	}
	t := grantRequest{req: req, now: now, app: app, sec: sec}
	iss, refresh, err := s.runGrant(ctx, g, t, func(issuance) bool { return true })
	if err != nil {
		return TokenResponse{}, err
	}
	s.issued(FlowDialect, req.GrantType)
	return s.respond(t, iss, refresh)
}

// runGrant is step 2 of the token skeleton, shared by both dialects'
// token endpoints: validate the found grant and, when wantRefresh says so
// for what it yields, store a new refresh token, in one group-committed
// write transaction. A protocol error (*Error) commits what the grant
// wrote before it (a reuse revocation, a device poll); any other error
// rolls the request's writes back. Records the authorization's use. A
// refresh whose token find read unused goes through rotateDirect first,
// and through the transaction only when that did not settle it.
func (s *Service) runGrant(ctx context.Context, g grant, t grantRequest, wantRefresh func(issuance) bool) (issuance, string, error) {
	if r, ok := g.(*refreshGrant); ok {
		// The common refresh: one statement, no transaction of its own.
		if iss, refresh, done, err := r.rotateDirect(ctx, t, wantRefresh); done {
			if err != nil {
				return issuance{}, "", err
			}
			s.recordUse(iss, t)
			return iss, refresh, nil
		}
	}
	var (
		iss     issuance
		refresh string
		failed  *Error
		after   *afterCommit
	)
	// fn may run more than once (BatchTx): each run starts afresh, and
	// only the last run's results and warnings count.
	err := s.grants.BatchTx(ctx, func(ctx context.Context) error {
		after = &afterCommit{log: s.log}
		t := t
		t.after = after
		var err error
		iss, refresh = issuance{}, ""
		iss, err = g.validate(ctx, t)
		if err == nil && wantRefresh(iss) {
			refresh, err = s.storeRefresh(ctx, t, iss)
		}
		if errors.As(err, &failed) {
			return nil
		}
		failed = nil
		return err
	})
	if err != nil {
		return issuance{}, "", err
	}
	after.committed()
	if failed != nil {
		return issuance{}, "", failed
	}
	s.recordUse(iss, t)
	return iss, refresh, nil
}

// recordUse counts a committed issuance's use of its authorization and
// secret (written in batches by Usage).
func (s *Service) recordUse(iss issuance, t grantRequest) {
	if s.usage == nil {
		return
	}
	if iss.authz.ID != "" {
		s.usage.Record(iss.authz.ID, t.now)
	}
	if t.sec.ID != "" { // "": a public client
		s.usage.RecordSecret(t.sec.ID, t.now)
	}
}

// authenticateClient loads the app a grant was issued to and checks the
// presented secret against every active secret of it in constant time
// (RFC 6749 §2.3.1). Returns the matching secret. Errors: ErrClientUnknown
// (no such app, deleted, or external), ErrClientFailed (no match),
// ErrSecretExpired, or a storage error.
func (s *Service) authenticateClient(ctx context.Context, clientID, presented string, now time.Time) (domain.App, domain.Secret, error) {
	app, err := s.grants.ClientByID(ctx, clientID)
	if apperr.Is(err, apperr.NotFound) {
		return app, domain.Secret{}, ErrClientUnknown
	}
	if err != nil {
		return app, domain.Secret{}, err
	}
	sec, err := matchSecret(app, presented, now)
	return app, sec, err
}

// matchSecret returns the app's active secret whose hash matches
// presented. Every slot is compared, with no early exit, so the time taken
// does not depend on which slot matched. Errors: ErrClientUnknown,
// ErrClientNotApproved (pending or rejected app), ErrClientFailed,
// ErrSecretExpired.
func matchSecret(app domain.App, presented string, now time.Time) (domain.Secret, error) {
	if app.DeletedAt != nil || app.External {
		return domain.Secret{}, ErrClientUnknown
	}
	if app.Status != "" && app.Status != domain.AppActive {
		return domain.Secret{}, ErrClientNotApproved
	}
	h := secret.Hash(presented)
	var match domain.Secret
	found := false
	for _, sec := range app.Secrets {
		if secret.Equal(sec.Hash, h) {
			match, found = sec, true
		}
	}
	if !found {
		return domain.Secret{}, ErrClientFailed
	}
	if match.Expired(now) {
		return domain.Secret{}, ErrSecretExpired
	}
	return match, nil
}

// grantedScopes returns what the token's scopes still grant within both
// the authorization and the app's registration (scope.Intersect):
// narrowing either narrows every later token at once.
// The token's own order is kept when nothing was narrowed.
//
// The OpenID Connect scopes (openid, profile, email, offline_access) need
// no registration: they are kept while the authorization holds them.
func grantedScopes(cat *scope.Catalog, tokenScopes []string, authz domain.Authorization, app domain.App) []string {
	kept := make([]string, 0, len(tokenScopes))
	oidc := 0
	for _, sc := range tokenScopes {
		if isOIDCScope(sc) {
			oidc++
			if slices.Contains(authz.Scopes, sc) {
				kept = append(kept, sc)
			}
			continue
		}
		if cat.Satisfies(authz.Scopes, sc) && cat.Satisfies(app.Scopes, sc) {
			kept = append(kept, sc)
		}
	}
	if len(kept) == len(tokenScopes) {
		return kept
	}
	narrowed := cat.Intersect(cat.Intersect(tokenScopes, authz.Scopes), app.Scopes)
	if oidc == 0 {
		return narrowed
	}
	var out []string
	for _, sc := range tokenScopes {
		if isOIDCScope(sc) && slices.Contains(authz.Scopes, sc) {
			out = append(out, sc)
		}
	}
	return append(out, narrowed...)
}

// storeRefresh mints a refresh token in the chain iss.familyID and stores
// its hash. Runs inside Token's transaction. Returns the refresh token.
func (s *Service) storeRefresh(ctx context.Context, t grantRequest, iss issuance) (string, error) {
	refresh, rt := s.newRefresh(t, iss)
	if err := s.grants.CreateRefreshToken(ctx, rt); err != nil {
		return "", err
	}
	return refresh, nil
}

// newRefresh mints a refresh token in the chain iss.familyID: the token
// to hand out and the record of it to store (its hash only).
func (s *Service) newRefresh(t grantRequest, iss issuance) (string, domain.RefreshToken) {
	refresh := secret.New(secret.PrefixRefreshToken)
	return refresh, domain.RefreshToken{
		ID: uuid.NewString(), Hash: secret.Hash(refresh), AuthorizationID: iss.authz.ID, FamilyID: iss.familyID,
		ClientID: t.app.ClientID, UserID: iss.authz.UserID, SecretID: t.sec.ID, Scopes: iss.scopes,
		CreatedAt: t.now, ExpiresAt: t.now.Add(s.cfg.RefreshTTL), ParentID: iss.parentID, Forked: iss.forked,
		AuthTime: iss.authTime,
	}
}

// respond signs the access token of a committed issuance and builds the
// response.
func (s *Service) respond(t grantRequest, iss issuance, refresh string) (TokenResponse, error) {
	authz := iss.authz
	access, exp, err := s.mint(t.now, authz.UserID, authz.ID, t.app.ClientID, t.sec.ID, iss.familyID, iss.scopes, t.sec.ExpiresAt)
	if err != nil {
		return TokenResponse{}, err
	}
	// One second of slack, as the service does ("3599" for one hour).
	secs := max(int64(exp.Sub(t.now)/time.Second)-1, 0)
	return TokenResponse{
		AccessToken: access, TokenType: TokenTypeJWTBearer, ExpiresIn: strconv.FormatInt(secs, 10),
		RefreshToken: refresh, Scope: strings.Join(append(append([]string{}, iss.scopes...), scope.AuthorizationGrant), " "),
		AuthorizationID: authz.ID, ClientID: t.app.ClientID,
	}, nil
}
