package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// Owners is the owners slice the owner's pages call (implemented by
// *admin.OwnerService).
type Owners interface {
	IsOwner(ctx context.Context, clientID, userID string) (bool, error)
	AppOwners(ctx context.Context, clientID string) ([]domain.AppOwner, error)
	AddOwner(ctx context.Context, clientID, username string) (domain.User, error)
	RemoveOwner(ctx context.Context, clientID, userID string) error
	HandOver(ctx context.Context, clientID, fromUserID, toUsername string) (domain.User, error)
}

// ownerPage reports whether the route is one of the owner's pages
// (/profile/apps/{client_id}…) rather than the admin's.
func ownerPage(c echo.Context) bool { return strings.HasPrefix(c.Path(), "/profile/") }

// appBase returns the page of the app in the route's area:
// /profile/apps/{id} on the owner's pages, /admin/apps/{id} otherwise.
func appBase(c echo.Context, clientID string) string {
	if ownerPage(c) {
		return "/profile/apps/" + clientID
	}
	return "/admin/apps/" + clientID
}

// appsHome is the list page of the route's area.
func appsHome(c echo.Context) string {
	if ownerPage(c) {
		return "/profile/apps"
	}
	return "/admin/apps"
}

// notYours is the answer to anyone who does not own the app: 404, so
// that they learn nothing about it.
func notYours() error { return echo.NewHTTPError(http.StatusNotFound) }

// requireOwner lets only owners and co-owners of the route's app through;
// everyone else (admins included) gets 404 on the owner's pages. The
// client id in the route is normalised to lower case.
func (s *Server) requireOwner(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, _ := currentUser(c)
		id, err := uuid.Parse(c.Param("client_id"))
		if err != nil {
			return notYours()
		}
		ok, err := s.cfg.Owners.IsOwner(c.Request().Context(), id.String(), u.ID)
		if err != nil {
			return err
		}
		if !ok {
			return notYours()
		}
		c.SetParamValues(replaceParam(c, "client_id", id.String())...)
		return next(c)
	}
}

func replaceParam(c echo.Context, name, value string) []string {
	vals := c.ParamValues()
	out := make([]string, len(vals))
	copy(out, vals)
	for i, n := range c.ParamNames() {
		if n == name && i < len(out) {
			out[i] = value
		}
	}
	return out
}

// myApps is GET /profile/apps?after=…: the apps the user owns or
// co-owns, keyset-paginated by name.
func (s *Server) myApps(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	page, err := s.cfg.Apps.ListApps(ctx, domain.AppFilter{OwnerID: u.ID, After: c.QueryParam("after"), Before: c.QueryParam("before"), Limit: 25})
	if err != nil {
		return err
	}
	policy, err := s.cfg.Settings.RegistrationPolicy(ctx)
	if err != nil {
		return err
	}
	p := views.ProfileAppsPage{Nav: s.nav(c, "myapps"), Policy: policy, Flash: s.sessions.PopString(ctx, sessFlash),
		CanRegister: policy != domain.PolicyAdmins || u.Role == domain.RoleAdmin}
	if err := s.myInvitations(c, &p); err != nil {
		return err
	}
	now := s.now()
	changes, err := s.changeStatuses(ctx, page.Apps)
	if err != nil {
		return err
	}
	for _, a := range page.Apps {
		r := s.appRow(a, now)
		r.Change = changes[a.ClientID]
		p.Apps = append(p.Apps, r)
	}
	pos := pagePosition(c, 25)
	if page.Next != "" {
		p.NextURL = "/profile/apps?" + url.Values{"after": {page.Next}, "from": {strconv.Itoa(pos.next(len(page.Apps)))}}.Encode()
	}
	if page.Prev != "" {
		p.PrevURL = "/profile/apps?" + url.Values{"before": {page.Prev}, "from": {strconv.Itoa(pos.prev())}}.Encode()
		p.FirstURL = "/profile/apps"
	}
	if page.Next != "" || page.Prev != "" {
		p.RangeText = rangeText(pos, len(page.Apps), page.Total)
	}
	return render(c, http.StatusOK, views.ProfileApps(p))
}

// myAppNewForm is GET /profile/apps/new: the registration form of
// /admin/apps/new, posting to /profile/apps. Under the "admins" policy a
// non-administrator gets 403 with the message its POST would answer, not
// a form that can only fail.
func (s *Server) myAppNewForm(c echo.Context) error {
	u, _ := currentUser(c)
	policy, err := s.cfg.Settings.RegistrationPolicy(c.Request().Context())
	if err != nil {
		return err
	}
	if policy == domain.PolicyAdmins && u.Role != domain.RoleAdmin {
		return admin.ErrOnlyAdminsRegister
	}
	f := s.appForm(c, nil, nil, "")
	f.Nav = s.nav(c, "myapps")
	f.Action, f.Cancel = "/profile/apps", "/profile/apps"
	return render(c, http.StatusOK, views.AppNew(f))
}

