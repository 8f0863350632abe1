package server

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// backends returns a fresh database per backend: SQLite always,
// PostgreSQL when OAUTHDESK_TEST_POSTGRES is set.
func backends(t *testing.T) map[string]func(t *testing.T) string {
	m := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return filepath.Join(t.TempDir(), "oauthdesk.db") },
	}
	if storetest.PostgresURL() != "" {
		m["postgres"] = func(t *testing.T) string { return storetest.NewPostgres(t) }
	}
	return m
}

func readyz(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec.Code, rec.Body.String()
}

// TestReadyzReportsTheDatabase: /readyz is 200 while the database answers
// and 503 once it does not.
func TestReadyzReportsTheDatabase(t *testing.T) {
	for name, newDB := range backends(t) {
		t.Run(name, func(t *testing.T) {
			app, err := Open(t.Context(), Config{DBPath: newDB(t), BaseURL: "http://127.0.0.1:1", KeyFile: filepath.Join(t.TempDir(), "oauthdesk.key")})
			if err != nil {
				t.Fatal(err)
			}
			if code, body := readyz(t, app.Handler()); code != http.StatusOK || !strings.Contains(body, "database: ok") {
				t.Errorf("/readyz with the database up: %d %q", code, body)
			}
			if err := app.Close(); err != nil {
				t.Fatal(err)
			}
			// The probe's answer is cached for a second.
			deadline := time.Now().Add(3 * time.Second)
			for {
				code, body := readyz(t, app.Handler())
				if code == http.StatusServiceUnavailable && strings.Contains(body, "database: unavailable") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("/readyz with the database closed: %d %q, want 503 within 3 s", code, body)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

// TestCommandServicesUseTheConfiguredClock: the CLI's admin service is wired
// by the same root as the server's, with the configured clock.
func TestCommandServicesUseTheConfiguredClock(t *testing.T) {
	for name, newDB := range backends(t) {
		t.Run(name, func(t *testing.T) {
			at := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
			app, err := Open(t.Context(), Config{DBPath: newDB(t), KeyFile: filepath.Join(t.TempDir(), "oauthdesk.key"), Now: func() time.Time { return at }}, ForCommand())
			if err != nil {
				t.Fatal(err)
			}
			defer app.Close()
			db := app.DB
			u, err := app.Admin.CreateUser(context.Background(), admin.NewUser{Username: "clocked", Role: domain.RoleMember, Password: "a long enough password"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.UserByID(t.Context(), u.ID)
			if err != nil || !got.CreatedAt.Equal(at) {
				t.Errorf("created at %v (%v), want the configured clock's %v", got.CreatedAt, err, at)
			}
		})
	}
}

func TestOpenRefusesABadDatabase(t *testing.T) {
	if _, err := Open(t.Context(), Config{DBPath: filepath.Join(t.TempDir(), "missing", "x.db")}); err == nil {
		t.Error("Open on a missing directory succeeded")
	}
	if _, err := Open(t.Context(), Config{DBPath: "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}); err == nil {
		t.Error("Open on an unreachable PostgreSQL server succeeded")
	}
}

// TestOpenForCommand: a one-shot command's App has the services and
// neither HTTP, keys nor jobs, and leaves the key file alone; WithKeyFile
// adds the key file and the federation service.
func TestOpenForCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DBPath: filepath.Join(dir, "oauthdesk.db"), KeyFile: filepath.Join(dir, "oauthdesk.key")}
	app, err := Open(t.Context(), cfg, ForCommand())
	if err != nil {
		t.Fatal(err)
	}
	if app.Admin == nil || app.PATs == nil || app.DB == nil {
		t.Errorf("services missing: admin %v, pats %v, db %v", app.Admin != nil, app.PATs != nil, app.DB != nil)
	}
	if app.Web != nil || app.OAuth != nil || app.Reports != nil || app.Federation != nil {
		t.Error("a command's App has a web server, protocol, report scheduler or federation")
	}
	if app.Migrated == 0 {
		t.Error("the first Open of a new database applied no migration")
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.KeyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ForCommand touched the key file: %v", err)
	}
	app, err = Open(t.Context(), cfg, ForCommand(), WithKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if app.Federation == nil || !app.KeyFileCreated || app.Web != nil || app.Migrated != 0 {
		t.Errorf("WithKeyFile: federation %v, key file created %v, web %v, migrations %d", app.Federation != nil, app.KeyFileCreated, app.Web != nil, app.Migrated)
	}
	if _, err := os.Stat(cfg.KeyFile); err != nil {
		t.Errorf("WithKeyFile did not create the key file: %v", err)
	}
}
