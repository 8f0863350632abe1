package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// ActivityReader reads the audit log by the app or user an event concerns
// and names what a page mentions (implemented by *admin.Activity).
type ActivityReader interface {
	Events(ctx context.Context, f audit.Filter) (admin.ActivityPage, error)
}

// activityEvents reads a page of events with the names it mentions; without
// an ActivityReader (tests that wire none) the names stay unresolved.
func (s *Server) activityEvents(ctx context.Context, f audit.Filter) (admin.ActivityPage, error) {
	if s.cfg.Activity != nil {
		return s.cfg.Activity.Events(ctx, f)
	}
	events, more, err := s.cfg.Audit.AuditEvents(ctx, f)
	return admin.ActivityPage{Events: events, More: more, Apps: map[string]string{}, Users: map[string]string{}}, err
}

// auditViewer is who reads an audit table, which decides where its names
// link: staff (admins, auditors) to the /admin pages; an app's owner
// without an admin role, on the app's Activity tab, to pages a member can
// open: the owner's page of that app (OwnerApp, its client id) for the
// app and its secrets and authorizations, no link for users, and no
// remote addresses (end users' IP addresses are not the owner's to see).
type auditViewer struct {
	Staff    bool
	OwnerApp string
}

// viewerOf is the viewer of the request's audit table.
func viewerOf(c echo.Context, ownerApp string) auditViewer {
	u, _ := currentUser(c)
	return auditViewer{Staff: u.Role.CanViewAdmin(), OwnerApp: ownerApp}
}

// auditRows turns a page of events into rows with names linked to pages
// v can open.
func auditRows(p admin.ActivityPage, v auditViewer) []views.AuditRow {
	out := make([]views.AuditRow, 0, len(p.Events))
	for _, e := range p.Events {
		r := auditRow(e)
		switch e.TargetType {
		case audit.TargetApp, audit.TargetSecret:
			r.TargetLabel = p.Apps[e.TargetID]
		case audit.TargetUser:
			r.TargetLabel = p.Users[e.TargetID]
		}
		if e.AppID != "" {
			r.App = views.Link{Label: cmpOr(p.Apps[e.AppID], shortLabel(e.AppID)), URL: "/admin/apps/" + url.PathEscape(e.AppID)}
			if r.TargetURL == "" && e.TargetType == audit.TargetAuthorization {
				r.TargetURL = r.App.URL
			}
		}
		if e.UserID != "" {
			r.User = views.Link{Label: cmpOr(p.Users[e.UserID], shortLabel(e.UserID)), URL: "/admin/users/" + url.PathEscape(e.UserID)}
		}
		if e.ActorID != "" {
			r.ActorURL = "/admin/users/" + url.PathEscape(e.ActorID)
		}
		if !v.Staff {
			ownerLinks(&r, e, v.OwnerApp)
		}
		out = append(out, r)
	}
	return out
}

