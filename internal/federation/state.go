package federation

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/connector"
)

// StateTTL is how long a started redirect sign-in may take before its
// callback is refused.
const StateTTL = 10 * time.Minute

type sealedState struct {
	State    connector.State `json:"s"`
	ReturnTo string          `json:"r"`
	At       int64           `json:"t"` // Unix seconds
}

// SealState packs a started redirect sign-in (state, nonce, PKCE verifier
// and where to go afterwards) into an opaque value for a browser cookie,
// sealed with the key file (AES-256-GCM, bound to the connector name): no
// server-side row is written for a person who is not signed in yet.
func (s *SignInService) SealState(name string, st connector.State, returnTo string) string {
	b, _ := json.Marshal(sealedState{State: st, ReturnTo: returnTo, At: s.now().Unix()})
	return base64.RawURLEncoding.EncodeToString(s.sealer.Seal(b, "signin-state:"+name))
}

// OpenState opens a value of SealState for the connector name. Errors:
// Unauthorized when it does not open (another connector, altered, another
// key file) or is older than StateTTL.
func (s *SignInService) OpenState(name, v string) (connector.State, string, error) {
	bad := apperr.Errorf(apperr.Unauthorized, "This sign-in expired or was started in another browser. Start again below.")
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) > 4096 {
		return connector.State{}, "", bad
	}
	b, err := s.sealer.Open(raw, "signin-state:"+name)
	if err != nil {
		return connector.State{}, "", bad
	}
	var ss sealedState
	if json.Unmarshal(b, &ss) != nil || ss.State.State == "" {
		return connector.State{}, "", bad
	}
	if age := s.now().Sub(time.Unix(ss.At, 0)); age < -time.Minute || age > StateTTL {
		return connector.State{}, "", bad
	}
	return ss.State, ss.ReturnTo, nil
}
