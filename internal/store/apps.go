package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type appRow struct {
	ClientID    string `gorm:"column:client_id;primaryKey"`
	Name        string
	Company     string
	Description string
	CompanyURL  string `gorm:"column:company_url"`
	AppURL      string `gorm:"column:app_url"`
	CallbackURL string `gorm:"column:callback_url"`
	LogoURL     string `gorm:"column:logo_url"`
	TermsURL    string `gorm:"column:terms_url"`
	PrivacyURL  string `gorm:"column:privacy_url"`
	Scopes      string
	OwnerID     string `gorm:"column:owner_id"`
	CreatedAt   time.Time
	DeletedAt   *time.Time
	External    bool
	RequirePKCE bool   `gorm:"column:require_pkce"`
	ClientType  string `gorm:"column:client_type"`
	GrantTypes  string `gorm:"column:grant_types"`
	// RedirectURIs and PostLogoutRedirectURIs are newline-separated.
	RedirectURIs           string `gorm:"column:redirect_uris"`
	PostLogoutRedirectURIs string `gorm:"column:post_logout_redirect_uris"`
	IDTokenAlg             string `gorm:"column:id_token_alg"`
	JWKS                   string `gorm:"column:jwks"`
	Status                 string
	ReviewNote             string `gorm:"column:review_note"`
}

func (appRow) TableName() string { return "apps" }

type secretRow struct {
	ID         string `gorm:"column:id;primaryKey"`
	ClientID   string `gorm:"column:client_id"`
	Slot       string
	Hash       []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	UseCount   int64
	RetiredAt  *time.Time
}

func (secretRow) TableName() string { return "client_secrets" }

func (r secretRow) domain() domain.Secret {
	return domain.Secret{ID: r.ID, ClientID: r.ClientID, Slot: r.Slot, Hash: r.Hash,
		CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt), LastUsedAt: utcPtr(r.LastUsedAt),
		UseCount: r.UseCount, RetiredAt: utcPtr(r.RetiredAt)}
}

func secretRowOf(s domain.Secret) secretRow {
	return secretRow{ID: s.ID, ClientID: s.ClientID, Slot: s.Slot, Hash: s.Hash,
		CreatedAt: utc(s.CreatedAt), ExpiresAt: utc(s.ExpiresAt)}
}

// appListRow is an app with its owner's username and its active
// authorization count, as the listing query returns it.
type appListRow struct {
	App                  appRow `gorm:"embedded"`
	OwnerUsername        string
	ActiveAuthorizations int64
}

func (l appListRow) domain() domain.App {
	r := l.App
	return domain.App{
		ClientID: r.ClientID,
		Registration: domain.Registration{Name: r.Name, Company: r.Company, Description: r.Description,
			CompanyURL: r.CompanyURL, AppURL: r.AppURL, CallbackURL: r.CallbackURL, LogoURL: r.LogoURL,
			TermsURL: r.TermsURL, PrivacyURL: r.PrivacyURL, Scopes: splitScopes(r.Scopes), RequirePKCE: r.RequirePKCE,
			ClientType: r.ClientType, GrantTypes: splitScopes(r.GrantTypes), RedirectURIs: splitLines(r.RedirectURIs),
			PostLogoutRedirectURIs: splitLines(r.PostLogoutRedirectURIs), IDTokenAlg: r.IDTokenAlg, JWKS: r.JWKS},
		OwnerID: r.OwnerID, OwnerUsername: l.OwnerUsername, CreatedAt: utc(r.CreatedAt),
		DeletedAt: utcPtr(r.DeletedAt), ActiveAuthorizations: l.ActiveAuthorizations, Authorizations: l.ActiveAuthorizations, External: r.External,
		Status: firstNonEmpty(r.Status, domain.AppActive), ReviewNote: r.ReviewNote,
	}
}

// splitLines splits a newline-separated list ("" is none).
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func joinLines(l []string) string { return strings.Join(l, "\n") }

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// appSelect reads apps with their owner; a.active_authorizations is the
// count kept by CreateAuthorization and RevokeAuthorization (migration
// 00010), so that the listing can sort by it from an index.
const appSelect = `SELECT a.*, u.username AS owner_username
FROM apps a JOIN users u ON u.id = a.owner_id`

// appSecretSelect reads apps through their active primary secret, for the
// orders by secret expiry and age (index client_secrets_primary_*).
const appSecretSelect = `SELECT a.*, u.username AS owner_username
FROM client_secrets s JOIN apps a ON a.client_id = s.client_id JOIN users u ON u.id = a.owner_id`

