package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncBuffer is a log destination safe for the runner's goroutines.
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

// A job's rounds are recorded (runs, failures, the last error and when),
// a repeated error is logged once, Final runs after the context ends, and
// Run returns only once every loop has stopped.
func TestRunnerRecordsRoundsAndStops(t *testing.T) {
	var logs syncBuffer
	r := NewRunner(slog.New(slog.NewTextHandler(&logs, nil)), nil)
	var rounds, finals atomic.Int32
	boom := errors.New("the directory is down")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx,
			Job{Name: "flaky", Interval: 5 * time.Millisecond, AtStart: true, Round: func(context.Context) error {
				if rounds.Add(1) <= 3 {
					return boom
				}
				return nil
			}, Final: func(ctx context.Context) error {
				if ctx.Err() != nil {
					t.Error("Final got a context that had already ended")
				}
				finals.Add(1)
				return nil
			}},
			Job{Name: "broken", Interval: 5 * time.Millisecond, Round: func(context.Context) error { return boom }})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for rounds.Load() < 6 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// While running: the first job recovered, the second keeps failing.
	byName := map[string]Status{}
	for _, s := range r.Status() {
		byName[s.Name] = s
	}
	if f := byName["flaky"]; f.Runs < 4 || f.Failures != 3 || f.LastError != "" || f.LastRun.IsZero() || f.Interval != 5*time.Millisecond {
		t.Errorf("flaky after recovering: %+v, want ≥ 4 runs, 3 failures, no last error", f)
	}
	if b := byName["broken"]; b.Runs == 0 || b.Failures != b.Runs || b.LastError != boom.Error() {
		t.Errorf("broken: %+v, want every run failed with %q", b, boom)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of the context ending")
	}
	if finals.Load() != 1 {
		t.Errorf("Final ran %d times, want once", finals.Load())
	}
	n := rounds.Load()
	time.Sleep(30 * time.Millisecond)
	if rounds.Load() != n {
		t.Error("a round ran after Run returned")
	}
	log := logs.String()
	if got := strings.Count(log, `msg="job failed" job=broken`); got != 1 {
		t.Errorf("the same error of job broken logged %d times, want once:\n%s", got, log)
	}
	for _, want := range []string{`msg="job recovered" job=flaky`, `msg="job stopped" job=flaky`, `msg="job stopped" job=broken`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
}

// A job without a round or interval is refused before anything runs.
func TestRunnerRefusesAnIncompleteJob(t *testing.T) {
	r := NewRunner(nil, nil)
	var ran atomic.Bool
	ok := Job{Name: "ok", Interval: time.Millisecond, AtStart: true, Round: func(context.Context) error { ran.Store(true); return nil }}
	for _, bad := range []Job{{Name: "no-round", Interval: time.Second}, {Name: "no-interval", Round: ok.Round}, {Interval: time.Second, Round: ok.Round}} {
		if err := r.Run(t.Context(), ok, bad); err == nil {
			t.Errorf("Run accepted %+v", bad)
		}
	}
	if ran.Load() || len(r.Status()) != 0 {
		t.Error("a job ran although Run refused the list")
	}
}

// Track registers a job driven from elsewhere (the cron schedule) once.
func TestTrack(t *testing.T) {
	r := NewRunner(nil, nil)
	a := r.Track("expiry-report", "0 7 * * 1", 0)
	if b := r.Track("expiry-report", "0 7 * * 1", 0); a != b {
		t.Error("tracking a name again made a second tracker")
	}
	at := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	a.Record(at, time.Second, errors.New("sinks failed: webhook"))
	st := r.Status()
	if len(st) != 1 || st[0].Every != "0 7 * * 1" || !st[0].LastRun.Equal(at) || st[0].LastError != "sinks failed: webhook" || st[0].Runs != 1 || st[0].Failures != 1 {
		t.Errorf("status %+v", st)
	}
}
