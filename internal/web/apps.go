package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/scope"
	"github.com/oauthdesk/oauthdesk/views"
)

// Apps is the apps slice the dashboard calls: registration, review,
// edits, listing, detail and deletion (implemented by *admin.AppService).
type Apps interface {
	RegisterApp(ctx context.Context, ownerUsername string, reg domain.Registration) (admin.RegisteredApp, error)
	RegisterOwnApp(ctx context.Context, u domain.User, reg domain.Registration) (admin.RegisteredApp, error)
	ReviewApp(ctx context.Context, clientID string, approve bool, reason string) (domain.App, error)
	UpdateApp(ctx context.Context, clientID string, reg domain.Registration) (admin.AppEdit, error)
	ListApps(ctx context.Context, f domain.AppFilter) (domain.AppPage, error)
	App(ctx context.Context, clientID string) (admin.AppDetail, error)
	AppPage(ctx context.Context, clientID, userQuery, after string, limit int) (admin.AppDetail, error)
	OverviewCounts(ctx context.Context) (admin.Overview, error)
	DeleteApp(ctx context.Context, clientID, confirmName string) (int, error)
}

// appsQuery is the state of /admin/apps in its URL: the expiry filter,
// deleted apps, the search text and the order. Every link of the page
// (tabs, column headings, pages) keeps what it does not change.
type appsQuery struct {
	State       string // "" | expiring | critical | expired | pending (apps waiting for approval)
	ShowDeleted bool
	Query       string
	Sort        string // as given: "" is the tab's default order
	Dir         string // as given: "" | asc | desc
}

// appSortDefaults are the directions a column heading sorts in first: the
// order an admin looks for (A to Z, soonest expiry, oldest secret, most
// authorizations).
var appSortDefaults = map[string]bool{domain.AppSortName: false, domain.AppSortExpiry: false,
	domain.AppSortAge: false, domain.AppSortAuthorizations: true}

// parseAppsQuery reads and checks the query of /admin/apps.
// Errors: Invalid for an unknown state, sort or dir.
func parseAppsQuery(q url.Values) (appsQuery, error) {
	a := appsQuery{State: q.Get("state"), ShowDeleted: q.Get("deleted") == "1", Query: q.Get("q"),
		Sort: q.Get("sort"), Dir: q.Get("dir")}
	switch domain.ExpiryState(a.State) {
	case "", domain.StateExpiring, domain.StateCritical, domain.StateExpired, domain.AppPending:
	default:
		return a, apperr.Errorf(apperr.Invalid, "state must be expiring, critical, expired or pending")
	}
	if _, ok := appSortDefaults[a.Sort]; !ok && a.Sort != "" {
		return a, apperr.Errorf(apperr.Invalid, "sort must be name, expiry, age or authorizations")
	}
	if a.Dir != "" && a.Dir != "asc" && a.Dir != "desc" {
		return a, apperr.Errorf(apperr.Invalid, "dir must be asc or desc")
	}
	return a, nil
}

// order returns the order in effect and whether it is descending: the
// given sort, or by default expiry for the expiry tabs and name otherwise;
// the given dir, or the column's default direction.
func (a appsQuery) order() (string, bool) {
	key := a.Sort
	if key == "" {
		key = domain.AppSortName
		if a.State != "" && a.State != domain.AppPending {
			key = domain.AppSortExpiry
		}
	}
	desc := appSortDefaults[key]
	if a.Dir != "" {
		desc = a.Dir == "desc"
	}
	return key, desc
}

// url is /admin/apps with this state, plus extra parameters (cursors).
func (a appsQuery) url(extra ...string) string {
	v := url.Values{}
	if a.State != "" {
		v.Set("state", a.State)
	}
	if a.ShowDeleted {
		v.Set("deleted", "1")
	}
	if a.Query != "" {
		v.Set("q", a.Query)
	}
	if a.Sort != "" {
		v.Set("sort", a.Sort)
	}
	if a.Dir != "" {
		v.Set("dir", a.Dir)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return "/admin/apps"
	}
	return "/admin/apps?" + v.Encode()
}

// sortDirText says what a direction of a column means to a person.
var sortDirText = map[string][2]string{
	domain.AppSortName:           {"A to Z", "Z to A"},
	domain.AppSortExpiry:         {"soonest first", "latest first"},
	domain.AppSortAge:            {"oldest first", "newest first"},
	domain.AppSortAuthorizations: {"fewest first", "most first"},
}

