package web

import (
	"cmp"
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// AppChanges is the review of members' changes to approved apps
// (implemented by *admin.ChangeReview): under the approval and admins
// policies an owner's edit of an approved app's reviewed fields waits
// for an administrator while the app keeps serving as approved.
type AppChanges interface {
	EditOwnApp(ctx context.Context, u domain.User, clientID string, reg domain.Registration) (admin.OwnEdit, error)
	Change(ctx context.Context, clientID string) (admin.PendingChangeDetail, bool, error)
	Queue(ctx context.Context) ([]admin.PendingChangeDetail, bool, error)
	Approve(ctx context.Context, clientID string) (admin.AppEdit, error)
	Reject(ctx context.Context, clientID, reason string) (domain.App, error)
	Withdraw(ctx context.Context, clientID string) error
	CountWaiting(ctx context.Context) (int64, error)
	ReviewRequired(ctx context.Context) (bool, error)
}

// reviewed reports whether the signed-in user's edit of app on the
// owner's pages waits for review (the edit form says so).
func (s *Server) reviewed(c echo.Context, app domain.App) bool {
	u, _ := currentUser(c)
	if s.cfg.Changes == nil || !ownerPage(c) || u.Role == domain.RoleAdmin || app.Status != domain.AppActive {
		return false
	}
	ok, err := s.cfg.Changes.ReviewRequired(c.Request().Context())
	return ok && err == nil
}

// fieldLabels names the reviewed fields in the diff.
var fieldLabels = map[string]string{
	domain.FieldName: "Application name", domain.FieldCompany: "Company name", domain.FieldLogoURL: "Logo URL",
	domain.FieldCallbackURL: "Authorization callback URL", domain.FieldRedirectURIs: "Redirect URIs",
	domain.FieldPostLogoutRedirectURIs: "Post-logout redirect URIs", domain.FieldScopes: "Scopes",
	domain.FieldGrantTypes: "Grant types", domain.FieldClientType: "Client type",
}

// PendingChangeView maps a pending change to its view model (the
// approval queue's reusable before/after diff).
func PendingChangeView(d admin.PendingChangeDetail) views.PendingChangeView {
	v := views.PendingChangeView{ClientID: d.App.ClientID, AppName: d.App.Name, RequestedBy: d.Change.RequestedByName,
		RequestedAt: d.Change.RequestedAt.UTC().Format("2006-01-02 15:04 UTC"), Status: d.Change.Status, ReviewNote: d.Change.ReviewNote}
	for _, f := range d.Changes {
		label := fieldLabels[f.Field]
		if label == "" {
			label = strings.ReplaceAll(f.Field, "_", " ")
		}
		v.Rows = append(v.Rows, views.FieldDiffRow{Field: f.Field, Label: label, Before: orNone(f.Before), After: orNone(f.After)})
	}
	return v
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// addPendingChange puts the app's pending change on its page and, on the
// owner's page, makes the edit form start from the proposed values.
func (s *Server) addPendingChange(c echo.Context, p *views.AppPage, app domain.App) error {
	if s.cfg.Changes == nil || app.DeletedAt != nil {
		return nil
	}
	d, ok, err := s.cfg.Changes.Change(c.Request().Context(), app.ClientID)
	if err != nil || !ok {
		return err
	}
	v := PendingChangeView(d)
	p.Change = &v
	if p.Owner {
		p.Edit = s.editForm(c, proposedApp(app, d), nil, nil)
	}
	return nil
}

// proposedApp is app with its pending change's reviewed fields: what the
// owner's edit form starts from while a change waits.
func proposedApp(app domain.App, d admin.PendingChangeDetail) domain.App {
	app.Registration = app.Registration.WithReviewedFrom(d.Change.Proposed)
	return app
}

// saveOwnEdit is the owner's POST /profile/apps/{client_id}/edit under
// the review of changes: the flash says what applied and what waits.
func (s *Server) saveOwnEdit(c echo.Context, app domain.App, reg domain.Registration, values map[string]string, scopes []string) error {
	u, _ := currentUser(c)
	ed, err := s.cfg.Changes.EditOwnApp(c.Request().Context(), u, app.ClientID, reg)
	if apperr.Is(err, apperr.Invalid) {
		return s.invalidForm(c, s.editForm(c, app, values, scopes), err, "Nothing was saved: fix the fields marked below.")
	}
	if err != nil {
		return err
	}
	msg := editSummary(ed.Applied)
	if len(ed.Held) > 0 {
		var names []string
		for _, f := range ed.Held {
			names = append(names, strings.ToLower(fieldLabels[f.Field]))
		}
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, "No change to save."), " ")
		msg = strings.TrimSpace(msg + " Waiting for an administrator's approval: " + strings.Join(names, ", ") +
			". Until then the app keeps its approved registration.")
	} else if ed.Withdrawn {
		msg = strings.TrimSpace(msg + " The change waiting for approval was withdrawn.")
	}
	return s.flashTo(c, appBase(c, app.ClientID)+"?tab=settings", msg)
}

