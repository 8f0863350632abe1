package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// ImportStore is what importing registrations reads and writes.
type ImportStore interface {
	Transactor
	AuditAppender
	UserByUsername(ctx context.Context, username string) (domain.User, error)
	AppByClientID(ctx context.Context, clientID string) (domain.App, error)
	CreateApp(ctx context.Context, app domain.App) error
	UpdateImportedApp(ctx context.Context, app domain.App) error
	AddAppOwner(ctx context.Context, clientID, userID string, at time.Time) error
	RemoveAppOwner(ctx context.Context, clientID, userID string) (bool, error)
}

// ImportService is the import slice: registrations that live elsewhere,
// from CSV or JSON, validated whole before anything is written.
type ImportService struct {
	store ImportStore
	recorder
	now    func() time.Time
	scopes *scope.Catalog
}

// ImportRecord is one validated row of an inventory import file.
type ImportRecord struct {
	Line            int
	ClientID        string
	Name            string
	Company         string
	CallbackURL     string
	AppURL          string
	Owner           string
	Scopes          []string
	SecretCreatedAt time.Time
	SecretExpiresAt time.Time
	// GrantTypes and RedirectURIs are the optional columns grant_types and
	// redirect_uris (space-separated; JSON arrays too): nil is the
	// dialect only and no other redirect URI, as before.
	GrantTypes   []string
	RedirectURIs []string
}

// ImportProblem is a rejected row: its line in the file and why.
type ImportProblem struct {
	Line   int
	Reason string
}

// ImportErrors lists every rejected row; nothing is imported when any.
type ImportErrors []ImportProblem

func (e ImportErrors) Error() string {
	return fmt.Sprintf("the import file has %d problem(s); nothing was imported", len(e))
}

var importColumns = []string{"client_id", "name", "company", "callback_url", "scopes", "secret_created_at", "secret_expires_at", "owner", "app_url",
	domain.FieldGrantTypes, domain.FieldRedirectURIs}

var requiredColumns = []string{"client_id", "name", "company", "callback_url", "scopes", "secret_created_at"}

// rawRow is one row before validation.
type rawRow struct {
	line   int
	fields map[string]string
}

// ParseImport reads an inventory file — a JSON array of objects, or CSV
// with a header row — with the fields client_id, name, company,
// callback_url, scopes (space-separated), secret_created_at (RFC 3339 or
// YYYY-MM-DD) and the optional secret_expires_at (default: five years
// after creation), owner and app_url (default: the callback URL's origin).
// The whole file is validated: it returns every valid record, or
// ImportErrors naming each bad row's line (missing column, bad date,
// duplicate client id, unknown scope, …). Other errors: Invalid for an
// unreadable file.
func (s *ImportService) ParseImport(data []byte) ([]ImportRecord, error) {
	out, bad, err := s.parseRecords(data)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		var problems ImportErrors
		for _, b := range bad {
			problems = append(problems, ImportProblem{Line: b.rec.Line, Reason: strings.Join(b.reasons, "; ")})
		}
		return nil, problems
	}
	return out, nil
}

// badRecord is a row that failed validation, with what could be read of
// it and why it failed.
type badRecord struct {
	rec     ImportRecord
	reasons []string
}

// parseRecords validates every row of the file: the good records, and the
// bad ones with their reasons. Errors: Invalid for an unreadable file or
// one without rows; ImportErrors for a bad header.
func (s *ImportService) parseRecords(data []byte) ([]ImportRecord, []badRecord, error) {
	rows, err := parseRows(data)
	if err != nil {
		return nil, nil, err
	}
	var (
		out  []ImportRecord
		bad  []badRecord
		seen = map[string]int{}
	)
	for _, r := range rows {
		rec, reasons := s.validateRow(r)
		rec.Line = r.line
		if prev, dup := seen[rec.ClientID]; dup && rec.ClientID != "" {
			reasons = append(reasons, fmt.Sprintf("client_id %s appears again (first on line %d)", rec.ClientID, prev))
		} else if rec.ClientID != "" {
			seen[rec.ClientID] = r.line
		}
		if len(reasons) > 0 {
			bad = append(bad, badRecord{rec: rec, reasons: reasons})
			continue
		}
		out = append(out, rec)
	}
	if len(out) == 0 && len(bad) == 0 {
		return nil, nil, apperr.Errorf(apperr.Invalid, "the import file has no rows")
	}
	return out, bad, nil
}

