package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/scope"
	"github.com/oauthdesk/oauthdesk/internal/server"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

func devCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "dev", Short: "Development tools: synthetic data for load and scale tests"}
	var spec store.SeedSpec
	var randSeed uint64
	var passwordStdin bool
	seed := &cobra.Command{
		Use:   "seed [--apps 100000] [--users 10000] [--authorizations 1000000] [--audit-events 0] [--pats 0] [--password-stdin] [--force]",
		Short: "Fill a database with synthetic users, apps, authorizations and audit events (bulk inserts)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case spec.Users < 1 || spec.Users > 10_000_000:
				return usagef("--users must be from 1 to 10000000")
			case spec.Apps < 0 || spec.Apps > 10_000_000:
				return usagef("--apps must be from 0 to 10000000")
			case spec.Authorizations < 0 || spec.Authorizations > 100_000_000:
				return usagef("--authorizations must be from 0 to 100000000")
			case spec.AuditEvents < 0 || spec.AuditEvents > 100_000_000:
				return usagef("--audit-events must be from 0 to 100000000")
			case spec.PATs < 0 || spec.PATs > 100_000_000:
				return usagef("--pats must be from 0 to 100000000")
			case spec.Authorizations > 0 && spec.Apps == 0:
				return usagef("--authorizations needs --apps")
			}
			if _, err := os.Stat(g.db); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			return g.withNewDatabase(cmd, func(ctx context.Context, app *server.App) error {
				db := app.DB
				password := rand.Text()
				var err error
				if passwordStdin {
					if password, err = g.passwordLine(); err != nil {
						return err
					}
					if len(password) < admin.MinPasswordLength {
						return usagef("--password-stdin: the password must be at least %d characters", admin.MinPasswordLength)
					}
				}
				hash, err := admin.HashPassword(password)
				if err != nil {
					return err
				}
				cat := scope.Default()
				spec.High = map[string]bool{}
				for _, s := range cat.All() {
					if s.ID == scope.AuthorizationGrant {
						continue
					}
					spec.Scopes = append(spec.Scopes, s.ID)
					spec.High[s.ID] = s.HighPrivilege
				}
				spec.Scopes = popularFirst(spec.Scopes)
				spec.PasswordHash, spec.Now, spec.Rand = hash, nowUTC(), randSeed
				start := time.Now()
				res, err := db.Seed(ctx, spec, func(step string) { fmt.Fprintln(g.env.Stderr, "seeded "+step) })
				if err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Seeded %d users, %d apps (%d secrets), %d authorizations (%d revoked), %d refresh tokens, %d scope usage rows, %d audit events, %d personal access tokens in %s.\n",
					res.Users, res.Apps, res.Secrets, res.Authorizations, res.Revoked, res.RefreshTokens, res.ScopeUsage, res.AuditEvents, res.PATs,
					time.Since(start).Round(time.Millisecond))
				if !passwordStdin {
					fmt.Fprintln(g.env.Stdout, "Seeded users cannot sign in; add one with 'oauthdesk user add'.")
				}
				return nil
			})
		},
	}
	f := seed.Flags()
	f.IntVar(&spec.Apps, "apps", 100_000, "app registrations")
	f.IntVar(&spec.Users, "users", 10_000, "users")
	f.IntVar(&spec.Authorizations, "authorizations", 1_000_000, "authorizations (about 6 % revoked)")
	f.IntVar(&spec.AuditEvents, "audit-events", 0, "audit events (a valid hash chain)")
	f.IntVar(&spec.PATs, "pats", 0, "personal access tokens (a few users hold many, about 10 % revoked)")
	f.BoolVar(&spec.Force, "force", false, "wipe a database that already holds data first")
	f.BoolVar(&passwordStdin, "password-stdin", false, "give every seeded user the password read from standard input (for benchmarks; the first user is an admin)")
	f.Uint64Var(&randSeed, "seed", 1, "random seed: the same seed gives the same data")
	c.AddCommand(seed)
	return c
}

// popularFirst puts the scopes most apps register at the front (the seed
// favours the front of the list).
func popularFirst(ids []string) []string {
	common := []string{"vso.profile", "vso.work", "vso.code", "vso.build", "vso.work_write", "vso.project", "vso.release", "vso.code_write", "vso.build_execute", "vso.identity"}
	out := make([]string, 0, len(ids))
	for _, c := range common {
		for _, id := range ids {
			if id == c {
				out = append(out, id)
			}
		}
	}
	for _, id := range ids {
		found := false
		for _, o := range out {
			found = found || o == id
		}
		if !found {
			out = append(out, id)
		}
	}
	return out
}
