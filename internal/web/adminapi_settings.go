package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/pat"
)

// AdminAPISettings is the organization settings' use cases the admin API
// calls — the ones /admin/settings calls (implemented by *admin.Service).
type AdminAPISettings interface {
	RegistrationPolicy(ctx context.Context) (string, error)
	SetRegistrationPolicy(ctx context.Context, policy string) error
	SecretLifetime(ctx context.Context) (time.Duration, error)
	SetSecretLifetimeDays(ctx context.Context, days int) error
	ThirdPartyOAuth(ctx context.Context) (bool, error)
	SetThirdPartyOAuth(ctx context.Context, on bool) error
}

// AdminAPIPATPolicy is the personal access token policies' use cases the
// admin API calls — the ones /admin/settings calls (implemented by
// *pat.PolicyService).
type AdminAPIPATPolicy interface {
	PolicyWithAllowlist(ctx context.Context) (pat.Policy, error)
	SetMaxLifespan(ctx context.Context, days int) error
	SetFullScope(ctx context.Context, v string) error
	SetCreation(ctx context.Context, v string) error
	SetAllowed(ctx context.Context, username string, allowed bool) error
}

// apiSettings is the organization's settings and policies.
type apiSettings struct {
	// AppRegistration is who may register apps: members, approval or admins.
	AppRegistration    string `json:"app_registration"`
	SecretLifetimeDays int    `json:"secret_lifetime_days"`
	ThirdPartyOAuth    bool   `json:"third_party_oauth"`
	PATMaxLifespanDays int    `json:"pat_max_lifespan_days"` // 0: none (one year)
	PATFullScope       string `json:"pat_full_scope"`        // allow or deny
	PATCreation        string `json:"pat_creation"`          // everyone or allowlist
	// PATAllowlist are the usernames who may create tokens under
	// pat_creation allowlist.
	PATAllowlist []string `json:"pat_allowlist"`
}

// apiSettingsPatch is the body of PATCH /settings: the fields to change.
type apiSettingsPatch struct {
	AppRegistration    *string   `json:"app_registration"`
	SecretLifetimeDays *int      `json:"secret_lifetime_days"`
	ThirdPartyOAuth    *bool     `json:"third_party_oauth"`
	PATMaxLifespanDays *int      `json:"pat_max_lifespan_days"`
	PATFullScope       *string   `json:"pat_full_scope"`
	PATCreation        *string   `json:"pat_creation"`
	PATAllowlist       *[]string `json:"pat_allowlist"`
}

// apiSettingsNow reads the settings as GET /settings shows them.
func (s *Server) apiSettingsNow(ctx context.Context) (apiSettings, error) {
	st, pp := s.cfg.AdminAPI.Settings, s.cfg.AdminAPI.PATPolicy
	var out apiSettings
	var err error
	if out.AppRegistration, err = st.RegistrationPolicy(ctx); err != nil {
		return out, err
	}
	life, err := st.SecretLifetime(ctx)
	if err != nil {
		return out, err
	}
	out.SecretLifetimeDays = int(life / (24 * time.Hour))
	if life == 0 {
		out.SecretLifetimeDays = 1826 // the default, five years (as the settings page shows it)
	}
	if out.ThirdPartyOAuth, err = st.ThirdPartyOAuth(ctx); err != nil {
		return out, err
	}
	out.PATFullScope, out.PATCreation, out.PATAllowlist = "allow", "everyone", []string{}
	if pp == nil {
		return out, nil
	}
	p, err := pp.PolicyWithAllowlist(ctx)
	if err != nil {
		return out, err
	}
	out.PATMaxLifespanDays = p.MaxLifespanDays
	if p.FullScopeDenied {
		out.PATFullScope = "deny"
	}
	if p.CreationAllowlist {
		out.PATCreation = "allowlist"
	}
	out.PATAllowlist = append(out.PATAllowlist, p.Allowlist...)
	slices.Sort(out.PATAllowlist)
	return out, nil
}

// apiSettingsGet is GET /settings: the settings with their ETag.
func (s *Server) apiSettingsGet(c echo.Context) error {
	cur, err := s.apiSettingsNow(c.Request().Context())
	if err != nil {
		return err
	}
	return writeResource(c, http.StatusOK, cur)
}

