package store

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type authorizationRow struct {
	ID          string `gorm:"column:id;primaryKey"`
	UserID      string `gorm:"column:user_id"`
	ClientID    string `gorm:"column:client_id"`
	Scopes      string
	RedirectURI string `gorm:"column:redirect_uri"`
	GrantedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
	RevokedBy   string
}

func (authorizationRow) TableName() string { return "authorizations" }

type authorizationListRow struct {
	Authorization   authorizationRow `gorm:"embedded"`
	Username        string
	UserDisplayName string
	AppName         string
	AppCompany      string
	AppURL          string
	State           string
}

func (r authorizationListRow) domain() domain.Authorization {
	a := r.Authorization.domain()
	a.Username, a.UserDisplayName, a.AppName, a.AppCompany, a.AppURL = r.Username, r.UserDisplayName, r.AppName, r.AppCompany, r.AppURL
	a.State = r.State
	return a
}

func (r authorizationRow) domain() domain.Authorization {
	return domain.Authorization{ID: r.ID, UserID: r.UserID, ClientID: r.ClientID,
		Scopes: splitScopes(r.Scopes), RedirectURI: r.RedirectURI, GrantedAt: utc(r.GrantedAt),
		LastUsedAt: utcPtr(r.LastUsedAt), RevokedAt: utcPtr(r.RevokedAt), RevokedBy: r.RevokedBy}
}

// CreateAuthorization inserts a. Errors: Conflict when the user already
// has an active authorization for the app.
func (db *DB) CreateAuthorization(ctx context.Context, a domain.Authorization) error {
	row := authorizationRow{ID: a.ID, UserID: a.UserID, ClientID: a.ClientID, Scopes: joinScopes(a.Scopes),
		RedirectURI: a.RedirectURI, GrantedAt: utc(a.GrantedAt)}
	return db.WriteTx(ctx, func(ctx context.Context) error {
		if err := db.wr(ctx).Create(&row).Error; err != nil {
			return translate(err, "authorization")
		}
		if err := db.syncAuthorizationScopes(ctx, a.ID, a.Scopes); err != nil {
			return err
		}
		return db.moveActiveCount(ctx, a.ClientID, 1)
	})
}

// moveActiveCount moves the app's kept count of active authorizations
// (apps.active_authorizations) by delta, in the caller's transaction.
func (db *DB) moveActiveCount(ctx context.Context, clientID string, delta int) error {
	err := db.wr(ctx).Exec(`UPDATE apps SET active_authorizations = active_authorizations + ? WHERE client_id = ?`, delta, clientID).Error
	return translate(err, "app")
}

// ActiveAuthorization returns the user's active (not revoked)
// authorization for the app. Errors: NotFound.
//
// Inside a write transaction it first takes the (user, app) pair's lock:
// a consent reads the active authorization, then creates or updates it,
// and two consents of one user to one app on two replicas must not both
// find none (PostgreSQL; SQLite's single writer already serializes them).
func (db *DB) ActiveAuthorization(ctx context.Context, userID, clientID string) (domain.Authorization, error) {
	if tx, ok := ctx.Value(txKey{}).(*txState); ok && tx.write {
		if err := db.lock(ctx, "authorization:"+userID+":"+clientID); err != nil {
			return domain.Authorization{}, translate(err, "authorization")
		}
	}
	var row authorizationRow
	err := db.rd(ctx).Where("user_id = ? AND client_id = ? AND revoked_at IS NULL", userID, clientID).Take(&row).Error
	return row.domain(), translate(err, "authorization")
}

// UpdateAuthorizationGrant replaces the granted scopes and redirect URI and
// sets the grant time (a renewed consent).
func (db *DB) UpdateAuthorizationGrant(ctx context.Context, id string, scopes []string, redirectURI string, at time.Time) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		res := db.wr(ctx).Model(&authorizationRow{}).Where("id = ? AND revoked_at IS NULL", id).
			Updates(map[string]any{"scopes": joinScopes(scopes), "redirect_uri": redirectURI, "granted_at": utc(at)})
		if res.Error != nil || res.RowsAffected == 0 {
			return translate(res.Error, "authorization")
		}
		return db.syncAuthorizationScopes(ctx, id, scopes)
	})
}

