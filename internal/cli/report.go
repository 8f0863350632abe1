package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/render"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/server"
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
			if !render.ValidFormat(format) {
				return usagef("--format must be table, csv or json")
			}
			if unusedDays < 1 || unusedDays > 3650 {
				return usagef("--unused-days must be from 1 to 3650")
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				w := bufio.NewWriter(g.env.Stdout)
				sw, err := render.NewScopesWriter(w, format)
				if err != nil {
					return err
				}
				if err := svc.ScopeReport(ctx, unusedDays, high, sw.Write); err != nil {
					return err
				}
				if err := sw.Close(); err != nil {
					return fmt.Errorf("write report: %w", err)
				}
				return w.Flush()
			})
		},
	}
	scopes.Flags().StringVar(&format, "format", render.FormatTable, "table, csv or json")
	scopes.Flags().BoolVar(&high, "high-privilege", false, "only high-privilege scopes")
	scopes.Flags().IntVar(&unusedDays, "unused-days", admin.DefaultUnusedDays, "a scope not used for this many days is unused")
	c.AddCommand(scopes, reportExpiryCmd(g))
	return c
}

// parseWithin parses a window such as "90d", "12h" or "2160h" (Go
// durations plus a "d" suffix for days).
func parseWithin(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 0 || d > 36500 {
			return 0, usagef("--within %q is not a number of days such as 90d", s)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usagef("--within %q is not a window such as 90d or 72h", s)
	}
	return d, nil
}

func reportExpiryCmd(g *globals) *cobra.Command {
	var within, format, out, failOn, warnDays string
	c := &cobra.Command{
		Use:   "expiry [--within 90d] [--format table|csv|json|html] [--out FILE] [--fail-on expiring|critical|expired]",
		Short: "Client secrets expiring within a window, soonest first; --fail-on exits 1 for cron and CI",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			win, err := parseWithin(within)
			if err != nil {
				return err
			}
			if !render.ValidFormat(format) && format != render.FormatHTML {
				return usagef("--format must be table, csv, json or html")
			}
			failState := domain.ExpiryState(failOn)
			if failOn != "" && (reports.Severity(failState) < 1) {
				return usagef("--fail-on must be expiring, critical or expired")
			}
			thresholds, err := domain.ParseWarnDays(warnDays)
			if err != nil {
				return err
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				now := nowUTC()
				w := g.env.Stdout
				var f *os.File
				if out != "" {
					if f, err = os.Create(out); err != nil {
						return usagef("--out: %v", err)
					}
					w = f
				}
				// Streamed: the secrets expiring in the window are read in
				// batches along the expiry index and written as they come.
				bw := bufio.NewWriter(w)
				failing := 0
				ew, werr := render.NewExpiryWriter(bw, format, now)
				if werr == nil {
					werr = svc.WalkSecretExpiries(ctx, now.Add(win), func(e domain.ExpiringSecret) error {
						r := reports.ClassifyOne(e, thresholds, now)
						if failOn != "" && reports.Severity(r.State) >= reports.Severity(failState) {
							failing++
						}
						return ew.Write(r)
					})
				}
				if werr == nil {
					werr = ew.Close()
				}
				if werr == nil {
					werr = bw.Flush()
				}
				if f != nil {
					if cerr := f.Close(); werr == nil {
						werr = cerr
					}
				}
				if werr != nil {
					return fmt.Errorf("write report: %w", werr)
				}
				if failing > 0 {
					return fmt.Errorf("%d client secret(s) are %s or worse", failing, failOn)
				}
				return nil
			})
		},
	}
	c.Flags().StringVar(&within, "within", "90d", "window: secrets expiring within it (expired ones included), e.g. 90d, 72h")
	c.Flags().StringVar(&format, "format", render.FormatTable, "table, csv, json or html")
	c.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	c.Flags().StringVar(&failOn, "fail-on", "", "exit 1 when any row is at or beyond this state: expiring, critical or expired")
	c.Flags().StringVar(&warnDays, "warn-days", envOr(g.env, "OAUTHDESK_WARN_DAYS", "90,30,7"), "expiring and critical windows in days (env OAUTHDESK_WARN_DAYS)")
	return c
}
