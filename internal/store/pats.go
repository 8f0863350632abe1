package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
)

// Personal access tokens, revocation rules, scanner tokens,
// owner notices and the creation allowlist.

type patRow struct {
	ID           string `gorm:"column:id;primaryKey"`
	UserID       string
	Name         string
	Hash         []byte
	Display      string
	Scopes       string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	RevokedAt    *time.Time
	RevokedBy    string
	LastUsedAt   *time.Time
	LastUsedAddr string
	// Counted: the token is in pat_scope_sets (pat_scope_sets.go).
	Counted bool
}

func (patRow) TableName() string { return "pats" }

func (r patRow) domain() domain.PAT {
	return domain.PAT{ID: r.ID, UserID: r.UserID, Name: r.Name, Hash: r.Hash, Display: r.Display,
		Scopes: splitScopes(r.Scopes), CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt),
		RevokedAt: utcPtr(r.RevokedAt), RevokedBy: r.RevokedBy, LastUsedAt: utcPtr(r.LastUsedAt), LastUsedAddr: r.LastUsedAddr}
}

// CreatePAT inserts p and counts it in its scope set's row of
// pat_scope_sets (the scope inventory) when it should be, in one write
// transaction. Errors: Conflict (a hash collision, never in practice).
func (db *DB) CreatePAT(ctx context.Context, p domain.PAT) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		row := patRow{ID: p.ID, UserID: p.UserID, Name: p.Name, Hash: p.Hash, Display: p.Display, Scopes: joinScopes(p.Scopes),
			CreatedAt: utc(p.CreatedAt), ExpiresAt: utc(p.ExpiresAt)}
		w, err := db.patWatermark(ctx)
		if err != nil {
			return err
		}
		if row.ExpiresAt.After(w) {
			if row.Counted, err = db.patOwnerActive(ctx, p.UserID); err != nil {
				return err
			}
		}
		if err := db.wr(ctx).Create(&row).Error; err != nil {
			return translate(err, "personal access token")
		}
		if !row.Counted {
			return nil
		}
		return db.bumpPATSet(ctx, row.Scopes, 1)
	})
}

// PATByHash returns the token whose SHA-256 is hash, revoked or expired
// alike. Errors: NotFound.
func (db *DB) PATByHash(ctx context.Context, hash []byte) (domain.PAT, error) {
	var row patRow
	err := db.rd(ctx).Where("hash = ?", hash).Take(&row).Error
	return row.domain(), translate(err, "personal access token")
}

// PATByID returns one token. Errors: NotFound.
func (db *DB) PATByID(ctx context.Context, id string) (domain.PAT, error) {
	var row patRow
	err := db.rd(ctx).Where("id = ?", id).Take(&row).Error
	return row.domain(), translate(err, "personal access token")
}

// UpdatePAT stores p's name, scopes and expiry and appends a "pat"
// invalidation, so that narrowed scopes or an earlier expiry bite on the
// next request (the Bearer check reads the token again). Errors: NotFound.
func (db *DB) UpdatePAT(ctx context.Context, p domain.PAT) error {
	return db.WriteTx(ctx, func(ctx context.Context) error { return db.updatePAT(ctx, p) })
}

func (db *DB) updatePAT(ctx context.Context, p domain.PAT) error {
	// Out of its scope set's count, changed, and back in (the new set)
	// when still counted: scopes and expiry move it.
	if err := db.markPATs(ctx, false, `id = ?`, p.ID); err != nil {
		return err
	}
	res := db.wr(ctx).Model(&patRow{}).Where("id = ?", p.ID).Updates(map[string]any{
		"name": p.Name, "scopes": joinScopes(p.Scopes), "expires_at": utc(p.ExpiresAt)})
	if res.Error != nil {
		return translate(res.Error, "personal access token")
	}
	if res.RowsAffected == 0 {
		return apperr.Errorf(apperr.NotFound, "personal access token not found")
	}
	var owner []string
	if err := db.wr(ctx).Model(&patRow{}).Where("id = ?", p.ID).Pluck("user_id", &owner).Error; err != nil {
		return translate(err, "personal access token")
	}
	if len(owner) == 1 {
		if err := db.countPAT(ctx, p.ID, owner[0]); err != nil {
			return err
		}
	}
	return db.AddInvalidation(ctx, domain.KindPAT, p.ID, db.now())
}

