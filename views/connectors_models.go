package views

import "net/url"

// ConnectorsPage is /admin/settings/connectors.
type ConnectorsPage struct {
	Nav
	CanManage   bool
	Flash       string
	Error       string
	BaseURL     string
	LocalSignIn string // "everyone" or "admins-only"
	Connectors  []ConnectorRow
}

// ConnectorRow is one connector in the list: never its secret.
type ConnectorRow struct {
	Name        string
	Type        string
	Where       string // issuer URL or LDAP URL
	CallbackURL string // OIDC: the redirect URI to register upstream
	RoleMap     string // "group=role, …"
	DefaultRole string
	LastSync    string
	SyncError   string
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
