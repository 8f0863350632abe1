package oauth

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// RefreshStore is what the refresh grant needs: find a refresh token by
// its hash, rotate it once (MarkRefreshTokenUsed: exactly one concurrent
// caller wins), fork it on a grace replay and rotate one fork only
// (ForkRefreshToken, ClaimFork, MarkForkUsed), and revoke the
// authorization on reuse (RFC 9700 §4.14).
type RefreshStore interface {
	RefreshTokenByHash(ctx context.Context, hash []byte) (domain.RefreshToken, error)
	// RefreshTokenWithAuthorization is RefreshTokenByHash and
	// AuthorizationByID of its authorization in one query.
	RefreshTokenWithAuthorization(ctx context.Context, hash []byte) (domain.RefreshToken, domain.Authorization, error)
	MarkRefreshTokenUsed(ctx context.Context, id string, at time.Time) (bool, error)
	// RotateRefreshToken marks the unused, unrevoked, unforked token
	// parentID used and stores its successor next, both or neither,
	// committed when it returns true (false: the token was not rotatable
	// any more, nothing written).
	RotateRefreshToken(ctx context.Context, parentID string, next domain.RefreshToken) (bool, error)
	ForkRefreshToken(ctx context.Context, parent domain.RefreshToken, maxForks int) (domain.ForkOutcome, error)
	ClaimFork(ctx context.Context, parentID, id string) (bool, error)
	MarkForkUsed(ctx context.Context, id string, at time.Time) (bool, error)
	RevokeAuthorization(ctx context.Context, id, by string, at time.Time) (bool, error)
	AuthorizationByID(ctx context.Context, id string) (domain.Authorization, error)
}

// MaxRefreshForks is how many extra successors (forks) one rotated
// refresh token may mint by grace replays; a further replay inside the
// window is refused ("already refreshed") without revoking anything.
const MaxRefreshForks = 5

// RevokedByReuse is the revoked_by of an authorization revoked because a
// rotated refresh token was presented again after the grace window.
const RevokedByReuse = "system: refresh token reuse"

// refreshGrant is the refresh_token grant (seed 001 step 5; RFC 6749 §6):
// the refresh token travels in assertion. Every refresh rotates: the
// presented token is marked used and a new one is issued in the same
// chain, recording the secret presented now (a refresh with a new secret
// moves the chain to it).
//
// A token that was already rotated is judged by reuseVerdict: presented
// by its client within Config.RefreshGrace of its rotation (a retried or
// concurrent refresh whose first answer was lost) it yields another new
// pair on the same chain, a fork, and revokes nothing; later it is reuse,
// and the whole authorization is revoked (RFC 9700 §4.14.2: a stolen chain
// dies). Forks never make independent chains: the successors of one
// token are siblings of which only one may be rotated — once one was,
// presenting another (or replaying their parent) is reuse — and a token
// mints at most MaxRefreshForks forks.
type refreshGrant struct {
	s     *Service
	rt    domain.RefreshToken
	authz domain.Authorization
}

func (g *refreshGrant) find(ctx context.Context, assertion string) (string, error) {
	h := secret.Hash(assertion)
	rt, authz, err := g.s.refresh.RefreshTokenWithAuthorization(ctx, h)
	if apperr.Is(err, apperr.NotFound) {
		return "", ErrRefreshUnknown
	}
	if err != nil {
		return "", err
	}
	if !secret.Equal(rt.Hash, h) {
		return "", ErrRefreshUnknown
	}
	g.rt, g.authz = rt, authz
	return rt.ClientID, nil
}

