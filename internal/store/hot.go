package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// The token endpoint's statements, written lean: plain SQL through the
// database/sql handle under GORM (the transaction's when ctx carries one),
// scanned straight into domain values. The SQL is portable; placeholders
// are rebound for PostgreSQL by the flavor (sqlText). GORM stays for
// everything else.

// sqlConn returns the database/sql handle for ctx: the transaction's, else
// the write pool (write) or the read pool.
func (db *DB) sqlConn(ctx context.Context, write bool) gorm.ConnPool {
	if tx, ok := ctx.Value(txKey{}).(*txState); ok {
		if write && !tx.write {
			return nil
		}
		return tx.g.Statement.ConnPool
	}
	if write {
		return db.w.Statement.ConnPool
	}
	return db.r.Statement.ConnPool
}

// sqlText rebinds the ? placeholders of q for the dialect ($1, $2, … on
// PostgreSQL).
func (db *DB) sqlText(q string) string { return db.fl.rebind(q) }

// numberPlaceholders returns q with its ? placeholders numbered $1, $2, …
// (PostgreSQL's form); q holds no literal '?'.
func numberPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var errWriteInRead = errors.New("store: write inside a read transaction")

// execHot runs a write statement and returns the rows it affected. A
// statement outside a transaction moves Version, as GORM's do.
func (db *DB) execHot(ctx context.Context, what, q string, args ...any) (int64, error) {
	c := db.sqlConn(ctx, true)
	if c == nil {
		return 0, errWriteInRead
	}
	res, err := c.ExecContext(ctx, db.sqlText(q), args...)
	if err != nil {
		return 0, translate(err, what)
	}
	if _, inTx := ctx.Value(txKey{}).(*txState); !inTx {
		db.gen.Add(1)
	}
	n, err := res.RowsAffected()
	return n, translate(err, what)
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.Errorf(apperr.NotFound, "%s not found", what)
	}
	return translate(err, what)
}

func ptrTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// codeByHashSQL reads the code whose hash is ? (CodeByHash).
const codeByHashSQL = `SELECT id, hash, authorization_id, client_id, user_id, secret_id, scopes,
redirect_uri, code_challenge, created_at, expires_at, used_at, flow, nonce, auth_time FROM authorization_codes WHERE hash = ?`

// CodeByHash returns the code whose SHA-256 hash is hash. Errors: NotFound.
func (db *DB) CodeByHash(ctx context.Context, hash []byte) (domain.AuthCode, error) {
	var (
		c              domain.AuthCode
		scopes         string
		used, authTime sql.NullTime
	)
	err := db.sqlConn(ctx, false).QueryRowContext(ctx, db.sqlText(codeByHashSQL), hash).
		Scan(&c.ID, &c.Hash, &c.AuthorizationID, &c.ClientID, &c.UserID, &c.SecretID, &scopes, &c.RedirectURI, &c.CodeChallenge, &c.CreatedAt, &c.ExpiresAt, &used,
			&c.Flow, &c.Nonce, &authTime)
	if err != nil {
		return domain.AuthCode{}, notFound(err, "authorization code")
	}
	c.Scopes, c.CreatedAt, c.ExpiresAt, c.UsedAt = splitScopes(scopes), utc(c.CreatedAt), utc(c.ExpiresAt), ptrTime(used)
	c.AuthTime = ptrTime(authTime)
	return c, nil
}

// markCodeUsedSQL sets used_at (the first ?) on the code whose id is the
// second ? when it is unused (MarkCodeUsed). "Unused" is written
// coalesce(used_at, NULL) IS NULL, not used_at IS NULL: that is the
// predicate of the live-code partial index (authorization_codes_live),
// and PostgreSQL's generic plan, made once on a young table and kept,
// walked that whole index filtering by id instead of probing the primary
// key (as rotateSQL's; TestCodeExchangePlanPostgres).
const markCodeUsedSQL = `UPDATE authorization_codes SET used_at = ? WHERE id = ? AND coalesce(used_at, NULL) IS NULL`