// readRegistration reads the registration form's fields.
func readRegistration(c echo.Context) (domain.Registration, map[string]string, []string, error) {
	form, err := c.FormParams()
	if err != nil {
		return domain.Registration{}, nil, nil, apperr.Errorf(apperr.Invalid, "The form could not be read.")
	}
	values := map[string]string{}
	for _, f := range appFormFields {
		values[f] = form.Get(f)
	}
	reg := domain.Registration{Name: values[domain.FieldName], Company: values[domain.FieldCompany],
		Description: values[domain.FieldDescription], CompanyURL: values[domain.FieldCompanyURL],
		AppURL: values[domain.FieldAppURL], CallbackURL: values[domain.FieldCallbackURL],
		LogoURL: values[domain.FieldLogoURL], TermsURL: values[domain.FieldTermsURL],
		PrivacyURL: values[domain.FieldPrivacyURL], Scopes: form[domain.FieldScopes],
		RequirePKCE: form.Get(domain.FieldRequirePKCE) != ""}
	if reg.RequirePKCE {
		values[domain.FieldRequirePKCE] = "on"
	}
	readClientFields(form, values, &reg)
	return reg, values, form[domain.FieldScopes], nil
}

// invalidForm re-shows a registration form (422) with each field's error.
func (s *Server) invalidForm(c echo.Context, f views.AppForm, err error, msg string) error {
	f.Error = msg
	for k, v := range apperr.FieldErrors(err) {
		f.Errors[k] = v
	}
	if len(f.Errors) == 0 {
		f.Error = apperr.ErrorMessage(err)
	}
	return render(c, http.StatusUnprocessableEntity, views.AppNew(f))
}

// myAppCreate is POST /profile/apps: registers an app owned by the
// signed-in user, as the app-registration policy allows, with exactly the
// validation of /admin/apps; success goes to the app's settings page,
// which shows the client secret once.
func (s *Server) myAppCreate(c echo.Context) error {
	u, _ := currentUser(c)
	reg, values, scopes, err := readRegistration(c)
	if err != nil {
		return err
	}
	newRegistrationDefaults(&reg)
	res, err := s.cfg.Apps.RegisterOwnApp(c.Request().Context(), u, reg)
	if apperr.Is(err, apperr.Invalid) {
		f := s.appForm(c, values, scopes, "")
		f.Nav = s.nav(c, "myapps")
		f.Action, f.Cancel = "/profile/apps", "/profile/apps"
		return s.invalidForm(c, f, err, "The app was not registered: fix the fields marked below.")
	}
	if err != nil {
		return err
	}
	s.log.Info("app registered", "client_id", res.App.ClientID, "by", u.Username, "status", res.App.Status)
	if res.ClientSecret != "" {
		s.revealSecret(c, res.App.ClientID, domain.SlotPrimary, res.ClientSecret)
	}
	return c.Redirect(http.StatusSeeOther, "/profile/apps/"+res.App.ClientID)
}

// editForm is the edit form of app with its current values (or the
// submitted ones), posting to {base}/edit.
func (s *Server) editForm(c echo.Context, app domain.App, values map[string]string, selected []string) views.AppForm {
	if values == nil {
		r := app.Registration
		values = map[string]string{domain.FieldName: r.Name, domain.FieldCompany: r.Company, domain.FieldDescription: r.Description,
			domain.FieldCompanyURL: r.CompanyURL, domain.FieldAppURL: r.AppURL, domain.FieldCallbackURL: r.CallbackURL,
			domain.FieldLogoURL: r.LogoURL, domain.FieldTermsURL: r.TermsURL, domain.FieldPrivacyURL: r.PrivacyURL}
		if r.RequirePKCE {
			values[domain.FieldRequirePKCE] = "on"
		}
		clientValues(r, values)
		selected = r.Scopes
	}
	f := s.appForm(c, values, selected, "")
	if ownerPage(c) {
		f.Nav = s.nav(c, "myapps")
	}
	base := appBase(c, app.ClientID)
	f.Action, f.Title, f.Submit, f.Cancel = base+"/edit", "Edit "+app.Name, "Save changes", base
	f.Reviewed = s.reviewed(c, app)
	return f
}