// changeWithdrawConfirm is GET /profile/apps/{client_id}/change/withdraw:
// which proposed change is dropped and that the app keeps its approved
// registration, before it is done.
func (s *Server) changeWithdrawConfirm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	base := appBase(c, app.ClientID)
	d, ok, err := s.cfg.Changes.Change(c.Request().Context(), app.ClientID)
	if err != nil {
		return err
	}
	if !ok {
		return s.flashTo(c, base, app.Name+" has no change waiting for approval.")
	}
	var diff []string
	for _, f := range PendingChangeView(d).Rows {
		diff = append(diff, f.Label+" stays "+f.Before+", not "+f.After+".")
	}
	p := views.ConfirmPage{Nav: views.Nav{Active: "myapps"}, Title: "Withdraw the change of " + app.Name + "?",
		Message: "The proposed change is dropped before review: administrators no longer see it, and " + app.Name + " keeps its approved registration. To make it later, edit the app again.",
		Impact:  diff, Action: base + "/change/withdraw", Button: "Withdraw the change", Danger: true, Cancel: base}
	if d.Change.Status == domain.ChangeRejected {
		p.Title = "Clear the rejected change of " + app.Name + "?"
		p.Message = "The rejected change and the administrator's reason leave this page; " + app.Name + " keeps its approved registration. To propose another change, edit the app."
		p.Button, p.Danger = "Clear the change", false
	}
	return s.confirm(c, p)
}

// changeWithdraw is POST /profile/apps/{client_id}/change/withdraw, after
// its confirmation.
func (s *Server) changeWithdraw(c echo.Context) error {
	id := c.Param("client_id")
	if err := s.cfg.Changes.Withdraw(c.Request().Context(), id); apperr.Is(err, apperr.NotFound) {
		return s.flashTo(c, appBase(c, id), apperr.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	return s.flashTo(c, appBase(c, id), "The change was withdrawn; the app keeps its approved registration.")
}

// changesQueue is GET /admin/changes: the changes waiting for review.
func (s *Server) changesQueue(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	list, more, err := s.cfg.Changes.Queue(ctx)
	if err != nil {
		return err
	}
	p := views.ChangesQueuePage{Nav: s.nav(c, "apps"), More: more, CanReview: u.Role == domain.RoleAdmin, Flash: s.sessions.PopString(ctx, sessFlash)}
	for _, d := range list {
		p.Changes = append(p.Changes, PendingChangeView(d))
	}
	return render(c, http.StatusOK, views.ChangesQueue(p))
}

// changeApprove is POST /admin/apps/{client_id}/change/approve (field
// return: queue goes back to /admin/changes).
func (s *Server) changeApprove(c echo.Context) error {
	ed, err := s.cfg.Changes.Approve(c.Request().Context(), c.Param("client_id"))
	if err != nil {
		return err
	}
	target := "/admin/apps/" + ed.App.ClientID
	if c.FormValue("return") == "queue" {
		target = "/admin/changes"
	}
	return s.flashTo(c, target, "The change to "+ed.App.Name+" was approved and applies now. "+editSummary(ed))
}

// changeRejectForm is GET /admin/apps/{client_id}/change/reject.
func (s *Server) changeRejectForm(c echo.Context) error {
	d, ok, err := s.cfg.Changes.Change(c.Request().Context(), c.Param("client_id"))
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Errorf(apperr.NotFound, "The app has no change waiting for approval.")
	}
	return render(c, http.StatusOK, views.RejectChange(views.RejectChangePage{Nav: s.nav(c, "apps"), Change: PendingChangeView(d)}))
}

// changeReject is POST /admin/apps/{client_id}/change/reject (field
// reason, which the owners see).
func (s *Server) changeReject(c echo.Context) error {
	ctx := c.Request().Context()
	reason := c.FormValue("reason")
	app, err := s.cfg.Changes.Reject(ctx, c.Param("client_id"), reason)
	if apperr.Is(err, apperr.Invalid) {
		d, ok, derr := s.cfg.Changes.Change(ctx, c.Param("client_id"))
		if derr != nil || !ok {
			return err
		}
		msg := apperr.FieldErrors(err)["reason"]
		if msg == "" {
			msg = apperr.ErrorMessage(err)
		}
		return render(c, http.StatusUnprocessableEntity, views.RejectChange(views.RejectChangePage{Nav: s.nav(c, "apps"),
			Change: PendingChangeView(d), Reason: reason, Error: msg}))
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/changes", "The change to "+app.Name+" was rejected; its owners see why.")
}

// changeApproveConfirm is GET /admin/apps/{client_id}/change/approve?return=…:
// the change that will apply, before it is approved.
func (s *Server) changeApproveConfirm(c echo.Context) error {
	d, ok, err := s.cfg.Changes.Change(c.Request().Context(), c.Param("client_id"))
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Errorf(apperr.NotFound, "The app has no change waiting for approval.")
	}
	v := PendingChangeView(d)
	var impact []string
	for _, f := range v.Rows {
		impact = append(impact, f.Label+": "+cmp.Or(f.Before, "(none)")+" → "+cmp.Or(f.After, "(none)"))
	}
	impact = append(impact, "Requested by "+v.RequestedBy+" on "+v.RequestedAt+".")
	back, cancel := c.QueryParam("return"), "/admin/apps/"+v.ClientID
	if back == "queue" {
		cancel = "/admin/changes"
	} else {
		back = ""
	}
	return s.confirm(c, views.ConfirmPage{Nav: views.Nav{Active: "apps"}, Title: "Approve the change to " + v.AppName + "?",
		Message: "It applies at once: users see the new registration, codes go to the new callback URL and new tokens carry the new scopes.",
		Impact:  impact, Action: "/admin/apps/" + v.ClientID + "/change/approve", Button: "Approve change", Cancel: cancel,
		Hidden: []views.HiddenField{{Name: "return", Value: back}}})
}
