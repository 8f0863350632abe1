package domain

// Keys of the organization settings (the settings table; the admin
// Settings page and `oauthdesk policy` change them).
const (
	// SettingThirdPartyOAuth is the policy "Third-party application access
	// via OAuth" (seed 001 FAQ): "on" unless set to "off"; when off every
	// REST call answers TF400813 (PROTOCOL.md, "Using tokens").
	SettingThirdPartyOAuth = "third_party_oauth"
	// SettingSecretLifetimeDays is the lifetime of new client secrets in
	// days, 1 to five years (the seeds' lifetime).
	SettingSecretLifetimeDays = "secret_lifetime_days"
	// SettingAppRegistration is who may register apps: PolicyMembers
	// (default), PolicyApproval or PolicyAdmins.
	SettingAppRegistration = "app_registration"
)
