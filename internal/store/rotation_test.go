package store

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// successor returns a new refresh token following rt in its chain.
func successor(rt domain.RefreshToken, at time.Time) domain.RefreshToken {
	id := uuid.NewString()
	return domain.RefreshToken{ID: id, Hash: []byte("rt-" + id), AuthorizationID: rt.AuthorizationID, FamilyID: rt.FamilyID,
		ClientID: rt.ClientID, UserID: rt.UserID, SecretID: rt.SecretID, Scopes: rt.Scopes, CreatedAt: at, ExpiresAt: at.AddDate(1, 0, 0)}
}

// testRotateRefreshToken: of concurrent rotations of one token, on two
// handles (two replicas), exactly one wins, and exactly its successor is
// stored, unforked, under the parent; many chains rotating at once (one
// batch) each rotate; a used, revoked or forked token does not rotate and
// nothing is written; inside a write transaction the rotation joins it
// and rolls back with it.
func testRotateRefreshToken(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	cli := second(t, db)
	at := now0.Add(time.Minute)
	_, z := mkCode(t, ctx, db)

	for round := range 4 {
		rt := mkRefresh(t, ctx, db, z, "fam")
		var mu sync.Mutex
		var winner string
		wins := race(t, 10, []*DB{db, cli}, func(h *DB) (bool, error) {
			next := successor(rt, at)
			ok, err := h.RotateRefreshToken(ctx, rt.ID, next)
			if ok {
				mu.Lock()
				winner = next.ID
				mu.Unlock()
			}
			return ok, err
		})
		if wins != 1 {
			t.Fatalf("round %d: %d of 10 rotations of one token won, want 1", round, wins)
		}
		var children []struct {
			ID     string
			Forked bool
		}
		if err := db.w.Raw(`SELECT id, forked FROM refresh_tokens WHERE parent_id = ?`, rt.ID).Scan(&children).Error; err != nil {
			t.Fatal(err)
		}
		if len(children) != 1 || children[0].ID != winner || children[0].Forked {
			t.Errorf("round %d: successors stored %+v, want only the winner %s, unforked", round, children, winner)
		}
		got, err := db.RefreshTokenByHash(ctx, rt.Hash)
		if err != nil || got.UsedAt == nil || !got.UsedAt.Equal(at) {
			t.Errorf("round %d: rotated token used_at %v, err %v; want %v", round, got.UsedAt, err, at)
		}
	}

	t.Run("many chains at once", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for range 40 {
			rt := mkRefresh(t, ctx, db, z, "many")
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 { // each rotates its own chain three times
					next := successor(rt, at)
					ok, err := db.RotateRefreshToken(ctx, rt.ID, next)
					if err != nil || !ok {
						errs <- err
						return
					}
					rt = next
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("rotating its own chain: lost or failed (%v)", err)
		}
		var live int64
		if err := db.w.Raw(`SELECT COUNT(*) FROM refresh_tokens WHERE family_id = 'many' AND used_at IS NULL`).Scan(&live).Error; err != nil {
			t.Fatal(err)
		}
		if live != 40 {
			t.Errorf("live tokens of the 40 chains: %d, want 40", live)
		}
	})

	t.Run("not rotatable", func(t *testing.T) {
		used := mkRefresh(t, ctx, db, z, "used")
		if ok, err := db.MarkRefreshTokenUsed(ctx, used.ID, at); !ok || err != nil {
			t.Fatal(ok, err)
		}
		revoked := mkRefresh(t, ctx, db, z, "revoked")
		if err := db.RevokeFamily(ctx, "revoked", at); err != nil {
			t.Fatal(err)
		}
		forked := mkRefreshWith(t, ctx, db, z, "forked", used.ID, true)
		for name, rt := range map[string]domain.RefreshToken{"used": used, "revoked": revoked, "forked": forked, "unknown": {ID: "nope", FamilyID: "x"}} {
			next := successor(rt, at)
			next.AuthorizationID, next.ClientID, next.UserID = z.ID, z.ClientID, z.UserID
			if ok, err := db.RotateRefreshToken(ctx, rt.ID, next); ok || err != nil {
				t.Errorf("%s token: rotated %v, err %v; want false, nil", name, ok, err)
			}
			if _, err := db.RefreshTokenByHash(ctx, next.Hash); err == nil {
				t.Errorf("%s token: its successor was stored", name)
			}
		}
	})

	t.Run("joins a write transaction", func(t *testing.T) {
		rt := mkRefresh(t, ctx, db, z, "tx")
		next := successor(rt, at)
		err := db.WriteTx(ctx, func(ctx context.Context) error {
			if ok, err := db.RotateRefreshToken(ctx, rt.ID, next); !ok || err != nil {
				t.Errorf("rotate in a transaction: %v %v", ok, err)
			}
			return context.Canceled // roll back
		})
		if err != context.Canceled {
			t.Fatal(err)
		}
		if got, err := db.RefreshTokenByHash(ctx, rt.Hash); err != nil || got.UsedAt != nil {
			t.Errorf("after rollback: used_at %v, err %v; want unused", got.UsedAt, err)
		}
		if _, err := db.RefreshTokenByHash(ctx, next.Hash); err == nil {
			t.Error("after rollback: the successor is stored")
		}
	})
}

// TestRotationPlanPostgres: on a young refresh_tokens table that was never
// analyzed (a new database), the plan PostgreSQL keeps for the prepared
// rotation (its generic plan, used for good once chosen) probes the
// primary key: no sequential scan and no walk of a live-token partial
// index, either of which reads every row or every live token on each
// batch as the table grows.
func TestRotationPlanPostgres(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set")
	}
	ctx := t.Context()
	db := newPostgresDB(t)
	_, z := mkCode(t, ctx, db)
	for range 100 {
		mkRefresh(t, ctx, db, z, "plan")
	}
	sqlDB, err := db.w.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{`SET plan_cache_mode = force_generic_plan`, `PREPARE rotate_plan AS ` + db.sqlText(rotateSQL)} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	rows, err := conn.QueryContext(ctx, `EXPLAIN EXECUTE rotate_plan('parent', now(), 'next', '\x00'::bytea, 'z', 'f', 'c', 'u', 's', 'openid', now(), NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	p := plan.String()
	if !strings.Contains(p, "Index Scan using refresh_tokens_pkey") || strings.Contains(p, "Seq Scan") || strings.Contains(p, "refresh_tokens_live") {
		t.Errorf("the rotation's generic plan does not probe the primary key:\n%s", p)
	}
}
