package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
)

// SeedSpec says how much synthetic data Seed writes (the scale of a big
// tenant: `oauthdesk dev seed --apps 100000 --users 10000
// --authorizations 1000000 --audit-events 1000000`).
type SeedSpec struct {
	Users, Apps, Authorizations, AuditEvents int
	// PATs is how many personal access tokens to write: a few
	// users hold many, about a tenth revoked, a twentieth full access.
	PATs int
	// Scopes are the catalog scope ids apps may register, most common
	// first (the seed favours the front of the list); High marks the
	// high-privilege ones, registered more rarely.
	Scopes []string
	High   map[string]bool
	// PasswordHash is stored for every seeded user (one argon2id hash,
	// computed once by the caller): seeded users cannot sign in unless the
	// caller knows it.
	PasswordHash string
	// Force wipes a database that already holds data first.
	Force bool
	Now   time.Time
	Rand  uint64 // random seed: the same seed gives the same spreads
}

// SeedResult counts the rows Seed wrote.
type SeedResult struct {
	Users, Apps, Secrets, Authorizations, Revoked, RefreshTokens, ScopeUsage, AuditEvents int
	PATs                                                                                  int
}

// seedTables are the tables Seed writes, children first (the order of a
// --force wipe).
var seedTables = []string{"pat_notices", "pat_allowlist", "pat_scope_sets", "pats", "device_codes", "app_owners", "app_search_terms", "scope_stats", "user_scopes", "authorization_scopes", "app_scopes", "scope_usage", "refresh_tokens",
	"authorization_codes", "invalidations", "authorizations", "client_secrets", "apps", "sessions", "audit_events",
	"report_runs", "users"}

