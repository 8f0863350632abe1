package store

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type clientGrantRow struct {
	ID           string     `gorm:"column:id;primaryKey"`
	ClientID     string     `gorm:"column:client_id"`
	Scopes       string     `gorm:"column:scopes"`
	CreatedAt    time.Time  `gorm:"column:created_at"`
	LastIssuedAt time.Time  `gorm:"column:last_issued_at"`
	LastUsedAt   *time.Time `gorm:"column:last_used_at"`
	TokenCount   int64      `gorm:"column:token_count"`
	RevokedAt    *time.Time `gorm:"column:revoked_at"`
}

func (clientGrantRow) TableName() string { return "client_credential_grants" }

func (r clientGrantRow) domain() domain.ClientGrant {
	return domain.ClientGrant{ID: r.ID, ClientID: r.ClientID, Scopes: splitScopes(r.Scopes), CreatedAt: utc(r.CreatedAt),
		LastIssuedAt: utc(r.LastIssuedAt), LastUsedAt: utcPtr(r.LastUsedAt), TokenCount: r.TokenCount, RevokedAt: utcPtr(r.RevokedAt)}
}

// IssueClientGrant records that a client_credentials token was issued to
// clientID for scopes at at: the live grant of that client and scope set
// (order-insensitive) counts one more token, or a new one is created.
// Returns the grant's id ("cc-" + UUID), the token's family. Safe under
// concurrent calls on several replicas (a partial unique index keeps one
// live row per client and scope set).
func (db *DB) IssueClientGrant(ctx context.Context, clientID string, scopes []string, at time.Time) (string, error) {
	key := joinScopes(sortedCopy(scopes))
	var id string
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		for range 2 {
			var row clientGrantRow
			err := db.wr(ctx).Where("client_id = ? AND scopes = ? AND revoked_at IS NULL", clientID, key).Limit(1).Find(&row).Error
			if err != nil {
				return translate(err, "client credentials grant")
			}
			if row.ID != "" {
				id = row.ID
				return translate(db.wr(ctx).Model(&clientGrantRow{}).Where("id = ?", row.ID).
					Updates(map[string]any{"last_issued_at": utc(at), "token_count": gorm.Expr("token_count + 1")}).Error, "client credentials grant")
			}
			row = clientGrantRow{ID: "cc-" + uuid.NewString(), ClientID: clientID, Scopes: key, CreatedAt: utc(at), LastIssuedAt: utc(at), TokenCount: 1}
			res := db.wr(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil {
				return translate(res.Error, "client credentials grant")
			}
			if res.RowsAffected == 1 {
				id = row.ID
				return nil
			}
			// another replica created it meanwhile: count on its row
		}
		return apperr.Errorf(apperr.Conflict, "The client credentials grant changed meanwhile; try again.")
	})
	return id, err
}

// ClientGrants returns the app's own grants, live ones first, newest first.
func (db *DB) ClientGrants(ctx context.Context, clientID string) ([]domain.ClientGrant, error) {
	var rows []clientGrantRow
	err := db.rd(ctx).Where("client_id = ?", clientID).
		Order("CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END, last_issued_at DESC, id").Limit(500).Find(&rows).Error
	if err != nil {
		return nil, translate(err, "client credentials grants")
	}
	out := make([]domain.ClientGrant, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// RevokeClientGrant revokes one live grant of the app and appends its
// "family" invalidation, so its tokens are refused on the next request.
// Returns false when no such live grant exists.
func (db *DB) RevokeClientGrant(ctx context.Context, clientID, id string, at time.Time) (bool, error) {
	done := false
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		res := db.wr(ctx).Model(&clientGrantRow{}).Where("id = ? AND client_id = ? AND revoked_at IS NULL", id, clientID).Update("revoked_at", utc(at))
		if res.Error != nil {
			return translate(res.Error, "client credentials grant")
		}
		if res.RowsAffected == 0 {
			return nil
		}
		done = true
		return db.AddInvalidation(ctx, domain.KindFamily, id, at)
	})
	return done, err
}

// revokeClientGrantsOf revokes every live grant of the app (the
// client_credentials grant type was switched off) with their
// invalidations. Call it inside the write transaction that switches off.
func (db *DB) revokeClientGrantsOf(ctx context.Context, clientID string, at time.Time) error {
	var ids []string
	if err := db.wr(ctx).Model(&clientGrantRow{}).Where("client_id = ? AND revoked_at IS NULL", clientID).Pluck("id", &ids).Error; err != nil {
		return translate(err, "client credentials grants")
	}
	for _, id := range ids {
		if err := db.wr(ctx).Model(&clientGrantRow{}).Where("id = ?", id).Update("revoked_at", utc(at)).Error; err != nil {
			return translate(err, "client credentials grant")
		}
		if err := db.AddInvalidation(ctx, domain.KindFamily, id, at); err != nil {
			return err
		}
	}
	return nil
}

// FlushClientGrantUsage writes a batch of grants' last uses and of tokens
// issued from cached grants (count added, last issue kept if later).
func (db *DB) FlushClientGrantUsage(ctx context.Context, uses map[string]time.Time, issues map[string]domain.ClientGrantIssues) error {
	if len(uses) == 0 && len(issues) == 0 {
		return nil
	}
	return db.WriteTx(ctx, func(ctx context.Context) error {
		for id, is := range issues {
			if err := db.wr(ctx).Model(&clientGrantRow{}).Where("id = ?", id).Updates(map[string]any{
				"token_count":    gorm.Expr("token_count + ?", is.Count),
				"last_issued_at": gorm.Expr("CASE WHEN last_issued_at < ? THEN ? ELSE last_issued_at END", utc(is.Last), utc(is.Last))}).Error; err != nil {
				return translate(err, "client credentials grant issues")
			}
		}
		for id, at := range uses {
			if err := db.wr(ctx).Model(&clientGrantRow{}).Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, utc(at)).
				Update("last_used_at", utc(at)).Error; err != nil {
				return translate(err, "client credentials grant usage")
			}
		}
		return nil
	})
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// addAppGrantCounts adds to stats, per scope, the live client_credentials
// grants of apps not deleted (ScopeStat.AppGrants), adding rows for scopes
// only such grants hold. O(live grants): few, one per app and scope set.
func (db *DB) addAppGrantCounts(ctx context.Context, stats []domain.ScopeStat) ([]domain.ScopeStat, error) {
	var sets []string
	err := db.rd(ctx).Table("client_credential_grants AS g").Joins("JOIN apps a ON a.client_id = g.client_id").
		Where("g.revoked_at IS NULL AND a.deleted_at IS NULL").Pluck("g.scopes", &sets).Error
	if err != nil {
		return nil, translate(err, "client credentials grants")
	}
	if len(sets) == 0 {
		return stats, nil
	}
	idx := make(map[string]int, len(stats))
	for i, st := range stats {
		idx[st.Scope] = i
	}
	for _, set := range sets {
		for _, sc := range splitScopes(set) {
			i, ok := idx[sc]
			if !ok {
				i = len(stats)
				idx[sc] = i
				stats = append(stats, domain.ScopeStat{Scope: sc})
			}
			stats[i].AppGrants++
		}
	}
	return stats, nil
}
