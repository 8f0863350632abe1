package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/keyseal"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
	"github.com/oauthdesk/oauthdesk/internal/server"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// keyFilePath is --key-file, or oauthdesk.key beside the database.
func (g *globals) keyFilePath() string {
	return server.Config{DBPath: g.db, KeyFile: g.keyFile}.KeyFilePath()
}

func keysCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "keys", Short: "List and rotate the access-token signing keys"}
	var asJSON bool
	var alg string
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the signing keys: kid, algorithm, created, status (signing | verify-only | retired)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.mustExist(); err != nil {
				return err
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				db := app.DB
				keys, err := oauth.ListKeys(ctx, db, nowUTC(), time.Hour)
				if err != nil {
					return err
				}
				if asJSON {
					if keys == nil {
						keys = []oauth.KeyInfo{}
					}
					return writeJSON(g, keys)
				}
				if len(keys) == 0 {
					fmt.Fprintln(g.env.Stdout, "No signing key yet: the server creates one on its first start.")
					return nil
				}
				tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "KID\tALG\tCREATED\tSTATUS\tRETIRES")
				for _, k := range keys {
					retires := ""
					if !k.RetiresAt.IsZero() {
						retires = k.RetiresAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", safeout.Term(k.ID), safeout.Term(k.Alg), k.CreatedAt.Format(time.RFC3339), k.Status, retires)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rotate := &cobra.Command{
		Use:   "rotate [--alg EdDSA|RS256|ES256|all]",
		Short: "Make a new signing key (one per algorithm by default); the old one verifies its tokens until they expired, then retires",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.mustExist(); err != nil {
				return err
			}
			path := g.keyFilePath()
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				return usagef("key file %s does not exist; start 'oauthdesk serve' once to create it, or pass --key-file", path)
			}
			sealer, _, err := keyseal.LoadFile(path)
			if err != nil {
				return err
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				db := app.DB
				switch alg {
				case "", "all":
					alg = ""
				case "EdDSA", "RS256", "ES256":
				default:
					return usagef("--alg must be EdDSA, RS256, ES256 or all")
				}
				keys, err := oauth.RotateKey(ctx, db, sealer, nowUTC(), alg)
				if err != nil {
					return err
				}
				for _, k := range keys {
					fmt.Fprintf(g.env.Stdout, "New signing key %s (%s); running servers sign with it within %s. The previous key keeps verifying for the access-token lifetime, then retires.\n", k.ID, k.Alg, oauth.KeyReload)
				}
				return nil
			})
		},
	}
	rotate.Flags().StringVar(&alg, "alg", "all", "which key to rotate: EdDSA (access tokens), RS256 or ES256 (ID tokens), or all")
	c.AddCommand(list, rotate)
	return c
}

// mustExist refuses a SQLite file that does not exist (a mistyped --db
// creates nothing).
func (g *globals) mustExist() error {
	if _, err := os.Stat(g.db); !store.IsPostgresURL(g.db) && errors.Is(err, fs.ErrNotExist) {
		return usagef("database %s does not exist; create it with 'oauthdesk migrate' or 'oauthdesk serve'", g.db)
	}
	return nil
}
