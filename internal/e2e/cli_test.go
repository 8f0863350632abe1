package e2e

// End-to-end tests of the oauthdesk command line, the contract that scripts
// rely on (README "CLI"). They build the real binary once (cliBinary) and
// run it as a script would: arguments, standard input, an environment and a
// working directory in; exit code, standard output and standard error out.
//
// Exit codes: 0 success, 2 bad arguments or invalid values (one line on
// stderr that starts with "oauthdesk: ", and nothing written), 1 other
// failures.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// cliBuildTimeout bounds `go build` of the binary (long enough for a
	// cold build cache, which compiles SQLite).
	cliBuildTimeout = 5 * time.Minute
	// cliRunTimeout bounds one one-shot command (user add, app register…).
	cliRunTimeout = 30 * time.Second
	// serveStartTimeout bounds the wait for a line from `oauthdesk serve`.
	serveStartTimeout = 20 * time.Second
	// serveStopTimeout bounds the graceful shutdown after SIGTERM.
	serveStopTimeout = 10 * time.Second

	// cliPassword is the password of the user "ada" of TestCLIContract.
	cliPassword = "correct horse battery staple"
)

var (
	cliBuildOnce sync.Once
	cliBinPath   string
	cliBuildErr  error
)

// cliBinary returns the path of the oauthdesk binary, built once per run of
// the package with `go build ./cmd/oauthdesk` in the module root (../.. from
// this package's directory).
func cliBinary(t *testing.T) string {
	t.Helper()
	cliBuildOnce.Do(func() { cliBinPath, cliBuildErr = buildCLI() })
	if cliBuildErr != nil {
		t.Fatalf("build oauthdesk: %v", cliBuildErr)
	}
	return cliBinPath
}

func buildCLI() (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if mod, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !bytes.Contains(mod, []byte("module github.com/oauthdesk/oauthdesk\n")) {
		return "", fmt.Errorf("%s is not the oauthdesk module root (run the tests from internal/e2e): %v", root, err)
	}
	dir, err := os.MkdirTemp(cliBinParent(), "oauthdesk-cli-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "oauthdesk")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliBuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/oauthdesk")
	cmd.Dir = root
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("go build ./cmd/oauthdesk: %v\n%s", err, out)
	}
	return bin, nil
}

// cliBinParent is where the binary is built: in the work directory of `go
// test`, which holds the test binary and which go test removes when it
// ends, or else (a test binary built with go test -c) in the system's
// temporary directory, where it is left behind.
func cliBinParent() string {
	dir := filepath.Dir(os.Args[0])
	tmp, err := filepath.EvalSymlinks(os.TempDir())
	if err != nil {
		tmp = os.TempDir()
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil &&
		strings.HasPrefix(real, tmp+string(filepath.Separator)) && strings.Contains(real, "go-build") {
		return dir
	}
	return ""
}

// cliEnv is the environment of the commands: the test's, without any
// OAUTHDESK_* variable of the person running the tests, plus extra
// ("KEY=value").
func cliEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "OAUTHDESK_") })
	return append(env, extra...)
}

// cliRun describes one run of the binary.
type cliRun struct {
	dir     string        // working directory (default: a new temp dir)
	env     []string      // extra environment variables, "KEY=value"
	stdin   string        // standard input
	timeout time.Duration // default cliRunTimeout
}

// cliResult is what a script sees of a run.
type cliResult struct {
	args           []string
	code           int
	stdout, stderr string
}

func (r cliResult) String() string {
	return fmt.Sprintf("oauthdesk %q: exit %d\nstdout:\n%s\nstderr:\n%s", r.args, r.code, r.stdout, r.stderr)
}