// RevokePATs revokes the live tokens among ids (revoked_by = by) and
// appends a "pat" invalidation for each, so that each is refused on its
// next request; it returns the tokens it revoked (already revoked ones
// are left as they are). Call it in a write transaction.
func (db *DB) RevokePATs(ctx context.Context, ids []string, by string, at time.Time) ([]domain.PAT, error) {
	var out []domain.PAT
	for chunk := range slicesChunk(ids, 500) {
		var rows []patRow
		if err := db.wr(ctx).Where("id IN ? AND revoked_at IS NULL", chunk).Find(&rows).Error; err != nil {
			return nil, translate(err, "personal access tokens")
		}
		if len(rows) == 0 {
			continue
		}
		live := make([]string, len(rows))
		for i, r := range rows {
			live[i] = r.ID
		}
		// Out of the scope inventory's counts first (the counted ones).
		if err := db.markPATs(ctx, false, `id IN ?`, live); err != nil {
			return nil, err
		}
		if err := db.wr(ctx).Model(&patRow{}).Where("id IN ? AND revoked_at IS NULL", live).
			Updates(map[string]any{"revoked_at": utc(at), "revoked_by": by}).Error; err != nil {
			return nil, translate(err, "personal access tokens")
		}
		for _, r := range rows {
			if err := db.AddInvalidation(ctx, domain.KindPAT, r.ID, at); err != nil {
				return nil, err
			}
			r.RevokedAt, r.RevokedBy = &at, by
			out = append(out, r.domain())
		}
	}
	return out, nil
}

func slicesChunk(ids []string, n int) func(func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(ids) > 0 {
			k := min(n, len(ids))
			if !yield(ids[:k]) {
				return
			}
			ids = ids[k:]
		}
	}
}

// FlushPATUsage writes batched last uses (a later time wins) in one
// transaction.
func (db *DB) FlushPATUsage(ctx context.Context, uses map[string]domain.PATUse) error {
	if len(uses) == 0 {
		return nil
	}
	return db.WriteTx(ctx, func(ctx context.Context) error {
		for id, u := range uses {
			if err := db.wr(ctx).Model(&patRow{}).Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, utc(u.At)).
				Updates(map[string]any{"last_used_at": utc(u.At), "last_used_addr": u.Addr}).Error; err != nil {
				return translate(err, "personal access token usage")
			}
		}
		return nil
	})
}

