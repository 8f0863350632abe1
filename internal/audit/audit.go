// Package audit defines oauthdesk's tamper-evident audit log: every state
// change — from the dashboard, the CLI or the REST API — appends one Event
// in the same transaction as the change. Each event stores the SHA-256 of
// the previous event (a hash chain, like a ledger), so editing, deleting
// or reordering a stored event breaks the chain at that point and Verify
// reports it.
//
// The actor of a change travels in the context (WithActor), set once at
// the edge: the signed-in user in the dashboard, "cli" on the command
// line, the token's user on the REST API, "system" for automatic actions.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Actions. Names are "<target>.<verb>".
const (
	ActionUserAdd             = "user.add"
	ActionAppRegister         = "app.register"
	ActionAppDelete           = "app.delete"
	ActionAppScopes           = "app.scopes_change"
	ActionAppImport           = "app.import"
	ActionReportRun           = "report.run"
	ActionSecretCreate        = "secret.create"
	ActionSecretRegenerate    = "secret.regenerate"
	ActionSecretRetire        = "secret.retire"
	ActionConsentGrant        = "consent.grant"
	ActionConsentDeny         = "consent.deny"
	ActionAuthorizationRevoke = "authorization.revoke"
	ActionTokenFamilyRevoke   = "token_family.revoke"
	ActionTokenRefreshRetry   = "token.refresh_retry" // a rotated refresh token presented again within the grace window
	ActionPolicySet           = "policy.set"
	ActionSignIn              = "session.signin"
	ActionSignInFailed        = "session.signin_failed"
	ActionSignOut             = "session.signout"
	ActionKeyRotate           = "signing_key.rotate"
	ActionAppUpdate           = "app.update"
	ActionAppApprove          = "app.approve"
	ActionAppReject           = "app.reject"
	ActionAppOwnerAdd         = "app.owner_add"
	ActionAppOwnerRemove      = "app.owner_remove"
	ActionAppHandOver         = "app.hand_over"
	ActionUserRole            = "user.role"
	ActionUserDisable         = "user.disable"
	ActionUserEnable          = "user.enable"
	ActionUserPasswordReset   = "user.password_reset"
	ActionUserPasswordChange  = "user.password_change"
	ActionUserDelete          = "user.delete"
)

// Target types.
const (
	TargetUser          = "user"
	TargetApp           = "app"
	TargetSecret        = "secret"
	TargetAuthorization = "authorization"
	TargetPolicy        = "policy"
	TargetSigningKey    = "signing_key"
)

// Actor names for changes not made by a signed-in user.
const (
	ActorCLI    = "cli"
	ActorSystem = "system"
)

// Actor is who made a change: a username (or "cli", "system"), the user's
// id when there is one, and the remote address of the request.
type Actor struct {
	Name       string
	ID         string
	RemoteAddr string
	// Via names the channel of the change when it is not the dashboard or
	// the CLI: ViaAdminAPI for the admin REST API. New records it in the
	// event's details as "via" (hashed with them).
	Via string
}

// ViaAdminAPI marks a change made through the admin REST API
// (/_apis/oauthdesk/v1/), by the token's user.
const ViaAdminAPI = "admin_api"

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or "system" when none was set.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Name != "" {
		return a
	}
	return Actor{Name: ActorSystem}
}

// Event is one audit log entry. Seq is its position in the chain (1, 2, …);
// Details is a flat JSON object (scopes before and after, affected counts,
// …); PrevHash and Hash are hex SHA-256 digests.
type Event struct {
	Seq        int64
	ID         string
	At         time.Time
	Actor      string
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	Details    map[string]any
	RawDetails string // Details as stored (JSON); hashed verbatim when set
	RemoteAddr string
	PrevHash   string
	Hash       string
	// AppID and UserID name the app (client id) and the user the event
	// concerns, "" when none: an index for "everything about this app /
	// user", derived when the event is stored (Subjects, plus the app and
	// user of an authorization target; when no other user is concerned,
	// the acting user, ActorID). They are not hashed: they follow from
	// the hashed actor, target and details.
	AppID  string
	UserID string
}

