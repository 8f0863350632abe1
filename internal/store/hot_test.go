package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// TestRefreshTokenWithAuthorization: the refresh grant's one-query read
// returns what the two single reads return.
func testRefreshTokenWithAuthorization(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := context.Background()
	u := mkUser(t, ctx, db, "bob")
	z := mkAuthz(t, ctx, db, u, mkApp(t, ctx, db, u, "Boards", "Fabrikam"))
	rt := mkRefresh(t, ctx, db, z, "family-1")
	if _, err := db.MarkRefreshTokenUsed(ctx, rt.ID, now0); err != nil {
		t.Fatal(err)
	}
	gotT, gotZ, err := db.RefreshTokenWithAuthorization(ctx, rt.Hash)
	if err != nil {
		t.Fatal(err)
	}
	wantT, err := db.RefreshTokenByHash(ctx, rt.Hash)
	if err != nil {
		t.Fatal(err)
	}
	wantZ, err := db.AuthorizationByID(ctx, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gotT.ID != wantT.ID || gotT.FamilyID != "family-1" || gotT.UsedAt == nil || !gotT.UsedAt.Equal(*wantT.UsedAt) ||
		gotT.RevokedAt != nil || len(gotT.Scopes) != len(wantT.Scopes) || !gotT.ExpiresAt.Equal(wantT.ExpiresAt) {
		t.Errorf("token %+v, want %+v", gotT, wantT)
	}
	if gotZ.ID != wantZ.ID || gotZ.UserID != u.ID || !gotZ.GrantedAt.Equal(wantZ.GrantedAt) || gotZ.RevokedAt != nil ||
		len(gotZ.Scopes) != len(wantZ.Scopes) {
		t.Errorf("authorization %+v, want %+v", gotZ, wantZ)
	}
	if _, _, err := db.RefreshTokenWithAuthorization(ctx, []byte("nope")); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown hash: %v, want NotFound", err)
	}
}

// testRefreshReadsConcurrent: reads made at once (on PostgreSQL, batched
// into one pipeline: refresh_reads.go) each get their own token, a
// parent_id and auth_time survive the trip, and an unknown hash among
// them answers NotFound without failing the others.
func testRefreshReadsConcurrent(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := context.Background()
	u := mkUser(t, ctx, db, "bob")
	z := mkAuthz(t, ctx, db, u, mkApp(t, ctx, db, u, "Boards", "Fabrikam"))
	const n = 40
	tokens := make([]domain.RefreshToken, n)
	for i := range tokens {
		tokens[i] = mkRefresh(t, ctx, db, z, fmt.Sprintf("family-%d", i))
	}
	auth := now0.Add(-time.Hour)
	child := domain.RefreshToken{ID: "child", Hash: []byte("rt-child"), AuthorizationID: z.ID, FamilyID: "family-0", ClientID: z.ClientID,
		UserID: z.UserID, SecretID: "s", Scopes: z.Scopes, CreatedAt: now0, ExpiresAt: now0.AddDate(1, 0, 0), AuthTime: &auth}
	if won, err := db.RotateRefreshToken(ctx, tokens[0].ID, child); err != nil || !won {
		t.Fatalf("rotate: %v %v", won, err)
	}
	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		errs := make(chan error, 2*n+2)
		for i := range tokens {
			wg.Add(2)
			go func() {
				defer wg.Done()
				got, gotZ, err := db.RefreshTokenWithAuthorization(ctx, tokens[i].Hash)
				switch {
				case err != nil:
					errs <- fmt.Errorf("token %d: %v", i, err)
				case got.ID != tokens[i].ID || got.FamilyID != fmt.Sprintf("family-%d", i) || gotZ.ID != z.ID:
					errs <- fmt.Errorf("token %d: got %s of %s (authorization %s)", i, got.ID, got.FamilyID, gotZ.ID)
				case (i == 0) != (got.UsedAt != nil):
					errs <- fmt.Errorf("token %d: used_at %v", i, got.UsedAt)
				}
			}()
			go func() {
				defer wg.Done()
				if _, _, err := db.RefreshTokenWithAuthorization(ctx, []byte(fmt.Sprintf("unknown-%d", i))); !apperr.Is(err, apperr.NotFound) {
					errs <- fmt.Errorf("unknown hash %d: %v, want NotFound", i, err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _, err := db.RefreshTokenWithAuthorization(ctx, child.Hash)
			if err != nil || got.ParentID != tokens[0].ID || got.AuthTime == nil || !got.AuthTime.Equal(auth) {
				errs <- fmt.Errorf("child: %+v, %v", got, err)
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}