// validate checks every given field before anything changes; the
// problem lists each refused field.
func (in apiSettingsPatch) validate(pats bool) error {
	bad := map[string]string{}
	if in.AppRegistration != nil && !domain.ValidRegistrationPolicy(*in.AppRegistration) {
		bad["app_registration"] = "must be members, approval or admins"
	}
	if in.SecretLifetimeDays != nil && (*in.SecretLifetimeDays < 1 || *in.SecretLifetimeDays > admin.MaxSecretLifetimeDays) {
		bad["secret_lifetime_days"] = fmt.Sprintf("must be 1 to %d days", admin.MaxSecretLifetimeDays)
	}
	if in.PATMaxLifespanDays != nil && (*in.PATMaxLifespanDays < 0 || *in.PATMaxLifespanDays > 365) {
		bad["pat_max_lifespan_days"] = "must be 0 (none) to 365 days"
	}
	if in.PATFullScope != nil && *in.PATFullScope != "allow" && *in.PATFullScope != "deny" {
		bad["pat_full_scope"] = "must be allow or deny"
	}
	if in.PATCreation != nil && *in.PATCreation != "everyone" && *in.PATCreation != "allowlist" {
		bad["pat_creation"] = "must be everyone or allowlist"
	}
	if !pats {
		for k, v := range map[string]bool{"pat_max_lifespan_days": in.PATMaxLifespanDays != nil, "pat_full_scope": in.PATFullScope != nil,
			"pat_creation": in.PATCreation != nil, "pat_allowlist": in.PATAllowlist != nil} {
			if v {
				bad[k] = "personal access tokens are off on this server"
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "Some settings are not valid; nothing was changed.", Fields: bad}
}

// apiSettingsUpdate is PATCH /settings with If-Match (required): sets the
// given settings, each that differs from its current value as its own
// audited change (policy.set), the allowlist first (a username that does
// not exist stops there with 404). Every field is checked before
// anything changes. Answers the settings and their new ETag.
func (s *Server) apiSettingsUpdate(c echo.Context) error {
	var in apiSettingsPatch
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cur, err := s.apiSettingsNow(ctx)
	if err != nil {
		return err
	}
	if err := checkIfMatch(c, cur, true); err != nil {
		return err
	}
	pp := s.cfg.AdminAPI.PATPolicy
	if err := in.validate(pp != nil); err != nil {
		return err
	}
	st := s.cfg.AdminAPI.Settings
	if in.PATAllowlist != nil {
		for _, u := range *in.PATAllowlist {
			if !slices.Contains(cur.PATAllowlist, u) {
				if err := pp.SetAllowed(ctx, u, true); err != nil {
					return err
				}
			}
		}
		for _, u := range cur.PATAllowlist {
			if !slices.Contains(*in.PATAllowlist, u) {
				if err := pp.SetAllowed(ctx, u, false); err != nil {
					return err
				}
			}
		}
	}
	steps := []struct {
		given bool
		apply func() error
	}{
		{in.AppRegistration != nil && *in.AppRegistration != cur.AppRegistration, func() error { return st.SetRegistrationPolicy(ctx, *in.AppRegistration) }},
		{in.SecretLifetimeDays != nil && *in.SecretLifetimeDays != cur.SecretLifetimeDays, func() error { return st.SetSecretLifetimeDays(ctx, *in.SecretLifetimeDays) }},
		{in.ThirdPartyOAuth != nil && *in.ThirdPartyOAuth != cur.ThirdPartyOAuth, func() error { return st.SetThirdPartyOAuth(ctx, *in.ThirdPartyOAuth) }},
		{in.PATMaxLifespanDays != nil && *in.PATMaxLifespanDays != cur.PATMaxLifespanDays, func() error { return pp.SetMaxLifespan(ctx, *in.PATMaxLifespanDays) }},
		{in.PATFullScope != nil && *in.PATFullScope != cur.PATFullScope, func() error { return pp.SetFullScope(ctx, *in.PATFullScope) }},
		{in.PATCreation != nil && *in.PATCreation != cur.PATCreation, func() error { return pp.SetCreation(ctx, *in.PATCreation) }},
	}
	for _, st := range steps {
		if st.given {
			if err := st.apply(); err != nil {
				return err
			}
		}
	}
	now, err := s.apiSettingsNow(ctx)
	if err != nil {
		return err
	}
	return writeResource(c, http.StatusOK, now)
}