// CreateApp inserts an app registration together with its secrets
// (app.Secrets). Errors: Conflict when the client id exists.
func (db *DB) CreateApp(ctx context.Context, app domain.App) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		r := app.Registration
		row := appRow{ClientID: app.ClientID, Name: r.Name, Company: r.Company, Description: r.Description,
			CompanyURL: r.CompanyURL, AppURL: r.AppURL, CallbackURL: r.CallbackURL, LogoURL: r.LogoURL,
			TermsURL: r.TermsURL, PrivacyURL: r.PrivacyURL, Scopes: joinScopes(r.Scopes),
			OwnerID: app.OwnerID, CreatedAt: utc(app.CreatedAt), External: app.External, RequirePKCE: r.RequirePKCE,
			ClientType: r.EffectiveClientType(), GrantTypes: joinScopes(r.EffectiveGrantTypes()), RedirectURIs: joinLines(r.RedirectURIs),
			PostLogoutRedirectURIs: joinLines(r.PostLogoutRedirectURIs), IDTokenAlg: r.EffectiveIDTokenAlg(), JWKS: r.StoredJWKS(),
			Status: firstNonEmpty(app.Status, domain.AppActive), ReviewNote: app.ReviewNote}
		if err := db.wr(ctx).Create(&row).Error; err != nil {
			return translate(err, "app "+app.ClientID)
		}
		if err := db.AddAppOwner(ctx, app.ClientID, app.OwnerID, app.CreatedAt); err != nil {
			return err
		}
		for _, s := range app.Secrets {
			sr := secretRowOf(s)
			if err := db.wr(ctx).Create(&sr).Error; err != nil {
				return translate(err, "client secret")
			}
		}
		if err := db.syncAppTerms(ctx, app.ClientID, r.Name, r.Company); err != nil {
			return err
		}
		return db.syncAppScopes(ctx, app.ClientID, r.Scopes)
	})
}

// AppByClientID returns the registration with its active secrets (primary
// first), owner username and active (true state) authorization count; a deleted app is
// returned too, with DeletedAt set. Errors: NotFound.
func (db *DB) AppByClientID(ctx context.Context, clientID string) (domain.App, error) {
	var rows []appListRow
	if err := db.rd(ctx).Raw(appSelect+` WHERE a.client_id = ?`, clientID).Scan(&rows).Error; err != nil {
		return domain.App{}, translate(err, "app")
	}
	if len(rows) == 0 {
		return domain.App{}, apperr.Errorf(apperr.NotFound, "No app is registered with client id %q.", clientID)
	}
	app := rows[0].domain()
	secrets, err := db.activeSecrets(ctx, []string{clientID})
	if err != nil {
		return domain.App{}, err
	}
	app.Secrets = secrets[clientID]
	counts, err := db.trueActiveCounts(ctx, []string{clientID}, db.now())
	if err != nil {
		return domain.App{}, err
	}
	app.ActiveAuthorizations = counts[clientID]
	return app, nil
}

// ClientByID returns the registration with its active secrets only — the
// lean lookup of the token and authorization endpoints (no owner, no
// counts). A deleted app is returned with DeletedAt set. Errors: NotFound.
//
// Outside a transaction it reads through a cache valid while DB.Version
// has not moved (see versionCache): a secret regenerated or retired by
// this process is refused on the very next request, by another process
// within PollInterval. Secrets' last-use figures may lag in what it
// returns; the token endpoint does not read them.
func (db *DB) ClientByID(ctx context.Context, clientID string) (domain.App, error) {
	_, inTx := ctx.Value(txKey{}).(*txState)
	v := db.Version()
	if !inTx {
		if a, ok := db.apps.get(clientID, v); ok {
			return a, nil
		}
	}
	a, err := db.clientByID(ctx, clientID)
	if err == nil && !inTx {
		db.apps.put(clientID, a, v)
	}
	return a, err
}

// cloneApp copies the slices of a cached app, so that callers may change
// what they get.
func cloneApp(a domain.App) domain.App {
	a.Secrets = slices.Clone(a.Secrets)
	a.Scopes = slices.Clone(a.Scopes)
	return a
}

func (db *DB) clientByID(ctx context.Context, clientID string) (domain.App, error) {
	var row appRow
	if err := db.rd(ctx).Where("client_id = ?", clientID).Take(&row).Error; err != nil {
		return domain.App{}, translate(err, "app")
	}
	app := appListRow{App: row}.domain()
	secrets, err := db.activeSecrets(ctx, []string{clientID})
	if err != nil {
		return domain.App{}, err
	}
	app.Secrets = secrets[clientID]
	return app, nil
}

func (db *DB) activeSecrets(ctx context.Context, clientIDs []string) (map[string][]domain.Secret, error) {
	var rows []secretRow
	err := db.rd(ctx).Where("client_id IN ? AND retired_at IS NULL", clientIDs).
		Order("client_id, slot DESC").Find(&rows).Error // "primary" sorts after "alternative": DESC puts it first
	if err != nil {
		return nil, translate(err, "client secrets")
	}
	out := make(map[string][]domain.Secret, len(clientIDs))
	for _, r := range rows {
		out[r.ClientID] = append(out[r.ClientID], r.domain())
	}
	return out, nil
}