// ownerLinks points r's links at the pages an owner without an admin role
// can open: the owner's page of app for the app and whatever belongs to
// it, nothing for users and other apps; and drops the remote address.
func ownerLinks(r *views.AuditRow, e audit.Event, app string) {
	page := ""
	if app != "" {
		page = "/profile/apps/" + url.PathEscape(app)
	}
	r.ActorURL, r.User.URL, r.RemoteAddr = "", "", ""
	if e.AppID != app {
		r.App.URL = ""
	} else {
		r.App.URL = page
	}
	r.TargetURL = ""
	switch e.TargetType {
	case audit.TargetApp, audit.TargetSecret, audit.TargetAuthorization:
		if e.AppID == app {
			r.TargetURL = page
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// shortLabel is an id cut to 8 characters, for a name that is gone.
func shortLabel(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:8] + "…"
}

// appActivity is GET /admin/apps/{client_id}/activity and the owner's
// /profile/apps/{client_id}/activity: every audit event concerning the
// app (its registration, secrets, owners, every consent and revocation of
// its authorizations), newest first, one keyset page at a time.
func (s *Server) appActivity(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.cfg.Apps.App(ctx, c.Param("client_id"))
	if err != nil {
		return err
	}
	if ownerPage(c) && a.App.DeletedAt != nil {
		return notYours()
	}
	active, base := "apps", "/admin/apps/"+a.App.ClientID
	if ownerPage(c) {
		active, base = "myapps", "/profile/apps/"+a.App.ClientID
	}
	p := views.AuditPage{Nav: s.nav(c, active), Heading: "Activity of " + a.App.Name, BackURL: base, BackLabel: a.App.Name, App: a.App.ClientID, AppLabel: a.App.Name}
	// The app page's tabs, Activity chosen; the others link back to it.
	if ownerPage(c) {
		p.Tabs, _ = ownerTabs(base, "", false)
	} else {
		u, _ := currentUser(c)
		p.Tabs, _ = adminTabs(base, "", false, u.Role == domain.RoleAdmin && a.App.DeletedAt == nil)
	}
	for i := range p.Tabs {
		p.Tabs[i].Panel, p.Tabs[i].Selected = false, p.Tabs[i].Key == "activity"
	}
	return s.renderActivity(c, p, audit.Filter{AppID: a.App.ClientID}, base+"/activity")
}

// userActivity is GET /admin/users/{id}/activity: every audit event
// concerning the user (account changes, sign-ins, consents, revocations
// of the user's authorizations, apps the user was made owner of) and
// what the user did that concerns no other user (apps registered,
// changes asked for, secrets created).
func (s *Server) userActivity(c echo.Context) error {
	u, err := s.cfg.Users.User(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	base := "/admin/users/" + u.ID
	p := views.AuditPage{Nav: s.nav(c, "users"), Heading: "Activity of " + u.Username, BackURL: base, BackLabel: u.Username, User: u.ID, UserLabel: u.Username}
	return s.renderActivity(c, p, audit.Filter{UserID: u.ID}, base+"/activity")
}

// renderActivity renders one page of f (paged by ?before=) on the audit
// table.
func (s *Server) renderActivity(c echo.Context, p views.AuditPage, f audit.Filter, path string) error {
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return apperr.Errorf(apperr.Invalid, "The page link is not valid; go back to the first page.")
		}
		f.BeforeSeq = n
	}
	page, err := s.activityEvents(c.Request().Context(), f)
	if err != nil {
		return err
	}
	v := viewerOf(c, p.App)
	p.Rows, p.HideFrom = auditRows(page, v), !v.Staff
	if page.More && len(page.Events) > 0 {
		p.OlderURL = path + "?before=" + strconv.FormatInt(page.Events[len(page.Events)-1].Seq, 10)
	}
	if f.BeforeSeq > 0 {
		p.NewestURL = path
	}
	q := url.Values{}
	if f.AppID != "" {
		q.Set("app", f.AppID)
	}
	if f.UserID != "" {
		q.Set("user", f.UserID)
	}
	p.ExportCSV = "/admin/audit/export?" + q.Encode() + "&format=" + audit.FormatCSV
	p.ExportJSONL = "/admin/audit/export?" + q.Encode() + "&format=" + audit.FormatJSONL
	if !ownerPage(c) {
		p.FullLogURL = "/admin/audit?" + q.Encode()
	} else {
		p.ExportCSV, p.ExportJSONL = "", ""
	}
	return render(c, http.StatusOK, views.Audit(p))
}

// auditPick is GET /admin/audit/pick?kind=app|user&app_q=…|user_q=… (the
// picker's box; app=…|user=… also read): the picker of the audit filters,
// a <datalist> of up to 10 apps (by name or client id) or users (by name),
// each option the name the box shows and its id (data-id).
func (s *Server) auditPick(c echo.Context) error {
	ctx := c.Request().Context()
	var opts []views.Link
	switch c.QueryParam("kind") {
	case "app":
		q := strings.TrimSpace(cmpOr(c.QueryParam("app_q"), c.QueryParam("app")))
		if q != "" {
			page, err := s.cfg.Apps.ListApps(ctx, domain.AppFilter{Query: q, Limit: 10})
			if err != nil {
				return err
			}
			for _, a := range page.Apps {
				opts = append(opts, views.Link{Label: a.Name + " (" + a.Company + ")", URL: a.ClientID})
			}
		}
		return render(c, http.StatusOK, views.PickOptions("audit-app-options", opts))
	case "user":
		q := strings.TrimSpace(cmpOr(c.QueryParam("user_q"), c.QueryParam("user")))
		if q != "" {
			page, err := s.cfg.Users.Users(ctx, domain.UserFilter{Query: q, Limit: 10})
			if err != nil {
				return err
			}
			for _, u := range page.Users {
				opts = append(opts, views.Link{Label: u.Username + " · " + u.DisplayName, URL: u.ID})
			}
		}
		return render(c, http.StatusOK, views.PickOptions("audit-user-options", opts))
	}
	return apperr.Errorf(apperr.Invalid, "kind must be app or user")
}