// oauthdesk runs the binary with args and returns its exit code and output.
// It fails the test if the binary does not start or outlives the timeout.
func oauthdesk(t *testing.T, run cliRun, args ...string) cliResult {
	t.Helper()
	if run.timeout == 0 {
		run.timeout = cliRunTimeout
	}
	if run.dir == "" {
		run.dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(t.Context(), run.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliBinary(t), args...)
	cmd.Dir = run.dir
	cmd.Env = cliEnv(run.env...)
	cmd.Stdin = strings.NewReader(run.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	res := cliResult{args: args, code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("oauthdesk %q did not end within %s\n%s", args, run.timeout, res)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run oauthdesk %q: %v", args, err)
	}
	return res
}

// mustSucceed fails the test unless the run exited 0.
func mustSucceed(t *testing.T, r cliResult) cliResult {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("want exit 0\n%s", r)
	}
	return r
}

// wantUsageError checks the contract for bad arguments: exit code 2,
// nothing on stdout, and exactly one line on stderr that starts with
// "oauthdesk: " and contains every one of words.
func wantUsageError(t *testing.T, r cliResult, words ...string) {
	t.Helper()
	if r.code != 2 {
		t.Errorf("want exit 2, got %d\n%s", r.code, r)
	}
	if r.stdout != "" {
		t.Errorf("want nothing on stdout\n%s", r)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") || !strings.HasPrefix(r.stderr, "oauthdesk: ") {
		t.Errorf("want exactly one line on stderr starting with %q, got %q", "oauthdesk: ", r.stderr)
	}
	for _, w := range words {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q does not mention %q", strings.TrimSpace(r.stderr), w)
		}
	}
}

// dropFlag as the value of a flag in registerArgs leaves the flag out.
const dropFlag = "\x00drop"

// registerArgs returns valid `app register` arguments for the owner ada on
// db (no --db when db is ""), changed by change: pairs of flag and value
// (dropFlag to leave the flag out; a flag not among the defaults is
// appended).
func registerArgs(db string, change ...string) []string {
	flags := [][2]string{
		{"--name", "Contoso Wallboard"},
		{"--company", "Contoso, Ltd."},
		{"--app-url", "https://contoso.example/wallboard"},
		{"--callback-url", "https://contoso.example/wallboard/oauth-callback"},
		{"--scopes", "vso.work vso.code_write"},
		{"--owner", "ada"},
	}
	for i := 0; i+1 < len(change); i += 2 {
		j := slices.IndexFunc(flags, func(f [2]string) bool { return f[0] == change[i] })
		if j < 0 {
			flags = append(flags, [2]string{change[i], change[i+1]})
		} else {
			flags[j][1] = change[i+1]
		}
	}
	args := []string{"app", "register"}
	if db != "" {
		args = append(args, "--db", db)
	}
	for _, f := range flags {
		if f[1] != dropFlag {
			args = append(args, f[0], f[1])
		}
	}
	return args
}

// registerJSON is the output of `oauthdesk app register --json`.
type registerJSON struct {
	ClientID        string `json:"client_id"`
	ClientSecret    string `json:"client_secret"`
	SecretExpiresAt string `json:"secret_expires_at"`
}

// listedApp is one app of `oauthdesk app list --json`.
type listedApp struct {
	ClientID        string   `json:"client_id"`
	Name            string   `json:"name"`
	Company         string   `json:"company"`
	CallbackURL     string   `json:"callback_url"`
	Scopes          []string `json:"scopes"`
	Owner           string   `json:"owner"`
	CreatedAt       string   `json:"created_at"`
	SecretExpiresAt string   `json:"secret_expires_at"`
	SecretState     string   `json:"secret_state"`
}

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// parseRegister checks and decodes the output of `app register --json`
// run between before and after.
func parseRegister(t *testing.T, r cliResult, before, after time.Time) registerJSON {
	t.Helper()
	var keys map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil {
		t.Fatalf("app register --json: stdout is not a JSON object: %v\n%s", err, r)
	}
	if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, []string{"client_id", "client_secret", "secret_expires_at"}) {
		t.Errorf("app register --json: keys %q, want client_id, client_secret, secret_expires_at", got)
	}
	var reg registerJSON
	if err := json.Unmarshal([]byte(r.stdout), &reg); err != nil {
		t.Fatalf("app register --json: %v\n%s", err, r)
	}
	if !guidRE.MatchString(reg.ClientID) {
		t.Errorf("client_id %q is not a GUID", reg.ClientID)
	}
	if !regexp.MustCompile(`^odcs_[A-Za-z0-9_-]{32,}$`).MatchString(reg.ClientSecret) {
		t.Errorf("client_secret %q does not look like odcs_ and 32 or more URL-safe characters", reg.ClientSecret)
	}
	exp, err := time.Parse(time.RFC3339, reg.SecretExpiresAt)
	if err != nil {
		t.Fatalf("secret_expires_at %q is not RFC 3339: %v", reg.SecretExpiresAt, err)
	}
	// Five calendar years after the registration, to the second.
	lo, hi := before.UTC().AddDate(5, 0, 0).Truncate(time.Second), after.UTC().AddDate(5, 0, 0)
	if exp.Before(lo) || exp.After(hi) {
		t.Errorf("secret_expires_at %s, want five years after now (between %s and %s)", exp, lo.Format(time.RFC3339), hi.Format(time.RFC3339))
	}
	return reg
}

