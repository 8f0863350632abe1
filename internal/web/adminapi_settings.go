package web

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/pat"
)

// AdminAPISettings is the organization settings' use cases the admin API
// calls: the readers /admin/settings calls and UpdateSettings, which
// changes several settings (the personal access token policies too) in
// one transaction (implemented by *admin.Service).
type AdminAPISettings interface {
	RegistrationPolicy(ctx context.Context) (string, error)
	SecretLifetime(ctx context.Context) (time.Duration, error)
	ThirdPartyOAuth(ctx context.Context) (bool, error)
	UpdateSettings(ctx context.Context, ch admin.SettingsChange, check func(ctx context.Context) error) error
}

// AdminAPIPATPolicy is the personal access token policies' reader the
// admin API calls — the one /admin/settings calls (implemented by
// *pat.PolicyService). Nil when personal access tokens are off; the
// settings use case then refuses a change of them.
type AdminAPIPATPolicy interface {
	PolicyWithAllowlist(ctx context.Context) (pat.Policy, error)
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

// change is the use case's input for the patch.
func (in apiSettingsPatch) change() admin.SettingsChange {
	return admin.SettingsChange{AppRegistration: in.AppRegistration, SecretLifetimeDays: in.SecretLifetimeDays,
		ThirdPartyOAuth: in.ThirdPartyOAuth, PATMaxLifespanDays: in.PATMaxLifespanDays, PATFullScope: in.PATFullScope,
		PATCreation: in.PATCreation, PATAllowlist: in.PATAllowlist}
}

// apiSettingsUpdate is PATCH /settings with If-Match (required): sets the
// given settings in one transaction (admin.UpdateSettings): every field
// is checked before anything changes, the If-Match comparison runs inside
// the transaction on the settings as they are there, and each setting
// that differs from its current value is audited as the settings page
// audits it (policy.set; the allowlist first, a username that does not
// exist is 404 with nothing changed). Answers the settings and their new
// ETag.
func (s *Server) apiSettingsUpdate(c echo.Context) error {
	var in apiSettingsPatch
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	match, err := ifMatch(c, true)
	if err != nil {
		return err
	}
	check := func(ctx context.Context) error {
		if match == nil {
			return nil
		}
		cur, err := s.apiSettingsNow(ctx)
		if err != nil {
			return err
		}
		return match(cur)
	}
	ctx := c.Request().Context()
	if err := s.cfg.AdminAPI.Settings.UpdateSettings(ctx, in.change(), check); err != nil {
		return err
	}
	now, err := s.apiSettingsNow(ctx)
	if err != nil {
		return err
	}
	return writeResource(c, http.StatusOK, now)
}