// Seed fills a migrated, empty database with synthetic users (the first
// is the administrator "admin", 1 % admins, 1 % auditors), apps (one
// primary secret each, some an alternative, created over the last six
// years so about a sixth are expired), authorizations (a few apps hold
// many, about 6 % revoked, scope subsets of the app's registration,
// last-used times), refresh tokens, scope usage and a valid audit hash
// chain, with multi-row INSERTs in a few large transactions (about a
// minute at the full scale). The aggregates of the scope inventory are
// written to match. Errors: Conflict when the database already holds
// users, apps, authorizations or audit events and Force is false; Invalid
// for negative counts or no scopes.
func (db *DB) Seed(ctx context.Context, spec SeedSpec, progress func(string)) (SeedResult, error) {
	var res SeedResult
	if spec.Users < 1 || spec.Apps < 0 || spec.Authorizations < 0 || spec.AuditEvents < 0 || spec.PATs < 0 {
		return res, apperr.Errorf(apperr.Invalid, "seed needs at least one user and no negative counts")
	}
	if len(spec.Scopes) == 0 {
		return res, apperr.Errorf(apperr.Invalid, "seed needs the scope catalog")
	}
	if spec.Authorizations > 0 && spec.Apps == 0 {
		return res, apperr.Errorf(apperr.Invalid, "authorizations need at least one app")
	}
	if progress == nil {
		progress = func(string) {}
	}
	if spec.Now.IsZero() {
		spec.Now = time.Now().UTC()
	}
	sqlDB, err := db.w.DB()
	if err != nil {
		return res, err
	}
	conn, err := sqlDB.Conn(ctx) // the single write connection
	if err != nil {
		return res, err
	}
	defer conn.Close()
	var held int64
	for _, t := range []string{"users", "apps", "authorizations", "audit_events"} {
		var n int64
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+t+` LIMIT 1) AS x`).Scan(&n); err != nil {
			return res, fmt.Errorf("seed: %w", err)
		}
		held += n
	}
	if held > 0 && !spec.Force {
		return res, apperr.Errorf(apperr.Conflict, "the database already holds data; seed an empty one or pass --force to wipe it first")
	}
	if db.fl.bulkCache != "" {
		// A larger page cache for the bulk load; restored afterwards.
		if _, err := conn.ExecContext(ctx, db.fl.bulkCache); err != nil {
			return res, err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), db.fl.bulkCacheRestore) //nolint:errcheck // best effort
	}

	g := &seeder{spec: spec, r: rand.New(rand.NewPCG(spec.Rand, spec.Rand^0x9e3779b97f4a7c15)), conn: conn, res: &res, fl: db.fl}
	steps := []struct {
		name string
		fn   func(context.Context, *sql.Tx) error
	}{
		{"wipe", g.wipe},
		{"users", g.seedUsers},
		{"apps", g.seedApps},
		{"authorizations", g.authorizations},
		{"scope usage", g.usage},
		{"audit events", g.audit},
		{"personal access tokens", g.seedPATs},
		{"personal access token scope sets", g.patScopeSets},
	}
	// One transaction: a failed seed leaves the database as it was.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	// Bulk load: drop the secondary indexes of the big tables and build
	// them once at the end (sorting beats a million random B-tree inserts).
	if err := g.dropIndexes(ctx, tx); err != nil {
		_ = tx.Rollback()
		return SeedResult{}, fmt.Errorf("seed: %w", err)
	}
	for _, st := range steps {
		if st.name == "wipe" && held == 0 {
			continue
		}
		start := time.Now()
		if err := st.fn(ctx, tx); err != nil {
			_ = tx.Rollback()
			return SeedResult{}, fmt.Errorf("seed %s: %w", st.name, err)
		}
		progress(fmt.Sprintf("%s: %s", st.name, time.Since(start).Round(time.Millisecond)))
	}
	start := time.Now()
	if err := g.restoreIndexes(ctx, tx); err != nil {
		_ = tx.Rollback()
		return SeedResult{}, fmt.Errorf("seed indexes: %w", err)
	}
	progress(fmt.Sprintf("indexes: %s", time.Since(start).Round(time.Millisecond)))
	start = time.Now()
	// Every app's owner is among its owners (migration 00007).
	if _, err := tx.ExecContext(ctx, `INSERT INTO app_owners (client_id, user_id, added_at) SELECT client_id, owner_id, created_at FROM apps`); err != nil {
		_ = tx.Rollback()
		return SeedResult{}, fmt.Errorf("seed owners: %w", err)
	}
	// The kept per-app count of active authorizations (migration 00010).
	if _, err := tx.ExecContext(ctx, `UPDATE apps SET active_authorizations =
  (SELECT COUNT(*) FROM authorizations z WHERE z.client_id = apps.client_id AND z.revoked_at IS NULL)`); err != nil {
		_ = tx.Rollback()
		return SeedResult{}, fmt.Errorf("seed counts: %w", err)
	}
	progress(fmt.Sprintf("counts: %s", time.Since(start).Round(time.Millisecond)))
	start = time.Now()
	if err := tx.Commit(); err != nil {
		return SeedResult{}, fmt.Errorf("seed: %w", err)
	}
	progress(fmt.Sprintf("commit: %s", time.Since(start).Round(time.Millisecond)))
	// Planner statistics; on PostgreSQL also the visibility map, without
	// which a freshly loaded table cannot be counted from an index alone.
	_, err = conn.ExecContext(ctx, db.fl.analyze)
	return res, err
}

type seedApp struct {
	id       string
	secretID string
	created  time.Time
	scopes   []string
	weight   int
}

type seeder struct {
	spec SeedSpec
	r    *rand.Rand
	conn *sql.Conn
	res  *SeedResult

	userIDs   []string
	usernames []string
	apps      []seedApp
	activeIDs []string // active authorization ids
	activeApp []int32  // their app index
	userAuthz []int32  // authorizations seeded per user (index of userIDs)
	indexes   []string // CREATE INDEX statements dropped for the load
	fl        *flavor  // the dialect's placeholders and statements
}

// q numbers the ? placeholders of query for PostgreSQL.
func (g *seeder) q(query string) string { return g.fl.rebind(query) }