// sortLinks are the column headings' links: each sorts by its column in
// its default direction, and the current column toggles its direction.
func (a appsQuery) sortLinks() map[string]views.SortLink {
	cur, desc := a.order()
	out := map[string]views.SortLink{}
	for key, def := range appSortDefaults {
		next := a
		next.Sort, next.Dir = key, ""
		l := views.SortLink{}
		if key == cur {
			l.Current = true
			l.Dir = sortDirText[key][boolIndex(desc)]
			l.Arrow = "▲"
			if desc {
				l.Arrow = "▼"
			}
			next.Dir = map[bool]string{true: "asc", false: "desc"}[desc]
			if (next.Dir == "desc") == def {
				next.Dir = ""
			}
		}
		l.URL = next.url()
		out[key] = l
	}
	return out
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tabs are the expiry filters; each keeps the search text and deleted
// flag, and the order when it was chosen.
func (a appsQuery) tabs() []views.Tab {
	var out []views.Tab
	for _, t := range []struct{ key, state, label string }{{"all", "", "All"}, {"expiring", "expiring", "Expiring"},
		{"critical", "critical", "Critical"}, {"expired", "expired", "Expired"}, {"pending", domain.AppPending, "Pending approval"}} {
		next := a
		next.State = t.state
		out = append(out, views.Tab{Key: t.key, Label: t.label, URL: next.url(), Current: a.State == t.state})
	}
	return out
}

// countText says how many apps match: "34 apps", "1 app matches “x”".
func countText(n int64, a appsQuery) string {
	noun := "apps"
	if n == 1 {
		noun = "app"
	}
	s := fmt.Sprintf("%d %s", n, noun)
	if n > domain.AppCountCap {
		s = "More than " + thousands(domain.AppCountCap) + " apps"
	}
	if a.Query != "" {
		verb := "match"
		if n == 1 {
			verb = "matches"
		}
		s += " " + verb + " “" + a.Query + "”"
	}
	if key, _ := a.order(); key == domain.AppSortExpiry || key == domain.AppSortAge {
		s += " · ordered by their primary client secret"
	}
	return s
}

// appsList is GET /admin/apps?q=…&state=…&sort=…&dir=…&after=…|before=…:
// every registration, searchable by name, company or client id, filtered
// by secret expiry state, sorted by name, secret expiry, secret age or
// active authorizations, keyset-paginated.
func (s *Server) appsList(c echo.Context) error {
	aq, err := parseAppsQuery(c.QueryParams())
	if err != nil {
		return err
	}
	now := s.now()
	f := s.appFilter(aq, now)
	f.After, f.Before, f.Limit = c.QueryParam("after"), c.QueryParam("before"), 25
	page, err := s.cfg.Apps.ListApps(c.Request().Context(), f)
	if err != nil {
		return err
	}
	p := views.AppsPage{Nav: s.nav(c, "apps"), Query: aq.Query, State: aq.State, ShowDeleted: aq.ShowDeleted, Sort: aq.Sort, Dir: aq.Dir,
		Flash: s.sessions.PopString(c.Request().Context(), sessFlash), Tabs: aq.tabs(), SortLinks: aq.sortLinks(),
		CountText: countText(page.Total, aq)}
	for _, a := range page.Apps {
		row := s.appRow(a, now)
		row.ScopeViews = s.scopeViews(a.Scopes)
		p.Apps = append(p.Apps, row)
	}
	pos := pagePosition(c, f.Limit)
	p.RangeText = rangeText(pos, len(page.Apps), page.Total)
	if page.Next != "" {
		p.NextURL = aq.url("after", page.Next, "from", strconv.Itoa(pos.next(len(page.Apps))))
	}
	if page.Prev != "" {
		p.PrevURL = aq.url("before", page.Prev, "from", strconv.Itoa(pos.prev()))
		p.FirstURL = aq.url()
	}
	return render(c, http.StatusOK, views.Apps(p))
}

// appFilter is the listing filter of a checked apps query at now (the
// dashboard's /admin/apps and the admin API's GET /apps): search, deleted
// apps, order, and the tab's expiry window or pending status.
func (s *Server) appFilter(aq appsQuery, now time.Time) domain.AppFilter {
	key, desc := aq.order()
	f := domain.AppFilter{Query: aq.Query, IncludeDeleted: aq.ShowDeleted, Sort: key, Desc: desc}
	switch domain.ExpiryState(aq.State) {
	case domain.StateExpired:
		f.SecretExpiresAfter, f.SecretExpiresBefore = time.Unix(0, 0), now
	case domain.StateCritical:
		f.SecretExpiresAfter, f.SecretExpiresBefore = now, now.Add(s.cfg.Thresholds.Critical)
	case domain.StateExpiring:
		f.SecretExpiresAfter, f.SecretExpiresBefore = now.Add(s.cfg.Thresholds.Critical), now.Add(s.cfg.Thresholds.Expiring)
	case domain.AppPending:
		f.Status = domain.AppPending
	}
	return f
}

// appNewForm is GET /admin/apps/new.
func (s *Server) appNewForm(c echo.Context) error {
	return render(c, http.StatusOK, views.AppNew(s.appForm(c, nil, nil, "")))
}

func (s *Server) appForm(c echo.Context, values map[string]string, selected []string, formErr string) views.AppForm {
	f := views.AppForm{Nav: s.nav(c, "apps"), Values: values, Errors: map[string]string{}, Error: formErr,
		Selected: map[string]bool{}}
	if f.Values == nil {
		f.Values = map[string]string{}
		clientValues(domain.Registration{GrantTypes: domain.FormGrantTypes}, f.Values)
	}
	for _, id := range selected {
		f.Selected[id] = true
	}
	for _, sc := range s.scopes.All() {
		if n := len(f.Groups); n == 0 || f.Groups[n-1].Category != sc.Category {
			f.Groups = append(f.Groups, views.ScopeGroup{Category: sc.Category})
		}
		g := &f.Groups[len(f.Groups)-1]
		g.Scopes = append(g.Scopes, scopeView(sc))
	}
	return f
}

var appFormFields = []string{domain.FieldName, domain.FieldCompany, domain.FieldDescription, domain.FieldCompanyURL,
	domain.FieldAppURL, domain.FieldCallbackURL, domain.FieldLogoURL, domain.FieldTermsURL, domain.FieldPrivacyURL}

// appCreate is POST /admin/apps: registers the app with the signed-in
// admin as owner. Invalid input re-shows the form (422) with a message at
// each bad field and nothing stored; success goes to the app page, which
// shows the client secret once.
func (s *Server) appCreate(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	reg, values, scopes, err := readRegistration(c)
	if err != nil {
		return err
	}
	newRegistrationDefaults(&reg)
	res, err := s.cfg.Apps.RegisterApp(ctx, u.Username, reg)
	if apperr.Is(err, apperr.Invalid) {
		return s.invalidForm(c, s.appForm(c, values, scopes, ""), err, "The app was not registered: fix the fields marked below.")
	}
	if err != nil {
		return err
	}
	s.log.Info("app registered", "client_id", res.App.ClientID, "by", u.Username)
	if res.ClientSecret != "" {
		s.revealSecret(c, res.App.ClientID, domain.SlotPrimary, res.ClientSecret)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/apps/"+res.App.ClientID)
}

// appDetail is GET /admin/apps/{client_id}, and the owner's settings
// page GET /profile/apps/{client_id} (the same page plus the edit form,
// the owners and a keyset-paginated authorization list).
func (s *Server) appDetail(c echo.Context) error {
	ctx := c.Request().Context()
	after, q := c.QueryParam("after"), strings.TrimSpace(c.QueryParam("q"))
	if ownerPage(c) { // the owner's page has no user search
		q = ""
	}
	d, err := s.cfg.Apps.AppPage(ctx, c.Param("client_id"), q, after, 50)
	if err != nil {
		return err
	}
	now := s.now()
	a := d.App
	u, _ := currentUser(c)
	owner := ownerPage(c)
	if owner && a.DeletedAt != nil {
		return notYours()
	}
	active := "apps"
	if owner {
		active = "myapps"
	}
	p := views.AppPage{Nav: s.nav(c, active), App: s.appRow(a, now), Scopes: s.scopeViews(a.Scopes), Deleted: a.DeletedAt != nil,
		CanManage: u.Role == domain.RoleAdmin || owner, Flash: s.sessions.PopString(ctx, sessFlash),
		Base: appBase(c, a.ClientID), Owner: owner, CanReview: !owner && u.Role == domain.RoleAdmin && a.Status == domain.AppPending,
		Protocols: s.protocols(a)}
	owners, err := s.cfg.Owners.AppOwners(ctx, a.ClientID)
	if err != nil {
		return err
	}
	ownerNames := make([]string, 0, len(owners))
	for _, o := range owners {
		display := o.DisplayName
		if o.Deleted {
			display += " (deleted)"
		}
		p.Owners = append(p.Owners, views.OwnerRow{UserID: o.UserID, Username: o.Username, Display: display,
			Added: day(o.AddedAt), Primary: o.Primary})
		name := o.Username
		if o.Deleted {
			name += " (deleted)"
		}
		ownerNames = append(ownerNames, name)
	}
	if len(ownerNames) == 0 {
		ownerNames = append(ownerNames, a.OwnerUsername)
	}
	if owner {
		p.Edit = s.editForm(c, a, nil, nil)
		if err := s.addInvitations(c, &p, a); err != nil {
			return err
		}
		if d.Next != "" {
			p.AuthNextURL = p.Base + "?" + url.Values{"tab": {"authorizations"}, "after": {d.Next}}.Encode()
		}
		p.Tabs, p.Tab = ownerTabs(p.Base, c.QueryParam("tab"), after != "")
	} else {
		settings := p.CanManage && !p.Deleted
		if settings {
			p.Edit = s.editForm(c, a, nil, nil)
		}
		p.Tabs, p.Tab = adminTabs(p.Base, c.QueryParam("tab"), after != "" || q != "", settings)
	}
	if err := s.addPendingChange(c, &p, a); err != nil {
		return err
	}
	if p.ClientGrants, err = s.clientGrantsView(ctx, a, p.Base, p.Nav.CSRF, p.CanManage, owner); err != nil {
		return err
	}
	if slot, secret := s.takeReveal(c, a.ClientID); secret != "" {
		p.NewSecretSlot, p.NewSecret = slot, secret
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	}
	var live []string
	for _, z := range d.Authorizations {
		if z.RevokedAt == nil {
			live = append(live, z.ID)
		}
	}
	use, err := s.cfg.Secrets.SecretUseOf(ctx, a, live)
	if err != nil {
		return err
	}
	if d.Next != "" && !owner {
		p.NextURL = "/admin/apps/" + a.ClientID + "?after=" + url.QueryEscape(d.Next)
		if q != "" {
			p.NextURL += "&q=" + url.QueryEscape(q)
		}
	}
	if after != "" && owner {
		p.FirstURL = p.Base + "?tab=authorizations"
	} else if after != "" {
		p.FirstURL = "/admin/apps/" + a.ClientID + "?tab=authorizations"
		if q != "" {
			p.FirstURL += "&q=" + url.QueryEscape(q)
		}
	}
	p.AuthorizationQuery = q
	p.ActiveAuthorizations = a.ActiveAuthorizations
	p.Fields = []views.Field{
		{Label: "Application name", Value: a.Name},
		{Label: "Company name", Value: a.Company},
		{Label: "Description", Value: a.Description},
		{Label: "Client id", Value: a.ClientID},
		{Label: "Authorization callback URL", Value: a.CallbackURL},
		{Label: "Application website", Value: a.AppURL, Link: true},
		{Label: "Company website", Value: a.CompanyURL, Link: true},
		{Label: "Logo URL", Value: a.LogoURL, Link: true},
		{Label: "Terms of service", Value: a.TermsURL, Link: true},
		{Label: "Privacy statement", Value: a.PrivacyURL, Link: true},
		{Label: "Owners", Value: strings.Join(ownerNames, ", ")},
		{Label: "Registered", Value: stamp(a.CreatedAt)},
	}
	p.Fields = append(p.Fields, clientFieldRows(a)...)
	for _, sec := range a.Secrets {
		p.HasAlt = p.HasAlt || sec.Slot == domain.SlotAlternative
		state := string(s.cfg.Thresholds.StateAt(sec.ExpiresAt, now))
		p.Secrets = append(p.Secrets, views.SecretRow{Slot: sec.Slot, Created: day(sec.CreatedAt), Age: age(sec.CreatedAt, now),
			Expires: day(sec.ExpiresAt), DaysLeft: reports.DaysLeft(sec.ExpiresAt, now),
			State: state, LastUsed: dayPtr(sec.LastUsedAt), Uses: sec.UseCount, Untracked: a.External})
		if state != string(domain.StateOK) && a.DeletedAt == nil {
			p.Banners = append(p.Banners, views.ExpiryBanner{Slot: sec.Slot, State: state, Expires: day(sec.ExpiresAt),
				DaysLeft: reports.DaysLeft(sec.ExpiresAt, now)})
		}
	}
	for _, z := range d.Authorizations {
		row := views.AuthorizationRow{ID: z.ID, Username: z.Username, Display: z.UserDisplayName, Scopes: z.Scopes,
			ScopeViews: s.scopeViews(z.Scopes), GrantedAt: stamp(z.GrantedAt), LastUsed: dayPtr(z.LastUsedAt),
			SecretSlot: use[z.ID], State: z.State}
		if !ownerPage(c) {
			row.UserURL = "/admin/users/" + url.PathEscape(z.UserID)
		}
		if z.RevokedAt != nil {
			row.Revoked = z.RevokedAt.Format("2006-01-02")
		}
		p.Authorizations = append(p.Authorizations, row)
	}
	return render(c, http.StatusOK, views.App(p))
}

func (s *Server) appRow(a domain.App, now time.Time) views.AppRow {
	r := views.AppRow{ClientID: a.ClientID, Name: a.Name, Company: a.Company, CallbackURL: a.CallbackURL,
		Scopes: a.Scopes, ActiveAuthorizations: a.ActiveAuthorizations, Unrevoked: a.Authorizations, State: "none", SecretAge: "—", SecretExpires: "—",
		Deleted: a.DeletedAt != nil, External: a.External, Status: a.Status, ReviewNote: a.ReviewNote,
		Owner: a.OwnerUsername, OwnerID: a.OwnerID, Registered: day(a.CreatedAt)}
	if sec, ok := a.PrimarySecret(); ok {
		r.SecretAge = age(sec.CreatedAt, now)
		r.SecretExpires = day(sec.ExpiresAt)
		r.SecretDaysLeft = reports.DaysLeft(sec.ExpiresAt, now)
		r.State = string(s.cfg.Thresholds.StateAt(sec.ExpiresAt, now))
	}
	return r
}

func scopeView(sc scope.Scope) views.ScopeView {
	return views.ScopeView{ID: sc.ID, Name: sc.Name, Description: sc.Description, Category: sc.Category,
		HighPrivilege: sc.HighPrivilege, Includes: sc.Includes}
}

// age formats the time from t to now as "4 y 2 mo", "3 mo", "12 d" or
// "today", counting calendar months.
func age(t, now time.Time) string {
	if now.Before(t) {
		return "today"
	}
	months := (now.Year()-t.Year())*12 + int(now.Month()) - int(t.Month())
	if now.Day() < t.Day() {
		months--
	}
	y, m := months/12, months%12
	switch {
	case y > 0 && m > 0:
		return fmt.Sprintf("%d y %d mo", y, m)
	case y > 0:
		return fmt.Sprintf("%d y", y)
	case m > 0:
		return fmt.Sprintf("%d mo", m)
	}
	if d := int(now.Sub(t).Hours() / 24); d > 0 {
		return fmt.Sprintf("%d d", d)
	}
	return "today"
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func dayPtr(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return stamp(*t)
}

// stamp is a time as the dashboard shows it, labelled with its zone:
// "2026-11-21 14:05 UTC".
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") + " UTC" }

// appFor returns the active (not deleted) app of the route's client_id,
// for the confirmation pages of actions a deleted app no longer offers.
func (s *Server) appFor(c echo.Context) (domain.App, error) {
	d, err := s.cfg.Apps.App(c.Request().Context(), c.Param("client_id"))
	if err == nil && d.App.DeletedAt != nil {
		return d.App, apperr.Errorf(apperr.NotFound, "%s was deleted; nothing about it can change.", d.App.Name)
	}
	return d.App, err
}

// appDeleteConfirm asks for the app name before deleting.
func (s *Server) appDeleteConfirm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	return s.renderDeleteConfirm(c, app, "", http.StatusOK)
}

func (s *Server) renderDeleteConfirm(c echo.Context, app domain.App, errMsg string, status int) error {
	imp, err := s.cfg.Authorizations.RevocationImpact(c.Request().Context(), domain.AuthorizationFilter{ClientID: app.ClientID})
	if err != nil {
		return err
	}
	active := "apps"
	if ownerPage(c) {
		active = "myapps"
	}
	p := views.ConfirmPage{Nav: s.nav(c, active), Title: "Delete " + app.Name + "?",
		Message: "The app breaks: no new tokens are minted and no minted token is accepted. This cannot be undone; the record is kept for the audit trail.",
		Impact:  impactLines(imp), Action: appBase(c, app.ClientID) + "/delete", Button: "Delete this app", Danger: true,
		TypeToConfirm: app.Name, Error: errMsg, Cancel: appBase(c, app.ClientID)}
	return render(c, status, views.Confirm(p))
}

func (s *Server) appDelete(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	n, err := s.cfg.Apps.DeleteApp(c.Request().Context(), app.ClientID, c.FormValue("confirm"))
	if apperr.Is(err, apperr.Invalid) {
		msg := apperr.ErrorMessage(err)
		if f := apperr.FieldErrors(err)["confirm"]; f != "" {
			msg += " " + f
		}
		return s.renderDeleteConfirm(c, app, msg, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, appsHome(c), fmt.Sprintf("%s was deleted; %s revoked.", app.Name, plural(int64(n), "authorization was", "authorizations were")))
}

// position is where a keyset page starts in its list: from is the
// 1-based number of its first row, 0 when unknown (a page link without
// it). Keyset cursors carry no offset, so the links carry it along
// (from=…); it only labels rows, it selects nothing.
type position struct{ from, limit int }

// pagePosition reads ?from= (1 on a first page, with no cursor).
func pagePosition(c echo.Context, limit int) position {
	if c.QueryParam("after") == "" && c.QueryParam("before") == "" {
		return position{1, limit}
	}
	n, err := strconv.Atoi(c.QueryParam("from"))
	if err != nil || n < 1 {
		n = 0
	}
	return position{n, limit}
}

// next is the first row number of the next page (0: unknown).
func (p position) next(rows int) int {
	if p.from == 0 {
		return 0
	}
	return p.from + rows
}

// prev is the first row number of the previous page (0: unknown).
func (p position) prev() int {
	switch {
	case p.from == 0:
		return 0
	case p.from <= p.limit:
		return 1
	}
	return p.from - p.limit
}

// rangeText says which rows a page shows: "26–50 of 1,204", "1,001–1,025
// of more than 1,000 (…)", or "" when the position is unknown or the page
// empty.
func rangeText(p position, rows int, total int64) string {
	if p.from == 0 || rows == 0 {
		return ""
	}
	r := thousands(p.from) + "–" + thousands(p.from+rows-1)
	if total > domain.AppCountCap {
		return r + " of more than " + thousands(domain.AppCountCap) + " (counting stops there to keep this page fast)"
	}
	return r + " of " + thousands(int(total))
}

// thousands writes n with comma separators: 100000 → "100,000".
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ownerTabs are the owner's app page's tabs with the one chosen (?tab=…;
// the authorizations when paging them, else the overview); Activity is
// its own page.
func ownerTabs(base, tab string, paging bool) ([]views.AppTab, string) {
	return appTabs(base, tab, paging, true)
}

// adminTabs are the administrator's app page's tabs, as the owner's:
// Settings (the edit form and deleting the app) only for those who may
// change a live app.
func adminTabs(base, tab string, paging, settings bool) ([]views.AppTab, string) {
	return appTabs(base, tab, paging, settings)
}

// appTabs are an app page's tabs with the one chosen (?tab=…; the
// authorizations when paging or searching them, else the overview);
// Activity is its own page.
func appTabs(base, tab string, paging, settings bool) ([]views.AppTab, string) {
	keys := []struct{ key, label string }{{"overview", "Overview"}, {"secrets", "Secrets"}, {"authorizations", "Authorizations"},
		{"owners", "Owners"}}
	if settings {
		keys = append(keys, struct{ key, label string }{"settings", "Settings"})
	}
	valid := false
	for _, k := range keys {
		valid = valid || k.key == tab
	}
	if !valid {
		tab = "overview"
		if paging {
			tab = "authorizations"
		}
	}
	var out []views.AppTab
	for _, k := range keys {
		out = append(out, views.AppTab{Key: k.key, Label: k.label, URL: base + "?tab=" + k.key, Selected: k.key == tab, Panel: true})
	}
	out = append(out, views.AppTab{Key: "activity", Label: "Activity", URL: base + "/activity"})
	return out, tab
}
