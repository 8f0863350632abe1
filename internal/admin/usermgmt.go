package admin

import (
	"context"
	"crypto/rand"
	"unicode/utf8"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// MinNewPasswordLength is the shortest password a user may choose when
// changing it (/profile/password) or an administrator may set
// (`oauthdesk user passwd`).
const MinNewPasswordLength = 12

// ValidateNewPassword checks a password being set. Errors: Invalid when
// shorter than MinNewPasswordLength characters or over 1024 bytes.
func ValidateNewPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinNewPasswordLength {
		return &apperr.Error{Code: apperr.Invalid, Message: "The new password must be at least 12 characters.",
			Fields: map[string]string{"new_password": "At least 12 characters."}}
	}
	if len(pw) > MaxPasswordBytes {
		return &apperr.Error{Code: apperr.Invalid, Message: "The new password must be at most 1024 bytes.",
			Fields: map[string]string{"new_password": "At most 1024 bytes."}}
	}
	return nil
}

// lastAdmin refuses a change that would leave no active administrator:
// u is an active admin and the only one. Run it inside the write
// transaction of the change.
func (s *UserService) lastAdmin(ctx context.Context, u domain.User, what string) error {
	if u.Role != domain.RoleAdmin || !u.Active() {
		return nil
	}
	n, err := s.store.CountActiveAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return apperr.Errorf(apperr.Conflict, "%s is the last active administrator and cannot be %s. Make another user an administrator first.", u.Username, what)
	}
	return nil
}

// changeUser loads the user by id inside one write transaction, lets fn
// change it and record why, then stores it. Deleted users cannot change.
// The user's row is locked before it is read (store.LockUser), since
// UpdateUser writes every column from that read: a concurrent change of
// the same user on another replica (one changes the role, the other
// disables) waits, then reads and keeps what the first committed.
func (s *UserService) changeUser(ctx context.Context, id string, fn func(ctx context.Context, u *domain.User) error) (domain.User, error) {
	var u domain.User
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockUser(ctx, id); err != nil {
			return err
		}
		var err error
		if u, err = s.store.UserByID(ctx, id); err != nil {
			return err
		}
		if u.DeletedAt != nil {
			return apperr.Errorf(apperr.Conflict, "%s was deleted; the record is kept for the audit log and cannot change.", u.Username)
		}
		if err := fn(ctx, &u); err != nil {
			return err
		}
		return s.store.UpdateUser(ctx, u, s.now())
	})
	return u, err
}

// checkedUser runs change (one of this slice's changes, which joins the
// transaction) when check accepts the user as they are when the change
// applies: inside one write transaction the user's row is locked
// (store.LockUser; a concurrent checked change of the same user waits,
// then sees this one's result), read, and passed to check (an HTTP
// If-Match; nil: none), whose error aborts with nothing changed.
func (s *UserService) checkedUser(ctx context.Context, id string, check func(current domain.User) error, change func(ctx context.Context) (domain.User, error)) (domain.User, error) {
	var out domain.User
	err := s.store.WriteTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockUser(ctx, id); err != nil {
			return err
		}
		cur, err := s.store.UserByID(ctx, id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		out, err = change(ctx)
		return err
	})
	return out, err
}

// SetRoleIf is SetRole when check accepts the user as they are when the
// change applies (see checkedUser): optimistic concurrency without a lost
// update. Errors: check's; those of SetRole.
func (s *UserService) SetRoleIf(ctx context.Context, id string, role domain.Role, check func(current domain.User) error) (domain.User, error) {
	return s.checkedUser(ctx, id, check, func(ctx context.Context) (domain.User, error) { return s.SetRole(ctx, id, role) })
}

// SetDisabledIf is SetDisabled when check accepts the user as they are
// when the change applies (see checkedUser). Errors: check's; those of
// SetDisabled.
func (s *UserService) SetDisabledIf(ctx context.Context, id string, disabled bool, check func(current domain.User) error) (domain.User, error) {
	return s.checkedUser(ctx, id, check, func(ctx context.Context) (domain.User, error) { return s.SetDisabled(ctx, id, disabled) })
}

