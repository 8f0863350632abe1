package oauth

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/secret"
)

// The device authorization grant (RFC 8628): a device without a browser
// asks for a device code and a user code, the user types the user code at
// /device and approves on the consent page, and the device polls the
// token endpoint.

// DeviceStore is what the device grant needs beside the consent store.
type DeviceStore interface {
	CreateDeviceCode(ctx context.Context, d domain.DeviceCode) error
	DeviceCodeByDeviceHash(ctx context.Context, hash []byte) (domain.DeviceCode, error)
	DeviceCodeByUserCodeHash(ctx context.Context, hash []byte) (domain.DeviceCode, error)
	DecideDeviceCode(ctx context.Context, id, status, userID, authorizationID string, authTime, at time.Time) (bool, error)
	MarkDeviceCodeUsed(ctx context.Context, id string) (bool, error)
	TouchDeviceCodePoll(ctx context.Context, id string, at time.Time) error
}

// Device code lifetime and polling interval (RFC 8628 §3.2).
const (
	DeviceCodeTTL  = 10 * time.Minute
	DevicePollWait = 5 * time.Second
)

// DeviceAuthorization is the device authorization response (RFC 8628
// §3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// userCodeAlphabet has no vowels (no words) and no look-alikes (RFC 8628
// §6.1): 20 letters, 8 of them give 20^8 ≈ 2.6·10^10 codes.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	var b [8]byte
	out := make([]byte, 0, 9)
	for i := 0; i < len(b); {
		if _, err := rand.Read(b[i : i+1]); err != nil {
			continue
		}
		if b[i] >= 240 { // 240 = 12·20: no modulo bias
			continue
		}
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, userCodeAlphabet[b[i]%20])
		i++
	}
	return string(out)
}

// NormalizeUserCode upper-cases a typed user code and drops everything
// but its letters (dashes, spaces), as RFC 8628 §6.1 recommends.
func NormalizeUserCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// DeviceAuthorize starts a device authorization (RFC 8628 §3.1-3.2) for
// an authenticated client allowed the device grant: it stores the hashes
// of a new device code and user code, valid DeviceCodeTTL. Errors:
// invalid_client, unauthorized_client, invalid_scope (*Error, Standard);
// storage.
//
// A confidential client may name itself by client_id alone here (as
// golang.org/x/oauth2 does): the device code it gets is worth nothing
// without its secret at the token endpoint.
func (s *Service) DeviceAuthorize(ctx context.Context, cc ClientCredentials, scope string) (DeviceAuthorization, error) {
	now := s.now()
	idOnly := cc
	if cc.ClientSecret == "" {
		idOnly.ClientID = ""
	}
	app, _, err := s.AuthenticateClient(ctx, idOnly, now)
	if cc.ClientSecret == "" {
		app, err = s.identifyClient(ctx, cc.ClientID)
	}
	if err != nil {
		return DeviceAuthorization{}, err
	}
	if !app.AllowsGrant(domain.GrantDeviceCode) {
		return DeviceAuthorization{}, ErrStdGrantNotAllowed
	}
	oidc, catalog, err := splitStandardScopes(s.scopes, scope)
	if err != nil || len(s.scopes.Covers(app.Scopes, catalog)) > 0 {
		return DeviceAuthorization{}, ErrStdScopeNotRegistered
	}
	if !app.AllowsGrant(domain.GrantRefreshToken) {
		oidc = slices.DeleteFunc(oidc, func(s string) bool { return s == ScopeOfflineAccess })
	}
	scopes := append(oidc, catalog...)
	if len(scopes) == 0 {
		return DeviceAuthorization{}, stdErr("invalid_scope", "scope is required", 400)
	}
	device, user := secret.New(secret.PrefixDeviceCode), newUserCode()
	err = s.devices.CreateDeviceCode(ctx, domain.DeviceCode{ID: uuid.NewString(), DeviceHash: secret.Hash(device),
		UserCodeHash: secret.Hash(NormalizeUserCode(user)), ClientID: app.ClientID, Scopes: scopes,
		CreatedAt: now, ExpiresAt: now.Add(DeviceCodeTTL)})
	if err != nil {
		return DeviceAuthorization{}, err
	}
	uri := s.cfg.Issuer + "/device"
	return DeviceAuthorization{DeviceCode: device, UserCode: user, VerificationURI: uri,
		VerificationURIComplete: uri + "?user_code=" + user, ExpiresIn: int64(DeviceCodeTTL / time.Second),
		Interval: int64(DevicePollWait / time.Second)}, nil
}

// DeviceConsent is a pending device request as the /device page shows it.
type DeviceConsent struct {
	UserCode string
	App      domain.App
	Scopes   []string
}

// errUserCode is the one answer to a user code that cannot be approved:
// unknown, expired or already answered look alike.
var errUserCode = apperr.Errorf(apperr.Invalid, "That code is not valid or has expired. Check the code on your device, or start again there.")

