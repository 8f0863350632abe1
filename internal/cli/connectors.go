package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/connector"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/federation"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

func connectorCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "connector", Short: "Sign in with the organization's directory: OpenID Connect and LDAP connectors"}
	add := &cobra.Command{Use: "add", Short: "Add a connector"}
	add.AddCommand(connectorAddOIDCCmd(g), connectorAddLDAPCmd(g))
	c.AddCommand(add, connectorListCmd(g), connectorRemoveCmd(g), connectorTestCmd(g))
	return c
}

// roleFlags are the flags both connector types share.
type roleFlags struct{ roleMap, defaultRole string }

func (r *roleFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&r.roleMap, "role-map", "", "upstream group to role, GROUP=admin|auditor|member pairs separated by commas; the most privileged wins")
	c.Flags().StringVar(&r.defaultRole, "default-role", "member", "role of people in no mapped group: member, or none (no access)")
}

func (r *roleFlags) apply(cfg *connector.Config) error {
	m, err := connector.ParseRoleMap(r.roleMap)
	if err != nil {
		return err
	}
	cfg.RoleMap, cfg.DefaultRole = m, r.defaultRole
	return nil
}

func (g *globals) addConnector(cmd *cobra.Command, name string, cfg connector.Config) error {
	if err := domain.ValidateConnectorName(name); err != nil {
		return err
	}
	secret, err := g.passwordLine()
	if err != nil {
		return usagef("no secret on standard input")
	}
	return g.withFederation(cmd, func(ctx context.Context, app *server.App) error {
		f := app.Federation
		info, err := f.AddConnector(ctx, federation.NewConnector{Name: name, Config: cfg, Secret: secret})
		if err != nil {
			return err
		}
		fmt.Fprintf(g.env.Stdout, "Added %s connector %q. Its secret is sealed and will not be shown again.\n", info.Type, info.Name)
		if info.Type == domain.ConnectorOIDC {
			fmt.Fprintf(g.env.Stdout, "Register BASE_URL%s as the redirect URI at %s.\n", federation.CallbackPath(name), info.Config.Issuer)
		}
		return nil
	})
}

func connectorAddOIDCCmd(g *globals) *cobra.Command {
	var cfg connector.Config
	var scopes string
	var stdin bool
	var rf roleFlags
	c := &cobra.Command{
		Use:   "oidc NAME --issuer URL --client-id ID --client-secret-stdin",
		Short: "Add an upstream OpenID Connect provider (Entra ID, Keycloak, Okta, Google, …)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !stdin {
				return usagef("--client-secret-stdin is required (the client secret on the first line of standard input)")
			}
			cfg.Type, cfg.Scopes = domain.ConnectorOIDC, strings.Fields(scopes)
			if err := rf.apply(&cfg); err != nil {
				return err
			}
			return g.addConnector(cmd, args[0], cfg)
		},
	}
	c.Flags().StringVar(&cfg.Issuer, "issuer", "", "issuer URL; discovery at ISSUER/.well-known/openid-configuration (required)")
	c.Flags().StringVar(&cfg.ClientID, "client-id", "", "client id registered upstream (required)")
	c.Flags().BoolVar(&stdin, "client-secret-stdin", false, "read the client secret from the first line of standard input (required)")
	c.Flags().StringVar(&scopes, "scopes", "openid profile email groups", "scopes to request, space-separated")
	c.Flags().StringVar(&cfg.UsernameClaim, "username-claim", "preferred_username", "claim holding the username")
	c.Flags().StringVar(&cfg.NameClaim, "name-claim", "name", "claim holding the display name")
	c.Flags().StringVar(&cfg.EmailClaim, "email-claim", "email", "claim holding the e-mail (used only when email_verified is true)")
	c.Flags().StringVar(&cfg.GroupsClaim, "groups-claim", "groups", "claim holding the groups")
	rf.register(c)
	return c
}

