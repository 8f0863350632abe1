package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// TestPageCountPlansPostgres: on PostgreSQL the dashboard reads that
// flipped plans at bench scale read what they should, over 30,000 tokens
// and 30,000 secrets, ANALYZEd.
//
//   - The token list filtered by a scope (/admin/tokens?scope=, a scope's
//     tokens tab), planned for its own arguments (as the first five runs
//     on a connection are), walks pats_by_created newest first for a
//     scope half the tokens hold and reads the holders of a rare scope
//     through pats_scopes_trgm (migration 00028): never a sequential scan
//     of the tokens, which the plan took when the scope's share was a
//     guess.
//   - An owner's app list (/profile/apps) probes apps_pkey for its count
//     and walks apps_by_name for its page when the owner owns many apps.
//   - The overview's open-ended secret count (CountSecretsExpiring) walks
//     client_secrets_expiry, no sequential scan of client_secrets.
func TestPageCountPlansPostgres(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set: PostgreSQL only")
	}
	ctx := t.Context()
	db := newPostgresDB(t)
	owner := mkUser(t, ctx, db, "plan.owner")
	for _, q := range []string{
		`INSERT INTO pats (id, user_id, name, hash, display, scopes, created_at, expires_at)
		 SELECT 'pat-' || g, ?, 'token ' || g, decode(md5(g::text), 'hex'), 'odp_xxxx…',
		        CASE WHEN g % 2 = 0 THEN 'vso.code vso.work' ELSE 'vso.work vso.build' END,
		        now() - g * interval '1 minute', now() + interval '90 days'
		 FROM generate_series(1, 30000) g`,
		// A rare scope, held by old tokens only: a newest-first walk would
		// read every other token first.
		`INSERT INTO pats (id, user_id, name, hash, display, scopes, created_at, expires_at)
		 SELECT 'pat-rare-' || g, ?, 'rare ' || g, decode(md5('rare' || g), 'hex'), 'odp_xxxx…', 'vso.work vso.release_manage',
		        now() - interval '1 year' - g * interval '1 minute', now() + interval '90 days'
		 FROM generate_series(1, 3) g`,
		`INSERT INTO apps (client_id, name, company, app_url, callback_url, scopes, owner_id, created_at)
		 SELECT 'app-' || g, 'app ' || g, 'co', 'https://a.example', 'https://a.example/cb', 'vso.profile', ?, now()
		 FROM generate_series(1, 30000) g`,
		// Nine in ten secrets expire after the overview's windows.
		`INSERT INTO client_secrets (id, client_id, slot, hash, created_at, expires_at)
		 SELECT 'sec-' || g, 'app-' || g, 'primary', decode(md5(g::text), 'hex'), now(),
		        now() + CASE WHEN g % 10 = 0 THEN (g % 80) * interval '1 day' ELSE interval '3 years' + g * interval '1 minute' END
		 FROM generate_series(1, 30000) g`,
		`VACUUM ANALYZE pats`, `VACUUM ANALYZE apps`, `VACUUM ANALYZE client_secrets`,
	} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, owner.ID)
		}
		if err := db.w.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	// The owner owns one app in 25 (1,200: /profile/apps counts to the
	// cap and walks apps_by_name), 2,000 other users the rest (so that a
	// plan for any owner expects a few apps).
	for _, q := range []string{
		`INSERT INTO users (id, username, role, password_hash, created_at, updated_at)
		 SELECT 'user-' || g, 'user.' || g, 'member', '$argon2id$dummy', now(), now() FROM generate_series(0, 1999) g`,
		`INSERT INTO app_owners (client_id, user_id, added_at)
		 SELECT client_id, CASE WHEN CAST(substr(client_id, 5) AS INTEGER) % 25 = 0 THEN owner_id
		   ELSE 'user-' || (CAST(substr(client_id, 5) AS INTEGER) % 2000) END, created_at FROM apps`,
		`VACUUM ANALYZE app_owners`, `VACUUM ANALYZE users`,
	} {
		if err := db.w.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	for _, c := range []struct {
		scope string
		found int
		uses  string // the index the plan must read
	}{
		{"vso.code", 100, "pats_by_created"},
		{"vso.release_manage", 3, "pats_scopes_trgm"},
	} {
		page, q, args := tracePATListing(t, ctx, db, domain.PATFilter{Scope: c.scope, Limit: 100})
		if len(page.Tokens) != c.found {
			t.Errorf("scope %s: %d tokens, want %d", c.scope, len(page.Tokens), c.found)
		}
		// The arguments as literals: the plan of this run's own
		// arguments (a custom plan).
		text := explainPlan(t, ctx, db, q, args, "force_custom_plan")
		if !strings.Contains(text, c.uses) {
			t.Errorf("scope %s: the plan does not use %s:\n%s", c.scope, c.uses, text)
		}
		if strings.Contains(text, "Seq Scan on pats") {
			t.Errorf("scope %s: the plan scans every token:\n%s", c.scope, text)
		}
	}

	// The owner's app list (/profile/apps of an owner of 1,200 apps):
	// the capped count probes apps_pkey per owned app and the page walks
	// apps_by_name with a probe of app_owners per app, neither a scan of
	// the apps nor a sort of all the owner's apps, whether planned for
	// these arguments or as the statement cache's generic plan.
	var traced []string
	var targs [][]any
	stop := db.TraceQueries(func(q string, args []any) {
		if strings.HasPrefix(q, "SELECT COUNT(*) FROM (SELECT 1 FROM apps a") || strings.HasPrefix(q, "SELECT a.*, u.username AS owner_username") {
			traced, targs = append(traced, q), append(targs, args)
		}
	})
	page, err := db.ListApps(ctx, domain.AppFilter{OwnerID: owner.ID, Limit: 25})
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Apps) != 25 || page.Total != domain.AppCountCap+1 || page.Apps[0].ClientID != "app-100" {
		t.Errorf("owner's apps: %d listed of %d, want 25 of %d, app-100 first", len(page.Apps), page.Total, domain.AppCountCap+1)
	}
	if len(traced) != 2 {
		t.Fatalf("owner's apps: traced %d statements, want the count and the page", len(traced))
	}
	for i, uses := range []string{"apps_pkey", "apps_by_name"} {
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			text := explainPlan(t, ctx, db, traced[i], targs[i], mode)
			if !strings.Contains(text, uses) || strings.Contains(text, "Seq Scan on apps") || strings.Contains(text, "Hash") || strings.Contains(text, "Sort") {
				t.Errorf("owner's apps, %s: the plan of %.60q does not probe %s (or scans, hashes or sorts):\n%s", mode, traced[i], uses, text)
			}
		}
	}

	// The open-ended count, in a transaction whose own statistics count
	// the scans.
	err = db.ReadTx(ctx, func(ctx context.Context) error {
		counts := func() (seq, idx int64, err error) {
			err = db.rd(ctx).Raw(`SELECT pg_stat_get_xact_numscans('client_secrets'::regclass), pg_stat_get_xact_numscans('client_secrets_expiry'::regclass)`).
				Row().Scan(&seq, &idx)
			return seq, idx, err
		}
		seq0, idx0, err := counts()
		if err != nil {
			return err
		}
		n, err := db.CountSecretsExpiring(ctx, time.Now().Add(90*24*time.Hour), time.Time{})
		if err != nil {
			return err
		}
		seq, idx, err := counts()
		if err != nil {
			return err
		}
		if n != 27000 || seq != seq0 || idx == idx0 {
			t.Errorf("open-ended secret count: %d secrets, %d sequential scans of client_secrets, %d scans of client_secrets_expiry; want 27000, 0, >0",
				n, seq-seq0, idx-idx0)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// explainPlan returns the EXPLAIN ANALYZE of q with args under the
// plan_cache_mode mode: force_custom_plan for the plan made for these
// arguments (a connection's first five runs), force_generic_plan for the
// one a statement cache may settle on.
func explainPlan(t *testing.T, ctx context.Context, db *DB, q string, args []any, mode string) string {
	t.Helper()
	var plan []string
	err := db.ReadTx(ctx, func(ctx context.Context) error {
		if err := db.rd(ctx).Exec(`SET LOCAL plan_cache_mode = ` + mode).Error; err != nil {
			return err
		}
		rows, err := db.sqlConn(ctx, false).QueryContext(ctx, "EXPLAIN (ANALYZE, COSTS OFF) "+q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			plan = append(plan, line)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", q, err)
	}
	return strings.Join(plan, "\n")
}