// ListPATs returns one page of tokens (see domain.PATFilter) with their
// owners' usernames, keyset-paginated (no OFFSET). Errors: Invalid for a
// malformed cursor.
func (db *DB) ListPATs(ctx context.Context, f domain.PATFilter) (domain.PATPage, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	now := db.now()
	// The page's ids first, from pats alone: the filters and the order
	// read what the index walked carries (pats_by_created covers the
	// newest-first walk with name and owner, so a search reads no token
	// row on either database: PostgreSQL did a heap fetch per token
	// walked); then those rows with their owners.
	q := `SELECT p.id FROM pats p WHERE 1 = 1`
	var args []any
	if f.ID != "" {
		q += ` AND p.id = ?`
		args = append(args, f.ID)
	}
	if f.UserID != "" {
		q += ` AND p.user_id = ?`
		args = append(args, f.UserID)
	}
	var search []string // the search's alternatives (name, owner), each ANDed to the filters
	var searchArgs [][]any
	if v := strings.TrimSpace(f.Query); v != "" {
		// The owners matching the term are few: look them up once rather
		// than per token.
		like, l := "%"+escapeLike(v)+"%", db.fl.like
		search = []string{`p.name ` + l + ` ? ESCAPE '\'`,
			`p.user_id IN (SELECT id FROM users WHERE username ` + l + ` ? ESCAPE '\')`}
		searchArgs = [][]any{{like}, {like}}
	}
	if f.Scope != "" {
		q += ` AND (' ' || p.scopes || ' ') LIKE ? ESCAPE '\'`
		args = append(args, "% "+escapeLike(f.Scope)+" %")
	}
	if len(f.ScopeAny) > 0 {
		var ors []string
		for _, sc := range f.ScopeAny {
			ors = append(ors, `(' ' || p.scopes || ' ') LIKE ? ESCAPE '\'`)
			args = append(args, "% "+escapeLike(sc)+" %")
		}
		q += ` AND (` + strings.Join(ors, " OR ") + `)`
	}
	if f.FullAccess {
		// Full access is the scope alone (pat.Service refuses it beside
		// others); a literal, so that both databases walk the partial
		// index pats_full_access.
		q += ` AND p.scopes = '` + domain.ScopeFullAccess + `'`
	}
	switch f.State {
	case domain.PATActive:
		q += ` AND p.revoked_at IS NULL AND p.expires_at > ?`
		args = append(args, now)
	case domain.PATExpired:
		q += ` AND p.revoked_at IS NULL AND p.expires_at <= ?`
		args = append(args, now)
	case domain.PATRevoked:
		q += ` AND p.revoked_at IS NOT NULL`
	case "":
	default:
		return domain.PATPage{}, apperr.Errorf(apperr.Invalid, "state must be active, expired or revoked")
	}
	if f.ExpiringDays > 0 {
		q += ` AND p.revoked_at IS NULL AND p.expires_at > ? AND p.expires_at <= ?`
		args = append(args, now, now.AddDate(0, 0, f.ExpiringDays))
	}
	if f.UnusedDays > 0 {
		q += ` AND (p.last_used_at IS NULL OR p.last_used_at < ?)`
		args = append(args, now.AddDate(0, 0, -f.UnusedDays))
	}
	col, desc := "p.created_at", true
	switch f.Sort {
	case "", "created":
	case "name":
		col, desc = "p.name", false
	case "expires":
		col, desc = "p.expires_at", false
	default:
		return domain.PATPage{}, apperr.Errorf(apperr.Invalid, "sort must be created, name or expires")
	}
	if f.Asc {
		desc = !desc
	}
	op, dir := ">", "ASC"
	if desc {
		op, dir = "<", "DESC"
	}
	if f.After != "" {
		key, id, err := decodeCursor(f.After)
		if err != nil {
			return domain.PATPage{}, err
		}
		var kv any = key
		if col != "p.name" {
			t, err := time.Parse(time.RFC3339Nano, key)
			if err != nil {
				return domain.PATPage{}, apperr.Errorf(apperr.Invalid, "The page link is not valid; go back to the first page.")
			}
			kv = t.UTC()
		}
		// A row value, so that both databases seek the (key, id) index,
		// behind a redundant range start on the key alone (as every keyset
		// walk of the store): PostgreSQL otherwise filters every row
		// before the cursor instead of starting the index range there.
		q += ` AND ` + col + ` ` + op + `= ? AND (` + col + `, p.id) ` + op + ` (?, ?)`
		args = append(args, kv, kv, id)
	}
	order := ` ORDER BY ` + col + ` ` + dir + `, p.id ` + dir
	switch {
	case search == nil:
		q += order + ` LIMIT ?`
		args = append(args, limit+1)
	case db.fl.trigramSearch:
		// One page of each alternative, then the page of their union:
		// the name matches come from the trigram index pats_name_trgm
		// (migration 00024) when they are few (a common word walks
		// pats_by_created and stops at the page's end), the owners from
		// users_username_trgm and their tokens from pats_by_user; with
		// the OR in one query, PostgreSQL walked every token newest first
		// (70 ms at 100k for a name found once, EXPLAIN ANALYZE on the
		// bench seed: 0.3-1.5 ms as a UNION). The choice depends on the
		// term: the statement is planned for each term (customPlans).
		var u []string
		var uargs []any
		for i, cond := range search {
			u = append(u, `(`+q+` AND `+cond+order+` LIMIT ?)`)
			uargs = append(append(append(uargs, args...), searchArgs[i]...), limit+1)
		}
		q, args = strings.Join(u, ` UNION `), uargs
	default:
		// SQLite walks pats_by_created newest first, testing each entry
		// (the index carries name and user_id): no row read.
		q += ` AND (` + search[0] + ` OR ` + search[1] + `)` + order + ` LIMIT ?`
		args = append(append(append(args, searchArgs[0]...), searchArgs[1]...), limit+1)
	}
	// CROSS JOIN: SQLite probes pats by id first, never walks users;
	// PostgreSQL plans it as the inner join it is.
	q = `SELECT p.*, u.username FROM pats p CROSS JOIN users u WHERE u.id = p.user_id AND p.id IN (` + q + `)` + order + ` LIMIT ?`
	args = append(args, limit+1)
	var rows []struct {
		P        patRow `gorm:"embedded"`
		Username string
	}
	// One read transaction: the walk without parallel workers and, for a
	// search, planned for its term (customPlans).
	settings := [][]string{db.fl.noParallel}
	if search != nil {
		settings = append(settings, db.fl.customPlans)
	}
	read := func(ctx context.Context) error { return db.rd(ctx).Raw(q, args...).Scan(&rows).Error }
	if err := db.readTxWith(ctx, settings, read); err != nil {
		return domain.PATPage{}, translate(err, "personal access tokens")
	}
	var page domain.PATPage
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1].P
		key := last.Name
		switch col {
		case "p.created_at":
			key = utc(last.CreatedAt).Format(time.RFC3339Nano)
		case "p.expires_at":
			key = utc(last.ExpiresAt).Format(time.RFC3339Nano)
		}
		page.Next = encodeCursor(key, last.ID)
	}
	page.Tokens = make([]domain.PAT, len(rows))
	for i, r := range rows {
		page.Tokens[i] = r.P.domain()
		page.Tokens[i].Username = r.Username
	}
	return page, nil
}