// SetRole changes a user's role. The last active administrator cannot be
// demoted. Errors: Invalid role; NotFound; Conflict.
func (s *UserService) SetRole(ctx context.Context, id string, role domain.Role) (domain.User, error) {
	if !role.Valid() {
		return domain.User{}, apperr.Errorf(apperr.Invalid, "role must be admin, auditor or member")
	}
	return s.changeUser(ctx, id, func(ctx context.Context, u *domain.User) error {
		if u.Role == role {
			return nil
		}
		if role != domain.RoleAdmin {
			if err := s.lastAdmin(ctx, *u, "demoted"); err != nil {
				return err
			}
		}
		before := u.Role
		u.Role = role
		return s.record(ctx, s.now(), audit.ActionUserRole, audit.TargetUser, u.ID,
			map[string]any{"username": u.Username, "before": string(before), "after": string(role)})
	})
}

// SetDisabled disables or enables a user. Disabling ends the user's
// dashboard sessions (refused on their next request), revokes their
// refresh tokens and kills their access tokens on the next request (a
// "user" invalidation); their authorizations stand, so once enabled they
// authorize apps again. A disabled user cannot sign in. The last active
// administrator cannot be disabled. Errors: NotFound; Conflict.
func (s *UserService) SetDisabled(ctx context.Context, id string, disabled bool) (domain.User, error) {
	return s.setDisabled(ctx, id, disabled, nil, true)
}

// DisableForDirectory disables a user the directory sync found gone,
// disabled upstream or outside every allowed group, through the same path
// as SetDisabled (sessions end, refresh tokens revoked, access tokens
// refused on the next request); the audit event (user.disable) carries
// reason and by "directory-sync". Unlike an administrator, the sync
// disables the last active administrator too: a leaver is cut off.
// Errors: NotFound; Conflict for a deleted user.
func (s *UserService) DisableForDirectory(ctx context.Context, id, reason string) (domain.User, error) {
	return s.setDisabled(ctx, id, true, map[string]any{"reason": reason, "by": "directory-sync"}, false)
}

func (s *UserService) setDisabled(ctx context.Context, id string, disabled bool, details map[string]any, keepAdmin bool) (domain.User, error) {
	return s.changeUser(ctx, id, func(ctx context.Context, u *domain.User) error {
		now := s.now()
		if disabled == (u.DisabledAt != nil) {
			return nil
		}
		if !disabled {
			u.DisabledAt = nil
			return s.record(ctx, now, audit.ActionUserEnable, audit.TargetUser, u.ID, map[string]any{"username": u.Username})
		}
		if keepAdmin {
			if err := s.lastAdmin(ctx, *u, "disabled"); err != nil {
				return err
			}
		}
		u.DisabledAt = &now
		if err := s.store.RevokeUserRefreshTokens(ctx, u.ID, now); err != nil {
			return err
		}
		d := map[string]any{"username": u.Username}
		for k, v := range details {
			d[k] = v
		}
		return s.record(ctx, now, audit.ActionUserDisable, audit.TargetUser, u.ID, d)
	})
}

// ResetPassword gives the user a random one-time password (returned, to
// be shown once) that must be changed at the next sign-in. Errors:
// NotFound; Conflict for a deleted user.
func (s *UserService) ResetPassword(ctx context.Context, id string) (string, error) {
	pw := rand.Text() // 26 base32 characters, 130 bits
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return "", err
	}
	_, err = s.changeUser(ctx, id, func(ctx context.Context, u *domain.User) error {
		u.PasswordHash, u.MustChangePassword = hash, true
		return s.record(ctx, s.now(), audit.ActionUserPasswordReset, audit.TargetUser, u.ID, map[string]any{"username": u.Username})
	})
	if err != nil {
		return "", err
	}
	return pw, nil
}