func connectorAddLDAPCmd(g *globals) *cobra.Command {
	var cfg connector.Config
	var caFile string
	var stdin bool
	var rf roleFlags
	c := &cobra.Command{
		Use:   "ldap NAME --url ldaps://host:port --bind-dn DN --bind-password-stdin --user-base DN",
		Short: "Add an LDAP or Active Directory server",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !stdin {
				return usagef("--bind-password-stdin is required (the service bind password on the first line of standard input)")
			}
			cfg.Type = domain.ConnectorLDAP
			if caFile != "" {
				pem, err := os.ReadFile(caFile)
				if err != nil {
					return usagef("--ca-file: %v", err)
				}
				cfg.CAPEM = string(pem)
			}
			if err := rf.apply(&cfg); err != nil {
				return err
			}
			return g.addConnector(cmd, args[0], cfg)
		},
	}
	c.Flags().StringVar(&cfg.URL, "url", "", "ldaps://host:port, or ldap://host:port with --start-tls (required)")
	c.Flags().BoolVar(&cfg.StartTLS, "start-tls", false, "upgrade an ldap:// connection with StartTLS")
	c.Flags().BoolVar(&cfg.AllowPlain, "allow-plain", false, "allow ldap:// without TLS (passwords cross the network in clear text)")
	c.Flags().StringVar(&caFile, "ca-file", "", "PEM file of the CAs to trust; default the system roots (SSL_CERT_FILE honoured)")
	c.Flags().StringVar(&cfg.BindDN, "bind-dn", "", "DN of the service account that searches (required)")
	c.Flags().BoolVar(&stdin, "bind-password-stdin", false, "read the service account's password from the first line of standard input (required)")
	c.Flags().StringVar(&cfg.UserBase, "user-base", "", "DN under which people are searched (required)")
	c.Flags().StringVar(&cfg.UserFilter, "user-filter", "(uid=%s)", "filter finding a person; %s is the typed name, escaped (RFC 4515)")
	c.Flags().StringVar(&cfg.UsernameAttr, "username-attr", "uid", "attribute holding the username")
	c.Flags().StringVar(&cfg.EmailAttr, "email-attr", "mail", "attribute holding the e-mail")
	c.Flags().StringVar(&cfg.NameAttr, "name-attr", "cn", "attribute holding the display name")
	c.Flags().StringVar(&cfg.GroupBase, "group-base", "", "DN under which groups are searched; empty: the person's memberOf")
	c.Flags().StringVar(&cfg.GroupFilter, "group-filter", "(member=%s)", "filter finding a person's groups; %s is the person's DN, escaped")
	c.Flags().StringVar(&cfg.GroupNameAttr, "group-name-attr", "cn", "attribute holding a group's name")
	rf.register(c)
	return c
}

func connectorListCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the connectors (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withFederation(cmd, func(ctx context.Context, app *server.App) error {
				f := app.Federation
				list, err := f.Connectors(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					if list == nil {
						list = []federation.Info{}
					}
					return writeJSON(g, list)
				}
				if len(list) == 0 {
					fmt.Fprintln(g.env.Stdout, "No connectors.")
					return nil
				}
				tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tTYPE\tWHERE\tLAST SYNC\tSYNC ERROR")
				for _, ci := range list {
					where := ci.Config.Issuer + ci.Config.URL
					last := "-"
					if ci.LastSyncAt != nil {
						last = ci.LastSyncAt.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ci.Name, ci.Type, where, last, ci.LastSyncError)
				}
				return tw.Flush()
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func connectorRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a connector (its users stay, unable to sign in through it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withFederation(cmd, func(ctx context.Context, app *server.App) error {
				f := app.Federation
				if err := f.RemoveConnector(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Removed connector %q.\n", args[0])
				return nil
			})
		},
	}
}

func connectorTestCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "test NAME",
		Short: "Check a connector: a real discovery (OIDC) or service bind (LDAP); exit 1 with what failed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withFederation(cmd, func(ctx context.Context, app *server.App) error {
				f := app.Federation
				if err := f.TestConnector(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Connector %q answers.\n", args[0])
				return nil
			})
		},
	}
}

func directoryCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "directory", Short: "The directory sync"}
	c.AddCommand(&cobra.Command{
		Use:   "sync",
		Short: "Run the directory sync once, now; exit 1 with one line per directory it could not reach (nobody disabled from it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withFederation(cmd, func(ctx context.Context, app *server.App) error {
				f := app.Federation
				res, err := f.Sync(ctx)
				if err != nil {
					return err
				}
				failed := 0
				for _, r := range res {
					if r.Err != nil {
						failed++
						fmt.Fprintf(g.env.Stderr, "oauthdesk: %s could not be synced (nobody was disabled): %s\n", r.Connector, strings.TrimPrefix(r.Err.Error(), r.Connector+": "))
						continue
					}
					fmt.Fprintf(g.env.Stdout, "%s: checked %d, disabled %d%s\n", r.Connector, r.Checked, len(r.Disabled), list(r.Disabled))
				}
				if failed > 0 {
					return silentExit{code: ExitFailure}
				}
				return nil
			})
		},
	})
	return c
}

func list(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// silentExit ends the command with code, its lines already written.
type silentExit struct{ code int }

func (e silentExit) Error() string { return "" }

func userLinkCmd(g *globals) *cobra.Command {
	var name, subject string
	c := &cobra.Command{
		Use:   "link USERNAME --connector NAME --subject SUBJECT",
		Short: "Let an existing local user sign in through a connector, as the identity SUBJECT (OIDC sub, LDAP entryUUID)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" || subject == "" {
				return usagef("--connector and --subject are required")
			}
			return g.withFederation(cmd, func(ctx context.Context, app *server.App) error {
				f := app.Federation
				u, err := f.LinkUser(ctx, args[0], name, subject)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "%s now signs in through %s.\n", u.Username, name)
				return nil
			})
		},
	}
	c.Flags().StringVar(&name, "connector", "", "the connector (required)")
	c.Flags().StringVar(&subject, "subject", "", "the person's stable subject at the connector (required)")
	return c
}