// Subjects returns the app (client id) and user (user id) e concerns as
// far as its own target and details say: an app or secret target is the
// app, a user target the user; otherwise a "client_id" / "user_id" string
// in Details (a consent denial's user, an owner added to an app). An
// authorization target's app and user are the authorization's, which
// only the store knows; it fills them when it stores the event.
func (e Event) Subjects() (app, user string) {
	switch e.TargetType {
	case TargetApp, TargetSecret:
		app = e.TargetID
	case TargetUser:
		user = e.TargetID
	}
	if v, ok := e.Details["client_id"].(string); ok && app == "" {
		app = v
	}
	if v, ok := e.Details["user_id"].(string); ok && user == "" {
		user = v
	}
	return app, user
}

// GenesisHash is the PrevHash of the first event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// New builds an event for ctx's actor at at. details may be nil.
func New(ctx context.Context, at time.Time, action, targetType, targetID string, details map[string]any) Event {
	a := ActorFrom(ctx)
	if details == nil {
		details = map[string]any{}
	}
	if a.Via != "" {
		d := make(map[string]any, len(details)+1)
		for k, v := range details {
			d[k] = v
		}
		d["via"] = a.Via
		details = d
	}
	return Event{At: at.UTC(), Actor: a.Name, ActorID: a.ID, Action: action, TargetType: targetType,
		TargetID: targetID, Details: details, RemoteAddr: CleanAddr(a.RemoteAddr)}
}

// CleanAddr returns s as a canonical IP address (IPv4-mapped IPv6
// addresses as IPv4, no zone), or "" when s is not one: the audit log
// stores a parsed address, never text taken verbatim from a request.
func CleanAddr(s string) string {
	if len(s) > 64 {
		return ""
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return ""
	}
	return a.Unmap().WithZone("").String()
}

// DetailsJSON returns the stored JSON (RawDetails) when set, else Details
// as canonical JSON (keys sorted, as encoding/json sorts map keys).
func (e Event) DetailsJSON() string {
	if e.RawDetails != "" {
		return e.RawDetails
	}
	b, err := json.Marshal(e.Details)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// ComputeHash returns the hex SHA-256 over prev and every field of e but
// Hash, each length-prefixed so that no two different events serialise
// alike. Times are hashed as RFC 3339 with nanoseconds, UTC.
func (e Event) ComputeHash(prev string) string {
	h := sha256.New()
	for _, f := range []string{
		prev, strconv.FormatInt(e.Seq, 10), e.ID, e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.ActorID,
		e.Action, e.TargetType, e.TargetID, e.DetailsJSON(), e.RemoteAddr,
	} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Break describes the first broken link of the chain.
type Break struct {
	Seq    int64
	Reason string
}

// Verifier walks a chain in Seq order. Feed it every event; the first
// broken link is kept.
type Verifier struct {
	prev    string
	nextSeq int64
	count   int64
	broken  *Break
}

// NewVerifier starts a walk from the genesis.
func NewVerifier() *Verifier { return &Verifier{prev: GenesisHash, nextSeq: 1} }

// Add checks one event. It returns false once the chain is broken.
func (v *Verifier) Add(e Event) bool {
	if v.broken != nil {
		return false
	}
	v.count++
	switch {
	case e.Seq != v.nextSeq:
		v.broken = &Break{Seq: v.nextSeq, Reason: "event " + strconv.FormatInt(v.nextSeq, 10) + " is missing (next stored event is " + strconv.FormatInt(e.Seq, 10) + ")"}
	case !strings.EqualFold(e.PrevHash, v.prev):
		v.broken = &Break{Seq: e.Seq, Reason: "its previous-hash does not match the event before it"}
	case !strings.EqualFold(e.Hash, e.ComputeHash(e.PrevHash)):
		v.broken = &Break{Seq: e.Seq, Reason: "its content does not match its hash (the event was edited)"}
	}
	if v.broken != nil {
		return false
	}
	v.prev, v.nextSeq = e.Hash, e.Seq+1
	return true
}

// Result returns how many events were checked and the first break, if any.
func (v *Verifier) Result() (int64, *Break) { return v.count, v.broken }

// Filter selects audit events. Empty fields match everything; Since
// and Until bound At (inclusive, exclusive). BeforeSeq pages backwards
// (newest first): events with Seq < BeforeSeq. Limit defaults to 50, at
// most 1000.
type Filter struct {
	AppID      string // events concerning this app (client id)
	UserID     string // events concerning this user (user id), including those the user did
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	Since      time.Time
	Until      time.Time
	BeforeSeq  int64
	Limit      int
}