// CheckImport is ParseImport and PlanImport in one round, so that a person
// fixes the file once: it returns the valid records and their plan, or
// ImportErrors with every problem of every row, those of the row itself
// (columns, dates, scopes, duplicates) and those against the database
// (owners that are not users, client ids registered here or deleted),
// one entry per line, in line order. Other errors as ParseImport's.
func (s *ImportService) CheckImport(ctx context.Context, data []byte, defaultOwner string) ([]ImportRecord, []ImportChange, error) {
	recs, bad, err := s.parseRecords(data)
	if err != nil {
		return nil, nil, err
	}
	reasons := map[int][]string{}
	for _, b := range bad {
		reasons[b.rec.Line] = append(reasons[b.rec.Line], b.reasons...)
	}
	var plan []ImportChange
	if len(recs) > 0 {
		var planned ImportErrors
		plan, err = s.PlanImport(ctx, recs, defaultOwner)
		if errors.As(err, &planned) {
			for _, p := range planned {
				reasons[p.Line] = append(reasons[p.Line], p.Reason)
			}
		} else if err != nil {
			return nil, nil, err
		}
	}
	// The rows that failed validation: is their owner a user? (Each name
	// is looked up once: a file of 70,000 bad rows names a few owners.)
	known := map[string]bool{}
	for _, b := range bad {
		owner := b.rec.Owner
		if owner == "" {
			owner = defaultOwner
		}
		isUser, seen := known[owner]
		if !seen {
			_, err := s.store.UserByUsername(ctx, owner)
			if err != nil && !apperr.Is(err, apperr.NotFound) {
				return nil, nil, err
			}
			isUser = err == nil
			known[owner] = isUser
		}
		if !isUser {
			reasons[b.rec.Line] = append(reasons[b.rec.Line], fmt.Sprintf("owner %q is not a user", owner))
		}
	}
	if len(reasons) == 0 {
		return recs, plan, nil
	}
	lines := make([]int, 0, len(reasons))
	for l := range reasons {
		lines = append(lines, l)
	}
	slices.Sort(lines)
	problems := make(ImportErrors, 0, len(lines))
	for _, l := range lines {
		problems = append(problems, ImportProblem{Line: l, Reason: strings.Join(reasons[l], "; ")})
	}
	return nil, nil, problems
}

func parseRows(data []byte) ([]rawRow, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return parseJSONRows(data)
	}
	return parseCSVRows(data)
}

func parseCSVRows(data []byte) ([]rawRow, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, apperr.Errorf(apperr.Invalid, "the import file is neither a JSON array nor CSV with a header row")
	}
	cols := map[string]int{}
	var problems ImportErrors
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(importColumns, h) {
			problems = append(problems, ImportProblem{Line: 1, Reason: fmt.Sprintf("unknown column %q (columns: %s)", h, strings.Join(importColumns, ", "))})
			continue
		}
		cols[h] = i
	}
	for _, c := range requiredColumns {
		if _, ok := cols[c]; !ok {
			problems = append(problems, ImportProblem{Line: 1, Reason: "missing column " + c})
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var out []rawRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, ImportErrors{{Line: pe.Line, Reason: "not valid CSV: " + pe.Err.Error()}}
			}
			return nil, apperr.Errorf(apperr.Invalid, "the import file could not be read: %v", err)
		}
		// FieldPos only after a successful Read: it panics otherwise (found
		// by FuzzParseImport).
		line, _ := r.FieldPos(0)
		row := rawRow{line: line, fields: map[string]string{}}
		for c, i := range cols {
			if i < len(rec) {
				row.fields[c] = strings.TrimSpace(rec[i])
			}
		}
		out = append(out, row)
	}
}

