package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/keyseal"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

func appRotateSecretCmd(g *globals) *cobra.Command {
	var slot string
	var asJSON bool
	c := &cobra.Command{
		Use:   "rotate-secret CLIENT_ID [--slot primary|alternative]",
		Short: "Create or regenerate a client secret; prints it once. Regenerating kills every token minted with the old one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if slot != domain.SlotPrimary && slot != domain.SlotAlternative {
				return usagef("--slot must be primary or alternative")
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				sec, err := svc.IssueSecret(ctx, args[0], slot, true)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(g, map[string]string{"client_id": sec.ClientID, "client_secret": sec.Secret, "slot": sec.Slot,
						"secret_expires_at": sec.ExpiresAt.UTC().Format(time.RFC3339)})
				}
				verb := "Created"
				if sec.Replaced {
					verb = "Regenerated"
				}
				fmt.Fprintf(g.env.Stdout, "%s the %s secret of %s.\nclient_secret:     %s\nsecret_expires_at: %s\nThe client secret is shown only this once: store it now.\n",
					verb, sec.Slot, sec.ClientID, sec.Secret, sec.ExpiresAt.UTC().Format(time.RFC3339))
				return nil
			})
		},
	}
	c.Flags().StringVar(&slot, "slot", domain.SlotPrimary, "primary or alternative")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func appRetireSecretCmd(g *globals) *cobra.Command {
	var slot string
	c := &cobra.Command{
		Use:   "retire-secret CLIENT_ID --slot primary|alternative",
		Short: "Retire a client secret (the end of a staged rotation); its tokens stop working",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if slot != domain.SlotPrimary && slot != domain.SlotAlternative {
				return usagef("--slot must be primary or alternative")
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				if _, err := svc.RetireSecret(ctx, args[0], slot); err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Retired the %s secret of %s; every token minted with it stops working now.\n", slot, args[0])
				return nil
			})
		},
	}
	c.Flags().StringVar(&slot, "slot", "", "primary or alternative (required)")
	return c
}

func appDeleteCmd(g *globals) *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "delete CLIENT_ID --yes",
		Short: "Delete an app: no new tokens, every minted token rejected; the record is kept",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return usagef("deleting an app breaks it for good; pass --yes to confirm")
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				d, err := svc.App(ctx, args[0])
				if err != nil {
					return err
				}
				n, err := svc.DeleteApp(ctx, d.App.ClientID, d.App.Name)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Deleted %q (%s); %d authorization(s) revoked.\n", d.App.Name, d.App.ClientID, n)
				return nil
			})
		},
	}
	c.Flags().BoolVar(&yes, "yes", false, "confirm the deletion")
	return c
}

func authzCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "authz", Short: "List and revoke users' authorizations"}
	c.AddCommand(authzListCmd(g), authzRevokeCmd(g))
	return c
}

type authzFlags struct{ user, clientID string }

func (f *authzFlags) filter(cmd *cobra.Command, svc *admin.Service) (domain.AuthorizationFilter, error) {
	out := domain.AuthorizationFilter{ClientID: f.clientID}
	if f.user != "" {
		u, err := svc.UserByUsername(cmd.Context(), f.user)
		if err != nil {
			return out, err
		}
		out.UserID = u.ID
	}
	return out, nil
}