// TouchAuthorization records that the authorization was used at.
func (db *DB) TouchAuthorization(ctx context.Context, id string, at time.Time) error {
	err := db.wr(ctx).Model(&authorizationRow{}).Where("id = ?", id).Update("last_used_at", utc(at)).Error
	return translate(err, "authorization")
}

// TouchAuthorizations records last-used times for many authorizations in
// one statement each (used by the batched usage recorder).
func (db *DB) TouchAuthorizations(ctx context.Context, lastUsed map[string]time.Time) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		// In id order: concurrent flushes (several replicas) lock the
		// rows in one order and cannot deadlock each other.
		for _, id := range slices.Sorted(maps.Keys(lastUsed)) {
			at := lastUsed[id]
			err := db.wr(ctx).Model(&authorizationRow{}).
				Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, utc(at)).
				Update("last_used_at", utc(at)).Error
			if err != nil {
				return translate(err, "authorization")
			}
		}
		return nil
	})
}

// RevokeAuthorization marks the authorization revoked by `by` (a username
// or "cli") at `at`, revokes its refresh tokens and appends an
// "authorization" invalidation so its access tokens die on the next
// request. Revoking an already revoked authorization changes nothing.
// Returns whether it was active.
func (db *DB) RevokeAuthorization(ctx context.Context, id, by string, at time.Time) (bool, error) {
	var revoked bool
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		res := db.wr(ctx).Model(&authorizationRow{}).Where("id = ? AND revoked_at IS NULL", id).
			Updates(map[string]any{"revoked_at": utc(at), "revoked_by": by})
		if res.Error != nil {
			return translate(res.Error, "authorization")
		}
		if res.RowsAffected == 0 {
			return nil
		}
		revoked = true
		if err := db.syncAuthorizationScopes(ctx, id, nil); err != nil {
			return err
		}
		if err := db.dropScopeUses(ctx, id); err != nil {
			return err
		}
		if err := db.wr(ctx).Exec(`UPDATE apps SET active_authorizations = active_authorizations - 1
WHERE client_id = (SELECT client_id FROM authorizations WHERE id = ?)`, id).Error; err != nil {
			return translate(err, "app")
		}
		if err := db.wr(ctx).Model(&refreshTokenRow{}).Where("authorization_id = ? AND revoked_at IS NULL", id).
			Update("revoked_at", utc(at)).Error; err != nil {
			return translate(err, "refresh tokens")
		}
		return db.AddInvalidation(ctx, domain.KindAuthorization, id, at)
	})
	return revoked, err
}

// AuthorizationsByClient lists the app's authorizations, active first, then
// newest grant first, with usernames; at most limit (default 100).
func (db *DB) AuthorizationsByClient(ctx context.Context, clientID string, limit int) ([]domain.Authorization, error) {
	if limit <= 0 {
		limit = 100
	}
	var rows []authorizationListRow
	err := db.rd(ctx).Raw(`SELECT z.*, u.username, u.display_name AS user_display_name, a.name AS app_name
FROM authorizations z JOIN users u ON u.id = z.user_id JOIN apps a ON a.client_id = z.client_id
WHERE z.client_id = ? ORDER BY z.revoked_at IS NOT NULL, z.granted_at DESC LIMIT ?`, clientID, limit).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "authorizations")
	}
	out := make([]domain.Authorization, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.fillStates(ctx, out, db.now())
}