func parseJSONRows(data []byte) ([]rawRow, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	if _, err := dec.Token(); err != nil {
		return nil, apperr.Errorf(apperr.Invalid, "the import file is not a JSON array")
	}
	var out []rawRow
	for dec.More() {
		start := dec.InputOffset()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return nil, ImportErrors{{Line: lineAt(start), Reason: "not a JSON object: " + err.Error()}}
		}
		// The object starts after any whitespace and comma before it.
		rest := data[start:]
		skip := len(rest) - len(bytes.TrimLeft(rest, " \t\r\n,"))
		row := rawRow{line: lineAt(start + int64(skip)), fields: map[string]string{}}
		for k, v := range obj {
			k = strings.ToLower(k)
			switch x := v.(type) {
			case string:
				row.fields[k] = strings.TrimSpace(x)
			case []any:
				var parts []string
				for _, p := range x {
					parts = append(parts, fmt.Sprint(p))
				}
				row.fields[k] = strings.Join(parts, " ")
			case nil:
			default:
				row.fields[k] = fmt.Sprint(x)
			}
			if !slices.Contains(importColumns, k) {
				row.fields["_unknown"] += " " + k
			}
		}
		out = append(out, row)
	}
	return out, nil
}

func parseImportTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Parse(time.DateOnly, v)
}

func (s *ImportService) validateRow(r rawRow) (ImportRecord, []string) {
	f := r.fields
	rec := ImportRecord{Line: r.line, Name: f["name"], Company: f["company"], CallbackURL: f["callback_url"],
		AppURL: f["app_url"], Owner: f["owner"]}
	var reasons []string
	if u := strings.TrimSpace(f["_unknown"]); u != "" {
		reasons = append(reasons, "unknown field(s) "+u)
	}
	for _, c := range requiredColumns {
		if f[c] == "" {
			reasons = append(reasons, c+" is missing")
		}
	}
	if v := f["client_id"]; v != "" {
		id, err := uuid.Parse(v)
		if err != nil || len(v) != 36 {
			reasons = append(reasons, fmt.Sprintf("client_id %q is not a GUID", truncate(v, 40)))
		} else {
			rec.ClientID = id.String()
		}
	}
	// Exactly the registration's rules (domain.ValidateRegistration): the
	// same lengths, URL schemes (no javascript: or data:), and no control
	// or bidirectional-override characters in any text.
	if rec.AppURL == "" && rec.CallbackURL != "" && domain.ValidateCallbackURL(rec.CallbackURL) == nil {
		u, _ := url.Parse(rec.CallbackURL)
		rec.AppURL = u.Scheme + "://" + u.Host
	}
	grants, gerr := domain.ParseGrantTypes(f[domain.FieldGrantTypes])
	if gerr != nil {
		reasons = append(reasons, domain.FieldGrantTypes+": "+apperr.ErrorMessage(gerr))
	}
	var redirects []string
	if v := f[domain.FieldRedirectURIs]; v != "" {
		redirects = strings.Fields(v)
	}
	reg, err := domain.ValidateRegistration(domain.Registration{Name: rec.Name, Company: rec.Company, AppURL: rec.AppURL,
		CallbackURL: rec.CallbackURL, Scopes: strings.Fields(f["scopes"]), GrantTypes: grants, RedirectURIs: redirects})
	if err != nil {
		fields := apperr.FieldErrors(err)
		if fields == nil {
			reasons = append(reasons, apperr.ErrorMessage(err))
		}
		for _, k := range []string{domain.FieldName, domain.FieldCompany, domain.FieldAppURL, domain.FieldCallbackURL, domain.FieldScopes,
			domain.FieldGrantTypes, domain.FieldRedirectURIs} {
			// A missing required column was reported above already.
			if msg, ok := fields[k]; ok && (f[k] != "" || k == domain.FieldAppURL && rec.AppURL != "") {
				if k == domain.FieldScopes {
					msg = strings.TrimSuffix(strings.TrimPrefix(msg, "Authorized scopes: "), ".")
				}
				reasons = append(reasons, k+": "+msg)
			}
		}
	} else {
		rec.Name, rec.Company, rec.AppURL, rec.CallbackURL, rec.Scopes = reg.Name, reg.Company, reg.AppURL, reg.CallbackURL, reg.Scopes
		if len(grants) > 0 {
			rec.GrantTypes = reg.GrantTypes
		}
		if len(reg.RedirectURIs) > 0 {
			rec.RedirectURIs = reg.RedirectURIs
		}
	}
	if v := f["secret_created_at"]; v != "" {
		t, err := parseImportTime(v)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("secret_created_at %q is not a date (RFC 3339 or YYYY-MM-DD)", truncate(v, 40)))
		}
		rec.SecretCreatedAt = t
		rec.SecretExpiresAt = domain.SecretExpiry(t, 0)
	}
	if v := f["secret_expires_at"]; v != "" {
		t, err := parseImportTime(v)
		switch {
		case err != nil:
			reasons = append(reasons, fmt.Sprintf("secret_expires_at %q is not a date (RFC 3339 or YYYY-MM-DD)", truncate(v, 40)))
		case !rec.SecretCreatedAt.IsZero() && !t.After(rec.SecretCreatedAt):
			reasons = append(reasons, "secret_expires_at is not after secret_created_at")
		default:
			rec.SecretExpiresAt = t
		}
	}
	return rec, reasons
}

