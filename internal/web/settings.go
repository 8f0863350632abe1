package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// Settings is the policies slice: third-party OAuth access, the secret
// lifetime and who may register apps (implemented by
// *admin.SettingService).
type Settings interface {
	ThirdPartyOAuth(ctx context.Context) (bool, error)
	SetThirdPartyOAuth(ctx context.Context, on bool) error
	SecretLifetime(ctx context.Context) (time.Duration, error)
	SetSecretLifetimeDays(ctx context.Context, days int) error
	RegistrationPolicy(ctx context.Context) (string, error)
	SetRegistrationPolicy(ctx context.Context, policy string) error
}

// settingsPage is /admin/settings.
func (s *Server) settingsPage(c echo.Context) error { return s.renderSettings(c, "", http.StatusOK) }

func (s *Server) renderSettings(c echo.Context, errMsg string, status int) error {
	ctx := c.Request().Context()
	on, err := s.cfg.Settings.ThirdPartyOAuth(ctx)
	if err != nil {
		return err
	}
	life, err := s.cfg.Settings.SecretLifetime(ctx)
	if err != nil {
		return err
	}
	days := int(life.Hours() / 24)
	if life == 0 {
		days = 1826
	}
	policy, err := s.cfg.Settings.RegistrationPolicy(ctx)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	n := s.nav(c, "settings")
	n.PolicyOff = !on
	tp, err := s.tokenPolicyView(c)
	if err != nil {
		return err
	}
	p := views.SettingsPage{Nav: n, ThirdPartyOAuth: on, SecretLifetimeDays: days,
		MaxLifetimeDays: 1827, CanManage: u.Role == domain.RoleAdmin, Flash: s.sessions.PopString(ctx, sessFlash), Error: errMsg,
		RegistrationPolicy: policy, TokenPolicy: tp}
	if p.CanManage {
		p.Jobs = s.jobRows()
	}
	return render(c, status, views.Settings(p))
}

// settingsPolicyConfirm is GET /admin/settings/third-party-oauth?value=on|off:
// what switching third-party OAuth access does, before it is done.
func (s *Server) settingsPolicyConfirm(c echo.Context) error {
	v := c.QueryParam("value")
	p := views.ConfirmPage{Nav: views.Nav{Active: "settings"}, Action: "/admin/settings/third-party-oauth?value=" + v, Cancel: "/admin/settings"}
	switch v {
	case "off":
		p.Title, p.Button, p.Danger = "Turn off third-party application access?", "Turn off", true
		p.Message = "Every app stops working against the REST APIs at once, for every user."
		p.Impact = []string{"Every REST API call with an OAuth access token answers 401 TF400813 until it is turned on again.",
			"Apps can still be authorized and still get tokens; nothing is revoked or deleted.",
			"Turning it on again makes the same tokens work at once."}
	case "on":
		p.Title, p.Button = "Turn on third-party application access?", "Turn on"
		p.Message = "Apps' access tokens work against the REST APIs again, at once."
		p.Impact = []string{"Every unexpired access token of an active authorization is accepted again on its next request."}
	default:
		return apperr.Errorf(apperr.Invalid, "value must be on or off")
	}
	return s.confirm(c, p)
}

func (s *Server) settingsPolicy(c echo.Context) error {
	v := c.FormValue("value")
	if v != "on" && v != "off" {
		return apperr.Errorf(apperr.Invalid, "value must be on or off")
	}
	if err := s.cfg.Settings.SetThirdPartyOAuth(c.Request().Context(), v == "on"); err != nil {
		return err
	}
	return s.flashTo(c, "/admin/settings", "Third-party application access via OAuth is now "+v+".")
}

func (s *Server) settingsLifetime(c echo.Context) error {
	days, err := strconv.Atoi(c.FormValue("days"))
	if err == nil {
		err = s.cfg.Settings.SetSecretLifetimeDays(c.Request().Context(), days)
	} else {
		err = apperr.Errorf(apperr.Invalid, "the lifetime must be a whole number of days")
	}
	if apperr.Is(err, apperr.Invalid) {
		return s.renderSettings(c, apperr.ErrorMessage(err), http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/settings", "New client secrets now live "+strconv.Itoa(days)+" days.")
}

// settingsRegistration is POST /admin/settings/app-registration (field
// policy: members, approval or admins).
func (s *Server) settingsRegistration(c echo.Context) error {
	v := c.FormValue("policy")
	if err := s.cfg.Settings.SetRegistrationPolicy(c.Request().Context(), v); apperr.Is(err, apperr.Invalid) {
		return s.renderSettings(c, apperr.ErrorMessage(err), http.StatusUnprocessableEntity)
	} else if err != nil {
		return err
	}
	return s.flashTo(c, "/admin/settings", "App registration is now: "+v+".")
}
