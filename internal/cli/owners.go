package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// appUpdateCmd is `app update CLIENT_ID [--name …] …`: the flags of `app
// register`; only the flags given change, with the registration's
// validation.
func appUpdateCmd(g *globals) *cobra.Command {
	var reg domain.Registration
	var scopes, owner string
	var asJSON bool
	var cf clientFlags
	c := &cobra.Command{
		Use:   "update CLIENT_ID [--name N] [--callback-url URL] [--scopes \"…\"] [--owner USERNAME] …",
		Short: "Change an app registration; the flags of 'app register', only those given change",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				d, err := svc.App(ctx, args[0])
				if err != nil {
					return err
				}
				if d.App.DeletedAt != nil {
					return usagef("app %s was deleted; nothing about it can change", d.App.ClientID)
				}
				next := d.App.Registration
				fl := cmd.Flags()
				set := func(name string, dst *string, v string) {
					if fl.Changed(name) {
						*dst = v
					}
				}
				set("name", &next.Name, reg.Name)
				set("company", &next.Company, reg.Company)
				set("app-url", &next.AppURL, reg.AppURL)
				set("callback-url", &next.CallbackURL, reg.CallbackURL)
				set("description", &next.Description, reg.Description)
				set("company-url", &next.CompanyURL, reg.CompanyURL)
				set("terms-url", &next.TermsURL, reg.TermsURL)
				set("privacy-url", &next.PrivacyURL, reg.PrivacyURL)
				set("logo-url", &next.LogoURL, reg.LogoURL)
				if fl.Changed("scopes") {
					next.Scopes = strings.Fields(scopes)
				}
				if fl.Changed("require-pkce") {
					next.RequirePKCE = reg.RequirePKCE
				}
				if err := cf.apply(fl, &next, true); err != nil {
					return err
				}
				if _, err := domain.ValidateRegistration(next); err != nil {
					return err
				}
				ed, err := svc.UpdateApp(ctx, d.App.ClientID, next)
				if err != nil {
					return err
				}
				if fl.Changed("owner") {
					if _, err := svc.SetPrimaryOwner(ctx, d.App.ClientID, owner); err != nil {
						return err
					}
				}
				if asJSON {
					changed := map[string]map[string]any{}
					for k, v := range ed.Changes {
						changed[k] = map[string]any{"before": v[0], "after": v[1]}
					}
					return writeJSON(g, map[string]any{"client_id": d.App.ClientID, "changes": changed})
				}
				if len(ed.Changes) == 0 {
					fmt.Fprintf(g.env.Stdout, "No change to %q.\n", d.App.Name)
					return nil
				}
				fmt.Fprintf(g.env.Stdout, "Updated %q (%s):\n", ed.App.Name, d.App.ClientID)
				for _, f := range []string{domain.FieldName, domain.FieldCompany, domain.FieldDescription, domain.FieldCompanyURL, domain.FieldAppURL,
					domain.FieldCallbackURL, domain.FieldLogoURL, domain.FieldTermsURL, domain.FieldPrivacyURL, domain.FieldScopes, domain.FieldRequirePKCE,
					domain.FieldClientType, domain.FieldGrantTypes, domain.FieldRedirectURIs, domain.FieldPostLogoutRedirectURIs, domain.FieldIDTokenAlg} {
					if v, ok := ed.Changes[f]; ok {
						fmt.Fprintf(g.env.Stdout, "  %s: %v → %v\n", f, v[0], v[1])
					}
				}
				return nil
			})
		},
	}
	registrationFlags(c, &reg, &scopes, &owner, &asJSON, "")
	addClientFlags(c, &cf)
	return c
}

// userJSON is one user in `oauthdesk user list --json`.
type userJSON struct {
	ID                   string `json:"id"`
	Username             string `json:"username"`
	DisplayName          string `json:"display_name"`
	Email                string `json:"email"`
	Role                 string `json:"role"`
	Status               string `json:"status"` // active | disabled | deleted
	MustChangePassword   bool   `json:"must_change_password"`
	CreatedAt            string `json:"created_at"`
	ActiveAuthorizations int64  `json:"active_authorizations"`
	// Descriptor is the user's subject descriptor (the Token Admin API's
	// name for the user).
	Descriptor string `json:"descriptor"`
}

func userListCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [--json]",
		Short: "List users with their role, status and active authorizations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				rows := []userJSON{}
				f := domain.UserFilter{Limit: 500}
				for {
					page, err := svc.Users(ctx, f)
					if err != nil {
						return err
					}
					for _, u := range page.Users {
						rows = append(rows, userJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
							Role: string(u.Role), Status: u.User.Status(), MustChangePassword: u.MustChangePassword,
							CreatedAt: u.CreatedAt.Format(time.RFC3339), ActiveAuthorizations: u.ActiveAuthorizations,
							Descriptor: domain.SubjectDescriptor(u.ID)})
					}
					if page.Next == "" {
						break
					}
					f.After = page.Next
				}
				if asJSON {
					return writeJSON(g, rows)
				}
				tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tROLE\tSTATUS\tE-MAIL\tAUTHORIZATIONS\tID")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", safeout.Term(r.Username), r.Role, r.Status, safeout.Term(firstNonEmpty(r.Email, "-")), r.ActiveAuthorizations, r.ID)
				}
				return tw.Flush()
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func userPasswdCmd(g *globals) *cobra.Command {
	var pwStdin bool
	c := &cobra.Command{
		Use:   "passwd USERNAME --password-stdin",
		Short: "Set a user's password (at least 12 characters), read from standard input",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !pwStdin {
				return usagef("pass the password on standard input with --password-stdin")
			}
			pw, err := g.passwordLine()
			if err != nil {
				return err
			}
			if err := admin.ValidateNewPassword(pw); err != nil {
				return err
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				u, err := svc.SetPassword(ctx, args[0], pw)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Changed the password of %q.\n", u.Username)
				return nil
			})
		},
	}
	c.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input (required)")
	return c
}

func userSetRoleCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "set-role USERNAME admin|auditor|member",
		Short: "Change a user's role (the last active admin cannot be demoted)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !domain.Role(args[1]).Valid() {
				return usagef("the role must be admin, auditor or member")
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				u, err := svc.UserByUsername(ctx, args[0])
				if err != nil {
					return err
				}
				if u, err = svc.SetRole(ctx, u.ID, domain.Role(args[1])); err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "%q is now %s.\n", u.Username, u.Role)
				return nil
			})
		},
	}
}

// userDisableCmd is `user disable USERNAME` (disable true) or `user
// enable USERNAME`.
func userDisableCmd(g *globals, disable bool) *cobra.Command {
	use, short, done := "enable USERNAME", "Let a disabled user sign in again", "enabled"
	if disable {
		use, short, done = "disable USERNAME", "Disable a user: signed out, cannot sign in, every token refused on its next request", "disabled"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				u, err := app.Admin.UserByUsername(ctx, args[0])
				if err != nil {
					return err
				}
				if u, err = app.Admin.SetDisabled(ctx, u.ID, disable); err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "%q is %s.\n", u.Username, done)
				return nil
			})
		},
	}
}