func authzListCmd(g *globals) *cobra.Command {
	var f authzFlags
	var asJSON, all bool
	c := &cobra.Command{
		Use:   "list [--user U] [--client-id ID] [--all] [--json]",
		Short: "List authorizations (active ones unless --all)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				filter, err := f.filter(cmd, svc)
				if err != nil {
					return err
				}
				filter.ActiveOnly, filter.Limit = !all, 1000
				var list []domain.Authorization
				for {
					page, next, err := svc.Authorizations(ctx, filter)
					if err != nil {
						return err
					}
					list = append(list, page...)
					if next == "" {
						break
					}
					filter.After = next
				}
				if asJSON {
					rows := make([]map[string]any, 0, len(list))
					for _, a := range list {
						r := map[string]any{"id": a.ID, "user": a.Username, "user_id": a.UserID, "client_id": a.ClientID,
							"app": a.AppName, "scopes": a.Scopes, "granted_at": a.GrantedAt.Format(time.RFC3339), "active": a.Active(), "state": a.State}
						if a.LastUsedAt != nil {
							r["last_used_at"] = a.LastUsedAt.Format(time.RFC3339)
						}
						if a.RevokedAt != nil {
							r["revoked_at"], r["revoked_by"] = a.RevokedAt.Format(time.RFC3339), a.RevokedBy
						}
						rows = append(rows, r)
					}
					return writeJSON(g, rows)
				}
				if len(list) == 0 {
					fmt.Fprintln(g.env.Stdout, "No authorization matches.")
					return nil
				}
				tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tUSER\tAPP\tCLIENT ID\tSCOPES\tGRANTED\tSTATUS")
				for _, a := range list {
					// The true state (the listing fills it for each page).
					status := "active"
					switch {
					case !a.Active():
						status = "revoked"
					case a.State == domain.AuthNeedsReauthorization:
						status = "needs re-authorization"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, safeout.Term(a.Username), safeout.Term(a.AppName), a.ClientID, strings.Join(a.Scopes, " "),
						a.GrantedAt.Format(time.RFC3339), status)
				}
				return tw.Flush()
			})
		},
	}
	c.Flags().StringVar(&f.user, "user", "", "username")
	c.Flags().StringVar(&f.clientID, "client-id", "", "app client id")
	c.Flags().BoolVar(&all, "all", false, "include revoked authorizations")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func authzRevokeCmd(g *globals) *cobra.Command {
	var f authzFlags
	var id string
	var asJSON bool
	c := &cobra.Command{
		Use:   "revoke (--id AUTHZ_ID | --user U [--client-id ID] | --client-id ID) [--json]",
		Short: "Revoke authorizations; their tokens get 401 on the next request",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (id == "") == (f.user == "" && f.clientID == "") {
				return usagef("give either --id, or --user and/or --client-id")
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				n := 0
				if id != "" {
					ok, err := svc.RevokeAuthorization(ctx, id, "")
					if err != nil {
						return err
					}
					if ok {
						n = 1
					}
				} else {
					filter, err := f.filter(cmd, svc)
					if err != nil {
						return err
					}
					if n, err = svc.RevokeAuthorizations(ctx, filter); err != nil {
						return err
					}
				}
				if asJSON {
					return writeJSON(g, map[string]int{"revoked": n})
				}
				fmt.Fprintf(g.env.Stdout, "Revoked %d authorization(s).\n", n)
				return nil
			})
		},
	}
	c.Flags().StringVar(&id, "id", "", "authorization id")
	c.Flags().StringVar(&f.user, "user", "", "username")
	c.Flags().StringVar(&f.clientID, "client-id", "", "app client id")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func policyCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "policy", Short: "Organization policies"}
	set := &cobra.Command{
		Use:   "set third-party-oauth on|off | set secret-lifetime-days N | set app-registration members|approval|admins | set local-signin admins-only|everyone | set pat-max-lifespan DAYS | set pat-full-scope allow|deny | set pat-creation everyone|allowlist",
		Short: "Set a policy",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "third-party-oauth":
				if args[1] != "on" && args[1] != "off" {
					return usagef("third-party-oauth takes on or off")
				}
				return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
					svc := app.Admin
					if err := svc.SetThirdPartyOAuth(ctx, args[1] == "on"); err != nil {
						return err
					}
					fmt.Fprintf(g.env.Stdout, "Third-party application access via OAuth is now %s.\n", args[1])
					return nil
				})
			case "secret-lifetime-days":
				var days int
				if _, err := fmt.Sscanf(args[1], "%d", &days); err != nil {
					return usagef("secret-lifetime-days takes a whole number of days")
				}
				return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
					svc := app.Admin
					if err := svc.SetSecretLifetimeDays(ctx, days); err != nil {
						return err
					}
					fmt.Fprintf(g.env.Stdout, "New client secrets now live %d days.\n", days)
					return nil
				})
			case "app-registration":
				if !domain.ValidRegistrationPolicy(args[1]) {
					return usagef("app-registration takes members, approval or admins")
				}
				return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
					svc := app.Admin
					if err := svc.SetRegistrationPolicy(ctx, args[1]); err != nil {
						return err
					}
					fmt.Fprintf(g.env.Stdout, "App registration is now: %s.\n", args[1])
					return nil
				})
			case "pat-max-lifespan", "pat-full-scope", "pat-creation":
				return setPATPolicy(cmd, g, args[0], args[1])
			case "local-signin":
				if args[1] != domain.LocalSignInAdminsOnly && args[1] != domain.LocalSignInEveryone {
					return usagef("local-signin takes admins-only or everyone")
				}
				return g.withFederation(cmd, func(ctx context.Context, app *server.App) error {
					f := app.Federation
					if err := f.SetLocalSignIn(ctx, args[1]); err != nil {
						return err
					}
					fmt.Fprintf(g.env.Stdout, "Local password sign-in is now for: %s.\n", args[1])
					return nil
				})
			default:
				return usagef("unknown policy %q: use third-party-oauth, secret-lifetime-days, app-registration, local-signin, pat-max-lifespan, pat-full-scope or pat-creation", args[0])
			}
		},
	}
	c.AddCommand(set, patAllowlistCmd(g))
	return c
}

func auditCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "Verify and export the audit log"}
	var checkpoint string
	verify := &cobra.Command{
		Use:   "verify [--checkpoint FILE]",
		Short: "Walk the hash chain; exit 1 at the first broken link, or when it no longer reaches a checkpoint's head",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var file audit.CheckpointFile
			if checkpoint != "" {
				b, err := os.ReadFile(checkpoint)
				if err != nil {
					return usagef("--checkpoint: %v", err)
				}
				if file, err = audit.ParseCheckpointFile(b); err != nil {
					return usagef("--checkpoint %s: %v", checkpoint, err)
				}
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				if checkpoint == "" {
					n, b, err := svc.VerifyAudit(ctx)
					if err != nil {
						return err
					}
					if b != nil {
						return fmt.Errorf("audit log broken at event %d: %s (%d event(s) checked)", b.Seq, b.Reason, n)
					}
					fmt.Fprintf(g.env.Stdout, "Audit log intact: %d event(s), every link verified.\n", n)
					return nil
				}
				path := g.keyFilePath()
				if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
					return usagef("key file %s does not exist: the checkpoint's signature is checked with the signing keys it opens; pass --key-file", path)
				}
				sealer, _, err := keyseal.LoadFile(path)
				if err != nil {
					return err
				}
				cp, err := oauth.VerifyCheckpoint(ctx, app.DB, sealer, file)
				if err != nil {
					return fmt.Errorf("checkpoint %s: %s", checkpoint, apperr.ErrorMessage(err))
				}
				n, b, err := svc.VerifyAuditReaches(ctx, cp)
				if err != nil {
					return err
				}
				if b != nil {
					return fmt.Errorf("audit log does not reach the checkpoint of %s (event %d): at event %d %s (%d event(s) checked)",
						cp.At.Format(time.RFC3339), cp.Seq, b.Seq, b.Reason, n)
				}
				fmt.Fprintf(g.env.Stdout, "Audit log intact: %d event(s), every link verified; it reaches the signed checkpoint of %s (event %d, head %s).\n",
					n, cp.At.Format(time.RFC3339), cp.Seq, cp.Head)
				return nil
			})
		},
	}
	verify.Flags().StringVar(&checkpoint, "checkpoint", "", "an audit-checkpoint-SEQ.json the server wrote: also check its signature and that the chain still reaches its head")
	var format, since string
	export := &cobra.Command{
		Use:   "export --format csv|jsonl [--since RFC3339]",
		Short: "Write the audit log to standard output",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var from time.Time
			if since != "" {
				t, err := time.Parse(time.RFC3339, since)
				if err != nil {
					return usagef("--since %q is not RFC 3339 (e.g. 2026-11-01T00:00:00Z)", since)
				}
				from = t
			}
			w := bufio.NewWriter(g.env.Stdout)
			x, ok := audit.NewExporter(w, format)
			if !ok {
				return usagef("--format must be csv or jsonl")
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				var werr error
				if err := svc.WalkAudit(ctx, from, func(e audit.Event) bool { werr = x.Write(e); return werr == nil }); err != nil {
					return err
				}
				if werr != nil {
					return werr
				}
				if err := x.Flush(); err != nil {
					return err
				}
				return w.Flush()
			})
		},
	}
	export.Flags().StringVar(&format, "format", "", "csv or jsonl (required)")
	export.Flags().StringVar(&since, "since", "", "only events at or after this time (RFC 3339)")
	c.AddCommand(verify, export)
	return c
}