// SetPassword sets the password of the user named username (the CLI's
// `user passwd`) and clears a pending must-change. Errors: Invalid
// (ValidateNewPassword); NotFound.
func (s *UserService) SetPassword(ctx context.Context, username, pw string) (domain.User, error) {
	if err := ValidateNewPassword(pw); err != nil {
		return domain.User{}, err
	}
	u, err := s.UserByUsername(ctx, username)
	if err != nil {
		return u, err
	}
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return domain.User{}, err
	}
	return s.changeUser(ctx, u.ID, func(ctx context.Context, u *domain.User) error {
		u.PasswordHash, u.MustChangePassword = hash, false
		return s.record(ctx, s.now(), audit.ActionUserPasswordChange, audit.TargetUser, u.ID, map[string]any{"username": u.Username, "by": "administrator"})
	})
}

// ChangePassword changes the signed-in user's own password: current must
// be right and next at least MinNewPasswordLength characters and
// different. Every length is checked before anything is hashed (a
// current password over MaxPasswordBytes is wrong without hashing), and
// both hashes run in the bounded hashing slots sign-in uses. Errors:
// Invalid with Fields "current_password" (wrong current password: see
// WrongCurrentPassword) or "new_password"; Unavailable when no hashing
// slot frees up in time.
func (s *UserService) ChangePassword(ctx context.Context, id, current, next string) error {
	if current == "" || len(current) > MaxPasswordBytes {
		return errWrongCurrent
	}
	if err := ValidateNewPassword(next); err != nil {
		return err
	}
	if next == current {
		return &apperr.Error{Code: apperr.Invalid, Message: "Choose a password different from the current one.",
			Fields: map[string]string{"new_password": "Choose a different password."}}
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	ok, err := s.comparePassword(ctx, current, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return errWrongCurrent
	}
	hash, err := s.hashPassword(ctx, next)
	if err != nil {
		return err
	}
	_, err = s.changeUser(ctx, id, func(ctx context.Context, u *domain.User) error {
		u.PasswordHash, u.MustChangePassword = hash, false
		return s.record(ctx, s.now(), audit.ActionUserPasswordChange, audit.TargetUser, u.ID, map[string]any{"username": u.Username, "by": "self"})
	})
	return err
}

// errWrongCurrent is ChangePassword's answer to a wrong (or overlong)
// current password.
var errWrongCurrent = &apperr.Error{Code: apperr.Invalid, Message: "The current password is wrong.",
	Fields: map[string]string{"current_password": "This is not your current password."}}

// WrongCurrentPassword reports whether err is ChangePassword's answer to
// a wrong current password: a failed guess, to be counted against the
// same per-user failure delays as a failed sign-in.
func WrongCurrentPassword(err error) bool {
	return apperr.FieldErrors(err)["current_password"] != ""
}

// DeleteUser deletes a user: every authorization is revoked, every token
// dies on the next request, the user can no longer sign in, and the
// record is kept for the audit log. The last active administrator cannot
// be deleted. Returns how many authorizations were revoked.
// Errors: NotFound; Conflict.
func (s *UserService) DeleteUser(ctx context.Context, id string) (int, error) {
	revoked := 0
	_, err := s.changeUser(ctx, id, func(ctx context.Context, u *domain.User) error {
		if err := s.lastAdmin(ctx, *u, "deleted"); err != nil {
			return err
		}
		now := s.now()
		var err error
		if revoked, err = s.authz.revokeCascade(ctx, domain.AuthorizationFilter{UserID: u.ID}, now, map[string]any{"reason": "user deleted"}); err != nil {
			return err
		}
		if err := s.store.RevokeUserRefreshTokens(ctx, u.ID, now); err != nil {
			return err
		}
		u.DeletedAt = &now
		return s.record(ctx, now, audit.ActionUserDelete, audit.TargetUser, u.ID,
			map[string]any{"username": u.Username, "revoked_authorizations": revoked})
	})
	return revoked, err
}
