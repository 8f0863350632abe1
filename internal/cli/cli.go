package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/server"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// usageError marks bad arguments: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// passwordLine reads a password from the first line of standard input,
// without its line ending. Errors: a usage error when stdin is empty.
func (g *globals) passwordLine() (string, error) {
	line, err := bufio.NewReader(g.env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usagef("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// Env holds the process's streams and environment (swappable in tests).
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// Run executes the command line args (without the program name) and
// returns the exit code.
func Run(ctx context.Context, args []string, env Env) int {
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(audit.WithActor(ctx, audit.Actor{Name: audit.ActorCLI}))
	if err == nil {
		return ExitOK
	}
	var se silentExit
	if errors.As(err, &se) {
		return se.code
	}
	msg := err.Error()
	var ue usageError
	code := ExitFailure
	switch {
	case errors.As(err, &ue):
		code = ExitUsage
	case apperr.Is(err, apperr.Invalid), apperr.Is(err, apperr.NotFound), apperr.Is(err, apperr.Conflict):
		code = ExitUsage
		msg = apperr.ErrorMessage(err)
	case apperr.ErrorCode(err) != apperr.Internal:
		msg = apperr.ErrorMessage(err)
	}
	fmt.Fprintln(env.Stderr, "oauthdesk: "+firstLine(msg))
	return code
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

type globals struct {
	env     Env
	db      string
	keyFile string
}

func newRoot(env Env) *cobra.Command {
	g := &globals{env: env}
	root := &cobra.Command{
		Use:           "oauthdesk",
		Short:         "A self-hosted OAuth 2.0 authorization server with an admin dashboard",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.db, "db", envOr(env, "OAUTHDESK_DB", "./oauthdesk.db"), "SQLite database file, or a postgres://user@host:5432/name?sslmode=… URL (env OAUTHDESK_DB)")
	root.PersistentFlags().StringVar(&g.keyFile, "key-file", envOr(env, "OAUTHDESK_KEY_FILE", ""), "key-encryption key of the signing keys; default oauthdesk.key beside the database (env OAUTHDESK_KEY_FILE)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(serveCmd(g), migrateCmd(g), migrateDBCmd(g), userCmd(g), appCmd(g), authzCmd(g), policyCmd(g), tokenCmd(g), auditCmd(g), reportCmd(g), devCmd(g), keysCmd(g), connectorCmd(g), directoryCmd(g))
	// Unknown commands and bad argument counts are usage errors too.
	for _, c := range allCommands(root) {
		if c.Args != nil {
			args := c.Args
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return usageError{err}
				}
				return nil
			}
		}
		if c.HasSubCommands() {
			c.RunE = func(cmd *cobra.Command, a []string) error {
				if len(a) > 0 {
					return usagef("unknown command %q for %q", a[0], cmd.CommandPath())
				}
				return usagef("%s needs a subcommand; see '%s --help'", cmd.CommandPath(), cmd.CommandPath())
			}
			c.Args = func(*cobra.Command, []string) error { return nil }
		}
	}
	return root
}

func allCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, s := range c.Commands() {
		out = append(out, allCommands(s)...)
	}
	return out
}

func envOr(env Env, key, def string) string {
	if env.Getenv != nil {
		if v := env.Getenv(key); v != "" {
			return v
		}
	}
	return def
}

// config is the server configuration a one-shot command opens with.
func (g *globals) config() server.Config {
	return server.Config{DBPath: g.db, KeyFile: g.keyFile, Now: nowUTC}
}

// withServices is the one way a one-shot command reaches the database: it
// refuses a SQLite file that does not exist (a mistyped --db writes
// nothing; a usage error), opens the command's App through the wiring
// root (server.Open with server.ForCommand: the migrated store and the
// services, no HTTP server or background jobs), runs fn with the
// command's context and closes the App. Run maps fn's error to one line
// on stderr and the exit code.
func (g *globals) withServices(cmd *cobra.Command, fn func(ctx context.Context, app *server.App) error) error {
	if err := g.mustExist(); err != nil {
		return err
	}
	return g.open(cmd, fn, server.ForCommand())
}

// withNewDatabase is withServices for the commands that may create the
// database (migrate, user add, dev seed).
func (g *globals) withNewDatabase(cmd *cobra.Command, fn func(ctx context.Context, app *server.App) error) error {
	return g.open(cmd, fn, server.ForCommand())
}

// withFederation is withServices with the key file and the federation
// service (app.Federation): the connector and directory commands, and
// those that open the signing keys.
func (g *globals) withFederation(cmd *cobra.Command, fn func(ctx context.Context, app *server.App) error) error {
	if err := g.mustExist(); err != nil {
		return err
	}
	return g.open(cmd, fn, server.ForCommand(), server.WithKeyFile())
}

func (g *globals) open(cmd *cobra.Command, fn func(ctx context.Context, app *server.App) error, opts ...server.Option) error {
	ctx := cmd.Context()
	app, err := server.Open(ctx, g.config(), opts...)
	if err != nil {
		return err
	}
	defer app.Close()
	return fn(ctx, app)
}

// redact hides the password of a PostgreSQL URL for output.
func redact(dsn string) string {
	if !store.IsPostgresURL(dsn) {
		return dsn
	}
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "postgres://…"
}

// DefaultEnv is the process environment.
func DefaultEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// envInt returns the integer in the environment variable key, def when it
// is unset, and -1 (rejected by the flag's check) when it is not a number.
func envInt(env Env, key string, def int) int {
	v := envOr(env, key, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return -1
	}
	return n
}