// appOrder is one order of the app listing: the key column (indexed, with
// client_id as the unique tiebreaker) and how to read and write it in a
// cursor.
type appOrder struct {
	from  string // appSelect or appSecretSelect
	key   string // SQL expression of the key
	where string // condition the order's index needs
	// value returns the key of a listed row, as the cursor stores it.
	value func(r appListRow, s *secretRow) string
	// arg turns a cursor's key back into a query argument.
	arg func(v string) (any, error)
}

var appOrders = map[string]appOrder{
	domain.AppSortName: {from: appSelect, key: "a.name", // case-insensitive: the flavor's nocase
		value: func(r appListRow, _ *secretRow) string { return r.App.Name },
		arg:   func(v string) (any, error) { return v, nil }},
	domain.AppSortExpiry: {from: appSecretSelect, key: "s.expires_at", where: "s.retired_at IS NULL AND s.slot = 'primary'",
		value: func(_ appListRow, s *secretRow) string { return utc(s.ExpiresAt).Format(time.RFC3339Nano) },
		arg:   timeArg},
	domain.AppSortAge: {from: appSecretSelect, key: "s.created_at", where: "s.retired_at IS NULL AND s.slot = 'primary'",
		value: func(_ appListRow, s *secretRow) string { return utc(s.CreatedAt).Format(time.RFC3339Nano) },
		arg:   timeArg},
	domain.AppSortAuthorizations: {from: appSelect, key: "a.active_authorizations",
		value: func(r appListRow, _ *secretRow) string { return strconv.FormatInt(r.ActiveAuthorizations, 10) },
		arg: func(v string) (any, error) {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err
		}},
}

// clientIDPrefixRE matches what can only be a client id or its start: 8
// or more hex digits and dashes, beginning with 8 hex digits (a GUID's
// first group).
var clientIDPrefixRE = regexp.MustCompile(`^[0-9a-fA-F]{8}(-[0-9a-fA-F-]*)?$`)

func timeArg(v string) (any, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	return utc(t), err
}