// hash returns 32 random bytes: a stored hash no value hashes to in
// practice, so seeded secrets and tokens authenticate nothing.
func (g *seeder) hash() []byte {
	b := make([]byte, 32)
	for i := 0; i < 32; i += 8 {
		v := g.r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// bulk buffers rows and writes them with multi-row INSERTs of up to per
// rows (SQLite's bound-parameter limit is 32766).
type bulk struct {
	ctx   context.Context
	tx    *sql.Tx
	head  string
	ncol  int
	per   int
	buf   []any
	stmt  *sql.Stmt
	count int
	// parent's buffered rows are written before this one's (foreign keys).
	parent *bulk
	rebind func(string) string // the dialect's placeholders
}

func (g *seeder) newBulk(ctx context.Context, tx *sql.Tx, table string, cols ...string) *bulk {
	return &bulk{ctx: ctx, tx: tx, head: "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ",
		ncol: len(cols), per: max(1, 30000/len(cols)), rebind: g.fl.rebind}
}

// values is the statement for n rows, with the dialect's placeholders.
func (b *bulk) values(n int) string {
	var sb strings.Builder
	sb.WriteString(b.head)
	for r := range n {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := range b.ncol {
			if c > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('?')
		}
		sb.WriteByte(')')
	}
	return b.rebind(sb.String())
}

func (b *bulk) add(vals ...any) error {
	b.buf = append(b.buf, vals...)
	b.count++
	if len(b.buf) < b.per*b.ncol {
		return nil
	}
	return b.write()
}

// write sends the buffered rows (the parent's first).
func (b *bulk) write() error {
	if b.parent != nil {
		if err := b.parent.write(); err != nil {
			return err
		}
	}
	if len(b.buf) == 0 {
		return nil
	}
	if len(b.buf) < b.per*b.ncol {
		_, err := b.tx.ExecContext(b.ctx, b.values(len(b.buf)/b.ncol), b.buf...)
		b.buf = b.buf[:0]
		return err
	}
	if b.stmt == nil {
		s, err := b.tx.PrepareContext(b.ctx, b.values(b.per))
		if err != nil {
			return err
		}
		b.stmt = s
	}
	_, err := b.stmt.ExecContext(b.ctx, b.buf...)
	b.buf = b.buf[:0]
	return err
}

// flush writes what is left and releases the statement.
func (b *bulk) flush() error {
	if b.stmt != nil {
		defer b.stmt.Close()
	}
	return b.write()
}

// dropIndexes drops the secondary indexes of the tables the seed fills
// most and remembers their definitions (SQLite's schema table; the
// PostgreSQL twin reads pg_indexes).
func (g *seeder) dropIndexes(ctx context.Context, tx *sql.Tx) error {
	tables := `('authorizations', 'authorization_scopes', 'refresh_tokens', 'audit_events', 'scope_usage', 'apps', 'client_secrets')`
	rows, err := tx.QueryContext(ctx, g.fl.indexesSQL+tables)
	if err != nil {
		return err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return err
		}
		names = append(names, name)
		g.indexes = append(g.indexes, def)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+n); err != nil {
			return err
		}
	}
	return nil
}

func (g *seeder) restoreIndexes(ctx context.Context, tx *sql.Tx) error {
	for _, def := range g.indexes {
		if _, err := tx.ExecContext(ctx, def); err != nil {
			return fmt.Errorf("%s: %w", def, err)
		}
	}
	return nil
}

func (g *seeder) wipe(ctx context.Context, tx *sql.Tx) error {
	for _, t := range seedTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			return err
		}
	}
	return nil
}

var (
	seedFirst = strings.Fields("Ada Alan Amara Ana Ben Carla Chen Dana Diego Elif Emma Farah Finn Grace Hana Ivan Jamal Jana Kai Lars Lea Luca Maya Mei Nia Noah Omar Priya Quinn Ravi Rosa Sami Sara Tariq Uma Vera Wei Yara Yusuf Zoe")
	seedLast  = strings.Fields("Abara Berg Costa Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Larsen Moreau Nakamura Novak Okafor Park Quispe Rossi Silva Tanaka Urban Varga Weber Xu Yilmaz Zhang")
	seedWord1 = strings.Fields("Azure Blue Bright Cedar Cloud Copper Delta Echo Fabrikam Falcon Granite Harbor Iron Juniper Kite Lumen Maple Nimbus Northwind Orbit Pine Quartz River Contoso Summit Tailspin Tidal Umbra Vector Willow Woodgrove Zephyr")
	seedWord2 = strings.Fields("Boards Builds Backup Deploy Dashboard Insights Tracker Sync Bot Reports Planner Release Monitor Notes Pipelines Review Search Analytics Alerts Gateway Hub Connector Exporter Timesheets Wiki")
	seedCorp  = strings.Fields("Labs Systems Software Group Digital Works Tech Partners Solutions Studio")
)

