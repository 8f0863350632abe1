package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/server"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// migrateDBCmd is `oauthdesk migrate-db --from SRC --to DST`: move an
// installation from one database to another (typically the embedded SQLite
// file to PostgreSQL, before running several replicas).
func migrateDBCmd(g *globals) *cobra.Command {
	var from, to string
	c := &cobra.Command{
		Use:   "migrate-db --from ./oauthdesk.db --to postgres://user@host:5432/name",
		Short: "Copy every row of one database into another, empty one (SQLite → PostgreSQL)",
		Long: `Copies users, apps, secrets, authorizations, codes, refresh tokens, signing keys,
sessions, settings, usage, report runs and the audit log from --from into --to,
in one transaction on the target, printing a line per table. Both are brought to
this binary's schema first. The target must hold no data. The audit chain is
verified on the target afterwards. Stop every server on the source first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usagef("migrate-db needs --from and --to")
			}
			if from == to {
				return usagef("--from and --to name the same database")
			}
			if _, err := os.Stat(from); !store.IsPostgresURL(from) && err != nil {
				return usagef("--from %s: %v", from, err)
			}
			ctx := cmd.Context()
			out := g.env.Stdout
			// Both ends through the wiring root (migrated to this
			// binary's schema), without keys, HTTP or jobs.
			open := func(dsn string) (*server.App, error) {
				return server.Open(ctx, server.Config{DBPath: dsn, Now: nowUTC}, server.ForCommand())
			}
			src, err := open(from)
			if err != nil {
				return err
			}
			defer src.Close()
			dst, err := open(to)
			if err != nil {
				return err
			}
			defer dst.Close()
			began := time.Now()
			var total int64
			header := false
			err = store.CopyTo(ctx, src.DB, dst.DB, func(table string, rows int64) {
				if !header {
					fmt.Fprintf(out, "Copying %s → %s\n", redact(from), redact(to))
					header = true
				}
				total += rows
				fmt.Fprintf(out, "  %-20s %8d rows\n", table, rows)
			})
			if err != nil {
				return err
			}
			v := audit.NewVerifier()
			if err := dst.DB.WalkAudit(ctx, time.Time{}, v.Add); err != nil {
				return err
			}
			n, br := v.Result()
			if br != nil {
				return fmt.Errorf("copied, but the audit log on the target does not verify at event %d: %s", br.Seq, br.Reason)
			}
			fmt.Fprintf(out, "Copied %d rows in %s. Audit log intact on the target: %d event(s) verified.\n",
				total, time.Since(began).Round(time.Millisecond), n)
			return nil
		},
	}
	c.Flags().StringVar(&from, "from", "", "source database: SQLite file or postgres:// URL")
	c.Flags().StringVar(&to, "to", "", "target database (empty): postgres:// URL or SQLite file")
	return c
}