// rotateDirect is the common refresh, without a transaction of its own:
// when what find read shows an unused, unforked, unrevoked, unexpired
// token of an active authorization that the checks of validate let
// through, the token is rotated by one conditional store call
// (RotateRefreshToken: the used mark and the successor, committed
// together) and done is true. Otherwise, or when that call finds the
// token no longer rotatable (a concurrent rotation, revocation or fork
// won), done is false, nothing was written, and the caller runs validate
// in a write transaction, which reads the token again and judges it
// (reuse, grace replay, fork) exactly as without this path.
func (g *refreshGrant) rotateDirect(ctx context.Context, t grantRequest, wantRefresh func(issuance) bool) (iss issuance, refresh string, done bool, err error) {
	s, rt, authz := g.s, g.rt, g.authz
	if rt.UsedAt != nil || rt.Forked || rt.RevokedAt != nil || !authz.Active() || !t.now.Before(rt.ExpiresAt) {
		return issuance{}, "", false, nil
	}
	if err := g.check(ctx, t); err != nil {
		return issuance{}, "", false, nil // validate answers it
	}
	iss = issuance{authz: authz, familyID: rt.FamilyID, parentID: rt.ID, scopes: grantedScopes(s.scopes, rt.Scopes, authz, t.app), authTime: rt.AuthTime}
	if !wantRefresh(iss) {
		return issuance{}, "", false, nil
	}
	refresh, next := s.newRefresh(t, iss)
	won, err := s.refresh.RotateRefreshToken(ctx, rt.ID, next)
	if err != nil {
		return issuance{}, "", true, err
	}
	if !won {
		return issuance{}, "", false, nil
	}
	return iss, refresh, true, nil
}

// check is what validate requires of the token and its authorization as
// find read them, before any write: an active authorization and an
// unrevoked token, the secret the chain records still held by the app,
// and no revocation rule covering the token.
func (g *refreshGrant) check(ctx context.Context, t grantRequest) error {
	s, rt, authz := g.s, g.rt, g.authz
	if !authz.Active() || rt.RevokedAt != nil {
		return ErrAuthorizationGone
	}
	if rt.SecretID != "" && !hasSecret(t.app, rt.SecretID) { // "": a public client's chain
		return ErrSecretRetired
	}
	if s.guard != nil && len(authz.Scopes) > 0 {
		// A revocation rule of the Token Admin API covers the refresh
		// token itself when it was issued before the rule's time.
		if ruled, err := s.guard.RuleRevoked(ctx, rt.CreatedAt, authz.Scopes); err != nil {
			return err
		} else if ruled {
			return ErrAuthorizationGone
		}
	}
	return nil
}

// validate rotates the token: the conditional used mark (unused and
// unrevoked) decides races, so what find read outside the transaction
// needs no second look on the common path. A token found already rotated,
// or rotated by a concurrent request meanwhile, is read again inside the
// transaction and judged by reuseVerdict.
func (g *refreshGrant) validate(ctx context.Context, t grantRequest) (issuance, error) {
	s, rt, authz := g.s, g.rt, g.authz
	if err := g.check(ctx, t); err != nil {
		return issuance{}, err
	}
	for attempt := 0; rt.UsedAt == nil && attempt < 2; attempt++ {
		if !t.now.Before(rt.ExpiresAt) {
			return issuance{}, ErrGrantExpired
		}
		won, err := s.rotate(ctx, rt, authz, t)
		if err != nil || won {
			return issuance{authz: authz, familyID: rt.FamilyID, parentID: rt.ID, scopes: grantedScopes(s.scopes, rt.Scopes, authz, t.app), authTime: rt.AuthTime}, err
		}
		// Lost: rotated by a concurrent request, revoked, or just marked
		// forked by a concurrent replay of its parent (then rotate it as
		// a fork).
		cur, err := s.refresh.RefreshTokenByHash(ctx, rt.Hash)
		if err != nil {
			return issuance{}, err
		}
		if cur.UsedAt != nil || cur.RevokedAt != nil || cur.Forked == rt.Forked {
			break
		}
		rt = cur
	}
	cur, err := s.refresh.RefreshTokenByHash(ctx, rt.Hash)
	if err != nil {
		return issuance{}, err
	}
	if authz, err = s.refresh.AuthorizationByID(ctx, rt.AuthorizationID); err != nil {
		return issuance{}, err
	}
	if !authz.Active() || cur.RevokedAt != nil || cur.UsedAt == nil {
		return issuance{}, ErrAuthorizationGone
	}
	if reuseVerdict(s.cfg.RefreshGrace, *cur.UsedAt, t.now) == verdictReuse {
		return issuance{}, s.refreshReused(ctx, authz, t)
	}
	switch outcome, err := s.refresh.ForkRefreshToken(ctx, cur, MaxRefreshForks); {
	case err != nil:
		return issuance{}, err
	case outcome == domain.ForkSuccessorUsed:
		return issuance{}, s.refreshReused(ctx, authz, t)
	case outcome == domain.ForkCapReached:
		t.after.warn(ctx, "refresh grace replay refused: the token minted its maximum of forks",
			"authorization_id", authz.ID, "client_id", t.app.ClientID, "max_forks", MaxRefreshForks)
		return issuance{}, ErrRefreshReused
	}
	err = s.record(audit.WithActor(ctx, audit.Actor{Name: audit.ActorSystem}), t.now, audit.ActionTokenRefreshRetry, audit.TargetAuthorization, authz.ID, map[string]any{
		"reason": "rotated refresh token presented again within the grace window", "client_id": t.app.ClientID,
		"family_id": cur.FamilyID, "rotated_at": cur.UsedAt.UTC().Format(time.RFC3339Nano), "grace": s.cfg.RefreshGrace.String()})
	return issuance{authz: authz, familyID: cur.FamilyID, parentID: cur.ID, forked: true, scopes: grantedScopes(s.scopes, cur.Scopes, authz, t.app), authTime: cur.AuthTime}, err
}