// ListApps returns one page of app registrations, each with its active
// secrets, owner username and active authorization count, in the order
// f.Sort (name by default), and the number of apps that match f.
//
// Keyset pagination: every order is an indexed key plus client_id as the
// unique tiebreaker, and a cursor holds the last row's key and client id,
// so the cost of a page does not grow with its position (no OFFSET). The
// secret orders walk active primary secrets, so they list only apps that
// have one. Errors: Invalid for a malformed cursor or an unknown order.
func (db *DB) ListApps(ctx context.Context, f domain.AppFilter) (domain.AppPage, error) {
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 25
	}
	sortKey := f.Sort
	if sortKey == "" {
		sortKey = domain.AppSortName
	}
	ord, ok := appOrders[sortKey]
	if !ok {
		return domain.AppPage{}, apperr.Errorf(apperr.Invalid, "sort must be name, expiry, age or authorizations")
	}
	where := ` WHERE 1=1`
	var args []any
	// A membership filter (owner, secret expiry window, search words) has
	// two forms taking the same arguments (but for the expiry window on
	// PostgreSQL): IN, which drives from the
	// filter's own index (the few matches, sorted after), and EXISTS, a
	// probe per row of the order's index walk (stopped by the LIMIT when
	// matches are dense). The count uses IN (it stops at AppCountCap);
	// the page uses IN when the count is under the cap, EXISTS otherwise.
	// walk is where with the EXISTS forms.
	walk := where
	var wargs []any // walk's arguments (args are where's)
	member := func(in, exists string) {
		where += ` AND ` + in
		walk += ` AND ` + exists
	}
	both := func(cond string) {
		where += cond
		walk += cond
	}
	add := func(v ...any) {
		args = append(args, v...)
		wargs = append(wargs, v...)
	}
	if ord.where != "" {
		both(` AND ` + ord.where)
	}
	if !f.IncludeDeleted {
		both(` AND a.deleted_at IS NULL`)
	}
	if f.Status != "" {
		both(` AND a.status = ?`)
		add(f.Status)
	}
	if f.OwnerID != "" {
		// The walk's probe is fenced on PostgreSQL (db.fl.probeFence):
		// planned as a semi-join, its cached generic plan (which assumes
		// an owner of 53 apps) drove from app_owners instead, reading and
		// sorting all of a big owner's apps: 25,699 buffers and 21-41 ms
		// for the owner of 3,674 apps on the bench seed, against about
		// 2,200 buffers walking apps_by_name to the page's end.
		// The IN form (the count, and the page of an owner of fewer
		// apps than the cap) is a probe of apps_pkey per app of the
		// owner on PostgreSQL (db.fl.inList): planned as a semi-join for
		// its own arguments, a big owner's count hashed their app ids and
		// scanned apps until 1,001 matched (46-275 ms on the bench seed,
		// the first runs on each connection), against 5-19 ms.
		member(db.fl.inList(`a.client_id`, `SELECT o.client_id FROM app_owners o WHERE o.user_id = ?`),
			`EXISTS (SELECT 1 FROM app_owners o WHERE o.client_id = a.client_id AND o.user_id = ?`+db.fl.probeFence+`)`)
		add(f.OwnerID)
	}
	if !f.SecretExpiresBefore.IsZero() {
		// IN over a range of client_secrets_expiry (expires_at, client_id):
		// the planner drives from the few secrets in the window instead of
		// testing every app.
		// The EXISTS form only for a window open at the start (expired):
		// a walk by expiry then begins inside it; a later window (expiring)
		// would first probe every secret that expired before it.
		window := `SELECT x.client_id FROM client_secrets x WHERE x.retired_at IS NULL AND x.expires_at <= ? AND x.expires_at > ?`
		before, after := utc(f.SecretExpiresBefore), utc(f.SecretExpiresAfter)
		switch {
		case f.SecretExpiresAfter.Unix() <= 0:
			member(`a.client_id IN (`+window+`)`,
				`EXISTS (SELECT 1 FROM client_secrets x WHERE x.client_id = a.client_id AND x.retired_at IS NULL AND x.expires_at <= ? AND x.expires_at > ?)`)
			add(before, after)
		case ord.from == appSecretSelect && db.fl.windowWalk:
			// A later window, listed by the primary secret (s): the
			// count drives from the window (evaluated once), the page
			// walks the order's index testing each primary against the
			// window and the few other secrets in it (a hashed set), so
			// neither joins an app per secret that expired before the
			// window (PostgreSQL otherwise probes them all).
			member(`s.client_id = ANY (ARRAY(`+window+`))`,
				`((s.expires_at <= ? AND s.expires_at > ?) OR s.client_id IN (`+window+` AND x.slot <> 'primary'))`)
			args = append(args, before, after)
			wargs = append(wargs, before, after, before, after)
			if sortKey == domain.AppSortExpiry {
				// An index range start for the walk: no listed primary
				// expires before the window or before the primary of an
				// app whose other secret is in it (an InitPlan, run
				// once). Without it PostgreSQL walks and filters every
				// primary that expired before the window (12,368 at
				// 100,000 apps).
				walk += ` AND s.expires_at >= LEAST(CAST(? AS TIMESTAMPTZ), (SELECT MIN(p.expires_at) FROM client_secrets p
  WHERE p.retired_at IS NULL AND p.slot = 'primary' AND p.client_id IN (` + window + ` AND x.slot <> 'primary')))`
				wargs = append(wargs, after, before, after)
			}
		default:
			member(`a.client_id IN (`+window+`)`, `a.client_id IN (`+window+`)`)
			add(before, after)
		}
	}
	if s := strings.TrimSpace(f.Query); s != "" && db.fl.clientIDRange && clientIDPrefixRE.MatchString(s) {
		// A client id (or its first 8+ characters): a range of the
		// primary key, not a walk of every name.
		p := strings.ToLower(s)
		both(` AND a.client_id >= ? AND a.client_id < ?`)
		add(p, p+"\xff")
	} else if cond, existsCond, cargs := searchClause(s); cond != "" && clientIDPrefixRE.MatchString(s) {
		// A client id's start on PostgreSQL: one range of the terms.
		p := clientIDTerm(s)
		member(`a.client_id IN (SELECT t.client_id FROM app_search_terms t WHERE t.term >= ? AND t.term < ?)`,
			`EXISTS (SELECT 1 FROM app_search_terms t WHERE t.client_id = a.client_id AND t.term >= ? AND t.term < ?)`)
		add(p, prefixEnd(p))
	} else if cond != "" {
		// Words: each must start a word of the name or company (or the
		// client id), one index range of app_search_terms per word.
		member(cond, existsCond)
		add(cargs...)
	} else if s != "" {
		// Only punctuation: a substring match (a walk, but a rare query).
		like := "%" + escapeLike(s) + "%"
		l := db.fl.like
		both(` AND (a.name ` + l + ` ? ESCAPE '\' OR a.company ` + l + ` ? ESCAPE '\' OR a.client_id ` + l + ` ? ESCAPE '\')`)
		add(like, like, escapeLike(strings.ToLower(s))+"%")
	}
	countFrom := `FROM apps a`
	if ord.from == appSecretSelect {
		countFrom = `FROM client_secrets s JOIN apps a ON a.client_id = s.client_id`
	}
	// The total is counted up to AppCountCap (a bounded walk, not a scan
	// of every app on each page load); beyond it the page says so.
	countSQL, countArgs := `SELECT COUNT(*) FROM (SELECT 1 `+countFrom+where+` LIMIT ?) AS c`, append(slices.Clone(args), domain.AppCountCap+1)
	if ord.from == appSecretSelect && !f.SecretExpiresBefore.IsZero() && f.OwnerID == "" && f.Status == "" && strings.TrimSpace(f.Query) == "" {
		countSQL, countArgs = windowCountSQL, windowCountArgs(utc(f.SecretExpiresAfter), utc(f.SecretExpiresBefore))
	}
	var total int64
	if err := db.rd(ctx).Raw(countSQL, countArgs...).Scan(&total).Error; err != nil {
		return domain.AppPage{}, translate(err, "apps")
	}
	total = min(total, domain.AppCountCap+1) // windowCountSQL adds two capped counts

	if total > domain.AppCountCap {
		where, args = walk, wargs
	}
	q := ord.from + where
	key, ph := ord.key, "?"
	if sortKey == domain.AppSortName {
		key, ph = db.fl.nocase("a.name"), db.fl.nocase("?")
	}
	// The tiebreaker must come from the walked index's table: the secret
	// orders walk client_secrets_primary_* (key, client_id), so ordering by
	// s.client_id (equal to a.client_id) lets the index give the order.
	idCol := "a.client_id"
	if ord.from == appSecretSelect {
		idCol = "s.client_id"
	}
	backward := false
	cursor := f.After
	if f.Before != "" {
		cursor, backward = f.Before, true
	}
	// The walk goes "up" the key when the order is ascending and the page
	// is forward, or descending and backward.
	up := f.Desc == backward
	if cursor != "" {
		v, id, err := decodeCursor(cursor)
		var arg any
		if err == nil {
			arg, err = ord.arg(v)
		}
		if err != nil {
			return domain.AppPage{}, apperr.Errorf(apperr.Invalid, "The page link is not valid; go back to the first page.")
		}
		cmp := ">"
		if !up {
			cmp = "<"
		}
		// The first condition is implied by the second; it is there for
		// the planner: PostgreSQL cannot start an index range at an OR,
		// and without it walks (and filters) every row before the cursor.
		q += ` AND ` + key + ` ` + cmp + `= ` + ph + ` AND (` + key + ` ` + cmp + ` ` + ph + ` OR (` + key + ` = ` + ph + ` AND ` + idCol + ` ` + cmp + ` ?))`
		args = append(args, arg, arg, arg, id)
	}
	dir := ""
	if !up {
		dir = " DESC"
	}
	q += ` ORDER BY ` + key + dir + `, ` + idCol + dir + ` LIMIT ?`
	args = append(args, limit+1)

	var rows []appListRow
	if err := db.rd(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return domain.AppPage{}, translate(err, "apps")
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if backward {
		slices.Reverse(rows)
	}
	page := domain.AppPage{Apps: make([]domain.App, 0, len(rows)), Total: total}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		page.Apps = append(page.Apps, r.domain())
		ids = append(ids, r.App.ClientID)
	}
	secrets, err := db.activeSecrets(ctx, ids)
	if err != nil {
		return domain.AppPage{}, err
	}
	for i := range page.Apps {
		page.Apps[i].Secrets = secrets[page.Apps[i].ClientID]
	}
	// The listed count is the true state (a live token or a fresh grant);
	// the stored counter (unrevoked authorizations) only orders the
	// authorizations sort and its cursors.
	counts, err := db.trueActiveCounts(ctx, ids, db.now())
	if err != nil {
		return domain.AppPage{}, err
	}
	for i := range page.Apps {
		page.Apps[i].ActiveAuthorizations = counts[page.Apps[i].ClientID] // cursors read rows, not page.Apps
	}
	if len(rows) > 0 {
		keyOf := func(i int) string {
			var sec *secretRow
			for _, s := range page.Apps[i].Secrets {
				if s.Slot == domain.SlotPrimary {
					sec = &secretRow{CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt}
				}
			}
			if sec == nil {
				sec = &secretRow{}
			}
			return encodeCursor(ord.value(rows[i], sec), rows[i].App.ClientID)
		}
		hasPrev := (backward && more) || (!backward && f.After != "")
		hasNext := (!backward && more) || backward
		if hasPrev {
			page.Prev = keyOf(0)
		}
		if hasNext {
			page.Next = keyOf(len(rows) - 1)
		}
	}
	return page, nil
}

