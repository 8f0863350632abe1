package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

func appImportCmd(g *globals) *cobra.Command {
	var file, owner string
	var dryRun bool
	c := &cobra.Command{
		Use:   "import --file FILE [--owner USERNAME] [--dry-run]",
		Short: "Record app registrations that live elsewhere (CSV with a header, or a JSON array) to get expiry warnings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("--file is required")
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return usagef("--file: %v", err)
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				// Every problem of the file in one round: its rows and the database.
				recs, plan, err := svc.CheckImport(ctx, data, owner)
				if err == nil {
					if dryRun {
						for _, ch := range plan {
							verb := "update"
							if ch.Create {
								verb = "create"
							} else if len(ch.Diff) == 0 {
								verb = "unchanged"
							}
							fmt.Fprintf(g.env.Stdout, "line %d: %s %s %q %v\n", ch.Record.Line, verb, ch.Record.ClientID, ch.Record.Name, ch.Diff)
						}
						return nil
					} else {
						var res admin.ImportResult
						if res, err = svc.Import(ctx, recs, owner); err == nil {
							fmt.Fprintf(g.env.Stdout, "Imported %s: %d created, %d updated, %d unchanged.\n", file, res.Created, res.Updated, res.Unchanged)
							return nil
						}
					}
				}
				var bad admin.ImportErrors
				if errors.As(err, &bad) {
					for _, p := range bad {
						fmt.Fprintf(g.env.Stderr, "%s:%d: %s\n", file, p.Line, p.Reason)
					}
					return usageError{err}
				}
				return err
			})
		},
	}
	c.Flags().StringVar(&file, "file", "", "CSV or JSON file (required)")
	c.Flags().StringVar(&owner, "owner", "admin", "owner of rows without an owner column")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "validate and show what would change, writing nothing")
	return c
}