// listApps runs `app list --json` on db and decodes it.
func listApps(t *testing.T, run cliRun, db string) (string, []listedApp) {
	t.Helper()
	args := []string{"app", "list", "--json"}
	if db != "" {
		args = append(args, "--db", db)
	}
	r := mustSucceed(t, oauthdesk(t, run, args...))
	var apps []listedApp
	if err := json.Unmarshal([]byte(r.stdout), &apps); err != nil || apps == nil {
		t.Fatalf("app list --json: want a JSON array: %v\n%s", err, r)
	}
	return r.stdout, apps
}

// fileDigest returns the SHA-256 of the file at path.
func fileDigest(t *testing.T, path string) [sha256.Size]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestCLIContract(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "oauthdesk.db")
	run := cliRun{dir: dir}

	t.Run("migrate and empty list", func(t *testing.T) {
		fresh := filepath.Join(t.TempDir(), "fresh.db")
		r := mustSucceed(t, oauthdesk(t, cliRun{}, "migrate", "--db", fresh))
		if !strings.Contains(r.stdout, "migration(s)") || !strings.Contains(r.stdout, fresh) {
			t.Errorf("migrate: want the number of migrations and the database path\n%s", r)
		}
		if r = mustSucceed(t, oauthdesk(t, cliRun{}, "migrate", "--db", fresh)); !strings.Contains(r.stdout, "Applied 0 migration(s)") {
			t.Errorf("migrate again: want no migration applied\n%s", r)
		}
		if out, apps := listApps(t, cliRun{}, fresh); len(apps) != 0 || strings.TrimSpace(out) != "[]" {
			t.Errorf("app list --json on an empty database: got %q, want []", out)
		}
		if r = mustSucceed(t, oauthdesk(t, cliRun{}, "app", "list", "--db", fresh)); !strings.Contains(r.stdout, "No app is registered") {
			t.Errorf("app list on an empty database\n%s", r)
		}
	})

	r := mustSucceed(t, oauthdesk(t, cliRun{dir: dir, stdin: cliPassword + "\n"},
		"user", "add", "ada", "--role", "member", "--display-name", "Ada Lovelace", "--email", "ada@example.com", "--password-stdin", "--db", db))
	if !strings.Contains(r.stdout, `"ada"`) || r.stderr != "" {
		t.Errorf("user add: want the username on stdout and nothing on stderr\n%s", r)
	}

	before := time.Now()
	r = mustSucceed(t, oauthdesk(t, run, append(registerArgs(db, "--description", "Work items on a wall display.",
		"--company-url", "https://contoso.example", "--terms-url", "https://contoso.example/terms",
		"--privacy-url", "https://contoso.example/privacy"), "--json")...))
	reg := parseRegister(t, r, before, time.Now())
	if r.stderr != "" {
		t.Errorf("app register --json: want nothing on stderr\n%s", r)
	}

	snapshot, apps := listApps(t, run, db)
	if len(apps) != 1 {
		t.Fatalf("app list --json: want 1 app, got %d\n%s", len(apps), snapshot)
	}
	want := listedApp{ClientID: reg.ClientID, Name: "Contoso Wallboard", Company: "Contoso, Ltd.",
		CallbackURL: "https://contoso.example/wallboard/oauth-callback", Scopes: []string{"vso.work", "vso.code_write"},
		Owner: "ada", CreatedAt: apps[0].CreatedAt, SecretExpiresAt: reg.SecretExpiresAt, SecretState: apps[0].SecretState}
	if got := apps[0]; !slices.Equal(got.Scopes, want.Scopes) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("app list --json:\n got %+v\nwant %+v", got, want)
	}
	if _, err := time.Parse(time.RFC3339, apps[0].CreatedAt); err != nil {
		t.Errorf("created_at %q is not RFC 3339", apps[0].CreatedAt)
	}
	if strings.Contains(snapshot, reg.ClientSecret) {
		t.Error("app list --json shows the client secret, which is shown only once")
	}

	r = mustSucceed(t, oauthdesk(t, run, "app", "list", "--db", db))
	if !strings.Contains(r.stdout, "CLIENT ID") || !strings.Contains(r.stdout, reg.ClientID) || !strings.Contains(r.stdout, "Contoso Wallboard") {
		t.Errorf("app list: want a table with the client id %s and the name\n%s", reg.ClientID, r)
	}
	if strings.Contains(r.stdout, reg.ClientSecret) {
		t.Error("app list shows the client secret")
	}

	// Bad arguments and invalid values: exit 2, one line on stderr, and the
	// database is unchanged, byte for byte and as `app list` shows it.
	long := strings.Repeat("n", 129)
	cases := []struct {
		name  string
		args  []string
		stdin string
		words []string // the stderr line mentions each
		// absentUser is a username that the command must not have added.
		absentUser string
	}{
		{name: "unknown flag", args: append(registerArgs(db), "--colour", "blue"), words: []string{"--colour"}},
		{name: "missing --name", args: registerArgs(db, "--name", dropFlag), words: []string{"--name"}},
		{name: "http callback", args: registerArgs(db, "--callback-url", "http://contoso.example/cb"), words: []string{"https"}},
		{name: "callback with fragment", args: registerArgs(db, "--callback-url", "https://contoso.example/cb#top"), words: []string{"fragment"}},
		{name: "unknown scope", args: registerArgs(db, "--scopes", "vso.work vso.teleport"), words: []string{"vso.teleport"}},
		{name: "marker scope", args: registerArgs(db, "--scopes", "vso.work vso.authorization_grant"), words: []string{"vso.authorization_grant"}},
		{name: "unknown owner", args: registerArgs(db, "--owner", "nobody"), words: []string{"nobody"}},
		{name: "name of 129 characters", args: registerArgs(db, "--name", long), words: []string{"128"}},
		{name: "user add bad role", args: []string{"user", "add", "zed1", "--role", "superuser", "--password-stdin", "--db", db},
			stdin: cliPassword + "\n", words: []string{"role"}, absentUser: "zed1"},
		{name: "user add without --password-stdin", args: []string{"user", "add", "zed2", "--role", "member", "--db", db},
			stdin: cliPassword + "\n", words: []string{"--password-stdin"}, absentUser: "zed2"},
		{name: "user add short password", args: []string{"user", "add", "zed3", "--role", "member", "--password-stdin", "--db", db},
			stdin: "short\n", words: []string{"password"}, absentUser: "zed3"},
		{name: "user add no password on stdin", args: []string{"user", "add", "zed4", "--role", "member", "--password-stdin", "--db", db},
			words: []string{"password"}, absentUser: "zed4"},
		{name: "user add duplicate username", args: []string{"user", "add", "ada", "--role", "admin", "--password-stdin", "--db", db},
			stdin: "another password\n", words: []string{"ada"}},
		{name: "app without subcommand", args: []string{"app", "--db", db}, words: []string{"app"}},
		{name: "unknown command", args: []string{"frobnicate", "--db", db}, words: []string{"frobnicate"}},
		{name: "extra positional argument", args: []string{"app", "list", "surplus", "--db", db}, words: []string{"surplus"}},
		{name: "user add two usernames", args: []string{"user", "add", "zed5", "zed6", "--role", "member", "--password-stdin", "--db", db},
			stdin: cliPassword + "\n", absentUser: "zed5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			digest := fileDigest(t, db)
			wantUsageError(t, oauthdesk(t, cliRun{dir: dir, stdin: tc.stdin}, tc.args...), tc.words...)
			if fileDigest(t, db) != digest {
				t.Error("the database file changed")
			}
			if got, _ := listApps(t, run, db); got != snapshot {
				t.Errorf("app list --json changed:\n%s\nwant:\n%s", got, snapshot)
			}
			if tc.absentUser != "" {
				wantUsageError(t, oauthdesk(t, run, registerArgs(db, "--owner", tc.absentUser)...), tc.absentUser, "not a user")
			}
		})
	}

	t.Run("db in a missing directory", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nowhere")
		for _, args := range [][]string{
			{"app", "list", "--db", filepath.Join(missing, "oauthdesk.db")},
			{"migrate", "--db", filepath.Join(missing, "oauthdesk.db")},
			registerArgs(filepath.Join(missing, "oauthdesk.db")),
		} {
			wantUsageError(t, oauthdesk(t, cliRun{}, args...), missing)
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: want it still missing, got %v", missing, err)
		}
	})

	t.Run("OAUTHDESK_DB", func(t *testing.T) {
		elsewhere := t.TempDir()
		_, apps := listApps(t, cliRun{dir: elsewhere, env: []string{"OAUTHDESK_DB=" + db}}, "")
		if len(apps) != 1 || apps[0].ClientID != reg.ClientID {
			t.Errorf("app list with OAUTHDESK_DB=%s: want the app %s, got %+v", db, reg.ClientID, apps)
		}
		if _, err := os.Stat(filepath.Join(elsewhere, "oauthdesk.db")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("with OAUTHDESK_DB set, ./oauthdesk.db was touched: %v", err)
		}
		// --db wins over the environment.
		r := mustSucceed(t, oauthdesk(t, cliRun{dir: elsewhere, env: []string{"OAUTHDESK_DB=" + filepath.Join(elsewhere, "missing", "x.db")}},
			"app", "list", "--json", "--db", db))
		if !strings.Contains(r.stdout, reg.ClientID) {
			t.Errorf("--db with OAUTHDESK_DB set: want the app of --db\n%s", r)
		}
	})
}

