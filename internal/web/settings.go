package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
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

// registrationEffects says what each app-registration policy does.
var registrationEffects = map[string]string{
	domain.PolicyMembers:  "Any signed-in user may register apps; their new apps are active at once and can be authorized and get tokens.",
	domain.PolicyApproval: "Members' new apps will wait for an administrator's approval before anyone can authorize them or get tokens; administrators' apps are active at once.",
	domain.PolicyAdmins:   "Only administrators may register apps; members are told to ask an administrator.",
}

// settingsRegistrationConfirm is GET /admin/settings/app-registration?policy=…:
// what the new policy does, before it is saved (the settings form asks
// here; the confirmation posts).
func (s *Server) settingsRegistrationConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	v := c.QueryParam("policy")
	effect, ok := registrationEffects[v]
	if !ok {
		return s.renderSettings(c, "Choose who may register apps: members, approval or admins.", http.StatusUnprocessableEntity)
	}
	cur, err := s.cfg.Settings.RegistrationPolicy(ctx)
	if err != nil {
		return err
	}
	p := views.ConfirmPage{Nav: views.Nav{Active: "settings"}, Title: "Change who may register apps to “" + v + "”?", Message: effect,
		Action: "/admin/settings/app-registration", Button: "Save: " + v, Cancel: "/admin/settings",
		Hidden: []views.HiddenField{{Name: "policy", Value: v}}}
	p.Impact = []string{"Now: " + cur + ". " + registrationEffects[cur]}
	if cur == v {
		p.Impact = []string{"This is the current policy: nothing changes."}
	} else {
		p.Impact = append(p.Impact, "Apps registered already keep their status; apps waiting for approval still wait.")
	}
	return s.confirm(c, p)
}

// settingsLifetimeConfirm is GET /admin/settings/secret-lifetime?days=N:
// what the new lifetime does, before it is saved.
func (s *Server) settingsLifetimeConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	days, err := strconv.Atoi(strings.TrimSpace(c.QueryParam("days")))
	if err != nil || days < 1 || days > admin.MaxSecretLifetimeDays {
		return s.renderSettings(c, "The lifetime must be a whole number of days from 1 to "+strconv.Itoa(admin.MaxSecretLifetimeDays)+" (five years).", http.StatusUnprocessableEntity)
	}
	life, err := s.cfg.Settings.SecretLifetime(ctx)
	if err != nil {
		return err
	}
	cur := int(life.Hours() / 24)
	if life == 0 {
		cur = 1826
	}
	p := views.ConfirmPage{Nav: views.Nav{Active: "settings"}, Title: "Set the client secret lifetime to " + plural(int64(days), "day", "days") + "?",
		Message: "New secrets will expire after " + plural(int64(days), "day", "days") + "; existing secrets keep their expiry.",
		Action:  "/admin/settings/secret-lifetime", Button: "Save: " + plural(int64(days), "day", "days"), Cancel: "/admin/settings",
		Hidden: []views.HiddenField{{Name: "days", Value: strconv.Itoa(days)}}}
	p.Impact = []string{"Now: " + plural(int64(cur), "day", "days") + ".",
		"A secret issued today (a new app, a regenerated or alternative secret) would expire on " + s.now().AddDate(0, 0, days).UTC().Format("2006-01-02") + "."}
	if cur == days {
		p.Impact = []string{"This is the current lifetime: nothing changes."}
	}
	return s.confirm(c, p)
}