// windowCountSQL counts the apps an expiry window lists by primary secret
// (an active primary, and an active secret in the window) from the secret
// indexes alone: the primaries in the window (an index range count,
// capped), plus the other secrets in the window whose app's primary lies
// outside it (a probe each; few: one app in twenty has a second secret).
// A deleted app's secrets are retired, so no app row is read: 1,001 app
// and secret probes a page load before (91 ms cold on PostgreSQL at
// 100,000 apps), two index ranges now. Arguments: windowCountArgs.
const windowCountSQL = `SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM client_secrets s
    WHERE s.retired_at IS NULL AND s.slot = 'primary' AND s.expires_at <= ? AND s.expires_at > ? LIMIT ?) AS c1)
  + (SELECT COUNT(*) FROM (SELECT 1 FROM client_secrets x
    WHERE x.retired_at IS NULL AND x.expires_at <= ? AND x.expires_at > ? AND x.slot <> 'primary'
    AND EXISTS (SELECT 1 FROM client_secrets p WHERE p.client_id = x.client_id AND p.retired_at IS NULL AND p.slot = 'primary'
      AND NOT (p.expires_at <= ? AND p.expires_at > ?)) LIMIT ?) AS c2)`

func windowCountArgs(after, before time.Time) []any {
	return []any{before, after, domain.AppCountCap + 1, before, after, before, after, domain.AppCountCap + 1}
}