// servedProcess is a running `oauthdesk serve`.
type servedProcess struct {
	cmd    *exec.Cmd
	out    *lineLog // stdout
	errLog *lineLog // stderr (the server's log)
	done   chan struct{}
}

// lineLog collects the lines that a process writes and signals each write.
type lineLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{}, 1)} }

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startServe starts `oauthdesk serve args...` in dir, and kills it when
// the test ends if it is still running.
func startServe(t *testing.T, dir string, args ...string) *servedProcess {
	t.Helper()
	p := &servedProcess{out: newLineLog(), errLog: newLineLog(), done: make(chan struct{})}
	p.cmd = exec.Command(cliBinary(t), append([]string{"serve"}, args...)...)
	p.cmd.Dir = dir
	p.cmd.Env = cliEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errLog
	p.cmd.WaitDelay = 2 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start oauthdesk serve: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			t.Errorf("oauthdesk serve (pid %d) did not end after SIGKILL", p.cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("oauthdesk serve stdout:\n%s\nstderr:\n%s", p.out, p.errLog)
		}
	})
	return p
}

// waitOutput waits until stdout matches re and returns the match. It fails
// the test when the process ends first or after serveStartTimeout.
func (p *servedProcess) waitOutput(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.NewTimer(serveStartTimeout)
	defer deadline.Stop()
	for {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			return m
		}
		select {
		case <-p.out.changed:
		case <-p.done:
			if m := re.FindStringSubmatch(p.out.String()); m != nil {
				return m
			}
			t.Fatalf("oauthdesk serve exited (%v) before printing %s\nstdout:\n%s\nstderr:\n%s", p.cmd.ProcessState, re, p.out, p.errLog)
		case <-deadline.C:
			t.Fatalf("oauthdesk serve did not print %s within %s\nstdout:\n%s\nstderr:\n%s", re, serveStartTimeout, p.out, p.errLog)
		}
	}
}