// CountPATs counts the tokens f selects (Limit and After ignored), at most
// max+1 of them.
func (db *DB) CountPATs(ctx context.Context, f domain.PATFilter, max int) (int, error) {
	n := 0
	f.After, f.Limit = "", 1000
	for {
		page, err := db.ListPATs(ctx, f)
		if err != nil {
			return 0, err
		}
		n += len(page.Tokens)
		if page.Next == "" || n > max {
			return n, nil
		}
		f.After = page.Next
	}
}

// PATIDs returns the ids of the tokens f selects, at most max.
func (db *DB) PATIDs(ctx context.Context, f domain.PATFilter, max int) ([]string, error) {
	var ids []string
	f.After, f.Limit = "", 1000
	for {
		page, err := db.ListPATs(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Tokens {
			if len(ids) < max {
				ids = append(ids, p.ID)
			}
		}
		if page.Next == "" || len(ids) >= max {
			return ids, nil
		}
		f.After = page.Next
	}
}

// WalkLivePATs calls fn for every unrevoked token of an active user
// expiring before before (all live ones when before is zero), soonest
// expiry first.
func (db *DB) WalkLivePATs(ctx context.Context, before time.Time, fn func(domain.PAT) error) error {
	q := `SELECT p.*, u.username FROM pats p JOIN users u ON u.id = p.user_id
WHERE p.revoked_at IS NULL AND u.disabled_at IS NULL AND u.deleted_at IS NULL`
	var args []any
	if !before.IsZero() {
		q += ` AND p.expires_at < ?`
		args = append(args, utc(before))
	}
	q += ` ORDER BY p.expires_at, p.id`
	rows, err := db.rd(ctx).Raw(q, args...).Rows()
	if err != nil {
		return translate(err, "personal access tokens")
	}
	defer rows.Close()
	for rows.Next() {
		var r struct {
			P        patRow `gorm:"embedded"`
			Username string
		}
		if err := db.rd(ctx).ScanRows(rows, &r); err != nil {
			return translate(err, "personal access tokens")
		}
		p := r.P.domain()
		p.Username = r.Username
		if err := fn(p); err != nil {
			return err
		}
	}
	return translate(rows.Err(), "personal access tokens")
}

type ruleRow struct {
	ID            string `gorm:"column:id;primaryKey"`
	Scopes        string
	CreatedBefore time.Time
	CreatedAt     time.Time
	CreatedBy     string
}

func (ruleRow) TableName() string { return "revocation_rules" }

// AddRevocationRule stores r and appends a "rule" invalidation, so the
// Bearer check of every replica loads it with its next look at the feed.
func (db *DB) AddRevocationRule(ctx context.Context, r domain.RevocationRule) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		row := ruleRow{ID: r.ID, Scopes: joinScopes(r.Scopes), CreatedBefore: utc(r.CreatedBefore), CreatedAt: utc(r.CreatedAt), CreatedBy: r.CreatedBy}
		if err := db.wr(ctx).Create(&row).Error; err != nil {
			return translate(err, "revocation rule")
		}
		return db.AddInvalidation(ctx, domain.KindRule, r.ID, r.CreatedAt)
	})
}

