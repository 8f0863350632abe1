package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/views"
)

// Audit is the audit log slice the audit page reads (implemented by
// *admin.AuditService).
type Audit interface {
	AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Event, bool, error)
	WalkAudit(ctx context.Context, since time.Time, fn func(audit.Event) bool) error
}

// auditFilter reads the filter of /admin/audit from the query: app (a
// client id) and user (a user id): the events concerning them; actor,
// action, target_type, target_id, since and until (YYYY-MM-DD, UTC; until
// inclusive) and before (a sequence number, for paging).
func auditFilter(c echo.Context) (audit.Filter, error) {
	pickedIDs(c)
	f := audit.Filter{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"),
		TargetType: c.QueryParam("target_type"), TargetID: c.QueryParam("target_id"),
		AppID: strings.TrimSpace(c.QueryParam("app")), UserID: strings.TrimSpace(c.QueryParam("user"))}
	if v := c.QueryParam("since"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return f, apperr.Errorf(apperr.Invalid, "“From” must be a date like 2026-11-21.")
		}
		f.Since = t
	}
	if v := c.QueryParam("until"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return f, apperr.Errorf(apperr.Invalid, "“Until” must be a date like 2026-11-21.")
		}
		f.Until = t.AddDate(0, 0, 1)
	}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, apperr.Errorf(apperr.Invalid, "The page link is not valid; go back to the first page.")
		}
		f.BeforeSeq = n
	}
	return f, nil
}

// pickedIDs reads the audit pickers: the app and user filters are ids
// (app, user: the hidden fields the picker fills); without a script only
// the boxes (app_q, user_q) arrive, and what they hold is taken as the id.
// The boxes are dropped from the query either way.
func pickedIDs(c echo.Context) {
	q := c.QueryParams()
	for _, k := range []string{"app", "user"} {
		if strings.TrimSpace(q.Get(k)) == "" && strings.TrimSpace(q.Get(k+"_q")) != "" {
			q.Set(k, strings.TrimSpace(q.Get(k+"_q")))
		}
		q.Del(k + "_q")
	}
}

// auditPage is /admin/audit: filtered, newest first, paginated.
func (s *Server) auditPage(c echo.Context) error {
	pickedIDs(c)
	q := c.QueryParams()
	p := views.AuditPage{Nav: s.nav(c, "audit"), Actor: q.Get("actor"), Action: q.Get("action"), TargetType: q.Get("target_type"),
		TargetID: q.Get("target_id"), Since: q.Get("since"), Until: q.Get("until"), Actions: audit.Actions(),
		App: strings.TrimSpace(q.Get("app")), User: strings.TrimSpace(q.Get("user"))}
	export := url.Values{}
	for _, k := range []string{"app", "user", "actor", "action", "target_type", "target_id", "since", "until"} {
		if v := q.Get(k); v != "" {
			export.Set(k, v)
		}
	}
	export.Set("format", audit.FormatCSV)
	p.ExportCSV = "/admin/audit/export?" + export.Encode()
	export.Set("format", audit.FormatJSONL)
	p.ExportJSONL = "/admin/audit/export?" + export.Encode()
	f, err := auditFilter(c)
	status := http.StatusOK
	if err != nil {
		p.Error, status = apperr.ErrorMessage(err), http.StatusBadRequest
		return render(c, status, views.Audit(p))
	}
	page, err := s.activityEvents(c.Request().Context(), f)
	if err != nil {
		return err
	}
	events, more := page.Events, page.More
	p.Rows = auditRows(page, auditViewer{Staff: true}) // /admin/audit: admins and auditors only
	p.AppLabel, p.UserLabel = s.filterLabels(c.Request().Context(), page, p.App, p.User)
	p.Chips = auditChips(q, p)
	if f.BeforeSeq > 0 {
		first := url.Values{}
		for k, v := range q {
			if k != "before" {
				first[k] = v
			}
		}
		p.NewestURL = "/admin/audit?" + first.Encode()
	}
	if more && len(events) > 0 {
		older := url.Values{}
		for k, v := range q {
			older[k] = v
		}
		older.Set("before", strconv.FormatInt(events[len(events)-1].Seq, 10))
		p.OlderURL = "/admin/audit?" + older.Encode()
	}
	return render(c, status, views.Audit(p))
}