// stop sends SIGTERM and checks that the process stops gracefully: exit 0
// within serveStopTimeout, after printing "oauthdesk stopped.".
func (p *servedProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(serveStopTimeout):
		t.Fatalf("oauthdesk serve did not stop within %s of SIGTERM\nstdout:\n%s\nstderr:\n%s", serveStopTimeout, p.out, p.errLog)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("oauthdesk serve exited %d after SIGTERM, want 0\nstderr:\n%s", code, p.errLog)
	}
	if !strings.Contains(p.out.String(), "oauthdesk stopped.") {
		t.Errorf("oauthdesk serve did not print %q\nstdout:\n%s", "oauthdesk stopped.", p.out)
	}
}

// freeAddr returns 127.0.0.1:PORT with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

var (
	passwordLineRE = regexp.MustCompile(`(?m)^\s*password:\s*(\S+)\s*$`)
	listeningRE    = regexp.MustCompile(`oauthdesk is listening on http://(\S+)`)
	cliCSRFRE      = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
)

// browse is a person's browser: a cookie jar, no automatic redirects.
type browse struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowse(t *testing.T, base string) *browse {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browse{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browse) send(method, path string, form url.Values) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, string(data)
}

// signInAndListApps signs in as admin and returns the body of /admin/apps.
func signInAndListApps(t *testing.T, base, password string) string {
	t.Helper()
	b := newBrowse(t, base)
	status, page := b.send(http.MethodGet, "/signin", nil)
	m := cliCSRFRE.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("GET /signin: status %d, CSRF token found: %v", status, m != nil)
	}
	if status, body := b.send(http.MethodPost, "/signin", url.Values{"_csrf": {m[1]}, "username": {"admin"}, "password": {password}}); status != http.StatusSeeOther {
		t.Fatalf("POST /signin as admin with the printed password: status %d, want 303\n%.500s", status, body)
	}
	status, body := b.send(http.MethodGet, "/admin/apps", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /admin/apps: status %d, want 200\n%.500s", status, body)
	}
	return body
}