// RevocationRules returns every rule, oldest first.
func (db *DB) RevocationRules(ctx context.Context) ([]domain.RevocationRule, error) {
	var rows []ruleRow
	if err := db.rd(ctx).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, translate(err, "revocation rules")
	}
	out := make([]domain.RevocationRule, len(rows))
	for i, r := range rows {
		out[i] = domain.RevocationRule{ID: r.ID, Scopes: splitScopes(r.Scopes), CreatedBefore: utc(r.CreatedBefore), CreatedAt: utc(r.CreatedAt), CreatedBy: r.CreatedBy}
	}
	return out, nil
}

type scannerRow struct {
	ID         string `gorm:"column:id;primaryKey"`
	Name       string
	Hash       []byte
	CreatedAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

func (scannerRow) TableName() string { return "scanner_tokens" }

func (r scannerRow) domain() domain.ScannerToken {
	return domain.ScannerToken{ID: r.ID, Name: r.Name, Hash: r.Hash, CreatedAt: utc(r.CreatedAt), RevokedAt: utcPtr(r.RevokedAt), LastUsedAt: utcPtr(r.LastUsedAt)}
}

// CreateScannerToken inserts t. Errors: Conflict when the name is taken.
func (db *DB) CreateScannerToken(ctx context.Context, t domain.ScannerToken) error {
	row := scannerRow{ID: t.ID, Name: t.Name, Hash: t.Hash, CreatedAt: utc(t.CreatedAt)}
	return translate(db.wr(ctx).Create(&row).Error, "scanner token "+strconv.Quote(t.Name))
}

// ScannerTokens returns every scanner token, by name.
func (db *DB) ScannerTokens(ctx context.Context) ([]domain.ScannerToken, error) {
	var rows []scannerRow
	if err := db.rd(ctx).Order(db.fl.nocase("name")).Find(&rows).Error; err != nil {
		return nil, translate(err, "scanner tokens")
	}
	out := make([]domain.ScannerToken, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ScannerTokenByHash returns the scanner token with that SHA-256.
// Errors: NotFound.
func (db *DB) ScannerTokenByHash(ctx context.Context, hash []byte) (domain.ScannerToken, error) {
	var row scannerRow
	err := db.rd(ctx).Where("hash = ?", hash).Take(&row).Error
	return row.domain(), translate(err, "scanner token")
}

// RevokeScannerToken revokes the scanner token named name. Errors:
// NotFound (no live token of that name).
func (db *DB) RevokeScannerToken(ctx context.Context, name string, at time.Time) (domain.ScannerToken, error) {
	var row scannerRow
	if err := db.wr(ctx).Where(db.fl.nocase("name")+" = "+db.fl.nocase("?")+" AND revoked_at IS NULL", name).Take(&row).Error; err != nil {
		return domain.ScannerToken{}, translate(err, "scanner token "+strconv.Quote(name))
	}
	if err := db.wr(ctx).Model(&scannerRow{}).Where("id = ?", row.ID).Update("revoked_at", utc(at)).Error; err != nil {
		return domain.ScannerToken{}, translate(err, "scanner token")
	}
	row.RevokedAt = &at
	return row.domain(), nil
}

// AddPATNotice records a notice for the token's owner once per token and
// kind (a second one is ignored).
func (db *DB) AddPATNotice(ctx context.Context, n domain.PATNotice) error {
	return translate(db.wr(ctx).Exec(`INSERT INTO pat_notices (id, user_id, pat_id, kind, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (pat_id, kind) DO NOTHING`, n.ID, n.UserID, n.PATID, n.Kind, utc(n.CreatedAt)).Error, "notice")
}

// PATNoticeExists reports whether the token already has a notice of kind.
func (db *DB) PATNoticeExists(ctx context.Context, patID, kind string) (bool, error) {
	var n int64
	err := db.rd(ctx).Table("pat_notices").Where("pat_id = ? AND kind = ?", patID, kind).Count(&n).Error
	return n > 0, translate(err, "notices")
}

// UnseenPATNotices returns the user's notices not yet dismissed, newest
// first, with the tokens' names.
func (db *DB) UnseenPATNotices(ctx context.Context, userID string) ([]domain.PATNotice, error) {
	var rows []struct {
		ID, UserID, PatID, Kind, Name string
		CreatedAt                     time.Time
	}
	err := db.rd(ctx).Raw(`SELECT n.id, n.user_id, n.pat_id, n.kind, n.created_at, p.name FROM pat_notices n JOIN pats p ON p.id = n.pat_id
WHERE n.user_id = ? AND n.seen_at IS NULL ORDER BY n.created_at DESC LIMIT 20`, userID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "notices")
	}
	out := make([]domain.PATNotice, len(rows))
	for i, r := range rows {
		out[i] = domain.PATNotice{ID: r.ID, UserID: r.UserID, PATID: r.PatID, Kind: r.Kind, PATName: r.Name, CreatedAt: utc(r.CreatedAt)}
	}
	return out, nil
}

// DismissPATNotices marks the user's notices seen.
func (db *DB) DismissPATNotices(ctx context.Context, userID string, at time.Time) error {
	return translate(db.wr(ctx).Exec(`UPDATE pat_notices SET seen_at = ? WHERE user_id = ? AND seen_at IS NULL`, utc(at), userID).Error, "notices")
}

// SetPATAllowed adds the user to (allowed) or removes them from the
// creation allowlist; it reports whether anything changed.
func (db *DB) SetPATAllowed(ctx context.Context, userID string, allowed bool, at time.Time) (bool, error) {
	if allowed {
		res := db.wr(ctx).Exec(`INSERT INTO pat_allowlist (user_id, added_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING`, userID, utc(at))
		return res.RowsAffected > 0, translate(res.Error, "allowlist")
	}
	res := db.wr(ctx).Exec(`DELETE FROM pat_allowlist WHERE user_id = ?`, userID)
	return res.RowsAffected > 0, translate(res.Error, "allowlist")
}

// PATAllowed reports whether the user is on the creation allowlist.
func (db *DB) PATAllowed(ctx context.Context, userID string) (bool, error) {
	var n int64
	err := db.rd(ctx).Table("pat_allowlist").Where("user_id = ?", userID).Count(&n).Error
	return n > 0, translate(err, "allowlist")
}

// PATAllowlist returns the usernames on the creation allowlist.
func (db *DB) PATAllowlist(ctx context.Context) ([]string, error) {
	var names []string
	err := db.rd(ctx).Raw(`SELECT u.username FROM pat_allowlist a JOIN users u ON u.id = a.user_id ORDER BY ` + db.fl.nocase("u.username")).Scan(&names).Error
	return names, translate(err, "allowlist")
}

// PATExpiryCounts counts the unrevoked tokens of active users by expiry
// state at now (see metrics.PATCounts) in one grouped query.
func (db *DB) PATExpiryCounts(ctx context.Context, now time.Time) (map[string]int, error) {
	now = utc(now)
	var row struct{ OK, Expiring, Critical, Expired int }
	err := db.rd(ctx).Raw(`SELECT
  COALESCE(SUM(CASE WHEN p.expires_at > ? THEN 1 ELSE 0 END), 0) AS ok,
  COALESCE(SUM(CASE WHEN p.expires_at > ? AND p.expires_at <= ? THEN 1 ELSE 0 END), 0) AS expiring,
  COALESCE(SUM(CASE WHEN p.expires_at > ? AND p.expires_at <= ? THEN 1 ELSE 0 END), 0) AS critical,
  COALESCE(SUM(CASE WHEN p.expires_at <= ? THEN 1 ELSE 0 END), 0) AS expired
FROM pats p JOIN users u ON u.id = p.user_id
WHERE p.revoked_at IS NULL AND p.expires_at > ? AND u.disabled_at IS NULL AND u.deleted_at IS NULL`,
		now.AddDate(0, 0, 30), now.AddDate(0, 0, 7), now.AddDate(0, 0, 30), now, now.AddDate(0, 0, 7), now, now.AddDate(0, 0, -30)).Scan(&row).Error
	if err != nil {
		return nil, translate(err, "personal access tokens")
	}
	return map[string]int{"ok": row.OK, "expiring": row.Expiring, "critical": row.Critical, "expired": row.Expired}, nil
}

// PATExpiries returns the live tokens of active users expiring after now
// and before before, soonest first, for the expiry report.
func (db *DB) PATExpiries(ctx context.Context, now, before time.Time) ([]reports.PATExpiryRow, error) {
	var out []reports.PATExpiryRow
	err := db.WalkLivePATs(ctx, before, func(p domain.PAT) error {
		if !p.ExpiresAt.After(now) {
			return nil
		}
		days, left := reports.PATLeft(p.ExpiresAt, now)
		out = append(out, reports.PATExpiryRow{ID: p.ID, Name: p.Name, Owner: p.Username, Scopes: p.Scopes, ExpiresAt: p.ExpiresAt, DaysLeft: days, Left: left})
		return nil
	})
	return out, err
}