// CheckDevice looks up a typed user code. Errors: Invalid (see
// errUserCode); storage.
func (s *Service) CheckDevice(ctx context.Context, userCode string) (DeviceConsent, error) {
	dc, err := s.devices.DeviceCodeByUserCodeHash(ctx, secret.Hash(NormalizeUserCode(userCode)))
	if apperr.Is(err, apperr.NotFound) {
		return DeviceConsent{}, errUserCode
	}
	if err != nil {
		return DeviceConsent{}, err
	}
	if dc.Status != domain.DeviceCodePending || !s.now().Before(dc.ExpiresAt) {
		return DeviceConsent{}, errUserCode
	}
	app, err := s.consents.ClientByID(ctx, dc.ClientID)
	if err != nil || app.DeletedAt != nil {
		return DeviceConsent{}, errUserCode
	}
	return DeviceConsent{UserCode: userCode, App: app, Scopes: dc.Scopes}, nil
}

// DecideDevice records the signed-in user's answer for a user code: on
// accept the authorization is created or widened (one consent for every
// flow) and the device code approved, in one transaction; on deny the
// device gets access_denied. authTime is when the user signed in. Errors:
// Invalid (errUserCode, also when another answer came first); storage.
func (s *Service) DecideDevice(ctx context.Context, userID, userCode string, accept bool, authTime time.Time) (DeviceConsent, error) {
	c, err := s.CheckDevice(ctx, userCode)
	if err != nil {
		return DeviceConsent{}, err
	}
	dc, err := s.devices.DeviceCodeByUserCodeHash(ctx, secret.Hash(NormalizeUserCode(userCode)))
	if err != nil {
		return DeviceConsent{}, err
	}
	now := s.now()
	err = s.consents.WriteTx(ctx, func(ctx context.Context) error {
		status, authzID := domain.DeviceCodeDenied, ""
		if accept {
			status = domain.DeviceCodeApproved
			if authzID, err = s.grantAuthorization(ctx, userID, dc.ClientID, dc.Scopes, c.App.CallbackURL, now); err != nil {
				return err
			}
		}
		won, err := s.devices.DecideDeviceCode(ctx, dc.ID, status, userID, authzID, authTime, now)
		if err != nil {
			return err
		}
		if !won {
			return errUserCode
		}
		if !accept {
			return s.record(ctx, now, audit.ActionConsentDeny, audit.TargetApp, dc.ClientID,
				map[string]any{"user_id": userID, "scopes": dc.Scopes, "flow": "device"})
		}
		return nil
	})
	return c, err
}

// deviceGrant is the device_code grant (RFC 8628 §3.4-3.5): the device
// polls with its device code until the user answered.
type deviceGrant struct {
	s  *Service
	dc domain.DeviceCode
}

func (g *deviceGrant) find(ctx context.Context, deviceCode string) (string, error) {
	dc, err := g.s.devices.DeviceCodeByDeviceHash(ctx, secret.Hash(deviceCode))
	if apperr.Is(err, apperr.NotFound) {
		return "", ErrGrantInvalid
	}
	if err != nil {
		return "", err
	}
	g.dc = dc
	return dc.ClientID, nil
}

// validate answers a poll: slow_down when it came sooner than the
// interval after the previous one, expired_token after DeviceCodeTTL,
// authorization_pending until the user answered, access_denied on deny;
// on approval the device code is spent (exactly one concurrent poll
// wins) and the grant issued in the chain of the device code's id.
func (g *deviceGrant) validate(ctx context.Context, t grantRequest) (issuance, error) {
	s, dc := g.s, g.dc
	if err := s.devices.TouchDeviceCodePoll(ctx, dc.ID, t.now); err != nil {
		return issuance{}, err
	}
	switch {
	case !t.now.Before(dc.ExpiresAt):
		return issuance{}, ErrStdExpiredToken
	case dc.PolledAt != nil && t.now.Sub(*dc.PolledAt) < DevicePollWait && dc.Status == domain.DeviceCodePending:
		return issuance{}, ErrStdSlowDown
	case dc.Status == domain.DeviceCodePending:
		return issuance{}, ErrStdAuthorizationPending
	case dc.Status == domain.DeviceCodeDenied:
		return issuance{}, ErrStdAccessDenied
	case dc.Status != domain.DeviceCodeApproved:
		return issuance{}, ErrGrantInvalid
	}
	won, err := s.devices.MarkDeviceCodeUsed(ctx, dc.ID)
	if err != nil {
		return issuance{}, err
	}
	if !won {
		return issuance{}, ErrGrantInvalid
	}
	authz, err := s.codes.AuthorizationByID(ctx, dc.AuthorizationID)
	if err != nil {
		return issuance{}, err
	}
	if !authz.Active() {
		return issuance{}, ErrAuthorizationGone
	}
	return issuance{authz: authz, familyID: dc.ID, scopes: grantedScopes(s.scopes, dc.Scopes, authz, t.app), authTime: dc.AuthTime}, nil
}
