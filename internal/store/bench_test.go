package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// BenchmarkRegenerateSecret shows that regenerating a client secret costs
// the same whatever the number of tokens minted with it (Lifecycle issue:
// "O(1), no per-token update"): the app holds n refresh tokens, spread
// over n/10 authorizations, all minted with the secret being regenerated.
func BenchmarkRegenerateSecret(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			now := time.Now().UTC()
			svc := admin.NewService(db, scope.Default(), func() time.Time { return now }, 0)
			if _, err := svc.CreateUser(ctx, admin.NewUser{Username: "owner", Role: domain.RoleAdmin, Password: "owner-password"}); err != nil {
				b.Fatal(err)
			}
			reg, err := svc.RegisterApp(ctx, "owner", domain.Registration{Name: "Bench", Company: "Bench", AppURL: "https://bench.example",
				CallbackURL: "https://bench.example/cb", Scopes: []string{"vso.work"}})
			if err != nil {
				b.Fatal(err)
			}
			sec, _ := reg.App.PrimarySecret()
			if err := db.seedTokens(ctx, reg.App.ClientID, reg.App.OwnerID, sec.ID, n, now); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := svc.IssueSecret(ctx, reg.App.ClientID, domain.SlotPrimary, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
