package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// makeUnwritable makes path unwritable even for root (chattr +i; chmod
// 0400 suffices for other users) and undoes it when the test ends. It
// skips the test when neither works here.
func makeUnwritable(t *testing.T, path string) (undo func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o400); err != nil {
			t.Skipf("chmod: %v", err)
		}
		undo = func() { _ = os.Chmod(path, 0o600) }
	} else {
		if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
			t.Skipf("cannot make %s immutable here (chattr: %v %s)", filepath.Base(path), err, out)
		}
		undo = func() { _ = exec.Command("chattr", "-i", path).Run() }
	}
	t.Cleanup(undo)
	return undo
}

// /readyz answers 503 while the database cannot take a write and 200
// again after; /healthz stays 200; the token endpoint's 500 says only the
// protocol's text.
func TestReadyzFollowsWritabilityAndToken500(t *testing.T) {
	sqliteOnly(t) // makes the SQLite write-ahead log unwritable
	ts := newTestServer(t)
	_, alice, app := rootAliceApp(t, ts, "vso.work")
	code := approve(t, alice, app, "vso.work", "s")
	probe := ts.newAgent(t)
	if r := probe.get("/readyz"); r.Status != http.StatusOK {
		t.Fatalf("/readyz on a healthy database: %d %s", r.Status, r.Body)
	}

	time.Sleep(1100 * time.Millisecond) // past the probe's one-second cache
	undo := makeUnwritable(t, ts.DBPath+"-wal")
	if r := probe.get("/readyz"); r.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz while the database takes no write: %d, want 503", r.Status)
	}
	if r := probe.get("/healthz"); r.Status != http.StatusOK {
		t.Errorf("/healthz (liveness) while the database takes no write: %d, want 200", r.Status)
	}
	res := postToken(t, ts.URL, formType, codeBody(app.Secret, code, callbackURL))
	if res.Status != http.StatusInternalServerError {
		t.Errorf("code exchange on an unwritable database: %d, want 500", res.Status)
	}
	for k, want := range map[string]string{"error": "server_error", "Error": "server_error",
		"error_description": "An internal server error occurred", "ErrorDescription": "An internal server error occurred"} {
		if got := res.str(k); got != want {
			t.Errorf("500 body %s = %q, want %q", k, got, want)
		}
	}
	undo()
	time.Sleep(1100 * time.Millisecond)
	if r := probe.get("/readyz"); r.Status != http.StatusOK {
		t.Errorf("/readyz after the database is writable again: %d, want 200", r.Status)
	}
}

// A database file the process cannot write stops the start with one
// clear line.
func TestServeRefusesUnwritableDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "oauthdesk.db")
	mustSucceed(t, oauthdesk(t, cliRun{dir: dir}, "migrate", "--db", db))
	makeUnwritable(t, db)
	r := oauthdesk(t, cliRun{dir: dir}, "serve", "--db", db, "--addr", freeAddr(t))
	if r.code == 0 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "is not writable") {
		t.Errorf("serve on a read-only database: want a failure with one clear line\n%s", r)
	}
}
