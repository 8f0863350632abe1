package domain

import (
	"regexp"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// SourceLocal is User.Source of users who sign in with a password kept by
// oauthdesk.
const SourceLocal = "local"

// Connector types.
const (
	ConnectorOIDC = "oidc"
	ConnectorLDAP = "ldap"
)

// SettingLocalSignIn is who may sign in with a local password:
// LocalSignInEveryone (default) or LocalSignInAdminsOnly (the break-glass
// administrators), for organizations that sign in through a connector.
const SettingLocalSignIn = "local_signin"

// Values of SettingLocalSignIn.
const (
	LocalSignInEveryone   = "everyone"
	LocalSignInAdminsOnly = "admins-only"
)

// Connector is a configured upstream identity source: an OpenID Connect
// provider or an LDAP directory. Config is its JSON settings without the
// secret; Secret is the client secret or service bind password sealed
// with the key file (internal/keyseal, label "connector:"+Name).
type Connector struct {
	Name          string
	Type          string
	Config        []byte
	Secret        []byte
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastSyncAt    *time.Time
	LastSyncError string
}

var connectorNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ValidateConnectorName checks a connector name: 1-32 lowercase letters,
// digits or '-', starting with a letter or digit (it appears in
// /signin/NAME and as users' source). "local" is reserved. Errors:
// Invalid.
func ValidateConnectorName(name string) error {
	if !connectorNameRE.MatchString(name) || name == SourceLocal {
		return apperr.Errorf(apperr.Invalid, "connector name %q must be 1-32 lowercase letters, digits or '-' (and not \"local\")", name)
	}
	return nil
}