// appEditForm is GET …/apps/{client_id}/edit: the registration form with
// the app's current values.
func (s *Server) appEditForm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	if ownerPage(c) && s.cfg.Changes != nil {
		// While a change waits, the form starts from the proposed values.
		if d, ok, err := s.cfg.Changes.Change(c.Request().Context(), app.ClientID); err != nil {
			return err
		} else if ok {
			app = proposedApp(app, d)
		}
	}
	return render(c, http.StatusOK, views.AppNew(s.editForm(c, app, nil, nil)))
}

// appUpdate is POST …/apps/{client_id}/edit: saves the registration
// after exactly the registration's validation (422 with the fields'
// errors and nothing stored otherwise).
func (s *Server) appUpdate(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	reg, values, scopes, err := readRegistration(c)
	if err != nil {
		return err
	}
	if ownerPage(c) && s.cfg.Changes != nil {
		return s.saveOwnEdit(c, app, reg, values, scopes)
	}
	ed, err := s.cfg.Apps.UpdateApp(c.Request().Context(), app.ClientID, reg)
	if apperr.Is(err, apperr.Invalid) {
		return s.invalidForm(c, s.editForm(c, app, values, scopes), err, "Nothing was saved: fix the fields marked below.")
	}
	if err != nil {
		return err
	}
	target := appBase(c, app.ClientID)
	if ownerPage(c) {
		target += "?tab=settings" // back to the form just saved
	}
	return s.flashTo(c, target, editSummary(ed))
}

// editSummary is the flash after an edit: the fields saved and what a new
// callback URL or new scopes did.
func editSummary(ed admin.AppEdit) string {
	if len(ed.Changes) == 0 {
		return "No change to save."
	}
	var names []string
	for _, f := range append(appFormFields, domain.FieldScopes, domain.FieldRequirePKCE) {
		if _, ok := ed.Changes[f]; ok {
			names = append(names, fieldLabel(f))
		}
	}
	msg := "Saved the new " + joinAnd(names) + "."
	if _, ok := ed.Changes[domain.FieldCallbackURL]; ok {
		msg += " New authorization requests must use the new callback URL; codes issued for the old one no longer work."
	}
	if ed.Scopes != nil {
		msg += " " + changeSummary(*ed.Scopes)
	}
	return msg
}

// ownerPowers is what an owner of an app can do, for the confirmations
// that make someone one.
const ownerPowers = "edit its callback URLs, scopes and settings, regenerate and retire its client secrets, add and remove owners, and delete it"

// ownerAddConfirm is GET {app page}/owners?username=…: who becomes an
// owner and what that lets them do, before it is done. On the owner's
// pages with invitations it asks before inviting, and says the same
// whatever name is typed (as the invitation itself does).
func (s *Server) ownerAddConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	base := appBase(c, app.ClientID)
	back, active := base+"?tab=owners", "apps"
	if ownerPage(c) {
		active = "myapps"
	}
	name := strings.TrimSpace(c.QueryParam("username"))
	if name == "" {
		return s.flashTo(c, back, "Type the username of the new owner.")
	}
	hidden := []views.HiddenField{{Name: "username", Value: name}}
	if ownerPage(c) && s.cfg.Invitations != nil {
		return s.confirm(c, views.ConfirmPage{Nav: views.Nav{Active: active}, Title: "Invite " + name + " to co-own " + app.Name + "?",
			Message: "If " + name + " has an account, the invitation waits on their apps page. They become a co-owner only when they accept it, and can then " + ownerPowers + ".",
			Impact:  []string{fmt.Sprintf("The invitation expires after %d days; until then you can cancel it from the Owners tab.", int(domain.InvitationLifetime.Hours()/24))},
			Action:  base + "/owners", Button: "Send invitation", Cancel: back, Hidden: hidden})
	}
	u, err := s.cfg.Users.UserByUsername(ctx, name)
	if apperr.Is(err, apperr.NotFound) {
		return s.flashTo(c, back, "There is no user "+name+".")
	}
	if err != nil {
		return err
	}
	if !u.Active() {
		return s.flashTo(c, back, u.Username+" is disabled or deleted and cannot own apps.")
	}
	owners, err := s.cfg.Owners.AppOwners(ctx, app.ClientID)
	if err != nil {
		return err
	}
	var names []string
	for _, o := range owners {
		if o.UserID == u.ID {
			return s.flashTo(c, back, u.Username+" already owns "+app.Name+".")
		}
		names = append(names, o.Username)
	}
	impact := []string{app.Name + " appears among " + u.Username + "'s apps at once: no invitation is sent and they are not asked."}
	if len(names) > 0 {
		impact = append(impact, "Its current owners ("+joinAnd(names)+") stay owners; nothing else changes.")
	}
	return s.confirm(c, views.ConfirmPage{Nav: views.Nav{Active: active}, Title: "Make " + u.Username + " an owner of " + app.Name + "?",
		Message: u.Username + " becomes an owner of " + app.Name + " and can " + ownerPowers + ".", Impact: impact,
		Action: base + "/owners", Button: "Add owner", Cancel: back, Hidden: hidden})
}