// MarkCodeUsed sets used_at on an unused code and reports whether this call
// did it (false: it was already used — the caller lost a race or sees a
// replay).
func (db *DB) MarkCodeUsed(ctx context.Context, id string, at time.Time) (bool, error) {
	n, err := db.execHot(ctx, "authorization code", markCodeUsedSQL, utc(at), id)
	return n == 1, err
}

// CreateRefreshToken inserts a refresh token (its hash only).
func (db *DB) CreateRefreshToken(ctx context.Context, t domain.RefreshToken) error {
	_, err := db.execHot(ctx, "refresh token", `INSERT INTO refresh_tokens (id, hash, authorization_id, family_id, client_id, user_id,
secret_id, scopes, created_at, expires_at, parent_id, forked, auth_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Hash, t.AuthorizationID, t.FamilyID, t.ClientID, t.UserID, t.SecretID, joinScopes(t.Scopes), utc(t.CreatedAt), utc(t.ExpiresAt),
		sql.NullString{String: t.ParentID, Valid: t.ParentID != ""}, t.Forked, nullTime(t.AuthTime))
	return err
}

// RefreshTokenByHash returns the refresh token whose SHA-256 hash is hash.
// Errors: NotFound.
func (db *DB) RefreshTokenByHash(ctx context.Context, hash []byte) (domain.RefreshToken, error) {
	var (
		t             domain.RefreshToken
		scopes        string
		used, revoked sql.NullTime
		authTime      sql.NullTime
		parent        sql.NullString
	)
	err := db.sqlConn(ctx, false).QueryRowContext(ctx, db.sqlText(`SELECT id, hash, authorization_id, family_id, client_id, user_id, secret_id,
scopes, created_at, expires_at, used_at, revoked_at, parent_id, forked, auth_time FROM refresh_tokens WHERE hash = ?`), hash).
		Scan(&t.ID, &t.Hash, &t.AuthorizationID, &t.FamilyID, &t.ClientID, &t.UserID, &t.SecretID, &scopes, &t.CreatedAt, &t.ExpiresAt, &used, &revoked,
			&parent, &t.Forked, &authTime)
	if err != nil {
		return domain.RefreshToken{}, notFound(err, "refresh token")
	}
	t.ParentID = parent.String
	t.Scopes, t.CreatedAt, t.ExpiresAt = splitScopes(scopes), utc(t.CreatedAt), utc(t.ExpiresAt)
	t.UsedAt, t.RevokedAt, t.AuthTime = ptrTime(used), ptrTime(revoked), ptrTime(authTime)
	return t, nil
}

// MarkRefreshTokenUsed sets used_at on an unused, unrevoked refresh token
// that has no siblings (not forked) and reports whether this call did it:
// of concurrent refreshes with one token exactly one gets true. A forked
// token is rotated by ClaimFork and MarkForkUsed instead (refresh_forks.go).
// Unused and unrevoked is written as in rotateSQL, so that PostgreSQL
// probes the primary key.
func (db *DB) MarkRefreshTokenUsed(ctx context.Context, id string, at time.Time) (bool, error) {
	n, err := db.execHot(ctx, "refresh token", `UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND coalesce(used_at, revoked_at) IS NULL AND NOT forked`, utc(at), id)
	return n == 1, err
}

// authorizationByIDSQL reads the authorization whose id is ?
// (AuthorizationByID).
const authorizationByIDSQL = `SELECT id, user_id, client_id, scopes, redirect_uri, granted_at,
last_used_at, revoked_at, revoked_by FROM authorizations WHERE id = ?`

// AuthorizationByID returns the authorization, revoked or not. Errors:
// NotFound.
func (db *DB) AuthorizationByID(ctx context.Context, id string) (domain.Authorization, error) {
	var (
		a                 domain.Authorization
		scopes            string
		lastUsed, revoked sql.NullTime
	)
	err := db.sqlConn(ctx, false).QueryRowContext(ctx, db.sqlText(authorizationByIDSQL), id).
		Scan(&a.ID, &a.UserID, &a.ClientID, &scopes, &a.RedirectURI, &a.GrantedAt, &lastUsed, &revoked, &a.RevokedBy)
	if err != nil {
		return domain.Authorization{}, notFound(err, "authorization")
	}
	a.Scopes, a.GrantedAt, a.LastUsedAt, a.RevokedAt = splitScopes(scopes), utc(a.GrantedAt), ptrTime(lastUsed), ptrTime(revoked)
	return a, nil
}

// refreshWithAuthorizationSQL reads the refresh token whose hash is ? and
// its authorization (RefreshTokenWithAuthorization).
const refreshWithAuthorizationSQL = `SELECT t.id, t.hash, t.authorization_id, t.family_id, t.client_id,
t.user_id, t.secret_id, t.scopes, t.created_at, t.expires_at, t.used_at, t.revoked_at, t.parent_id, t.forked, t.auth_time,
z.id, z.user_id, z.client_id, z.scopes, z.redirect_uri, z.granted_at, z.last_used_at, z.revoked_at, z.revoked_by
FROM refresh_tokens t JOIN authorizations z ON z.id = t.authorization_id WHERE t.hash = ?`

// RefreshTokenWithAuthorization returns the refresh token whose SHA-256
// hash is hash and its authorization, in one query (the refresh grant's
// first read). Outside a transaction on PostgreSQL, the reads of
// concurrent calls go to the database together, one pipeline a round
// trip (refresh_reads.go). Errors: NotFound, ErrClosed.
func (db *DB) RefreshTokenWithAuthorization(ctx context.Context, hash []byte) (domain.RefreshToken, domain.Authorization, error) {
	if db.fl.coalesce {
		if _, inTx := ctx.Value(txKey{}).(*txState); !inTx {
			r, err := db.refreshReads.do(ctx, refreshReadLoops, db.runRefreshReads, hash)
			if err == nil {
				err = r.err
			}
			return r.token, r.authz, err
		}
	}
	return scanRefreshWithAuthorization(db.sqlConn(ctx, false).QueryRowContext(ctx, db.sqlText(refreshWithAuthorizationSQL), hash))
}

// rowScanner is a one-row result of database/sql or of pgx.
type rowScanner interface{ Scan(dest ...any) error }

// scanRefreshWithAuthorization scans a row of refreshWithAuthorizationSQL.
// Errors: NotFound (no row), the driver's.
func scanRefreshWithAuthorization(row rowScanner) (domain.RefreshToken, domain.Authorization, error) {
	var (
		t                                  domain.RefreshToken
		a                                  domain.Authorization
		tScopes, aScopes                   string
		used, revoked, aLastUsed, aRevoked sql.NullTime
		parent                             sql.NullString
		authTime                           sql.NullTime
	)
	err := row.Scan(&t.ID, &t.Hash, &t.AuthorizationID, &t.FamilyID, &t.ClientID, &t.UserID, &t.SecretID, &tScopes, &t.CreatedAt, &t.ExpiresAt, &used, &revoked,
		&parent, &t.Forked, &authTime, &a.ID, &a.UserID, &a.ClientID, &aScopes, &a.RedirectURI, &a.GrantedAt, &aLastUsed, &aRevoked, &a.RevokedBy)
	if err != nil {
		return domain.RefreshToken{}, domain.Authorization{}, notFound(err, "refresh token")
	}
	t.ParentID = parent.String
	t.Scopes, t.CreatedAt, t.ExpiresAt = splitScopes(tScopes), utc(t.CreatedAt), utc(t.ExpiresAt)
	t.UsedAt, t.RevokedAt, t.AuthTime = ptrTime(used), ptrTime(revoked), ptrTime(authTime)
	a.Scopes, a.GrantedAt, a.LastUsedAt, a.RevokedAt = splitScopes(aScopes), utc(a.GrantedAt), ptrTime(aLastUsed), ptrTime(aRevoked)
	return t, a, nil
}

// nullTime is t in UTC, or NULL.
func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t.UTC(), Valid: true}
}