func encodeCursor(key, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key + "\x00" + id))
}

func decodeCursor(c string) (key, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		var ok bool
		key, id, ok = strings.Cut(string(b), "\x00")
		if ok {
			return key, id, nil
		}
	}
	return "", "", apperr.Errorf(apperr.Invalid, "The page link is not valid; go back to the first page.")
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// SecretExpiries returns every active secret of every active app, soonest
// expiry first (WalkSecretExpiries without a bound, collected).
func (db *DB) SecretExpiries(ctx context.Context) ([]domain.ExpiringSecret, error) {
	var out []domain.ExpiringSecret
	err := db.WalkSecretExpiries(ctx, time.Time{}, 0, func(s domain.ExpiringSecret) error {
		out = append(out, s)
		return nil
	})
	return out, err
}

// WalkSecretExpiries calls fn with each active secret of an active app
// expiring at or before until (zero: all), soonest first, at most limit
// (0: no limit), reading in batches of 1000 along the index
// client_secrets_expiry (keyset on expires_at, client id, slot): memory stays
// one batch whatever the number of apps. A deleted app's secrets are
// retired, so the index holds only active apps' secrets. A walk without a
// limit over more than wholeCountsOver secrets (a report of every secret)
// is one query read row by row instead, after every app's active count:
// fn must not use the database meanwhile.
func (db *DB) WalkSecretExpiries(ctx context.Context, until time.Time, limit int, fn func(domain.ExpiringSecret) error) error {
	return db.walkSecretExpiries(ctx, time.Time{}, until, limit, false, fn)
}

// streamSecretExpiries is the long walk of walkSecretExpiries: the apps
// not deleted and the usernames read whole first (a table read each),
// then the secrets streamed in one query along the expiry index, each
// completed from those maps: no app and owner probe per secret (four
// b-tree searches a secret on SQLite) and no join of the whole tables on
// PostgreSQL. active holds every app's active count, taken before.
func (db *DB) streamSecretExpiries(ctx context.Context, from, until time.Time, active map[string]int64, fn func(domain.ExpiringSecret) error) error {
	type appInfo struct{ name, company, owner string }
	apps := map[string]appInfo{}
	err := db.scanRows(ctx, `SELECT a.client_id, a.name, a.company, a.owner_id FROM apps a WHERE a.deleted_at IS NULL`, nil, "apps", func(v []sql.NullString) {
		apps[v[0].String] = appInfo{v[1].String, v[2].String, v[3].String}
	})
	if err != nil {
		return err
	}
	users := map[string]string{}
	err = db.scanRows(ctx, `SELECT u.id, u.username FROM users u`, nil, "users", func(v []sql.NullString) {
		users[v[0].String] = v[1].String
	})
	if err != nil {
		return err
	}
	q := `SELECT s.client_id, s.slot, s.created_at, s.expires_at FROM client_secrets s WHERE s.retired_at IS NULL`
	var args []any
	if !until.IsZero() {
		q += ` AND s.expires_at <= ?`
		args = append(args, utc(until))
	}
	if !from.IsZero() {
		q += ` AND s.expires_at > ?`
		args = append(args, utc(from))
	}
	rows, err := db.sqlConn(ctx, false).QueryContext(ctx, db.sqlText(q+` ORDER BY s.expires_at, s.client_id, s.slot`), args...)
	if err != nil {
		return translate(err, "client secrets")
	}
	defer rows.Close()
	for rows.Next() {
		var e domain.ExpiringSecret
		if err := rows.Scan(&e.ClientID, &e.Slot, &e.CreatedAt, &e.ExpiresAt); err != nil {
			return translate(err, "client secrets")
		}
		a, ok := apps[e.ClientID]
		owner, known := users[a.owner]
		if !ok || !known {
			continue // a deleted app's secret (retired at deletion) or an app without its owner: as the join before
		}
		e.AppName, e.Company, e.Owner = a.name, a.company, owner
		e.CreatedAt, e.ExpiresAt, e.ActiveAuthorizations = utc(e.CreatedAt), utc(e.ExpiresAt), active[e.ClientID]
		if err := fn(e); err != nil {
			return err
		}
	}
	return translate(rows.Err(), "client secrets")
}

