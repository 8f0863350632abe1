package store

import (
	"context"
	"slices"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type appOwnerRow struct {
	ClientID string `gorm:"column:client_id;primaryKey"`
	UserID   string `gorm:"column:user_id;primaryKey"`
	AddedAt  time.Time
}

func (appOwnerRow) TableName() string { return "app_owners" }

// AddAppOwner makes the user an owner of the app (no change when it is
// one already).
func (db *DB) AddAppOwner(ctx context.Context, clientID, userID string, at time.Time) error {
	err := db.wr(ctx).Exec(`INSERT INTO app_owners (client_id, user_id, added_at) VALUES (?, ?, ?)
ON CONFLICT (client_id, user_id) DO NOTHING`, clientID, userID, utc(at)).Error
	return translate(err, "app owner")
}

// RemoveAppOwner removes the user from the app's owners and reports
// whether it was one.
func (db *DB) RemoveAppOwner(ctx context.Context, clientID, userID string) (bool, error) {
	res := db.wr(ctx).Where("client_id = ? AND user_id = ?", clientID, userID).Delete(&appOwnerRow{})
	return res.RowsAffected > 0, translate(res.Error, "app owner")
}

// AppOwners returns the app's owners, the primary first, then by username.
// Inside a write transaction it first locks the app's owner rows until
// the transaction ends (PostgreSQL SELECT … FOR UPDATE; SQLite's writers
// are serialized already), so that "an app keeps at least one owner"
// holds when two co-owners remove each other on two replicas at once.
func (db *DB) AppOwners(ctx context.Context, clientID string) ([]domain.AppOwner, error) {
	if db.inWriteTx(ctx) && db.fl.forUpdate != "" {
		var locked []string
		if err := db.wr(ctx).Raw(`SELECT user_id FROM app_owners WHERE client_id = ? ORDER BY user_id`+db.fl.forUpdate,
			clientID).Scan(&locked).Error; err != nil {
			return nil, translate(err, "app owners")
		}
	}
	var rows []struct {
		UserID      string
		Username    string
		DisplayName string
		AddedAt     time.Time
		Primary     bool
		Deleted     bool
		Disabled    bool
	}
	err := db.rd(ctx).Raw(`SELECT o.user_id, u.username, u.display_name, o.added_at, (a.owner_id = o.user_id) AS "primary", (u.deleted_at IS NOT NULL) AS deleted,
(u.disabled_at IS NOT NULL) AS disabled
FROM app_owners o JOIN users u ON u.id = o.user_id JOIN apps a ON a.client_id = o.client_id
WHERE o.client_id = ? ORDER BY (a.owner_id = o.user_id) DESC, `+db.fl.nocase("u.username"), clientID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "app owners")
	}
	out := make([]domain.AppOwner, len(rows))
	for i, r := range rows {
		out[i] = domain.AppOwner{UserID: r.UserID, Username: r.Username, DisplayName: r.DisplayName, AddedAt: utc(r.AddedAt), Primary: r.Primary, Deleted: r.Deleted, Disabled: r.Disabled}
	}
	return out, nil
}

// IsAppOwner reports whether the user owns or co-owns the app.
func (db *DB) IsAppOwner(ctx context.Context, clientID, userID string) (bool, error) {
	var n int64
	err := db.rd(ctx).Model(&appOwnerRow{}).Where("client_id = ? AND user_id = ?", clientID, userID).Count(&n).Error
	return n > 0, translate(err, "app owner")
}

// SetAppPrimaryOwner records userID as the app's primary owner.
func (db *DB) SetAppPrimaryOwner(ctx context.Context, clientID, userID string) error {
	return translate(db.wr(ctx).Model(&appRow{}).Where("client_id = ?", clientID).Update("owner_id", userID).Error, "app")
}

