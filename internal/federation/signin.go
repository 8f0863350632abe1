package federation

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// SignInStore is what sign-in through a connector needs (implemented by
// *store.DB). Lookups return NotFound; creates return Conflict on a
// duplicate.
type SignInStore interface {
	Transactor
	Connectors(ctx context.Context) ([]domain.Connector, error)
	ConnectorByName(ctx context.Context, name string) (domain.Connector, error)
	UserBySubject(ctx context.Context, source, subject string) (domain.User, error)
	UserByID(ctx context.Context, id string) (domain.User, error)
	// LockUser locks the user's row until the write transaction ends
	// (PostgreSQL SELECT … FOR UPDATE; nothing on SQLite, whose writers
	// are serialized already).
	LockUser(ctx context.Context, id string) error
	UserByUsername(ctx context.Context, username string) (domain.User, error)
	CreateUser(ctx context.Context, u domain.User) error
	UpdateUser(ctx context.Context, u domain.User, at time.Time) error
	TouchUserSignIn(ctx context.Context, id string, at time.Time) error
	LinkUser(ctx context.Context, id, source, subject string, at time.Time) error
	AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error)
}

// SignInService signs people in through a connector: the options on
// /signin, the redirect login (URL, sealed state, callback) and the
// password login, the user linked by (connector, subject) — created on
// first sign-in, role and profile following the directory — and the
// administrator's explicit link of an existing user (LinkUser).
type SignInService struct {
	store    SignInStore
	sealer   Sealer
	disabler Disabler
	conns    *upstreams
	now      func() time.Time
}

// Option is a connector as the sign-in page offers it.
type Option struct {
	Name string
	Type string
}

// SignInOptions lists the connectors for /signin.
func (s *SignInService) SignInOptions(ctx context.Context) ([]Option, error) {
	cs, err := s.store.Connectors(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Option, len(cs))
	for i, c := range cs {
		out[i] = Option{Name: c.Name, Type: c.Type}
	}
	return out, nil
}

// ConnectorType returns the type of the connector name. Errors: NotFound.
func (s *SignInService) ConnectorType(ctx context.Context, name string) (string, error) {
	c, err := s.store.ConnectorByName(ctx, name)
	return c.Type, err
}

// BeginLogin starts a redirect sign-in: fresh state, nonce and PKCE
// verifier (kept by the caller in the session) and the upstream URL.
// Errors: NotFound; Invalid for a password connector; Unavailable.
func (s *SignInService) BeginLogin(ctx context.Context, name, redirectURI string) (string, connector.State, error) {
	conn, _, err := s.conns.instance(ctx, name)
	if err != nil {
		return "", connector.State{}, err
	}
	r, ok := conn.(connector.Redirector)
	if !ok {
		return "", connector.State{}, apperr.Errorf(apperr.Invalid, "%s signs in with a username and password on the sign-in page", name)
	}
	st := connector.State{State: rand.Text(), Nonce: rand.Text(), Verifier: rand.Text() + rand.Text()}
	u, err := r.LoginURL(ctx, redirectURI, st)
	return u, st, err
}

// FinishLogin completes a redirect sign-in from the callback's query and
// signs the identity in (see signIn).
func (s *SignInService) FinishLogin(ctx context.Context, name, redirectURI string, st connector.State, q map[string][]string) (domain.User, error) {
	conn, cfg, err := s.conns.instance(ctx, name)
	if err != nil {
		return domain.User{}, err
	}
	r, ok := conn.(connector.Redirector)
	if !ok {
		return domain.User{}, apperr.Errorf(apperr.NotFound, "no such sign-in")
	}
	id, err := r.Callback(ctx, redirectURI, st, q)
	if err != nil {
		return domain.User{}, err
	}
	return s.signIn(ctx, name, cfg, id)
}

