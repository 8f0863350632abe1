package store

import (
	"context"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
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