// ownerAdd is POST /profile/apps/{client_id}/owners (field username),
// after its confirmation.
func (s *Server) ownerAdd(c echo.Context) error {
	id := c.Param("client_id")
	u, err := s.cfg.Owners.AddOwner(c.Request().Context(), id, c.FormValue("username"))
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.Conflict) {
		return s.flashTo(c, appBase(c, id), apperr.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, appBase(c, id), u.Username+" now co-owns this app.")
}

// ownerRemove is POST /profile/apps/{client_id}/owners/{user_id}/remove.
// Removing yourself leaves the app (and its pages) to the other owners.
func (s *Server) ownerRemove(c echo.Context) error {
	id := c.Param("client_id")
	me, _ := currentUser(c)
	err := s.cfg.Owners.RemoveOwner(c.Request().Context(), id, c.Param("user_id"))
	if apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.NotFound) {
		return s.flashTo(c, appBase(c, id), apperr.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	if c.Param("user_id") == me.ID {
		return s.flashTo(c, "/profile/apps", "You no longer own that app.")
	}
	return s.flashTo(c, appBase(c, id), "The owner was removed.")
}

// handOver is POST /profile/apps/{client_id}/hand-over (field username):
// the named user becomes the primary owner and you stop owning the app.
func (s *Server) handOver(c echo.Context) error {
	id := c.Param("client_id")
	me, _ := currentUser(c)
	to, err := s.cfg.Owners.HandOver(c.Request().Context(), id, me.ID, c.FormValue("username"))
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Invalid) {
		return s.flashTo(c, appBase(c, id), apperr.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, "/profile/apps", "The app was handed over to "+to.Username+".")
}

// appApprove is POST /admin/apps/{client_id}/approve.
func (s *Server) appApprove(c echo.Context) error {
	app, err := s.cfg.Apps.ReviewApp(c.Request().Context(), c.Param("client_id"), true, "")
	if err != nil {
		return err
	}
	target := "/admin/apps/" + app.ClientID
	switch c.FormValue("return") {
	case "overview":
		target = "/admin"
	case "queue":
		target = "/admin/apps?state=pending"
	}
	return s.flashTo(c, target, app.Name+" was approved: users can authorize it now.")
}

// appRejectForm is GET /admin/apps/{client_id}/reject: asks for the reason.
func (s *Server) appRejectForm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Reject(views.RejectPage{Nav: s.nav(c, "apps"), ClientID: app.ClientID, AppName: app.Name}))
}

// appReject is POST /admin/apps/{client_id}/reject (field reason, which
// the owners see).
func (s *Server) appReject(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	if _, err := s.cfg.Apps.ReviewApp(c.Request().Context(), app.ClientID, false, reason); apperr.Is(err, apperr.Invalid) {
		msg := apperr.FieldErrors(err)["reason"]
		if msg == "" {
			msg = apperr.ErrorMessage(err)
		}
		return render(c, http.StatusUnprocessableEntity, views.Reject(views.RejectPage{Nav: s.nav(c, "apps"), ClientID: app.ClientID,
			AppName: app.Name, Reason: reason, Error: msg}))
	} else if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/apps?state=pending", app.Name+" was rejected; its owners see why.")
}