// PasswordLogin checks a name and password against an LDAP connector and
// signs the identity in. Errors: NotFound; Unauthorized; Unavailable;
// Forbidden (see signIn).
func (s *SignInService) PasswordLogin(ctx context.Context, name, username, password string) (domain.User, error) {
	conn, cfg, err := s.conns.instance(ctx, name)
	if err != nil {
		return domain.User{}, err
	}
	p, ok := conn.(connector.PasswordChecker)
	if !ok {
		return domain.User{}, apperr.Errorf(apperr.Invalid, "%s signs in through its own page: use its button", name)
	}
	id, err := p.Login(ctx, username, password)
	if apperr.Is(err, apperr.Unauthorized) {
		// Audited like a wrong local password (session.signin_failed,
		// aggregated per name, address and minute).
		if ferr := s.disabler.NoteFailedSignIn(ctx, name+"/"+username); ferr != nil {
			return domain.User{}, ferr
		}
	}
	if err != nil {
		return domain.User{}, err
	}
	return s.signIn(ctx, name, cfg, id)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._@-]+`)

// baseUsername turns an upstream name into a valid username.
func baseUsername(name, fallback string) string {
	n := unsafeName.ReplaceAllString(name, "_")
	n = strings.TrimLeft(n, "._@-")
	if len(n) > 56 {
		n = n[:56]
	}
	if n == "" {
		n = fallback
	}
	return n
}

// noAccess is the answer to a person in no allowed group.
func noAccess(name string) error {
	return apperr.Errorf(apperr.Forbidden, "Your account at %s is not in a group allowed to use oauthdesk. Ask your administrator for access.", name)
}

// signIn links id to its user — found by (connector, subject), created
// on first sign-in (just in time) — in one transaction: the role follows
// the groups, display name and e-mail follow the directory, the sign-in
// time is recorded and audited (session.signin). A username that another
// account already has is never signed into: the new user gets a suffixed
// name. Errors: Forbidden for a person in no allowed group, disabled
// upstream, or whose account here is disabled.
func (s *SignInService) signIn(ctx context.Context, source string, cfg connector.Config, id connector.Identity) (domain.User, error) {
	if id.Subject == "" {
		return domain.User{}, apperr.Errorf(apperr.Unauthorized, "The sign-in service did not identify you (no subject).")
	}
	if id.Disabled {
		return domain.User{}, apperr.Errorf(apperr.Forbidden, "Your account at %s is disabled.", source)
	}
	role, ok := cfg.Role(id.Groups)
	if !ok {
		return domain.User{}, noAccess(source)
	}
	name := cut(strings.TrimSpace(id.Name), 128)
	email := strings.TrimSpace(id.Email)
	if len(email) > 254 || strings.ContainsAny(email, " \t\r\n<>") || (email != "" && !strings.Contains(email, "@")) {
		email = ""
	}
	now := s.now()
	var u domain.User
	var err error
	// Two first sign-ins of one person (or of two people with one name)
	// on two replicas at once: the loser's insert hits the unique index
	// and its next attempt finds the winner's user (or a free suffix).
	for attempt := 0; attempt < 3; attempt++ {
		err = s.signInTx(ctx, source, id, role, name, email, now, &u)
		if !apperr.Is(err, apperr.Conflict) {
			break
		}
	}
	if err != nil {
		return domain.User{}, err
	}
	u.LastSignInAt = &now
	return u, nil
}

// signInTx is one attempt of signIn's transaction. The linked user's row
// is locked (store.LockUser) before the read that the directory's changes
// are written back from, since UpdateUser writes every column of that
// read: an administrator's disable (or role change) committed on another
// replica after the sign-in found the user is seen, and the sign-in is
// refused, instead of being undone by the sign-in's write; one that
// comes later waits for the sign-in and keeps what it wrote.
func (s *SignInService) signInTx(ctx context.Context, source string, id connector.Identity, role domain.Role, name, email string, now time.Time, out *domain.User) error {
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		found, err := s.store.UserBySubject(ctx, source, id.Subject)
		switch {
		case apperr.Is(err, apperr.NotFound):
			return s.create(ctx, source, id, role, name, email, now, out)
		case err != nil:
			return err
		}
		if err := s.store.LockUser(ctx, found.ID); err != nil {
			return err
		}
		u, err := s.store.UserByID(ctx, found.ID)
		if err != nil {
			return err
		}
		if !u.Active() {
			return apperr.Errorf(apperr.Forbidden, "Your account here is disabled. Ask your administrator.")
		}
		before := u.Role
		if u.Role != role || (name != "" && u.DisplayName != name) || u.Email != email {
			u.Role, u.Email = role, email
			if name != "" {
				u.DisplayName = name
			}
			if err := s.store.UpdateUser(ctx, u, now); err != nil {
				return err
			}
			u.Revision++
			if before != role {
				if _, err := s.store.AppendAudit(ctx, audit.New(ctx, now, audit.ActionUserRole, audit.TargetUser, u.ID,
					map[string]any{"username": u.Username, "before": string(before), "after": string(role), "by": "directory-groups", "connector": source})); err != nil {
					return err
				}
			}
		}
		*out = u
		return s.signedIn(ctx, u, source, now)
	})
}

func (s *SignInService) signedIn(ctx context.Context, u domain.User, source string, now time.Time) error {
	if err := s.store.TouchUserSignIn(ctx, u.ID, now); err != nil {
		return err
	}
	ev := audit.New(ctx, now, audit.ActionSignIn, audit.TargetUser, u.ID, map[string]any{"username": u.Username, "connector": source})
	ev.Actor, ev.ActorID = u.Username, u.ID
	_, err := s.store.AppendAudit(ctx, ev)
	return err
}

// create makes the user of a first sign-in.
func (s *SignInService) create(ctx context.Context, source string, id connector.Identity, role domain.Role, name, email string, now time.Time, out *domain.User) error {
	base := baseUsername(id.Username, source+"-user")
	username := base
	for i := 2; ; i++ {
		_, err := s.store.UserByUsername(ctx, username)
		if apperr.Is(err, apperr.NotFound) {
			break
		}
		if err != nil {
			return err
		}
		if i > 50 {
			username = base + "-" + strings.ToLower(rand.Text()[:6])
			break
		}
		username = fmt.Sprintf("%s-%d", base, i)
	}
	if name == "" {
		name = username
	}
	u := domain.User{ID: uuid.NewString(), Username: username, DisplayName: name, Email: email, Role: role,
		CreatedAt: now, UpdatedAt: now, Revision: 1, Source: source, Subject: id.Subject}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return err
	}
	details := map[string]any{"username": username, "role": string(role), "connector": source}
	if username != base {
		details["upstream_username"] = id.Username
	}
	if _, err := s.store.AppendAudit(ctx, audit.New(ctx, now, audit.ActionUserAdd, audit.TargetUser, u.ID, details)); err != nil {
		return err
	}
	*out = u
	return s.signedIn(ctx, u, source, now)
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// LinkUser links the local user username to the identity subject of the
// connector name: the administrator's explicit action that lets an
// existing account sign in through the directory (never done by
// matching names or e-mail). Audited (user.link). Errors: NotFound (user
// or connector); Conflict when the user is already linked or another user
// holds that identity; Invalid for an empty subject.
func (s *SignInService) LinkUser(ctx context.Context, username, name, subject string) (domain.User, error) {
	subject = strings.TrimSpace(subject)
	if subject == "" || len(subject) > 512 {
		return domain.User{}, apperr.Errorf(apperr.Invalid, "--subject must be the connector's stable subject (OIDC sub, LDAP entryUUID), 1-512 bytes")
	}
	var u domain.User
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.ConnectorByName(ctx, name); err != nil {
			return err
		}
		var err error
		if u, err = s.store.UserByUsername(ctx, username); err != nil {
			return err
		}
		if u.Source != "" && u.Source != domain.SourceLocal {
			return apperr.Errorf(apperr.Conflict, "%s already signs in through %s", u.Username, u.Source)
		}
		if other, err := s.store.UserBySubject(ctx, name, subject); err == nil {
			return apperr.Errorf(apperr.Conflict, "that identity of %s is already linked to %s", name, other.Username)
		} else if !apperr.Is(err, apperr.NotFound) {
			return err
		}
		if err := s.store.LinkUser(ctx, u.ID, name, subject, s.now()); err != nil {
			return err
		}
		u.Source, u.Subject = name, subject
		_, err = s.store.AppendAudit(ctx, audit.New(ctx, s.now(), audit.ActionUserLink, audit.TargetUser, u.ID,
			map[string]any{"username": u.Username, "connector": name, "subject": subject}))
		return err
	})
	return u, err
}
