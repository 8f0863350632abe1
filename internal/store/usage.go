package store

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// FlushUsage writes a batch of usage facts in one transaction: last-used
// times of authorizations, per-scope use counts, and client secret use
// counts and last-used times (counts are added to the stored ones; times
// only move forward, so flushes of several replicas in any order agree).
// A secret or authorization deleted meanwhile is skipped.
func (db *DB) FlushUsage(ctx context.Context, b domain.UsageBatch) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		// One flush at a time across replicas (PostgreSQL), each in key
		// order; a deadlock with another writer is retried by WriteTx.
		if err := db.lock(ctx, "usage_flush"); err != nil {
			return translate(err, "scope usage")
		}
		if err := db.TouchAuthorizations(ctx, b.LastUsed); err != nil {
			return err
		}
		for _, id := range slices.Sorted(maps.Keys(b.Secrets)) {
			u := b.Secrets[id]
			_, err := db.execHot(ctx, "client secret", `UPDATE client_secrets SET use_count = use_count + ?,
last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END WHERE id = ?`, u.Count, utc(u.Last), utc(u.Last), id)
			if err != nil {
				return err
			}
		}
		keys := slices.SortedFunc(maps.Keys(b.Scopes), func(a, b domain.ScopeUseKey) int {
			return cmp.Or(cmp.Compare(a.SatisfiedBy, b.SatisfiedBy), cmp.Compare(a.AuthorizationID, b.AuthorizationID), cmp.Compare(a.Scope, b.Scope))
		})
		for _, k := range keys {
			u := b.Scopes[k]
			err := db.wr(ctx).Exec(`INSERT INTO scope_usage (authorization_id, scope, satisfied_by, count, first_used_at, last_used_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (authorization_id, scope, satisfied_by) DO UPDATE SET count = scope_usage.count + excluded.count,
  last_used_at = `+db.fl.greatest+`(scope_usage.last_used_at, excluded.last_used_at)`, k.AuthorizationID, k.Scope, k.SatisfiedBy, u.Count, utc(u.Last), utc(u.Last)).Error
			if err != nil {
				return translate(err, "scope usage")
			}
			if err := db.addScopeUses(ctx, k.SatisfiedBy, u.Count, u.Last); err != nil {
				return err
			}
		}
		return db.flushClientGrantScopes(ctx, b.ClientGrantScopes)
	})
}

// flushClientGrantScopes adds the per-scope uses of the apps' own grants
// (client_credentials tokens) to client_grant_scope_usage, in key order;
// a grant that is not stored (a token minted without a recorded grant)
// is skipped.
func (db *DB) flushClientGrantScopes(ctx context.Context, uses map[domain.ClientGrantScopeUseKey]domain.ScopeUse) error {
	keys := slices.SortedFunc(maps.Keys(uses), func(a, b domain.ClientGrantScopeUseKey) int {
		return cmp.Or(cmp.Compare(a.GrantID, b.GrantID), cmp.Compare(a.Scope, b.Scope), cmp.Compare(a.SatisfiedBy, b.SatisfiedBy))
	})
	for _, k := range keys {
		u := uses[k]
		err := db.wr(ctx).Exec(`INSERT INTO client_grant_scope_usage (grant_id, scope, satisfied_by, count, first_used_at, last_used_at)
SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM client_credential_grants WHERE id = ?)
ON CONFLICT (grant_id, scope, satisfied_by) DO UPDATE SET count = client_grant_scope_usage.count + excluded.count,
  last_used_at = `+db.fl.greatest+`(client_grant_scope_usage.last_used_at, excluded.last_used_at)`,
			k.GrantID, k.Scope, k.SatisfiedBy, u.Count, utc(u.Last), utc(u.Last), k.GrantID).Error
		if err != nil {
			return translate(err, "client grant scope usage")
		}
	}
	return nil
}

type scopeUsageRow struct {
	AuthorizationID string
	ClientID        string
	UserID          string
	Scope           string
	SatisfiedBy     string
	Count           int64
	LastUsedAt      time.Time
}

// ScopeUsage returns every usage fact whose last use is at or after since
// (zero: all), optionally for one app.
func (db *DB) ScopeUsage(ctx context.Context, clientID string, since time.Time) ([]domain.ScopeUsage, error) {
	q := db.rd(ctx).Table("scope_usage s").Joins("JOIN authorizations z ON z.id = s.authorization_id").
		Select("s.authorization_id, z.client_id, z.user_id, s.scope, s.satisfied_by, s.count, s.last_used_at")
	if clientID != "" {
		q = q.Where("z.client_id = ?", clientID)
	}
	if !since.IsZero() {
		q = q.Where("s.last_used_at >= ?", utc(since))
	}
	var rows []scopeUsageRow
	if err := q.Scan(&rows).Error; err != nil {
		return nil, translate(err, "scope usage")
	}
	out := make([]domain.ScopeUsage, len(rows))
	for i, r := range rows {
		out[i] = domain.ScopeUsage{AuthorizationID: r.AuthorizationID, ClientID: r.ClientID, UserID: r.UserID, Scope: r.Scope,
			SatisfiedBy: r.SatisfiedBy, Count: r.Count, LastUsedAt: utc(r.LastUsedAt)}
	}
	return out, nil
}

// SetAppScopes replaces the registered scopes of an app.
func (db *DB) SetAppScopes(ctx context.Context, clientID string, scopes []string) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		if err := db.wr(ctx).Model(&appRow{}).Where("client_id = ?", clientID).Update("scopes", joinScopes(scopes)).Error; err != nil {
			return translate(err, "app")
		}
		return db.syncAppScopes(ctx, clientID, scopes)
	})
}

// ActiveAuthorizationScopes returns the granted scopes of every active
// authorization of the app, by authorization id.
func (db *DB) ActiveAuthorizationScopes(ctx context.Context, clientID string) (map[string][]string, error) {
	var rows []struct {
		ID     string
		Scopes string
	}
	err := db.rd(ctx).Table("authorizations").Select("id, scopes").
		Where("client_id = ? AND revoked_at IS NULL", clientID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "authorizations")
	}
	out := make(map[string][]string, len(rows))
	for _, r := range rows {
		out[r.ID] = splitScopes(r.Scopes)
	}
	return out, nil
}
