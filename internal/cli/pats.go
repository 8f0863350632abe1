package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// setPATPolicy is `policy set pat-max-lifespan DAYS | pat-full-scope
// allow|deny | pat-creation everyone|allowlist`.
func setPATPolicy(cmd *cobra.Command, g *globals, name, value string) error {
	return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
		svc := app.PATs
		switch name {
		case "pat-max-lifespan":
			days, err := strconv.Atoi(value)
			if err != nil {
				return usagef("pat-max-lifespan takes a whole number of days (0: none)")
			}
			if err := svc.SetMaxLifespan(ctx, days); err != nil {
				return err
			}
			if days == 0 {
				fmt.Fprintln(g.env.Stdout, "Personal access tokens now live at most one year.")
			} else {
				fmt.Fprintf(g.env.Stdout, "Personal access tokens now live at most %d days.\n", days)
			}
		case "pat-full-scope":
			if value != "allow" && value != "deny" {
				return usagef("pat-full-scope takes allow or deny")
			}
			if err := svc.SetFullScope(ctx, value); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "Full-access personal access tokens: %s.\n", value)
		case "pat-creation":
			if value != "everyone" && value != "allowlist" {
				return usagef("pat-creation takes everyone or allowlist")
			}
			if err := svc.SetCreation(ctx, value); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "Personal access tokens may be created by: %s.\n", value)
		}
		if list, n, err := svc.Violations(ctx); err == nil && n > 0 {
			fmt.Fprintf(g.env.Stdout, "%d existing token(s) break the policies now (nothing was revoked); list them on /admin/settings or with 'token list --json', e.g. %s of %s.\n",
				n, list[0].PAT.Name, list[0].PAT.Username)
		}
		return nil
	})
}

func patAllowlistCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "pat-allowlist add|remove USERNAME", Short: "Who may create personal access tokens under pat-creation allowlist",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "add" && args[0] != "remove" {
				return usagef("pat-allowlist takes add or remove")
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.PATs
				if err := svc.SetAllowed(ctx, args[1], args[0] == "add"); err != nil {
					return err
				}
				if args[0] == "add" {
					fmt.Fprintf(g.env.Stdout, "%s may create personal access tokens.\n", args[1])
				} else {
					fmt.Fprintf(g.env.Stdout, "%s is off the allowlist.\n", args[1])
				}
				return nil
			})
		}}
	return c
}

// tokenJSON is one token in `oauthdesk token list --json`.
type tokenJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Owner      string   `json:"owner"`
	Display    string   `json:"display"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	ExpiresAt  string   `json:"expires_at"`
	LastUsedAt string   `json:"last_used_at,omitempty"`
	LastUsedIP string   `json:"last_used_address,omitempty"`
	State      string   `json:"state"`
}

func tokenCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "token", Short: "Personal access tokens and secret scanners"}
	var user string
	var asJSON bool
	list := &cobra.Command{
		Use: "list [--user U] [--json]", Short: "List personal access tokens, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.PATs
				a := app.Admin
				f := domain.PATFilter{Limit: 1000}
				if user != "" {
					u, err := a.UserByUsername(ctx, user)
					if err != nil {
						return usagef("no user named %q", user)
					}
					f.UserID = u.ID
				}
				now := nowUTC()
				var rows []tokenJSON
				tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
				if !asJSON {
					fmt.Fprintln(tw, "ID\tOWNER\tNAME\tSCOPES\tEXPIRES\tLAST USED\tSTATE")
				}
				for {
					page, err := svc.List(ctx, f)
					if err != nil {
						return err
					}
					for _, t := range page.Tokens {
						j := tokenJSON{ID: t.ID, Name: t.Name, Owner: t.Username, Display: t.Display, Scopes: t.Scopes,
							CreatedAt: t.CreatedAt.Format(time.RFC3339), ExpiresAt: t.ExpiresAt.Format(time.RFC3339), State: t.State(now), LastUsedIP: t.LastUsedAddr}
						if t.LastUsedAt != nil {
							j.LastUsedAt = t.LastUsedAt.Format(time.RFC3339)
						}
						if asJSON {
							rows = append(rows, j)
							continue
						}
						last := "never"
						if j.LastUsedAt != "" {
							last = j.LastUsedAt
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Username, safeCell(t.Name), strings.Join(t.Scopes, " "), j.ExpiresAt, last, j.State)
					}
					if page.Next == "" {
						break
					}
					f.After = page.Next
				}
				if asJSON {
					if rows == nil {
						rows = []tokenJSON{}
					}
					return writeJSON(g, rows)
				}
				return tw.Flush()
			})
		}}
	list.Flags().StringVar(&user, "user", "", "only this user's tokens")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var revokeUser string
	revoke := &cobra.Command{
		Use: "revoke ID | revoke --user U", Short: "Revoke a personal access token, or every token of a user", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (revokeUser != "") {
				return usagef("give a token ID or --user USERNAME")
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.PATs
				a := app.Admin
				if len(args) == 1 {
					ok, err := svc.Revoke(ctx, args[0], "")
					if err != nil {
						return err
					}
					if ok {
						fmt.Fprintln(g.env.Stdout, "Revoked 1 token.")
					} else {
						fmt.Fprintln(g.env.Stdout, "The token was already revoked.")
					}
					return nil
				}
				u, err := a.UserByUsername(ctx, revokeUser)
				if err != nil {
					return usagef("no user named %q", revokeUser)
				}
				n, err := svc.RevokeWhere(ctx, domain.PATFilter{UserID: u.ID}, 1_000_000)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Revoked %d token(s) of %s.\n", n, u.Username)
				return nil
			})
		}}
	revoke.Flags().StringVar(&revokeUser, "user", "", "revoke every token of this user")

	c.AddCommand(list, revoke, scannerCmd(g))
	return c
}

func scannerCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "scanner", Short: "Secret scanners' tokens for POST /_apis/tokens/pats/leaked"}
	create := &cobra.Command{Use: "create NAME", Short: "Create a scanner token (printed once)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.PATs
				_, tok, err := svc.CreateScanner(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Scanner token for %s (shown once; oauthdesk keeps only a hash):\n%s\n", args[0], tok)
				return nil
			})
		}}
	list := &cobra.Command{Use: "list", Short: "List scanner tokens", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.PATs
				list, err := svc.Scanners(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tCREATED\tSTATE")
				for _, t := range list {
					state := "active"
					if t.RevokedAt != nil {
						state = "revoked " + t.RevokedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", safeCell(t.Name), t.CreatedAt.Format(time.RFC3339), state)
				}
				return tw.Flush()
			})
		}}
	revoke := &cobra.Command{Use: "revoke NAME", Short: "Revoke a scanner token", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.PATs
				if err := svc.RevokeScanner(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Scanner token %s revoked.\n", args[0])
				return nil
			})
		}}
	c.AddCommand(create, list, revoke)
	return c
}

// safeCell keeps a table cell on one line.
func safeCell(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}