// SetAuthorizationScopes replaces the granted scopes of an authorization
// (narrowing after the app's registration was narrowed).
func (db *DB) SetAuthorizationScopes(ctx context.Context, id string, scopes []string) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		res := db.wr(ctx).Model(&authorizationRow{}).Where("id = ? AND revoked_at IS NULL", id).Update("scopes", joinScopes(scopes))
		if res.Error != nil || res.RowsAffected == 0 {
			return translate(res.Error, "authorization")
		}
		return db.syncAuthorizationScopes(ctx, id, scopes)
	})
}

// ListAppAuthorizations returns one page (limit, default 50) of the app's
// authorizations (userQuery: only those of users whose username or
// display name contains it), active ones first, each part newest grant first, and the
// cursor of the next page ("" on the last). Keyset: the active part walks
// the partial index authorizations_active_by_client, the revoked part
// authorizations_by_client, so a deep page costs what the first does.
// Errors: Invalid for a malformed cursor.
func (db *DB) ListAppAuthorizations(ctx context.Context, clientID, userQuery, after string, limit int) ([]domain.Authorization, string, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	phase, at, id := "a", time.Time{}, ""
	if after != "" {
		key, last, err := decodeCursor(after)
		p, ts, ok := strings.Cut(key, "|")
		t, terr := time.Parse(time.RFC3339Nano, ts)
		if err != nil || !ok || terr != nil || (p != "a" && p != "r") {
			return nil, "", apperr.Errorf(apperr.Invalid, "The page link is not valid; go back to the first page.")
		}
		phase, at, id = p, t, last
	}
	var out []domain.Authorization
	for len(out) < limit+1 {
		q := `SELECT z.*, u.username, u.display_name AS user_display_name, a.name AS app_name
FROM authorizations z JOIN users u ON u.id = z.user_id JOIN apps a ON a.client_id = z.client_id WHERE z.client_id = ?`
		args := []any{clientID}
		if v := strings.TrimSpace(userQuery); v != "" {
			like := "%" + escapeLike(v) + "%"
			q += ` AND (u.username ` + db.fl.like + ` ? ESCAPE '\' OR u.display_name ` + db.fl.like + ` ? ESCAPE '\')`
			args = append(args, like, like)
		}
		if phase == "a" {
			q += ` AND z.revoked_at IS NULL`
		} else {
			q += ` AND z.revoked_at IS NOT NULL`
		}
		if id != "" {
			// The leading <= only gives PostgreSQL an index range start.
			q += ` AND z.granted_at <= ? AND (z.granted_at < ? OR (z.granted_at = ? AND z.id < ?))`
			args = append(args, utc(at), utc(at), utc(at), id)
		}
		q += ` ORDER BY z.granted_at DESC, z.id DESC LIMIT ?`
		args = append(args, limit+1-len(out))
		var rows []authorizationListRow
		if err := db.rd(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
			return nil, "", translate(err, "authorizations")
		}
		for _, r := range rows {
			out = append(out, r.domain())
		}
		if len(out) > limit || phase == "r" {
			break
		}
		phase, id = "r", "" // the active ones are done: the revoked ones follow
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		p := "a"
		if last.RevokedAt != nil {
			p = "r"
		}
		next = encodeCursor(p+"|"+last.GrantedAt.UTC().Format(time.RFC3339Nano), last.ID)
	}
	return out, next, db.fillStates(ctx, out, db.now())
}

// LastSecretUseOf is LastSecretUse for the given authorizations only (one
// page of the app page), through refresh_tokens_by_authorization.
func (db *DB) LastSecretUseOf(ctx context.Context, authorizationIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(authorizationIDs))
	if len(authorizationIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		AuthorizationID string
		SecretID        string
	}
	err := db.rd(ctx).Raw(`SELECT r.authorization_id, r.secret_id FROM refresh_tokens r
WHERE r.authorization_id IN ? AND r.created_at = (SELECT MAX(r2.created_at) FROM refresh_tokens r2 WHERE r2.authorization_id = r.authorization_id)`, authorizationIDs).
		Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "refresh tokens")
	}
	for _, r := range rows {
		out[r.AuthorizationID] = r.SecretID
	}
	return out, nil
}