// rotate marks the unused token rt used and reports whether this call did
// it. A forked token first claims its parent: when a sibling was rotated
// first, presenting rt is reuse and the authorization is revoked
// (ErrRefreshReused).
func (s *Service) rotate(ctx context.Context, rt domain.RefreshToken, authz domain.Authorization, t grantRequest) (bool, error) {
	if !rt.Forked {
		return s.refresh.MarkRefreshTokenUsed(ctx, rt.ID, t.now)
	}
	ok, err := s.refresh.ClaimFork(ctx, rt.ParentID, rt.ID)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, s.refreshReused(ctx, authz, t)
	}
	return s.refresh.MarkForkUsed(ctx, rt.ID, t.now)
}

// verdict is the fate of a rotated refresh token presented again.
type verdict int

const (
	verdictReuse verdict = iota // revoke the authorization
	verdictRetry                // issue another pair on the same chain
)

// reuseVerdict decides about a refresh token rotated at usedAt and
// presented again at now by its authenticated client: a retry while
// now-usedAt ≤ grace (a clock that went back counts as inside), reuse
// otherwise; grace ≤ 0 turns retries off.
func reuseVerdict(grace time.Duration, usedAt, now time.Time) verdict {
	if grace > 0 && now.Sub(usedAt) <= grace {
		return verdictRetry
	}
	return verdictReuse
}

// refreshReused revokes the authorization of a reused refresh token (RFC
// 9700 §4.14.2), records it, and returns ErrRefreshReused (or a storage
// error).
func (s *Service) refreshReused(ctx context.Context, authz domain.Authorization, t grantRequest) error {
	if _, err := s.refresh.RevokeAuthorization(ctx, authz.ID, RevokedByReuse, t.now); err != nil {
		return err
	}
	t.after.warn(ctx, "refresh token reuse: authorization revoked", "authorization_id", authz.ID, "client_id", t.app.ClientID)
	err := s.record(audit.WithActor(ctx, audit.Actor{Name: audit.ActorSystem}), t.now, audit.ActionAuthorizationRevoke,
		audit.TargetAuthorization, authz.ID, map[string]any{"reason": "refresh token reuse", "user_id": authz.UserID,
			"client_id": t.app.ClientID, "scopes": authz.Scopes})
	if err != nil {
		return err
	}
	return ErrRefreshReused
}
