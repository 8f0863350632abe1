// Command bench is `make bench`: it measures oauthdesk's hot paths as
// ratios to the machine's ceiling, all in one run.
//
// It builds the real binary and a bare Echo handler (internal/bench/ceiling),
// measures the ceiling in its own process, then starts `oauthdesk serve` on
// a fresh temporary database, seeds it through the real HTTP paths (sign-in,
// app registration, consent, code exchange, the Token Administration API)
// and drives each scenario with wrk (Debian package "wrk") from a separate
// process: 32 connections, 2 threads, a few seconds a scenario. It prints
// one table — scenario, req/s, ratio to the ceiling, p50, p99, errors, peak
// server RSS — then the performance targets met or missed, and writes the
// same as JSON with --out FILE. Every process it starts is stopped before
// it exits, also on Ctrl-C.
//
// Rows are the scenarios() table (scenarios.go): add a row there.
// --db (env OAUTHDESK_BENCH_DB) points the server at another database,
// passed to `oauthdesk serve` as OAUTHDESK_DB. With OAUTHDESK_TEST_POSTGRES
// set (and no --db), every scenario runs a second time on a fresh
// PostgreSQL database and its rows ("… · PostgreSQL") print after
// SQLite's (postgres.go), except refresh on PostgreSQL, measured right
// after refresh on SQLite. --profile DIR saves a CPU
// profile of the server per scenario (the server runs with --pprof-addr).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	out         string
	duration    time.Duration
	connections int
	threads     int
	db          string
	profile     string
	serverArgs  []string
	goBin       string
	only        string
	keep        bool
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "", "also write the results as JSON to this file")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "load time per scenario")
	flag.IntVar(&o.connections, "connections", 32, "concurrent connections (wrk -c)")
	flag.IntVar(&o.threads, "threads", 2, "load generator threads (wrk -t)")
	flag.StringVar(&o.db, "db", os.Getenv("OAUTHDESK_BENCH_DB"), "the server's database (OAUTHDESK_DB); default a fresh SQLite file in a temp dir (env OAUTHDESK_BENCH_DB)")
	flag.StringVar(&o.profile, "profile", "", "save CPU and heap profiles of the server for each scenario in this directory")
	flag.BoolVar(&o.keep, "keep", false, "keep the temp directory (database, server log) for a look afterwards")
	flag.StringVar(&o.only, "only", "", "run only the scenarios whose names contain one of these comma-separated words (the ceiling always runs)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/bench [--out FILE] [--duration 5s] [--connections 32] [--threads 2] [--db DB] [--profile DIR] [--only WORDS] [--keep] [-- serve flags…]")
		flag.PrintDefaults()
	}
	flag.Parse()
	o.serverArgs = flag.Args()
	o.goBin = os.Getenv("GO")
	if o.goBin == "" {
		o.goBin = "go"
	}
	if o.duration < time.Second || o.connections < 1 || o.threads < 1 || o.threads > o.connections {
		fmt.Fprintln(os.Stderr, "bench: --duration must be ≥ 1s and 1 ≤ --threads ≤ --connections")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
	if o.out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.out, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

// run builds, starts, seeds and measures, and stops every process it
// started before it returns.
func run(ctx context.Context, o options) (*report, error) {
	wrk, err := lookWrk()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "oauthdesk-bench-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if o.keep {
			logf("kept %s (database, logs)", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}()
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return nil, err
		}
	}
	b := &bench{o: o, dir: dir, wrk: wrk}
	defer b.stopAll()
	start := time.Now()
	logf("building bin/oauthdesk and the ceiling handler")
	if err := b.build(ctx); err != nil {
		return nil, err
	}
	rep := &report{Machine: machine(), Connections: o.connections, Threads: o.threads, Duration: o.duration.String(), Started: start.UTC().Format(time.RFC3339)}
	var pg *postgresRun
	if base := os.Getenv("OAUTHDESK_TEST_POSTGRES"); base != "" && o.db == "" {
		if _, err := b.startCeiling(ctx); err != nil { // one ceiling process for both halves
			return nil, err
		}
		if pg, err = startPostgres(ctx, b, base); err != nil {
			return nil, err
		}
		defer pg.close()
	}
	for _, sc := range allScenarios() {
		if !sc.ceiling && !selected(o.only, sc.name) {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		logf("scenario: %s", sc.name)
		r, err := b.runScenario(ctx, sc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.name, err)
		}
		rep.Rows = append(rep.Rows, r)
		if pg != nil && sc.name == scRefresh {
			// The two refresh rows back to back: the target compares
			// them, and minutes between them let the machine drift.
			r, err := pg.row(ctx, sc)
			if err != nil {
				return nil, err
			}
			rep.Rows = append(rep.Rows, r)
		}
	}
	if pg != nil {
		if b.server != nil {
			b.server.stop() // SQLite's rows are done: one server up from here
		}
		for _, sc := range scenarios() {
			if sc.ceiling || sc.name == scRefresh || !selected(o.only, sc.name) {
				continue
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r, err := pg.row(ctx, sc)
			if err != nil {
				return nil, err
			}
			rep.Rows = append(rep.Rows, r)
		}
	}
	rep.finish()
	rep.Elapsed = time.Since(start).Round(time.Second).String()
	return rep, nil
}

// selected reports whether name matches the --only list (empty: all).
func selected(only, name string) bool {
	if only == "" {
		return true
	}
	for _, w := range strings.Split(only, ",") {
		if w = strings.TrimSpace(w); w != "" && strings.Contains(strings.ToLower(name), strings.ToLower(w)) {
			return true
		}
	}
	return false
}

func lookWrk() (string, error) {
	for _, p := range []string{os.Getenv("WRK"), "wrk", "/usr/bin/wrk"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", errors.New("wrk not found: install the Debian package (apt-get install wrk) or set WRK=/path/to/wrk")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// machine describes where the run happened.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d logical CPUs, %s/%s, %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
