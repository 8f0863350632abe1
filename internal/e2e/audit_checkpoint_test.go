package e2e

// Audit checkpoints: the real binary anchors the head of
// the audit chain outside the database — a signed audit-checkpoint-SEQ.json
// in --report-dir, a POST to --report-webhook, a log line — on a schedule
// and on shutdown; `audit verify --checkpoint FILE` then catches the
// deletion of the newest events that the chain alone cannot.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
)

var checkpointNameRE = regexp.MustCompile(`^audit-checkpoint-(\d+)\.json$`)

// newestCheckpoint returns the path and sequence number of the newest
// checkpoint file in dir ("" when none).
func newestCheckpoint(t *testing.T, dir string) (string, int64) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	best, seq := "", int64(-1)
	for _, e := range entries {
		if m := checkpointNameRE.FindStringSubmatch(e.Name()); m != nil {
			if n, _ := strconv.ParseInt(m[1], 10, 64); n > seq {
				best, seq = filepath.Join(dir, e.Name()), n
			}
		}
	}
	return best, seq
}

func TestAuditCheckpoints(t *testing.T) {
	t.Parallel()
	dir, reports := t.TempDir(), t.TempDir()
	var mu sync.Mutex
	var posted [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = append(posted, b)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)

	dbArgs := []string{"--db", filepath.Join(dir, "oauthdesk.db")}
	if onPostgres() {
		dbArgs = []string{"--db", newTestDatabase(t), "--key-file", filepath.Join(dir, "oauthdesk.key")}
	}
	p := startServe(t, dir, append([]string{"--addr", freeAddr(t), "--report-dir", reports, "--report-webhook", hook.URL,
		"--audit-checkpoint-interval", "1s"}, dbArgs...)...)
	password := p.waitOutput(t, passwordLineRE)[1]
	ts := &testServer{URL: "http://" + p.waitOutput(t, listeningRE)[1], DBPath: dbArgs[1]}
	admin := ts.newAgent(t)
	admin.signIn("admin", password)
	registerThroughDashboard(t, admin, "vso.work")

	// On the schedule: a checkpoint appears while the server runs.
	eventually(t, 10*time.Second, "a scheduled checkpoint file", func() bool { f, _ := newestCheckpoint(t, reports); return f != "" })

	// On shutdown: the checkpoint of the final head.
	raw, err := ts.openRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	var head int64
	var headHash string
	if err := raw.QueryRow(`SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&head, &headHash); err != nil {
		t.Fatal(err)
	}
	file, seq := newestCheckpoint(t, reports)
	if seq != head {
		t.Fatalf("newest checkpoint after shutdown is event %d, the head is %d", seq, head)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cp audit.CheckpointFile
	if err := json.Unmarshal(b, &cp); err != nil || cp.Head != headHash || cp.JWS == "" || cp.KeyID == "" || cp.At.IsZero() {
		t.Fatalf("checkpoint file %s: %v %+v, want seq %d head %s signed", file, err, cp, head, headHash)
	}
	mu.Lock()
	hooked := slices.ContainsFunc(posted, func(b []byte) bool { return strings.Contains(string(b), cp.JWS) })
	mu.Unlock()
	if !hooked {
		t.Errorf("the webhook did not receive the shutdown checkpoint (%d posts)", len(posted))
	}
	if log := p.errLog.String(); !strings.Contains(log, "audit checkpoint") || !strings.Contains(log, "seq="+strconv.FormatInt(head, 10)) {
		t.Errorf("the log does not record the checkpoint of event %d:\n%.2000s", head, log)
	}

	verify := func(args ...string) cliResult {
		t.Helper()
		return oauthdesk(t, cliRun{dir: dir}, append(append([]string{"audit", "verify"}, args...), dbArgs...)...)
	}
	if r := verify("--checkpoint", file); r.code != 0 || !strings.Contains(r.stdout, "reaches the signed checkpoint") {
		t.Fatalf("verify against the fresh checkpoint:\n%s", r)
	}

	t.Run("a tampered checkpoint is refused", func(t *testing.T) {
		for name, edit := range map[string]func(*audit.CheckpointFile){
			"head edited":    func(f *audit.CheckpointFile) { f.Head = strings.Repeat("0", 64) },
			"signature flip": func(f *audit.CheckpointFile) { f.JWS = f.JWS[:len(f.JWS)-4] + "AAAA" },
			"older seq":      func(f *audit.CheckpointFile) { f.Seq-- },
		} {
			f := cp
			edit(&f)
			b, _ := json.Marshal(f)
			path := filepath.Join(t.TempDir(), "forged.json")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if r := verify("--checkpoint", path); r.code != 1 || !strings.Contains(r.stderr, "checkpoint") {
				t.Errorf("%s: want exit 1 naming the checkpoint\n%s", name, r)
			}
		}
		if r := verify("--checkpoint", filepath.Join(dir, "no-such-file.json")); r.code != 2 {
			t.Errorf("a missing checkpoint file: want exit 2\n%s", r)
		}
	})

	// Deleting the newest events leaves a valid, shorter chain: plain
	// verify cannot tell; the checkpoint can.
	if _, err := raw.Exec(`DELETE FROM audit_events WHERE seq > ?`, head-2); err != nil {
		t.Fatal(err)
	}
	if r := verify(); r.code != 0 {
		t.Fatalf("plain verify after deleting the tail (the chain is still valid):\n%s", r)
	}
	r := verify("--checkpoint", file)
	if r.code != 1 || !strings.Contains(r.stderr, "missing") || !strings.Contains(r.stderr, "event "+strconv.FormatInt(head, 10)) {
		t.Fatalf("verify against the checkpoint after deleting the newest events: want exit 1 naming event %d missing\n%s", head, r)
	}
}