func (g *seeder) seedUsers(ctx context.Context, tx *sql.Tx) error {
	b := g.newBulk(ctx, tx, "users", "id", "username", "display_name", "email", "role", "password_hash", "created_at", "updated_at", "revision")
	n := g.spec.Users
	for i := range n {
		first, last := seedFirst[g.r.IntN(len(seedFirst))], seedLast[g.r.IntN(len(seedLast))]
		username := strings.ToLower(first+"."+last) + strconv.Itoa(i+1)
		role := "member"
		switch {
		case i == 0: // the first user is the administrator "admin"
			username, first, last, role = "admin", "Admin", "Istrator", "admin"
		case i%100 == 0:
			role = "admin"
		case i%100 == 1:
			role = "auditor"
		}
		created := g.spec.Now.Add(-time.Duration(g.r.Int64N(int64(6 * 365 * 24 * time.Hour))))
		id := uuid.Must(uuid.NewV7()).String()
		g.userIDs = append(g.userIDs, id)
		g.usernames = append(g.usernames, username)
		if err := b.add(id, username, first+" "+last, username+"@example.com", role, g.spec.PasswordHash, created, created, 1); err != nil {
			return err
		}
	}
	g.res.Users = n
	return b.flush()
}

// pickScopes returns 1–6 distinct scopes, favouring the front of the list
// and rarely a high-privilege one.
func (g *seeder) pickScopes() []string {
	n := 1 + int(g.r.ExpFloat64()*1.5)
	n = min(n, 6)
	var out []string
	for len(out) < n {
		i := int(g.r.ExpFloat64() * float64(len(g.spec.Scopes)) / 6)
		if i >= len(g.spec.Scopes) {
			continue
		}
		s := g.spec.Scopes[i]
		if g.spec.High[s] && g.r.IntN(4) != 0 {
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func (g *seeder) seedApps(ctx context.Context, tx *sql.Tx) error {
	ab := g.newBulk(ctx, tx, "apps", "client_id", "name", "company", "description", "company_url", "app_url", "callback_url", "scopes", "owner_id", "created_at", "deleted_at", "external", "status")
	sb := g.newBulk(ctx, tx, "client_secrets", "id", "client_id", "slot", "hash", "created_at", "expires_at", "last_used_at", "use_count", "retired_at")
	scb := g.newBulk(ctx, tx, "app_scopes", "scope", "client_id")
	tb := g.newBulk(ctx, tx, "app_search_terms", "term", "client_id")
	sb.parent, scb.parent, tb.parent = ab, ab, ab
	stats := map[string]int64{}
	// Owners: a fifth of the users develop apps, a few of them many.
	owners := max(1, len(g.userIDs)/5)
	zipf := rand.NewZipf(g.r, 1.2, 8, uint64(owners-1))
	six := int64(6 * 365 * 24 * time.Hour)
	for i := range g.spec.Apps {
		id := uuid.Must(uuid.NewV7()).String()
		w1, w2 := seedWord1[g.r.IntN(len(seedWord1))], seedWord2[g.r.IntN(len(seedWord2))]
		corp := seedWord1[g.r.IntN(len(seedWord1))] + " " + seedCorp[g.r.IntN(len(seedCorp))]
		if n := g.r.IntN(2000); n > 0 {
			corp += " " + strconv.Itoa(n)
		}
		name := w1 + " " + w2 + " " + strconv.Itoa(i+1)
		host := strings.ToLower(w1+w2) + strconv.Itoa(i+1) + ".example"
		created := g.spec.Now.Add(-time.Duration(g.r.Int64N(six)))
		scopes := g.pickScopes()
		var deleted *time.Time
		if g.r.IntN(100) == 0 { // 1 % deleted
			t := created.Add(time.Duration(g.r.Int64N(int64(g.spec.Now.Sub(created)) + 1)))
			deleted = &t
		}
		owner := g.userIDs[int(zipf.Uint64())%len(g.userIDs)]
		status := "active"
		if deleted == nil && g.r.IntN(300) == 0 { // a few await review
			status = "pending"
		}
		if err := ab.add(id, name, corp, "Synthetic app "+strconv.Itoa(i+1), "https://"+strings.ToLower(strings.ReplaceAll(corp, " ", ""))+".example",
			"https://"+host, "https://"+host+"/oauth/callback", strings.Join(scopes, " "), owner, created, deleted, false, status); err != nil {
			return err
		}
		for _, t := range appSearchTerms(id, name, corp) {
			if err := tb.add(t, id); err != nil {
				return err
			}
		}
		// The primary secret: made with the app or at a later rotation.
		sCreated := created
		if g.r.IntN(3) == 0 {
			sCreated = created.Add(time.Duration(g.r.Int64N(int64(g.spec.Now.Sub(created)) + 1)))
		}
		var retired, lastUsed *time.Time
		uses := 0
		if deleted != nil {
			retired = deleted
		}
		if g.r.IntN(10) < 8 {
			t := sCreated.Add(time.Duration(g.r.Int64N(int64(g.spec.Now.Sub(sCreated)) + 1)))
			lastUsed, uses = &t, 1+g.r.IntN(5000)
		}
		secretID := uuid.Must(uuid.NewV7()).String()
		if err := sb.add(secretID, id, "primary", g.hash(), sCreated, sCreated.AddDate(5, 0, 0), lastUsed, uses, retired); err != nil {
			return err
		}
		g.res.Secrets++
		if deleted == nil && g.r.IntN(20) == 0 { // 5 % stage a rotation
			aCreated := g.spec.Now.Add(-time.Duration(g.r.Int64N(int64(90 * 24 * time.Hour))))
			if err := sb.add(uuid.Must(uuid.NewV7()).String(), id, "alternative", g.hash(), aCreated, aCreated.AddDate(5, 0, 0), nil, 0, nil); err != nil {
				return err
			}
			g.res.Secrets++
		}
		if deleted == nil {
			for _, s := range scopes {
				if err := scb.add(s, id); err != nil {
					return err
				}
				stats[s]++
			}
		}
		// Popularity: a few apps are used by many users.
		weight := 1
		switch r := g.r.IntN(1000); {
		case r == 0:
			weight = 400
		case r < 10:
			weight = 60
		case r < 100:
			weight = 8
		}
		if deleted != nil || status != "active" {
			weight = 0
		}
		g.apps = append(g.apps, seedApp{id: id, secretID: secretID, created: created, scopes: scopes, weight: weight})
	}
	g.res.Apps = g.spec.Apps
	for _, b := range []*bulk{ab, sb, scb, tb} {
		if err := b.flush(); err != nil {
			return err
		}
	}
	for s, n := range stats {
		if _, err := tx.ExecContext(ctx, g.q(`INSERT INTO scope_stats (scope, apps) VALUES (?, ?)`), s, n); err != nil {
			return err
		}
	}
	return nil
}

func (g *seeder) authorizations(ctx context.Context, tx *sql.Tx) error {
	if g.spec.Authorizations == 0 {
		return nil
	}
	zb := g.newBulk(ctx, tx, "authorizations", "id", "user_id", "client_id", "scopes", "redirect_uri", "granted_at", "last_used_at", "revoked_at", "revoked_by")
	asb := g.newBulk(ctx, tx, "authorization_scopes", "scope", "authorization_id", "user_id")
	asb.parent = zb
	rb := g.newBulk(ctx, tx, "refresh_tokens", "id", "hash", "authorization_id", "family_id", "client_id", "user_id", "secret_id", "scopes", "created_at", "expires_at", "used_at", "revoked_at")
	rb.parent = asb // asb's parent is zb: authorizations first
	// Cumulative weights for picking an app by popularity.
	cum := make([]int64, len(g.apps))
	var total int64
	for i, a := range g.apps {
		total += int64(a.weight)
		cum[i] = total
	}
	if total == 0 {
		return apperr.Errorf(apperr.Invalid, "every seeded app is deleted; seed more apps")
	}
	type pair struct{ u, a int32 }
	active := make(map[pair]struct{}, g.spec.Authorizations)
	stats := map[string]int64{}
	for range g.spec.Authorizations {
		ai := int32(sortSearch(cum, g.r.Int64N(total)))
		ui := int32(g.r.IntN(len(g.userIDs)))
		app := g.apps[ai]
		span := int64(g.spec.Now.Sub(app.created))
		granted := app.created.Add(time.Duration(g.r.Int64N(span + 1)))
		// The grant: the whole registration, or a subset of it.
		scopes := app.scopes
		if len(scopes) > 1 && g.r.IntN(4) == 0 {
			scopes = slices.Clone(scopes)[:1+g.r.IntN(len(scopes)-1)]
		}
		var lastUsed, revoked *time.Time
		revokedBy := ""
		if g.r.IntN(10) < 7 {
			t := granted.Add(time.Duration(g.r.Int64N(int64(g.spec.Now.Sub(granted)) + 1)))
			lastUsed = &t
		}
		_, taken := active[pair{ui, ai}]
		for try := 0; taken && try < 8; try++ { // another user, rather than a revoked duplicate
			ui = int32(g.r.IntN(len(g.userIDs)))
			_, taken = active[pair{ui, ai}]
		}
		if taken || g.r.IntN(100) < 6 {
			t := granted.Add(time.Duration(g.r.Int64N(int64(g.spec.Now.Sub(granted)) + 1)))
			revoked = &t
			revokedBy = g.usernames[ui]
			if g.r.IntN(3) == 0 {
				revokedBy = "cli"
			}
			g.res.Revoked++
		}
		id := uuid.Must(uuid.NewV7()).String()
		if g.userAuthz == nil {
			g.userAuthz = make([]int32, len(g.userIDs))
		}
		g.userAuthz[ui]++
		if err := zb.add(id, g.userIDs[ui], app.id, strings.Join(scopes, " "), "https://callback.example/oauth", granted, lastUsed, revoked, revokedBy); err != nil {
			return err
		}
		if revoked != nil {
			continue
		}
		active[pair{ui, ai}] = struct{}{}
		g.activeIDs = append(g.activeIDs, id)
		g.activeApp = append(g.activeApp, ai)
		for _, s := range scopes {
			if err := asb.add(s, id, g.userIDs[ui]); err != nil {
				return err
			}
			stats[s]++
		}
		if g.r.IntN(10) == 0 { // a tenth hold a live refresh token
			at := granted
			if lastUsed != nil {
				at = *lastUsed
			}
			if err := rb.add(uuid.Must(uuid.NewV7()).String(), g.hash(), id, uuid.Must(uuid.NewV7()).String(), app.id, g.userIDs[ui],
				app.secretID, strings.Join(scopes, " "), at, at.AddDate(1, 0, 0), nil, nil); err != nil {
				return err
			}
			g.res.RefreshTokens++
		}
	}
	g.res.Authorizations = g.spec.Authorizations
	for _, b := range []*bulk{zb, asb, rb} {
		if err := b.flush(); err != nil {
			return err
		}
	}
	for s, n := range stats {
		if _, err := tx.ExecContext(ctx, g.q(`INSERT INTO scope_stats (scope, authorizations) VALUES (?, ?)
ON CONFLICT (scope) DO UPDATE SET authorizations = excluded.authorizations`), s, n); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO user_scopes (scope, user_id, authorizations)
SELECT scope, user_id, COUNT(*) FROM authorization_scopes GROUP BY scope, user_id`)
	return err
}

func sortSearch(cum []int64, x int64) int {
	i, _ := slices.BinarySearch(cum, x+1)
	return min(i, len(cum)-1)
}

// usage records API use for a fifth of the active authorizations.
func (g *seeder) usage(ctx context.Context, tx *sql.Tx) error {
	ub := g.newBulk(ctx, tx, "scope_usage", "authorization_id", "scope", "satisfied_by", "count", "first_used_at", "last_used_at")
	type stat struct {
		uses int64
		last time.Time
	}
	stats := map[string]*stat{}
	for i, id := range g.activeIDs {
		if g.r.IntN(5) != 0 {
			continue
		}
		scopes := g.apps[g.activeApp[i]].scopes
		s := scopes[g.r.IntN(len(scopes))]
		n := int64(1 + g.r.IntN(2000))
		last := g.spec.Now.Add(-time.Duration(g.r.Int64N(int64(400 * 24 * time.Hour))))
		first := last.Add(-time.Duration(g.r.Int64N(int64(300 * 24 * time.Hour))))
		if err := ub.add(id, s, s, n, first, last); err != nil {
			return err
		}
		st := stats[s]
		if st == nil {
			st = &stat{}
			stats[s] = st
		}
		st.uses += n
		if last.After(st.last) {
			st.last = last
		}
		g.res.ScopeUsage++
	}
	if err := ub.flush(); err != nil {
		return err
	}
	for s, st := range stats {
		if _, err := tx.ExecContext(ctx, g.q(`INSERT INTO scope_stats (scope, uses, last_used_at) VALUES (?, ?, ?)
ON CONFLICT (scope) DO UPDATE SET uses = excluded.uses, last_used_at = excluded.last_used_at`), s, st.uses, st.last.UTC()); err != nil {
			return err
		}
	}
	return nil
}

// audit writes a valid hash chain (audit verify passes) of events spread
// over six years, oldest first.
func (g *seeder) audit(ctx context.Context, tx *sql.Tx) error {
	n := g.spec.AuditEvents
	if n == 0 {
		return nil
	}
	b := g.newBulk(ctx, tx, "audit_events", "seq", "id", "at", "actor", "actor_id", "action", "target_type", "target_id", "details", "remote_addr", "prev_hash", "hash", "app_id", "user_id")
	kinds := []struct {
		action, target string
		weight         int
	}{
		{audit.ActionSignIn, audit.TargetUser, 40}, {audit.ActionConsentGrant, audit.TargetAuthorization, 25},
		{audit.ActionSignOut, audit.TargetUser, 10}, {audit.ActionAuthorizationRevoke, audit.TargetAuthorization, 6},
		{audit.ActionSignInFailed, audit.TargetUser, 5}, {audit.ActionAppRegister, audit.TargetApp, 5},
		{audit.ActionSecretRegenerate, audit.TargetApp, 3}, {audit.ActionConsentDeny, audit.TargetAuthorization, 2},
		{audit.ActionAppScopes, audit.TargetApp, 2}, {audit.ActionSecretCreate, audit.TargetApp, 1}, {audit.ActionAppDelete, audit.TargetApp, 1},
	}
	var wsum int
	for _, k := range kinds {
		wsum += k.weight
	}
	start := g.spec.Now.Add(-6 * 365 * 24 * time.Hour)
	step := g.spec.Now.Sub(start) / time.Duration(n+1)
	prev := audit.GenesisHash
	for i := range n {
		x := g.r.IntN(wsum)
		k := kinds[0]
		for _, c := range kinds {
			if x < c.weight {
				k = c
				break
			}
			x -= c.weight
		}
		ui := g.r.IntN(len(g.userIDs))
		e := audit.Event{Seq: int64(i + 1), ID: uuid.Must(uuid.NewV7()).String(),
			At:    start.Add(step*time.Duration(i+1) + time.Duration(g.r.Int64N(int64(step)))).UTC().Truncate(time.Microsecond),
			Actor: g.usernames[ui], ActorID: g.userIDs[ui], Action: k.action, TargetType: k.target,
			RemoteAddr: "10." + strconv.Itoa(g.r.IntN(256)) + "." + strconv.Itoa(g.r.IntN(256)) + "." + strconv.Itoa(1+g.r.IntN(254))}
		switch k.target {
		case audit.TargetUser:
			e.TargetID = e.ActorID
			e.RawDetails = `{"username":"` + e.Actor + `"}`
		case audit.TargetApp:
			e.TargetID = g.apps[g.r.IntN(len(g.apps))].id
			e.RawDetails = `{}`
		default:
			if len(g.activeIDs) > 0 {
				e.TargetID = g.activeIDs[g.r.IntN(len(g.activeIDs))]
			}
			e.RawDetails = `{}`
		}
		if g.r.IntN(50) == 0 {
			e.Actor, e.ActorID = audit.ActorCLI, ""
		}
		e.Hash = e.ComputeHash(prev)
		app, user := e.Subjects() // authorization targets: below, as migration 00019 does
		if user == "" {
			user = e.ActorID // as AppendAudit and migration 00029 do
		}
		if err := b.add(e.Seq, e.ID, e.At, e.Actor, e.ActorID, e.Action, e.TargetType, e.TargetID, e.RawDetails, e.RemoteAddr, prev, e.Hash, app, user); err != nil {
			return err
		}
		prev = e.Hash
	}
	g.res.AuditEvents = n
	if err := b.flush(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, g.fl.auditSubjectsSQL)
	return err
}

// patScopeSets computes the scope inventory's aggregate of the tokens
// (pat_scope_sets, pats.counted) from the seeded rows, with the watermark
// at spec.Now.
func (g *seeder) patScopeSets(ctx context.Context, tx *sql.Tx) error {
	for _, q := range patScopeSetsRebuild {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, g.spec.Now.UTC())
		}
		if _, err := tx.ExecContext(ctx, g.fl.rebind(q), args...); err != nil {
			return err
		}
	}
	return nil
}

// seedPATs writes spec.PATs personal access tokens: owners skewed so the
// first users after the admin hold many, and one in a hundred held by the
// user with the most authorizations (so the heaviest user page lists
// both at their largest); scopes as apps pick them or full access,
// created over the last year, about a tenth revoked, most used recently.
// Hashes are random: they authenticate nothing.
func (g *seeder) seedPATs(ctx context.Context, tx *sql.Tx) error {
	if g.spec.PATs == 0 {
		return nil
	}
	b := g.newBulk(ctx, tx, "pats", "id", "user_id", "name", "hash", "display", "scopes", "created_at", "expires_at",
		"revoked_at", "revoked_by", "last_used_at", "last_used_addr")
	names := []string{"ci", "deploy", "backup", "laptop", "build agent", "release", "nightly", "cli", "terraform", "grafana"}
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	heavy := -1
	for i, n := range g.userAuthz {
		if heavy < 0 || n > g.userAuthz[heavy] {
			heavy = i
		}
	}
	for i := range g.spec.PATs {
		u := min(int(g.r.ExpFloat64()*float64(len(g.userIDs))/8), len(g.userIDs)-1)
		if heavy >= 0 && g.r.IntN(100) == 0 {
			u = heavy
		}
		scopes := g.pickScopes()
		if g.r.IntN(20) == 0 {
			scopes = []string{"app_token"}
		}
		created := g.spec.Now.Add(-time.Duration(g.r.Int64N(int64(365 * 24 * time.Hour))))
		expires := created.Add(time.Duration(30+g.r.IntN(336)) * 24 * time.Hour)
		var revoked, used any
		by := ""
		if g.r.IntN(10) == 0 {
			t := created.Add(time.Duration(g.r.Int64N(int64(max(g.spec.Now.Sub(created), time.Second)))))
			revoked, by = t, "owner"
		}
		addr := ""
		if g.r.IntN(4) != 0 {
			used, addr = created.Add(time.Duration(g.r.Int64N(int64(max(g.spec.Now.Sub(created), time.Second))))), "10.0."+strconv.Itoa(g.r.IntN(256))+"."+strconv.Itoa(g.r.IntN(256))
		}
		disp := []byte("odp_xxxx…")
		for j := 4; j < 8; j++ {
			disp[j] = alphabet[g.r.IntN(len(alphabet))]
		}
		name := names[g.r.IntN(len(names))] + " " + strconv.Itoa(i+1)
		if err := b.add(uuid.Must(uuid.NewV7()).String(), g.userIDs[u], name, g.hash(), string(disp), strings.Join(scopes, " "),
			created, expires, revoked, by, used, addr); err != nil {
			return err
		}
	}
	g.res.PATs = g.spec.PATs
	return b.flush()
}