// fieldLabel names a registration field for people: "callback URL",
// "company", "PKCE requirement".
func fieldLabel(f string) string {
	switch f {
	case domain.FieldRequirePKCE:
		return "PKCE requirement"
	case domain.FieldScopes:
		return "scopes"
	}
	l := strings.ReplaceAll(f, "_", " ")
	if strings.HasSuffix(l, " url") {
		l = strings.TrimSuffix(l, "url") + "URL"
	}
	return l
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(list []string) string {
	if len(list) <= 1 {
		return strings.Join(list, "")
	}
	return strings.Join(list[:len(list)-1], ", ") + " and " + list[len(list)-1]
}

// appApproveConfirm is GET /admin/apps/{client_id}/approve?return=…: who
// asked, the scopes (high-privilege ones named) and what approving does.
func (s *Server) appApproveConfirm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	if app.Status != domain.AppPending {
		return s.flashTo(c, "/admin/apps/"+app.ClientID, app.Name+" is not waiting for approval (it is "+app.Status+").")
	}
	var scopes, high []string
	for _, v := range s.scopeViews(app.Scopes) {
		scopes = append(scopes, v.ID)
		if v.HighPrivilege {
			high = append(high, v.ID)
		}
	}
	impact := []string{"Registered by " + app.OwnerUsername + " (" + app.Company + "), callback URL " + app.CallbackURL + ".",
		"Scopes it asks for: " + strings.Join(scopes, ", ") + "."}
	if len(high) > 0 {
		impact = append(impact, "High privilege: "+strings.Join(high, ", ")+" — users who consent give the app these powers.")
	}
	impact = append(impact, "Its client secret starts getting tokens; its owners can manage it as any active app.")
	back := c.QueryParam("return")
	cancel := "/admin/apps/" + app.ClientID
	switch back {
	case "overview":
		cancel = "/admin"
	case "queue":
		cancel = "/admin/apps?state=pending"
	default:
		back = ""
	}
	return s.confirm(c, views.ConfirmPage{Nav: views.Nav{Active: "apps"}, Title: "Approve " + app.Name + "?",
		Message: "Users can authorize it at once, for the scopes below.", Impact: impact,
		Action: "/admin/apps/" + app.ClientID + "/approve", Button: "Approve", Cancel: cancel,
		Hidden: []views.HiddenField{{Name: "return", Value: back}}})
}

// ownerRemoveConfirm is GET {app page}/owners/{user_id}/remove: who stops
// owning the app and what that means, before it is done.
func (s *Server) ownerRemoveConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	owners, err := s.cfg.Owners.AppOwners(ctx, app.ClientID)
	if err != nil {
		return err
	}
	me, _ := currentUser(c)
	base := appBase(c, app.ClientID)
	for _, o := range owners {
		if o.UserID != c.Param("user_id") {
			continue
		}
		if err := admin.RemovalRefused(app, owners, o.UserID); err != nil {
			return s.flashTo(c, base, apperr.ErrorMessage(err))
		}
		p := views.ConfirmPage{Nav: views.Nav{Active: "apps"}, Title: "Remove " + o.Username + " from the owners of " + app.Name + "?",
			Message: o.Username + " no longer sees or manages the app from their profile. Nothing else changes: its secrets, authorizations and tokens stay.",
			Action:  base + "/owners/" + o.UserID + "/remove", Button: "Remove owner", Danger: true, Cancel: base}
		if o.Primary {
			p.Impact = append(p.Impact, o.Username+" is the primary owner: the longest-standing remaining owner becomes primary.")
		}
		if o.UserID == me.ID {
			p.Title, p.Message = "Stop owning "+app.Name+"?", "You no longer see or manage the app from your profile; the other owners keep it."
		}
		if ownerPage(c) {
			p.Nav.Active = "myapps"
		}
		return s.confirm(c, p)
	}
	return s.flashTo(c, base, "That user does not own "+app.Name+".")
}

// handOverConfirm is GET /profile/apps/{client_id}/hand-over?username=…:
// who takes the app and that you stop owning it, before it is done. Only
// a co-owner can be handed the app (the POST says so for anyone else).
func (s *Server) handOverConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	base := appBase(c, app.ClientID)
	name := strings.TrimSpace(c.QueryParam("username"))
	owners, err := s.cfg.Owners.AppOwners(ctx, app.ClientID)
	if err != nil {
		return err
	}
	me, _ := currentUser(c)
	for _, o := range owners {
		if !strings.EqualFold(o.Username, name) || o.Deleted {
			continue
		}
		if o.UserID == me.ID {
			break
		}
		return s.confirm(c, views.ConfirmPage{Nav: views.Nav{Active: "myapps"}, Title: "Hand " + app.Name + " over to " + o.Username + "?",
			Message: o.Username + " becomes its primary owner and you stop owning it: it leaves your apps, and only its owners can give it back.",
			Impact:  []string{"Nothing else changes: its secrets, authorizations and tokens stay."},
			Action:  base + "/hand-over", Button: "Hand over", Danger: true, Cancel: base + "?tab=owners",
			Hidden: []views.HiddenField{{Name: "username", Value: o.Username}}})
	}
	return s.flashTo(c, base+"?tab=owners", "Hand "+app.Name+" over to one of its co-owners: invite "+name+" first, and once they accept, hand it over.")
}