// UpdateAppRegistration replaces the registration fields of an app
// (scopes included). Errors: NotFound.
func (db *DB) UpdateAppRegistration(ctx context.Context, clientID string, r domain.Registration) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		res := db.wr(ctx).Model(&appRow{}).Where("client_id = ?", clientID).Updates(map[string]any{
			"name": r.Name, "company": r.Company, "description": r.Description, "company_url": r.CompanyURL,
			"app_url": r.AppURL, "callback_url": r.CallbackURL, "logo_url": r.LogoURL, "terms_url": r.TermsURL,
			"privacy_url": r.PrivacyURL, "scopes": joinScopes(r.Scopes), "require_pkce": r.RequirePKCE,
			"client_type": r.EffectiveClientType(), "grant_types": joinScopes(r.EffectiveGrantTypes()), "redirect_uris": joinLines(r.RedirectURIs),
			"post_logout_redirect_uris": joinLines(r.PostLogoutRedirectURIs), "id_token_alg": r.EffectiveIDTokenAlg(), "jwks": r.StoredJWKS()})
		if res.Error != nil {
			return translate(res.Error, "app")
		}
		if res.RowsAffected == 0 {
			return apperr.Errorf(apperr.NotFound, "No app is registered with client id %q.", clientID)
		}
		if !slices.Contains(r.EffectiveGrantTypes(), domain.GrantClientCredentials) {
			// switched off (or never on): the app's own tokens die on the next request
			if err := db.revokeClientGrantsOf(ctx, clientID, db.now()); err != nil {
				return err
			}
		}
		return db.syncAppTerms(ctx, clientID, r.Name, r.Company)
	})
}

// SetAppStatus sets the app's status (domain.AppActive, AppPending,
// AppRejected) and review note.
func (db *DB) SetAppStatus(ctx context.Context, clientID, status, note string) error {
	err := db.wr(ctx).Model(&appRow{}).Where("client_id = ?", clientID).
		Updates(map[string]any{"status": status, "review_note": note}).Error
	return translate(err, "app")
}

// CountApps returns how many undeleted apps have the status.
func (db *DB) CountApps(ctx context.Context, status string) (int64, error) {
	var n int64
	err := db.rd(ctx).Model(&appRow{}).Where("status = ? AND deleted_at IS NULL", status).Count(&n).Error
	return n, translate(err, "apps")
}

// SoleOwnedApps returns the undeleted apps userID owns with no other
// active owner (every other owner, if any, deleted or disabled), by name,
// each with its client id and name only; at most limit (≤ 0: all). Inside
// a write transaction the user's owner rows are read from the writer, so
// a hand-over in the same transaction sees them as they stand; lock them
// first (LockOwnedApps), before the user's change.
func (db *DB) SoleOwnedApps(ctx context.Context, userID string, limit int) ([]domain.App, error) {
	return db.ownedApps(ctx, userID, "NOT EXISTS", limit)
}

// CoOwnedApps returns the undeleted apps userID owns with at least one
// other active owner, by name, each with its client id and name only; at
// most limit (≤ 0: all): the apps that keep a manager when the user
// leaves. Inside a write transaction it reads from the writer, as
// SoleOwnedApps does.
func (db *DB) CoOwnedApps(ctx context.Context, userID string, limit int) ([]domain.App, error) {
	return db.ownedApps(ctx, userID, "EXISTS", limit)
}

// ownedApps is SoleOwnedApps (others "NOT EXISTS") or CoOwnedApps
// ("EXISTS").
func (db *DB) ownedApps(ctx context.Context, userID, others string, limit int) ([]domain.App, error) {
	q := `SELECT a.client_id, a.name FROM app_owners o JOIN apps a ON a.client_id = o.client_id
WHERE o.user_id = ? AND a.deleted_at IS NULL AND ` + others + ` (SELECT 1 FROM app_owners p JOIN users u ON u.id = p.user_id
WHERE p.client_id = o.client_id AND p.user_id <> o.user_id AND u.deleted_at IS NULL AND u.disabled_at IS NULL)
ORDER BY ` + db.fl.nocase("a.name") + `, a.client_id`
	args := []any{userID}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	var rows []struct{ ClientID, Name string }
	if err := db.rd(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "apps")
	}
	out := make([]domain.App, len(rows))
	for i, r := range rows {
		out[i] = domain.App{ClientID: r.ClientID, Registration: domain.Registration{Name: r.Name}}
	}
	return out, nil
}
