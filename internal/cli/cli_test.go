package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// run executes the command line in-process and returns its exit code,
// stdout and stderr.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(t.Context(), args, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

func TestUsageErrorsAreOneLineExitTwo(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"migrate-db without --to", []string{"migrate-db", "--from", filepath.Join(dir, "a.db")}, "needs --from and --to"},
		{"migrate-db onto itself", []string{"migrate-db", "--from", "x.db", "--to", "x.db"}, "same database"},
		{"migrate-db from a missing file", []string{"migrate-db", "--from", filepath.Join(dir, "missing.db"), "--to", filepath.Join(dir, "b.db")}, "--from"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"a missing database file", []string{"app", "list", "--db", filepath.Join(dir, "nope.db")}, "does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := run(t, "", c.args...)
			if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout, one line saying %q", code, out, errs, c.want)
			}
		})
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Errorf("refused commands wrote files: %v", m)
	}
}

// TestEveryCommandTakesBothBackends: migrate, user add and app list on a
// SQLite path and on a PostgreSQL URL; the URL's password is never printed.
func TestEveryCommandTakesBothBackends(t *testing.T) {
	dbs := map[string]string{"sqlite": filepath.Join(t.TempDir(), "cli.db")}
	if storetest.PostgresURL() != "" {
		dbs["postgres"] = storetest.NewPostgres(t)
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			code, out, errs := run(t, "", "migrate", "--db", db)
			if code != ExitOK || !strings.Contains(out, "the schema is up to date") {
				t.Fatalf("migrate: %d %q %q", code, out, errs)
			}
			if code, _, errs := run(t, "a long enough password\n", "user", "add", "carol", "--role", "admin", "--password-stdin", "--db", db); code != ExitOK {
				t.Fatalf("user add: %d %q", code, errs)
			}
			code, out, errs = run(t, "", "app", "register", "--name", "Boards", "--company", "Fabrikam", "--app-url", "https://fabrikam.example",
				"--callback-url", "https://fabrikam.example/cb", "--scopes", "vso.work", "--owner", "carol", "--db", db)
			if code != ExitOK {
				t.Fatalf("app register: %d %q %q", code, out, errs)
			}
			if code, out, _ := run(t, "", "app", "list", "--db", db); code != ExitOK || !strings.Contains(out, "Boards") {
				t.Errorf("app list: %d %q", code, out)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"./oauthdesk.db": "./oauthdesk.db",
		"postgres://u:hunter2@db:5432/x?sslmode=require": "postgres://u:xxxxx@db:5432/x?sslmode=require",
		"postgres://u@db/x": "postgres://u@db/x",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
