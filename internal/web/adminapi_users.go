package web

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// AdminAPIUsers is the users' use cases the admin API calls — the ones
// /admin/users calls (implemented by *admin.Service). User also bounds
// every admin API call by its caller's role.
type AdminAPIUsers interface {
	Users(ctx context.Context, f domain.UserFilter) (domain.UserPage, error)
	User(ctx context.Context, id string) (domain.User, error)
	CreateUser(ctx context.Context, in admin.NewUser) (domain.User, error)
	SetRoleIf(ctx context.Context, id string, role domain.Role, check func(current domain.User) error) (domain.User, error)
	SetDisabledIf(ctx context.Context, id string, disabled bool, check func(current domain.User) error) (domain.User, error)
}

// apiUser is a user in the admin API (never the password hash).
type apiUser struct {
	ID                 string  `json:"id"`
	Username           string  `json:"username"`
	DisplayName        string  `json:"display_name"`
	Email              string  `json:"email"`
	Role               string  `json:"role"`
	State              string  `json:"state"` // active, disabled or deleted
	Source             string  `json:"source"`
	MustChangePassword bool    `json:"must_change_password"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	LastSignInAt       *string `json:"last_sign_in_at"`
	Revision           int64   `json:"revision"`
	// ActiveAuthorizations is filled by listings only.
	ActiveAuthorizations *int64 `json:"active_authorizations,omitempty"`
}

func toAPIUser(u domain.User) apiUser {
	src := u.Source
	if src == "" {
		src = domain.SourceLocal
	}
	return apiUser{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Role: string(u.Role),
		State: u.Status(), Source: src, MustChangePassword: u.MustChangePassword, CreatedAt: apiTime(u.CreatedAt),
		UpdatedAt: apiTime(u.UpdatedAt), LastSignInAt: apiTimePtr(u.LastSignInAt), Revision: u.Revision}
}

// apiUsersList is GET /users?q=: users in keyset pages (limit, after),
// each with its number of active authorizations.
func (s *Server) apiUsersList(c echo.Context) error {
	limit, after, err := apiPage(c)
	if err != nil {
		return err
	}
	page, err := s.cfg.AdminAPI.Users.Users(c.Request().Context(), domain.UserFilter{Query: c.QueryParam("q"), After: after, Limit: limit})
	if err != nil {
		return err
	}
	items := make([]apiUser, 0, len(page.Users))
	for _, u := range page.Users {
		j := toAPIUser(u.User)
		n := u.ActiveAuthorizations
		j.ActiveAuthorizations = &n
		items = append(items, j)
	}
	return s.writeList(c, items, page.Next)
}

// apiUserGet is GET /users/{id}: the user with its ETag.
func (s *Server) apiUserGet(c echo.Context) error {
	u, err := s.cfg.AdminAPI.Users.User(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return writeResource(c, http.StatusOK, toAPIUser(u))
}

// apiUserInput is the body of POST /users.
type apiUserInput struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Role        string `json:"role"`
}

// apiUserCreate is POST /users: the dashboard's "Add user" — an account
// with a one-time password, answered once as {"user", "password"} (201);
// the user chooses a new one at the first sign-in. 409 for a taken
// username.
func (s *Server) apiUserCreate(c echo.Context) error {
	var in apiUserInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = string(domain.RoleMember)
	}
	pw := rand.Text()
	u, err := s.cfg.AdminAPI.Users.CreateUser(c.Request().Context(), admin.NewUser{Username: strings.TrimSpace(in.Username),
		DisplayName: strings.TrimSpace(in.DisplayName), Email: strings.TrimSpace(in.Email), Role: domain.Role(in.Role),
		Password: pw, MustChangePassword: true})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, adminAPIBase+"/users/"+u.ID)
	return c.JSON(http.StatusCreated, map[string]any{"user": toAPIUser(u), "password": pw})
}

// apiUserPatch is the body of PATCH /users/{id}: one change per request
// (each is its own audited transaction).
type apiUserPatch struct {
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
}

// apiUserUpdate is PATCH /users/{id} with If-Match (required): sets the
// role ({"role": "admin|auditor|member"}) or disables or enables the user
// ({"disabled": true|false}; disabling ends their sessions and tokens on
// the next request). Answers the user and its new ETag.
func (s *Server) apiUserUpdate(c echo.Context) error {
	var in apiUserPatch
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if (in.Role == nil) == (in.Disabled == nil) {
		return apperr.Errorf(apperr.Invalid, "Send exactly one of role or disabled: each change is its own audited request.")
	}
	match, err := ifMatch(c, true)
	if err != nil {
		return err
	}
	// The If-Match comparison runs inside the change's transaction, on
	// the locked user: of two PATCHes with one ETag, the second gets 412.
	check := func(cur domain.User) error {
		if match == nil {
			return nil
		}
		return match(toAPIUser(cur))
	}
	ctx := c.Request().Context()
	var u domain.User
	if in.Role != nil {
		u, err = s.cfg.AdminAPI.Users.SetRoleIf(ctx, c.Param("id"), domain.Role(*in.Role), check)
	} else {
		u, err = s.cfg.AdminAPI.Users.SetDisabledIf(ctx, c.Param("id"), *in.Disabled, check)
	}
	if err != nil {
		return err
	}
	if u, err = s.cfg.AdminAPI.Users.User(ctx, u.ID); err != nil { // as stored: revision and time of the change
		return err
	}
	return writeResource(c, http.StatusOK, toAPIUser(u))
}