// ImportChange is what importing one record does.
type ImportChange struct {
	Record ImportRecord
	Create bool     // a new external app; else an update of an imported one
	Diff   []string // for updates: "name: Old → New", …; empty when nothing changes
}

// PlanImport checks records against the database (owners exist; a client
// id already registered here, or deleted, is never overwritten) and says
// what importing them would change. defaultOwner owns rows without an
// owner. Returns ImportErrors when any row cannot be imported.
func (s *ImportService) PlanImport(ctx context.Context, records []ImportRecord, defaultOwner string) ([]ImportChange, error) {
	var (
		out      []ImportChange
		problems ImportErrors
	)
	err := s.store.ReadTx(ctx, func(ctx context.Context) error {
		for _, rec := range records {
			owner := rec.Owner
			if owner == "" {
				owner = defaultOwner
			}
			if _, err := s.store.UserByUsername(ctx, owner); apperr.Is(err, apperr.NotFound) {
				problems = append(problems, ImportProblem{Line: rec.Line, Reason: fmt.Sprintf("owner %q is not a user", owner)})
				continue
			} else if err != nil {
				return err
			}
			rec.Owner = owner
			app, err := s.store.AppByClientID(ctx, rec.ClientID)
			switch {
			case apperr.Is(err, apperr.NotFound):
				out = append(out, ImportChange{Record: rec, Create: true})
				continue
			case err != nil:
				return err
			case app.DeletedAt != nil:
				problems = append(problems, ImportProblem{Line: rec.Line, Reason: "client_id " + rec.ClientID + " belongs to a deleted app, which is never brought back"})
				continue
			case !app.External:
				problems = append(problems, ImportProblem{Line: rec.Line, Reason: "client_id " + rec.ClientID + " belongs to an app registered here; import only records apps from elsewhere"})
				continue
			}
			out = append(out, ImportChange{Record: rec, Diff: importDiff(app, rec)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}

func importDiff(app domain.App, rec ImportRecord) []string {
	var d []string
	add := func(field, before, after string) {
		if before != after {
			d = append(d, field+": "+before+" → "+after)
		}
	}
	add("name", app.Name, rec.Name)
	add("company", app.Company, rec.Company)
	add("callback_url", app.CallbackURL, rec.CallbackURL)
	add("app_url", app.AppURL, rec.AppURL)
	add("scopes", strings.Join(app.Scopes, " "), strings.Join(rec.Scopes, " "))
	add("owner", app.OwnerUsername, rec.Owner)
	add(domain.FieldGrantTypes, strings.Join(app.EffectiveGrantTypes(), " "), strings.Join(domain.Registration{GrantTypes: rec.GrantTypes}.EffectiveGrantTypes(), " "))
	add(domain.FieldRedirectURIs, strings.Join(app.RedirectURIs, " "), strings.Join(rec.RedirectURIs, " "))
	if sec, ok := app.PrimarySecret(); ok {
		add("secret_created_at", sec.CreatedAt.Format(time.RFC3339), rec.SecretCreatedAt.Format(time.RFC3339))
		add("secret_expires_at", sec.ExpiresAt.Format(time.RFC3339), rec.SecretExpiresAt.Format(time.RFC3339))
	}
	return d
}

// moveImportedOwner makes a re-imported app's new owner (apps.owner_id,
// already written) one of its owners and takes the previous primary owner
// off app_owners, so that what the preview and the audit event say (owner:
// old → new) is who manages the app: the old owner's pages answer 404,
// the new owner's list shows it. Co-owners stay.
func (s *ImportService) moveImportedOwner(ctx context.Context, clientID, fromID, toID string, now time.Time) error {
	if fromID == toID {
		return nil
	}
	if err := s.store.AddAppOwner(ctx, clientID, toID, now); err != nil {
		return err
	}
	_, err := s.store.RemoveAppOwner(ctx, clientID, fromID)
	return err
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Updated, Unchanged int
}

// Import applies a planned import in one transaction (planning again
// inside it, so nothing changed in between): new records become external
// apps whose primary secret row carries the imported dates and no hash;
// re-imported ones are updated. Each change is an audit event
// (app.import). Errors: ImportErrors; storage errors.
func (s *ImportService) Import(ctx context.Context, records []ImportRecord, defaultOwner string) (ImportResult, error) {
	var res ImportResult
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		res = ImportResult{}
		plan, err := s.PlanImport(ctx, records, defaultOwner)
		if err != nil {
			return err
		}
		now := s.now()
		for _, ch := range plan {
			rec := ch.Record
			owner, err := s.store.UserByUsername(ctx, rec.Owner)
			if err != nil {
				return err
			}
			app := domain.App{ClientID: rec.ClientID, Registration: domain.Registration{Name: rec.Name, Company: rec.Company,
				AppURL: rec.AppURL, CallbackURL: rec.CallbackURL, Scopes: rec.Scopes, GrantTypes: rec.GrantTypes, RedirectURIs: rec.RedirectURIs},
				OwnerID: owner.ID, CreatedAt: now, External: true,
				Secrets: []domain.Secret{{ID: uuid.NewString(), ClientID: rec.ClientID, Slot: domain.SlotPrimary, Hash: []byte{},
					CreatedAt: rec.SecretCreatedAt, ExpiresAt: rec.SecretExpiresAt}}}
			switch {
			case ch.Create:
				if err := s.store.CreateApp(ctx, app); err != nil {
					return err
				}
				res.Created++
			case len(ch.Diff) == 0:
				res.Unchanged++
				continue
			default:
				before, err := s.store.AppByClientID(ctx, rec.ClientID)
				if err != nil {
					return err
				}
				if err := s.store.UpdateImportedApp(ctx, app); err != nil {
					return err
				}
				if err := s.moveImportedOwner(ctx, rec.ClientID, before.OwnerID, owner.ID, now); err != nil {
					return err
				}
				res.Updated++
			}
			if err := s.record(ctx, now, audit.ActionAppImport, audit.TargetApp, rec.ClientID, map[string]any{
				"created": ch.Create, "changes": ch.Diff, "name": rec.Name, "secret_expires_at": rec.SecretExpiresAt.Format(time.RFC3339),
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}
