package web

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// OwnerInvitations are invitations to co-own an app (implemented by
// *admin.Invitations): the inviter's answer and pages are the same
// whatever username is typed; the invitee accepts or declines on their
// own /profile/apps.
type OwnerInvitations interface {
	Invite(ctx context.Context, clientID string, inviter domain.User, username string) (domain.OwnerInvitation, error)
	ForApp(ctx context.Context, clientID string) ([]domain.OwnerInvitation, error)
	ForUser(ctx context.Context, u domain.User) ([]domain.OwnerInvitation, error)
	Cancel(ctx context.Context, clientID, id string) error
	Answer(ctx context.Context, u domain.User, id string, accept bool) (domain.OwnerInvitation, error)
}

func invitationRow(iv domain.OwnerInvitation) views.InvitationRow {
	return views.InvitationRow{ID: iv.ID, ClientID: iv.ClientID, AppName: iv.AppName, Username: iv.Username,
		InvitedBy: iv.InvitedByName, Expires: day(iv.ExpiresAt)}
}

// addInvitations lists the app's open invitations on its owner's page.
func (s *Server) addInvitations(c echo.Context, p *views.AppPage, app domain.App) error {
	if s.cfg.Invitations == nil || !p.Owner || app.DeletedAt != nil {
		return nil
	}
	list, err := s.cfg.Invitations.ForApp(c.Request().Context(), app.ClientID)
	for _, iv := range list {
		p.Invitations = append(p.Invitations, invitationRow(iv))
	}
	return err
}

// ownerInvite is POST /profile/apps/{client_id}/owners (field username):
// invites the name to co-own the app. The answer is the same for any
// well-formed name — a user's or not, disabled or an administrator's.
func (s *Server) ownerInvite(c echo.Context) error {
	id := c.Param("client_id")
	me, _ := currentUser(c)
	inv, err := s.cfg.Invitations.Invite(c.Request().Context(), id, me, c.FormValue("username"))
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.Conflict) {
		return s.flashTo(c, appBase(c, id), apperr.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, appBase(c, id), "Invited "+inv.Username+" to co-own this app. They become a co-owner once they accept it on their apps page; the invitation expires on "+day(inv.ExpiresAt)+".")
}

// invitationCancelConfirm is GET
// /profile/apps/{client_id}/invitations/{id}/cancel: whose invitation
// ends and what that means, before it is done.
func (s *Server) invitationCancelConfirm(c echo.Context) error {
	app, err := s.appFor(c)
	if err != nil {
		return err
	}
	base := appBase(c, app.ClientID)
	list, err := s.cfg.Invitations.ForApp(c.Request().Context(), app.ClientID)
	if err != nil {
		return err
	}
	for _, iv := range list {
		if iv.ID != c.Param("id") {
			continue
		}
		return s.confirm(c, views.ConfirmPage{Nav: views.Nav{Active: "myapps"}, Title: "Cancel the invitation of " + iv.Username + " to co-own " + app.Name + "?",
			Message: iv.Username + " can no longer accept it: the invitation leaves their apps page and they do not become a co-owner. They are not told.",
			Impact:  []string{"You can invite " + iv.Username + " again later."},
			Action:  base + "/invitations/" + iv.ID + "/cancel", Button: "Cancel the invitation", Danger: true, Cancel: base + "?tab=owners"})
	}
	return s.flashTo(c, base+"?tab=owners", "That invitation does not exist or has expired.")
}

// invitationCancel is POST /profile/apps/{client_id}/invitations/{id}/cancel,
// after its confirmation.
func (s *Server) invitationCancel(c echo.Context) error {
	id := c.Param("client_id")
	if err := s.cfg.Invitations.Cancel(c.Request().Context(), id, c.Param("id")); apperr.Is(err, apperr.NotFound) {
		return s.flashTo(c, appBase(c, id), apperr.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	return s.flashTo(c, appBase(c, id), "The invitation was cancelled.")
}

// invitationAnswerConfirm is GET /profile/invitations/{id}/accept and
// …/decline: what accepting (becoming a co-owner, and what an owner can
// do) or declining means, before it is done. Only the invitee finds the
// invitation; anyone else is told it does not exist.
func (s *Server) invitationAnswerConfirm(accept bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		me, _ := currentUser(c)
		list, err := s.cfg.Invitations.ForUser(c.Request().Context(), me)
		if err != nil {
			return err
		}
		for _, iv := range list {
			if iv.ID != c.Param("id") {
				continue
			}
			p := views.ConfirmPage{Nav: views.Nav{Active: "myapps"}, Cancel: "/profile/apps"}
			if accept {
				p.Title, p.Button = "Co-own "+iv.AppName+"?", "Accept"
				p.Message = "You become a co-owner of " + iv.AppName + ", as " + iv.InvitedByName + " asked: it appears among your apps, and you can " + ownerPowers + "."
				p.Impact = []string{"Its other owners see you among its owners; you can stop owning it later from its Owners tab."}
				p.Action = "/profile/invitations/" + iv.ID + "/accept"
			} else {
				p.Title, p.Button = "Decline to co-own "+iv.AppName+"?", "Decline"
				p.Message = "Declining removes the invitation; " + iv.InvitedByName + " is told nothing more — it just leaves the app's list of invitations."
				p.Impact = []string{"You do not become an owner of " + iv.AppName + "; " + iv.InvitedByName + " can invite you again."}
				p.Action = "/profile/invitations/" + iv.ID + "/decline"
			}
			return s.confirm(c, p)
		}
		return s.flashTo(c, "/profile/apps", "That invitation does not exist or has expired.")
	}
}

// invitationAnswer is POST /profile/invitations/{id}/accept and
// …/decline: only the invitee can answer (anyone else gets 404).
func (s *Server) invitationAnswer(accept bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		me, _ := currentUser(c)
		inv, err := s.cfg.Invitations.Answer(c.Request().Context(), me, c.Param("id"), accept)
		if err != nil {
			return err
		}
		if accept {
			return s.flashTo(c, "/profile/apps/"+inv.ClientID, "You now co-own "+inv.AppName+".")
		}
		return s.flashTo(c, "/profile/apps", "You declined to co-own "+inv.AppName+".")
	}
}

// myInvitations lists the open invitations to the signed-in user.
func (s *Server) myInvitations(c echo.Context, p *views.ProfileAppsPage) error {
	if s.cfg.Invitations == nil {
		return nil
	}
	me, _ := currentUser(c)
	list, err := s.cfg.Invitations.ForUser(c.Request().Context(), me)
	for _, iv := range list {
		p.Invitations = append(p.Invitations, invitationRow(iv))
	}
	return err
}