// scanRows calls fn with the text columns of each row of q (NULL is "").
func (db *DB) scanRows(ctx context.Context, q string, args []any, what string, fn func([]sql.NullString)) error {
	rows, err := db.sqlConn(ctx, false).QueryContext(ctx, db.sqlText(q), args...)
	if err != nil {
		return translate(err, what)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return translate(err, what)
	}
	v := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range v {
		ptrs[i] = &v[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return translate(err, what)
		}
		fn(v)
	}
	return translate(rows.Err(), what)
}

// WalkSecretExpiriesFrom is WalkSecretExpiries starting after from (the
// secrets not yet expired at from, soonest first), along the same index.
func (db *DB) WalkSecretExpiriesFrom(ctx context.Context, from, until time.Time, limit int, fn func(domain.ExpiringSecret) error) error {
	return db.walkSecretExpiries(ctx, from, until, limit, false, fn)
}

// RecentlyExpiredSecrets returns up to limit (at most 1000) active
// secrets of active apps that expired at or before until, the most
// recently expired first: the index client_secrets_expiry read backwards.
func (db *DB) RecentlyExpiredSecrets(ctx context.Context, until time.Time, limit int) ([]domain.ExpiringSecret, error) {
	var out []domain.ExpiringSecret
	err := db.walkSecretExpiries(ctx, time.Time{}, until, max(1, min(limit, 1000)), true, func(e domain.ExpiringSecret) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// walkSecretExpiries walks the active secrets with from < expires_at <=
// until (zero bounds open), ascending in keyset batches, or descending in
// one batch of limit (desc).
func (db *DB) walkSecretExpiries(ctx context.Context, from, until time.Time, limit int, desc bool, fn func(domain.ExpiringSecret) error) error {
	type row struct {
		ID        string
		ClientID  string
		AppName   string
		Company   string
		Owner     string
		Slot      string
		CreatedAt time.Time
		ExpiresAt time.Time
	}
	var afterAt time.Time
	afterID, afterSlot, first, seen := "", "", true, 0
	now := db.now()
	// A long walk (a report of every secret) takes every app's true
	// active count at once, joining the live tokens with their secrets
	// and authorizations, instead of a probe per live token per batch:
	// 1.1 s against 3.9 s at 100,000 apps on PostgreSQL.
	if limit <= 0 && !desc {
		n, err := db.countActiveSecrets(ctx, from, until, wholeCountsOver+1)
		if err != nil {
			return err
		}
		if n > int64(wholeCountsOver) {
			// One snapshot for the counts, the apps, the owners and the
			// secrets.
			return db.ReadTx(ctx, func(ctx context.Context) error {
				all, err := db.allTrueActiveCounts(ctx, now)
				if err != nil {
					return err
				}
				return db.streamSecretExpiries(ctx, from, until, all, fn)
			})
		}
	}
	for {
		batch := 1000
		if limit > 0 {
			batch = min(batch, limit-seen)
		}
		q := `SELECT s.id, s.client_id, a.name AS app_name, a.company, u.username AS owner, s.slot, s.created_at, s.expires_at
FROM client_secrets s JOIN apps a ON a.client_id = s.client_id JOIN users u ON u.id = a.owner_id
WHERE s.retired_at IS NULL AND a.deleted_at IS NULL`
		var args []any
		if !first { // keyset on the index's own order (expires_at, client_id, slot): unique among active secrets
			// (The leading >= only lets PostgreSQL start the index range
			// there instead of filtering every row before it.)
			q += ` AND s.expires_at >= ? AND (s.expires_at > ? OR (s.expires_at = ? AND (s.client_id > ? OR (s.client_id = ? AND s.slot > ?))))`
			args = append(args, utc(afterAt), utc(afterAt), utc(afterAt), afterID, afterID, afterSlot)
		}
		if !until.IsZero() {
			q += ` AND s.expires_at <= ?`
			args = append(args, utc(until))
		}
		if !from.IsZero() {
			q += ` AND s.expires_at > ?`
			args = append(args, utc(from))
		}
		order := ` ORDER BY s.expires_at, s.client_id, s.slot LIMIT ?`
		if desc {
			order = ` ORDER BY s.expires_at DESC, s.client_id DESC, s.slot DESC LIMIT ?`
		}
		q += order
		args = append(args, batch)
		var rows []row
		if err := db.rd(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
			return translate(err, "client secrets")
		}
		// The true active count (a live token or a fresh grant) of this
		// batch's apps, in one grouped query.
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.ClientID
		}
		active, err := db.trueActiveCounts(ctx, ids, now)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(domain.ExpiringSecret{ClientID: r.ClientID, AppName: r.AppName, Company: r.Company, Owner: r.Owner, Slot: r.Slot,
				CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt), ActiveAuthorizations: active[r.ClientID]}); err != nil {
				return err
			}
		}
		seen += len(rows)
		if desc || len(rows) < batch || (limit > 0 && seen >= limit) {
			return nil
		}
		last := rows[len(rows)-1]
		afterAt, afterID, afterSlot, first = last.ExpiresAt, last.ClientID, last.Slot, false
	}
}

