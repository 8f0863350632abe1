package admin

import (
	"context"
	"crypto/rand"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
)

// UserStore keeps the dashboard's users.
type UserStore interface {
	Writer
	AuditAppender
	CreateUser(ctx context.Context, u domain.User) error
	UserByUsername(ctx context.Context, username string) (domain.User, error)
	UserByID(ctx context.Context, id string) (domain.User, error)
	CountUsersByRole(ctx context.Context, role domain.Role) (int64, error)
	ListUsers(ctx context.Context, f domain.UserFilter) (domain.UserPage, error)
	UpdateUser(ctx context.Context, u domain.User, at time.Time) error
	// LockUser locks the user's row until the write transaction ends
	// (PostgreSQL SELECT … FOR UPDATE; nothing on SQLite).
	LockUser(ctx context.Context, id string) error
	CountActiveAdmins(ctx context.Context) (int64, error)
	RevokeUserRefreshTokens(ctx context.Context, userID string, at time.Time) error
}

// UserService is the users slice: create (and the bootstrap admin),
// roles with the last-admin rule, disable and enable, password reset and
// change, delete. It calls the authorizations slice (a deleted user's
// revocation cascade) and shares the password hashing slots with sign-in.
type UserService struct {
	store UserStore
	recorder
	*hashing
	now   func() time.Time
	authz *AuthorizationService
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Username    string
	DisplayName string
	Email       string
	Role        domain.Role
	Password    string
	// MustChangePassword makes the user choose a new password at the
	// first sign-in (an administrator handed over a one-time password).
	MustChangePassword bool
}

// usernameRE: usernames may hold '@' since upstream directories often
// name people by e-mail address.
var usernameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// ValidUsername reports whether name is a valid username: 1-64 letters,
// digits, '.', '_', '@' or '-', starting with a letter or digit.
func ValidUsername(name string) bool { return usernameRE.MatchString(name) }

// MinPasswordLength is the shortest password accepted (NIST SP 800-63B
// asks for at least 8).
const MinPasswordLength = 8

// argonParams are argon2id's parameters: RFC 9106 §4 second recommended
// option (64 MiB, 3 passes) trimmed to one pass and 2 lanes as
// alexedwards/argon2id's defaults.
var argonParams = argon2id.DefaultParams

// ValidateNewUser checks a new user's fields without touching storage.
// Errors: Invalid (bad username, role, e-mail, display name, or a
// password shorter than MinPasswordLength or over 1024 bytes).
func ValidateNewUser(in NewUser) error {
	if !usernameRE.MatchString(in.Username) {
		return apperr.Errorf(apperr.Invalid, "username must be 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
	}
	if !in.Role.Valid() {
		return apperr.Errorf(apperr.Invalid, "role must be admin, auditor or member")
	}
	if utf8.RuneCountInString(in.DisplayName) > 128 {
		return apperr.Errorf(apperr.Invalid, "display name must be at most 128 characters")
	}
	for field, v := range map[string]string{"display_name": in.DisplayName, "email": in.Email} {
		if safeout.HasUnsafe(v) {
			msg := strings.ReplaceAll(field, "_", " ") + " must be a single line without control characters or text-direction overrides"
			return &apperr.Error{Code: apperr.Invalid, Message: msg, Fields: map[string]string{field: msg}}
		}
	}
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
			return apperr.Errorf(apperr.Invalid, "e-mail %q is not a valid address (name@example.com)", in.Email)
		}
	}
	if utf8.RuneCountInString(in.Password) < MinPasswordLength {
		return apperr.Errorf(apperr.Invalid, "password must be at least %d characters", MinPasswordLength)
	}
	if len(in.Password) > MaxPasswordBytes {
		return apperr.Errorf(apperr.Invalid, "password must be at most %d bytes", MaxPasswordBytes)
	}
	return nil
}

// CreateUser validates and stores a user with an argon2id password hash.
// Errors: those of ValidateNewUser; Conflict (username taken).
func (s *UserService) CreateUser(ctx context.Context, in NewUser) (domain.User, error) {
	if err := ValidateNewUser(in); err != nil {
		return domain.User{}, err
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return domain.User{}, err
	}
	now := s.now()
	if in.DisplayName == "" {
		in.DisplayName = in.Username
	}
	u := domain.User{ID: uuid.NewString(), Username: in.Username, DisplayName: in.DisplayName, Email: in.Email,
		Role: in.Role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now, Revision: 1, MustChangePassword: in.MustChangePassword}
	err = s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateUser(ctx, u); err != nil {
			if apperr.Is(err, apperr.Conflict) {
				return apperr.Errorf(apperr.Conflict, "username %q is already taken", in.Username)
			}
			return err
		}
		return s.record(ctx, now, audit.ActionUserAdd, audit.TargetUser, u.ID, map[string]any{"username": u.Username, "role": string(u.Role)})
	})
	if err != nil {
		return domain.User{}, err
	}
	return u, nil
}

// User returns the user with that id. Errors: NotFound.
func (s *UserService) User(ctx context.Context, id string) (domain.User, error) {
	return s.store.UserByID(ctx, id)
}

// EnsureAdmin creates the user "admin" with a random password when no
// admin exists, and returns that password (to be printed once). created
// is false when an admin already exists. Errors: Conflict when no admin
// exists but the username "admin" is taken by a non-admin.
func (s *UserService) EnsureAdmin(ctx context.Context) (username, password string, created bool, err error) {
	n, err := s.store.CountUsersByRole(ctx, domain.RoleAdmin)
	if err != nil || n > 0 {
		return "admin", "", false, err
	}
	// Hash outside the write transaction (argon2id takes 64 MiB and tens of
	// milliseconds); CreateUser's own transaction then only inserts.
	password = rand.Text() // 26 base32 characters, 130 bits
	_, err = s.CreateUser(ctx, NewUser{Username: "admin", DisplayName: "Administrator", Role: domain.RoleAdmin, Password: password})
	if apperr.Is(err, apperr.Conflict) {
		// Another process created it first, or "admin" is a non-admin user.
		if n, cerr := s.store.CountUsersByRole(ctx, domain.RoleAdmin); cerr == nil && n > 0 {
			return "admin", "", false, nil
		}
	}
	return "admin", password, err == nil, err
}

// UserByUsername returns the user with that username (case-insensitive).
// Errors: NotFound with a message naming it.
func (s *UserService) UserByUsername(ctx context.Context, username string) (domain.User, error) {
	u, err := s.store.UserByUsername(ctx, username)
	if apperr.Is(err, apperr.NotFound) {
		return u, apperr.Errorf(apperr.NotFound, "there is no user %q", username)
	}
	return u, err
}

// HashPassword returns the argon2id PHC string of password, as stored for
// users (for bulk writers such as the development seed).
func HashPassword(password string) (string, error) {
	return argon2id.CreateHash(password, argonParams)
}

// Users returns one page of users (see domain.UserFilter), each with the
// number of its authorizations in the true state active.
func (s *UserService) Users(ctx context.Context, f domain.UserFilter) (domain.UserPage, error) {
	return s.store.ListUsers(ctx, f)
}