// TestFreshStart is the first run of a fresh clone: `make run` (oauthdesk
// serve with the default ./oauthdesk.db), sign in with the printed
// password, and the app registered with `oauthdesk app register` is listed,
// also after a restart.
func TestFreshStart(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sends SIGTERM")
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr

	srv := startServe(t, dir, "--addr", addr)
	password := srv.waitOutput(t, passwordLineRE)[1]
	if out := srv.out.String(); !regexp.MustCompile(`(?m)^\s*username:\s*admin\s*$`).MatchString(out) || !strings.Contains(out, base+"/signin") {
		t.Errorf("first start: want the username admin and the sign-in URL %s/signin\n%s", base, out)
	}
	if got := srv.waitOutput(t, listeningRE)[1]; got != addr {
		t.Errorf("listening on %s, want %s", got, addr)
	}
	if _, err := os.Stat(filepath.Join(dir, "oauthdesk.db")); err != nil {
		t.Fatalf("./oauthdesk.db after the first start: %v", err)
	}

	// Register an app from the command line while the server runs, on the
	// same default database.
	before := time.Now()
	args := append(registerArgs("", "--owner", "admin", "--name", "Fabrikam Wallboard"), "--json")
	reg := parseRegister(t, mustSucceed(t, oauthdesk(t, cliRun{dir: dir}, args...)), before, time.Now())

	body := signInAndListApps(t, base, password)
	if !strings.Contains(body, "Fabrikam Wallboard") || !strings.Contains(body, reg.ClientID) {
		t.Errorf("/admin/apps does not list the app %q (%s)\n%.2000s", "Fabrikam Wallboard", reg.ClientID, body)
	}

	srv.stop(t)

	// Restart on the same directory: the admin exists, so no new password.
	again := startServe(t, dir, "--addr", addr)
	again.waitOutput(t, listeningRE)
	body = signInAndListApps(t, base, password)
	if !strings.Contains(body, "Fabrikam Wallboard") || !strings.Contains(body, reg.ClientID) {
		t.Errorf("after a restart, /admin/apps does not list the app %s\n%.2000s", reg.ClientID, body)
	}
	again.stop(t)
	if out := again.out.String(); passwordLineRE.MatchString(out) || strings.Contains(out, "administrator") || strings.Contains(out, password) {
		t.Errorf("the second start printed a password although the admin exists\n%s", out)
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	cases := []struct {
		name  string
		env   []string
		args  []string
		words []string
	}{
		{name: "addr not host:port", args: []string{"--addr", "nonsense"}, words: []string{"--addr", "nonsense"}},
		{name: "base URL not http(s)", args: []string{"--addr", "127.0.0.1:0", "--base-url", "ftp://x"}, words: []string{"--base-url", "ftp://x"}},
		{name: "base URL without host", args: []string{"--addr", "127.0.0.1:0", "--base-url", "https://"}, words: []string{"--base-url"}},
		{name: "OAUTHDESK_ADDR not host:port", env: []string{"OAUTHDESK_ADDR=nonsense"}, words: []string{"nonsense"}},
		{name: "extra argument", args: []string{"--addr", "127.0.0.1:0", "now"}, words: []string{"now"}},
		{name: "refresh grace not a duration", args: []string{"--addr", "127.0.0.1:0", "--refresh-grace", "30"}, words: []string{"--refresh-grace", "30"}},
		{name: "refresh grace negative", args: []string{"--addr", "127.0.0.1:0", "--refresh-grace", "-5s"}, words: []string{"--refresh-grace", "-5s"}},
		{name: "OAUTHDESK_REFRESH_GRACE bad", env: []string{"OAUTHDESK_REFRESH_GRACE=soon"}, args: []string{"--addr", "127.0.0.1:0"}, words: []string{"soon"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// A bad flag ends serve at once; a serve that starts anyway
			// fails the test at the timeout.
			r := oauthdesk(t, cliRun{dir: dir, env: tc.env, timeout: 10 * time.Second}, append([]string{"serve"}, tc.args...)...)
			wantUsageError(t, r, tc.words...)
			if _, err := os.Stat(filepath.Join(dir, "oauthdesk.db")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("serve with a bad flag created ./oauthdesk.db (%v)", err)
			}
		})
	}
}