// CountSecretsExpiring counts the active secrets of active apps whose
// expiry is after `after` and at or before until (a zero bound is open),
// from the index client_secrets_expiry alone.
//
// A range open at one end (the overview's expired and ok counts: at
// 100,000 apps about 15,000 and 90,000 secrets) is counted with the
// flavor's indexOnly settings: PostgreSQL otherwise costs the count as a
// sequential scan of client_secrets, filtering every row (10-28 ms a
// load on the bench seed, the overview's largest part), against an
// index-only range of client_secrets_expiry (EXPLAIN ANALYZE: 847
// buffers, no heap fetch; about a third of the time).
func (db *DB) CountSecretsExpiring(ctx context.Context, after, until time.Time) (int64, error) {
	count := func(ctx context.Context) (int64, error) {
		q := db.rd(ctx).Table("client_secrets").Where("retired_at IS NULL")
		if !after.IsZero() {
			q = q.Where("expires_at > ?", utc(after))
		}
		if !until.IsZero() {
			q = q.Where("expires_at <= ?", utc(until))
		}
		var n int64
		return n, translate(q.Count(&n).Error, "client secrets")
	}
	if db.fl.indexOnly == nil || (!after.IsZero() && !until.IsZero()) {
		return count(ctx)
	}
	var n int64
	err := db.ReadTx(ctx, func(ctx context.Context) error {
		if err := db.rd(ctx).Exec(db.fl.indexOnly[0]).Error; err != nil {
			return translate(err, "client secrets")
		}
		var err error
		if n, err = count(ctx); err != nil {
			return err
		}
		return translate(db.rd(ctx).Exec(db.fl.indexOnly[1]).Error, "client secrets")
	})
	return n, err
}

// UpdateImportedApp replaces the registration fields, owner and secret
// dates of an external app (a re-import), keeping its client id.
func (db *DB) UpdateImportedApp(ctx context.Context, app domain.App) error {
	return db.WriteTx(ctx, func(ctx context.Context) error {
		r := app.Registration
		res := db.wr(ctx).Model(&appRow{}).Where("client_id = ? AND external", app.ClientID).Updates(map[string]any{
			"name": r.Name, "company": r.Company, "app_url": r.AppURL, "callback_url": r.CallbackURL,
			"scopes": joinScopes(r.Scopes), "owner_id": app.OwnerID,
			"grant_types": joinScopes(r.EffectiveGrantTypes()), "redirect_uris": joinLines(r.RedirectURIs)})
		if res.Error != nil {
			return translate(res.Error, "app")
		}
		if res.RowsAffected == 0 {
			return nil
		}
		if err := db.syncAppScopes(ctx, app.ClientID, r.Scopes); err != nil {
			return err
		}
		if err := db.syncAppTerms(ctx, app.ClientID, r.Name, r.Company); err != nil {
			return err
		}
		for _, s := range app.Secrets {
			err := db.wr(ctx).Model(&secretRow{}).Where("client_id = ? AND slot = ? AND retired_at IS NULL", app.ClientID, s.Slot).
				Updates(map[string]any{"created_at": utc(s.CreatedAt), "expires_at": utc(s.ExpiresAt)}).Error
			if err != nil {
				return translate(err, "client secret")
			}
		}
		return nil
	})
}

// SetAppNative marks an app as no longer external (a secret was issued here).
func (db *DB) SetAppNative(ctx context.Context, clientID string) error {
	return translate(db.wr(ctx).Model(&appRow{}).Where("client_id = ?", clientID).Update("external", false).Error, "app")
}

// SecretExpiryTimes returns the expiry of every active secret of an active
// app (only ExpiresAt is set), read from the index client_secrets_expiry
// alone — the Prometheus gauge's source: no join, no per-app count.
func (db *DB) SecretExpiryTimes(ctx context.Context) ([]domain.ExpiringSecret, error) {
	var times []time.Time
	if err := db.rd(ctx).Table("client_secrets").Where("retired_at IS NULL").Order("expires_at").Pluck("expires_at", &times).Error; err != nil {
		return nil, translate(err, "client secrets")
	}
	out := make([]domain.ExpiringSecret, len(times))
	for i, t := range times {
		out[i] = domain.ExpiringSecret{ExpiresAt: utc(t)}
	}
	return out, nil
}
