package store

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// BenchmarkRotateRefresh is the database half of a refresh: read the
// presented token with its authorization, then in the group commit mark
// it used and insert its successor; 32 callers at once (the load of make
// bench), on SQLite and, with OAUTHDESK_TEST_POSTGRES, on PostgreSQL.
func BenchmarkRotateRefresh(b *testing.B) {
	dbs := map[string]func(testing.TB) *DB{"sqlite": newDB}
	if storetest.PostgresURL() != "" {
		dbs["postgres"] = newPostgresDB
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := dbs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db := open(b)
			_, z := mkCode(b, ctx, db)
			var n atomic.Int64
			b.SetParallelism(16) // 32 callers on 2 CPUs
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				cur := mkRefresh(b, ctx, db, z, uuid.NewString())
				for pb.Next() {
					if _, _, err := db.RefreshTokenWithAuthorization(ctx, cur.Hash); err != nil {
						b.Error(err)
						return
					}
					id := uuid.NewString()
					next := domain.RefreshToken{ID: id, Hash: []byte("rt-" + id), AuthorizationID: z.ID, FamilyID: cur.FamilyID, ClientID: z.ClientID,
						UserID: z.UserID, SecretID: "s", Scopes: z.Scopes, CreatedAt: now0, ExpiresAt: now0.AddDate(1, 0, 0)}
					if won, err := db.RotateRefreshToken(ctx, cur.ID, next); err != nil || !won {
						b.Errorf("rotate: won %v, err %v", won, err)
						return
					}
					cur = next
					n.Add(1)
				}
			})
		})
	}
}
