package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

//go:embed lua/load.lua
var loadLua []byte

// bench is one run: the built binaries, the processes it started and the
// running server with what was seeded into it.
type bench struct {
	o   options
	dir string
	wrk string

	mu    sync.Mutex
	procs []*proc

	oauthdesk, ceiling string // built binaries
	ceilingProc        *proc
	server             *proc
	base               string // the server's URL
	pprofAddr          string
	seed               *seeded
	rows               []row
}

// proc is a started process.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (b *bench) build(ctx context.Context) error {
	b.oauthdesk = filepath.Join(b.dir, "oauthdesk")
	b.ceiling = filepath.Join(b.dir, "ceiling")
	for _, t := range [][2]string{{b.oauthdesk, "./cmd/oauthdesk"}, {b.ceiling, "./internal/bench/ceiling"}} {
		cmd := exec.CommandContext(ctx, b.o.goBin, "build", "-o", t[0], t[1])
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", t[1], err)
		}
	}
	return os.WriteFile(filepath.Join(b.dir, "load.lua"), loadLua, 0o644)
}

// start starts a process and waits until its output matches ready.
func (b *bench) start(ctx context.Context, name string, env []string, ready *regexp.Regexp, bin string, args ...string) (*proc, []string, error) {
	p := &proc{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = b.dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.out
	logFile, err := os.Create(filepath.Join(b.dir, name+".log"))
	if err != nil {
		return nil, nil, err
	}
	p.cmd.Stderr = logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	b.mu.Lock()
	b.procs = append(b.procs, p)
	b.mu.Unlock()
	go func() { _ = p.cmd.Wait(); logFile.Close(); close(p.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := ready.FindStringSubmatch(p.out.String()); m != nil {
			return p, m, nil
		}
		select {
		case <-p.done:
			log, _ := os.ReadFile(filepath.Join(b.dir, name+".log"))
			return nil, nil, fmt.Errorf("%s exited before it was ready:\n%s%s", name, p.out, log)
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("%s not ready after 30 s:\n%s", name, p.out)
		}
	}
}

// stop ends p: SIGTERM, then SIGKILL to its process group after 10 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// stopAll stops every process the run started.
func (b *bench) stopAll() {
	b.mu.Lock()
	procs := b.procs
	b.procs = nil
	b.mu.Unlock()
	for _, p := range procs {
		p.stop()
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

var (
	listeningRE = regexp.MustCompile(`oauthdesk is listening on http://(\S+)`)
	passwordRE  = regexp.MustCompile(`(?m)^\s*password:\s*(\S+)\s*$`)
	ceilingRE   = regexp.MustCompile(`listening on (\S+)`)
)

// startCeiling starts the bare Echo handler.
func (b *bench) startCeiling(ctx context.Context) (string, error) {
	if b.ceilingProc != nil {
		return "http://" + ceilingRE.FindStringSubmatch(b.ceilingProc.out.String())[1], nil
	}
	addr, err := freePort()
	if err != nil {
		return "", err
	}
	p, m, err := b.start(ctx, "ceiling", nil, ceilingRE, b.ceiling, addr)
	if err != nil {
		return "", err
	}
	b.ceilingProc = p
	return "http://" + m[1], nil
}

// startServer starts `oauthdesk serve` on a fresh database (or --db) and
// seeds what every scenario shares.
func (b *bench) startServer(ctx context.Context) error {
	if b.server != nil {
		return nil
	}
	addr, err := freePort()
	if err != nil {
		return err
	}
	db := b.o.db
	if db == "" {
		db = filepath.Join(b.dir, "oauthdesk.db")
	}
	// All load comes from 127.0.0.1: the per-address token-endpoint limit
	// would answer it 429, so the bench turns it off.
	args := []string{"serve", "--addr", addr, "--token-rate-limit", "0"}
	if b.o.profile != "" {
		if b.pprofAddr, err = freePort(); err != nil {
			return err
		}
		args = append(args, "--pprof-addr", b.pprofAddr)
	}
	args = append(args, b.o.serverArgs...)
	p, _, err := b.start(ctx, "oauthdesk", []string{"OAUTHDESK_DB=" + db}, listeningRE, b.oauthdesk, args...)
	if err != nil {
		return err
	}
	b.server = p
	b.base = "http://" + listeningRE.FindStringSubmatch(p.out.String())[1]
	m := passwordRE.FindStringSubmatch(p.out.String())
	if m == nil {
		return fmt.Errorf("oauthdesk serve printed no first administrator password (is %s a fresh database?)", db)
	}
	s, err := newSeeder(ctx, b.base, "admin", m[1])
	if err != nil {
		return err
	}
	reg, err := newSeeder(ctx, b.base, "admin", m[1])
	if err != nil {
		return err
	}
	b.seed = &seeded{s: s, reg: reg}
	return nil
}

// load is what wrk drives for a scenario (see lua/load.lua for the modes).
type load struct {
	url    string // base URL
	mode   string // get, header, cycle, once, rotate
	values []string
	expect int
	method string
	path   string
	prefix string
	suffix string
	header string
	extra  map[string]string // more headers on every request (a session cookie, …)
	pid    int               // the process whose RSS is sampled
	// during, when set, starts extra load that runs while wrk drives this
	// row (the sign-in flood); it returns the function that stops it.
	during func(ctx context.Context) (stop func())
}

// wrkResult is the JSON line load.lua prints.
type wrkResult struct {
	Requests     int64 `json:"requests"`
	DurationUS   int64 `json:"duration_us"`
	P50US        int64 `json:"p50_us"`
	P99US        int64 `json:"p99_us"`
	OK           int64 `json:"ok"`
	BadStatus    int64 `json:"bad_status"`
	Exhausted    int64 `json:"exhausted"`
	SocketErrors int64 `json:"socket_errors"`
}

// drive runs wrk for d (whole seconds, at least one) and samples the RSS of l.pid
// meanwhile. With --profile, it saves a CPU profile of the server.
func (b *bench) drive(ctx context.Context, name string, l load, d time.Duration) (wrkResult, int64, error) {
	file := ""
	if len(l.values) > 0 {
		file = filepath.Join(b.dir, "values.txt")
		if err := os.WriteFile(file, []byte(strings.Join(l.values, "\n")+"\n"), 0o600); err != nil {
			return wrkResult{}, 0, err
		}
	}
	secs := max(int(d/time.Second), 1)
	args := []string{"-t", strconv.Itoa(b.o.threads), "-c", strconv.Itoa(b.o.connections), "-d", strconv.Itoa(secs) + "s",
		"--timeout", "10s", "-s", filepath.Join(b.dir, "load.lua"), l.url + l.path, "--",
		l.mode, file, strconv.Itoa(b.o.threads), strconv.Itoa(l.expect), l.method, l.path, l.prefix, l.suffix, l.header, extraHeaders(l.extra)}
	rss := &rssSampler{pid: l.pid, stop: make(chan struct{}), done: make(chan struct{})}
	go rss.run()
	var prof sync.WaitGroup
	if b.o.profile != "" && b.server != nil && l.pid == b.server.cmd.Process.Pid && secs > 1 {
		prof.Add(1)
		go func() { defer prof.Done(); b.saveProfile(name, secs-1) }()
	}
	cmd := exec.CommandContext(ctx, b.wrk, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	close(rss.stop)
	<-rss.done
	prof.Wait()
	if b.o.profile != "" && b.server != nil && l.pid == b.server.cmd.Process.Pid {
		b.saveHeap(name)
	}
	if err != nil {
		return wrkResult{}, 0, fmt.Errorf("wrk: %w\n%s", err, out.String())
	}
	var res wrkResult
	sc := bufio.NewScanner(&out)
	found := false
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "{") {
			found = json.Unmarshal([]byte(line), &res) == nil
		}
	}
	if !found {
		return wrkResult{}, 0, fmt.Errorf("wrk printed no result:\n%s", out.String())
	}
	return res, rss.peak, nil
}

// extraHeaders renders headers as "Name: value" lines for load.lua.
func extraHeaders(h map[string]string) string {
	var b strings.Builder
	for k, v := range h {
		b.WriteString(k + ": " + v + "\n")
	}
	return b.String()
}

func (b *bench) saveProfile(name string, secs int) {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.pprofAddr, secs))
	if err != nil {
		logf("profile %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(b.o.profile, slug(name)+".pprof"))
	if err != nil {
		logf("profile %s: %v", name, err)
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

// saveHeap saves the server's heap profile after a scenario's load.
func (b *bench) saveHeap(name string) {
	resp, err := http.Get("http://" + b.pprofAddr + "/debug/pprof/heap")
	if err != nil {
		logf("heap profile %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(b.o.profile, slug(name)+".heap.pprof"))
	if err != nil {
		logf("heap profile %s: %v", name, err)
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

func slug(s string) string {
	return strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// rssSampler records the peak resident set size of a process (bytes),
// reading /proc/PID/status every 50 ms.
type rssSampler struct {
	pid        int
	peak       int64
	stop, done chan struct{}
}

func (r *rssSampler) run() {
	defer close(r.done)
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if v := readRSS(r.pid); v > r.peak {
			r.peak = v
		}
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
	}
}

func readRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