// auditExport is /admin/audit/export?format=csv|jsonl&…filters: every
// matching event, oldest first, as a download.
func (s *Server) auditExport(c echo.Context) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	ctype := map[string]string{audit.FormatCSV: "text/csv; charset=utf-8", audit.FormatJSONL: "application/x-ndjson"}[format]
	if ctype == "" {
		return apperr.Errorf(apperr.Invalid, "format must be csv or jsonl")
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, ctype)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="oauthdesk-audit.`+format+`"`)
	c.Response().WriteHeader(http.StatusOK)
	x, _ := audit.NewExporter(c.Response(), format)
	var werr error
	err = s.cfg.Audit.WalkAudit(c.Request().Context(), f.Since, func(e audit.Event) bool {
		if !matches(f, e) {
			return true
		}
		werr = x.Write(e)
		return werr == nil
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = x.Flush()
	}
	if err != nil {
		s.log.Error("audit export", "err", err)
	}
	return nil
}

func matches(f audit.Filter, e audit.Event) bool {
	return (f.AppID == "" || e.AppID == f.AppID) && (f.UserID == "" || e.UserID == f.UserID) &&
		(f.Actor == "" || e.Actor == f.Actor) && (f.Action == "" || e.Action == f.Action) &&
		(f.TargetType == "" || e.TargetType == f.TargetType) && (f.TargetID == "" || e.TargetID == f.TargetID) &&
		(f.Until.IsZero() || e.At.Before(f.Until))
}

// auditRow is the view of one event: its target linked to the target's
// page, its details as key: value lines (each cut to 80 characters) and
// the full JSON.
func auditRow(e audit.Event) views.AuditRow {
	r := views.AuditRow{Seq: e.Seq, At: e.At.UTC().Format("2006-01-02 15:04:05"), Actor: e.Actor, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, RemoteAddr: e.RemoteAddr, TargetURL: auditTargetURL(e)}
	if len(e.Details) > 0 {
		r.Details = e.DetailsJSON()
		keys := make([]string, 0, len(e.Details))
		for k := range e.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			r.Pairs = append(r.Pairs, views.KV{Key: k, Value: cut(detailValue(e.Details[k]), 80)})
		}
	}
	return r
}

// auditTargetURL is the dashboard page of an event's target: the app, the
// user, or for an authorization or a secret the page of its app (from the
// details' client_id); "" when there is none.
func auditTargetURL(e audit.Event) string {
	clientID, _ := e.Details["client_id"].(string)
	switch e.TargetType {
	case audit.TargetApp:
		return "/admin/apps/" + url.PathEscape(e.TargetID)
	case audit.TargetUser:
		return "/admin/users/" + url.PathEscape(e.TargetID)
	case audit.TargetAuthorization:
		if clientID != "" {
			return "/admin/apps/" + url.PathEscape(clientID) + "?tab=authorizations#authorization-" + url.PathEscape(e.TargetID)
		}
	case audit.TargetSecret:
		if clientID != "" {
			return "/admin/apps/" + url.PathEscape(clientID)
		}
	case audit.TargetPolicy:
		return "/admin/settings"
	}
	return ""
}

// detailValue shows a detail: strings as they are, lists joined by
// spaces, anything else as JSON.
func detailValue(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "—"
		}
		return x
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = detailValue(p)
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, " ")
	case []string:
		if len(x) == 0 {
			return "none"
		}
		return strings.Join(x, " ")
	case nil:
		return "—"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// cut shortens s to n runes, ending with an ellipsis when it was longer.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// filterLabels names the app and user filters (client id, user id): from
// the names the page already read, else one lookup each; "" for an id
// that names nothing.
func (s *Server) filterLabels(ctx context.Context, page admin.ActivityPage, app, user string) (appLabel, userLabel string) {
	appLabel, userLabel = page.Apps[app], page.Users[user]
	if app != "" && appLabel == "" {
		if a, err := s.cfg.Apps.App(ctx, app); err == nil {
			appLabel = a.App.Name
		}
	}
	if user != "" && userLabel == "" {
		if u, err := s.cfg.Users.User(ctx, user); err == nil {
			userLabel = u.Username
		}
	}
	return appLabel, userLabel
}

// auditChips are the app and user filters of q in force, by name, each
// with the audit log's link without it.
func auditChips(q url.Values, p views.AuditPage) []views.FilterChip {
	var out []views.FilterChip
	for _, f := range []struct{ key, label, id, name string }{{"app", "App", p.App, p.AppLabel}, {"user", "User", p.User, p.UserLabel}} {
		if f.id == "" {
			continue
		}
		rest := url.Values{}
		for k, v := range q {
			if k != f.key && k != "before" {
				rest[k] = v
			}
		}
		out = append(out, views.FilterChip{Key: f.key, Label: f.label, Value: cmpOr(f.name, f.id), RemoveURL: "/admin/audit?" + rest.Encode()})
	}
	return out
}
