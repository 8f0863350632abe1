package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/reports"
)

func reportCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "report", Short: "Reports for cron and auditors"}
	var format string
	var high bool
	var unusedDays int
	scopes := &cobra.Command{
		Use:   "scopes [--format table|csv|json] [--high-privilege] [--unused-days 90]",
		Short: "Who holds which scope, how often it was used, and which are unused",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !reports.ValidFormat(format) {
				return usagef("--format must be table, csv or json")
			}
			if unusedDays < 1 || unusedDays > 3650 {
				return usagef("--unused-days must be from 1 to 3650")
			}
			ctx := cmd.Context()
			svc, done, err := g.adminService(ctx)
			if err != nil {
				return err
			}
			defer done()
			rows, err := svc.ScopeInventory(ctx, unusedDays, high)
			if err != nil {
				return err
			}
			if err := reports.WriteScopes(g.env.Stdout, format, rows); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
			return nil
		},
	}
	scopes.Flags().StringVar(&format, "format", reports.FormatTable, "table, csv or json")
	scopes.Flags().BoolVar(&high, "high-privilege", false, "only high-privilege scopes")
	scopes.Flags().IntVar(&unusedDays, "unused-days", admin.DefaultUnusedDays, "a scope not used for this many days is unused")
	c.AddCommand(scopes)
	return c
}
