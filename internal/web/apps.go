package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/scope"
	"github.com/oauthdesk/oauthdesk/views"
)

// appsList is GET /admin/apps?q=…&after=…|before=…: every registration,
// searchable by name, company or client id, keyset-paginated.
func (s *Server) appsList(c echo.Context) error {
	q := c.QueryParam("q")
	showDeleted := c.QueryParam("deleted") == "1"
	state := c.QueryParam("state")
	f := domain.AppFilter{Query: q, After: c.QueryParam("after"), Before: c.QueryParam("before"), Limit: 25, IncludeDeleted: showDeleted}
	now := s.now()
	switch state {
	case "":
	case string(domain.StateExpired):
		f.SecretExpiresAfter, f.SecretExpiresBefore = time.Unix(0, 0), now
	case string(domain.StateCritical):
		f.SecretExpiresAfter, f.SecretExpiresBefore = now, now.Add(s.cfg.Thresholds.Critical)
	case string(domain.StateExpiring):
		f.SecretExpiresAfter, f.SecretExpiresBefore = now.Add(s.cfg.Thresholds.Critical), now.Add(s.cfg.Thresholds.Expiring)
	default:
		return apperr.Errorf(apperr.Invalid, "state must be expiring, critical or expired")
	}
	page, err := s.admin.ListApps(c.Request().Context(), f)
	if err != nil {
		return err
	}
	p := views.AppsPage{Nav: s.nav(c, "apps"), Query: q, State: state, ShowDeleted: showDeleted, Flash: s.sessions.PopString(c.Request().Context(), sessFlash)}
	for _, a := range page.Apps {
		row := s.appRow(a, now)
		row.ScopeViews = s.scopeViews(a.Scopes)
		p.Apps = append(p.Apps, row)
	}
	link := func(key, cursor string) string {
		v := url.Values{key: {cursor}}
		if q != "" {
			v.Set("q", q)
		}
		if showDeleted {
			v.Set("deleted", "1")
		}
		if state != "" {
			v.Set("state", state)
		}
		return "/admin/apps?" + v.Encode()
	}
	if page.Next != "" {
		p.NextURL = link("after", page.Next)
	}
	if page.Prev != "" {
		p.PrevURL = link("before", page.Prev)
	}
	return render(c, http.StatusOK, views.Apps(p))
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
	form, err := c.FormParams()
	if err != nil {
		return apperr.Errorf(apperr.Invalid, "The form could not be read.")
	}
	values := map[string]string{}
	for _, f := range appFormFields {
		values[f] = form.Get(f)
	}
	reg := domain.Registration{Name: values[domain.FieldName], Company: values[domain.FieldCompany],
		Description: values[domain.FieldDescription], CompanyURL: values[domain.FieldCompanyURL],
		AppURL: values[domain.FieldAppURL], CallbackURL: values[domain.FieldCallbackURL],
		LogoURL: values[domain.FieldLogoURL], TermsURL: values[domain.FieldTermsURL],
		PrivacyURL: values[domain.FieldPrivacyURL], Scopes: form[domain.FieldScopes]}
	res, err := s.admin.RegisterApp(ctx, u.Username, reg)
	if apperr.Is(err, apperr.Invalid) {
		f := s.appForm(c, values, form[domain.FieldScopes], "The app was not registered: fix the fields marked below.")
		for k, v := range apperr.FieldErrors(err) {
			f.Errors[k] = v
		}
		if len(f.Errors) == 0 {
			f.Error = apperr.ErrorMessage(err)
		}
		return render(c, http.StatusUnprocessableEntity, views.AppNew(f))
	}
	if err != nil {
		return err
	}
	s.log.Info("app registered", "client_id", res.App.ClientID, "by", u.Username)
	s.revealSecret(c, res.App.ClientID, domain.SlotPrimary, res.ClientSecret)
	return c.Redirect(http.StatusSeeOther, "/admin/apps/"+res.App.ClientID)
}

// appDetail is GET /admin/apps/{client_id}.
func (s *Server) appDetail(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := s.admin.App(ctx, c.Param("client_id"))
	if err != nil {
		return err
	}
	now := s.now()
	a := d.App
	u, _ := currentUser(c)
	p := views.AppPage{Nav: s.nav(c, "apps"), App: s.appRow(a, now), Scopes: s.scopeViews(a.Scopes), Deleted: a.DeletedAt != nil,
		CanManage: u.Role == domain.RoleAdmin, Flash: s.sessions.PopString(ctx, sessFlash)}
	if slot, secret := s.takeReveal(c, a.ClientID); secret != "" {
		p.NewSecretSlot, p.NewSecret = slot, secret
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	}
	use, err := s.admin.SecretUse(ctx, a)
	if err != nil {
		return err
	}
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
		{Label: "Owner", Value: a.OwnerUsername},
		{Label: "Registered", Value: a.CreatedAt.Format("2006-01-02 15:04")},
	}
	for _, sec := range a.Secrets {
		p.HasAlt = p.HasAlt || sec.Slot == domain.SlotAlternative
		state := string(s.cfg.Thresholds.StateAt(sec.ExpiresAt, now))
		p.Secrets = append(p.Secrets, views.SecretRow{Slot: sec.Slot, Created: day(sec.CreatedAt), Age: age(sec.CreatedAt, now),
			Expires: day(sec.ExpiresAt), DaysLeft: reports.DaysLeft(sec.ExpiresAt, now),
			State: state, LastUsed: dayPtr(sec.LastUsedAt), Uses: sec.UseCount})
		if state != string(domain.StateOK) && a.DeletedAt == nil {
			p.Banners = append(p.Banners, views.ExpiryBanner{Slot: sec.Slot, State: state, Expires: day(sec.ExpiresAt),
				DaysLeft: reports.DaysLeft(sec.ExpiresAt, now)})
		}
	}
	for _, z := range d.Authorizations {
		row := views.AuthorizationRow{ID: z.ID, Username: z.Username, Display: z.UserDisplayName, Scopes: z.Scopes,
			ScopeViews: s.scopeViews(z.Scopes), GrantedAt: z.GrantedAt.Format("2006-01-02 15:04"), LastUsed: dayPtr(z.LastUsedAt),
			SecretSlot: use[z.ID]}
		if z.RevokedAt != nil {
			row.Revoked = z.RevokedAt.Format("2006-01-02")
		}
		p.Authorizations = append(p.Authorizations, row)
	}
	return render(c, http.StatusOK, views.App(p))
}

func (s *Server) appRow(a domain.App, now time.Time) views.AppRow {
	r := views.AppRow{ClientID: a.ClientID, Name: a.Name, Company: a.Company, CallbackURL: a.CallbackURL,
		Scopes: a.Scopes, ActiveAuthorizations: a.ActiveAuthorizations, State: "none", SecretAge: "–", SecretExpires: "–",
		Deleted: a.DeletedAt != nil, External: a.External}
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
	return t.UTC().Format("2006-01-02 15:04")
}
