package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// FinalTimeout bounds a job's Final round: the last flush or checkpoint
// after the process was told to stop.
const FinalTimeout = 15 * time.Second

// Job is one background loop of a server: Round runs every Interval until
// the context ends (a ticker loop, as dex runs its background jobs), then
// Final runs once. The Runner records each round (Status, /metrics,
// /admin/settings) and logs what failed.
type Job struct {
	// Name is the job's label in the log, in /metrics
	// (oauthdesk_job_*{job="…"}) and on /admin/settings, e.g. "usage-flush".
	Name string
	// Interval is the time between rounds (> 0).
	Interval time.Duration
	// AtStart runs one round at once, before the first tick.
	AtStart bool
	// Round does the job's work once. An error is logged (once while it
	// repeats) and counted; the next tick runs again.
	Round func(ctx context.Context) error
	// Final, when set, runs once after ctx ends, with a context of its own
	// bounded by FinalTimeout (the last flush, the checkpoint of the head
	// at shutdown). It is recorded as a round.
	Final func(ctx context.Context) error
}

// Status is what a job did last: one row of /admin/settings' "Background
// jobs" and the oauthdesk_job_* metrics.
type Status struct {
	Name string
	// Every is the schedule as a person reads it: the interval ("15s",
	// "1h0m0s") or a cron schedule ("0 7 * * 1").
	Every string
	// Interval is the time between rounds; 0 for a cron schedule.
	Interval time.Duration
	// LastRun is when the last finished round started (zero: none yet).
	LastRun time.Time
	// LastDuration is how long the last finished round took.
	LastDuration time.Duration
	// LastError is the error of the last round ("" when it succeeded).
	LastError string
	// Runs counts finished rounds; Failures those that returned an error.
	Runs, Failures int64
}

// Tracker records the rounds of one job. Safe for concurrent use.
type Tracker struct {
	mu sync.Mutex
	st Status
}

// Record notes a round that started at start, took took and ended with
// err (nil: success).
func (t *Tracker) Record(start time.Time, took time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.Runs++
	t.st.LastRun, t.st.LastDuration, t.st.LastError = start, took, ""
	if err != nil {
		t.st.Failures++
		t.st.LastError = err.Error()
	}
}

func (t *Tracker) status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st
}

// Runner runs a process's background jobs and keeps what each did last.
// The zero value is not usable; use NewRunner.
type Runner struct {
	log *slog.Logger
	now func() time.Time
	mu  sync.Mutex
	all []*Tracker // in registration order
}

// NewRunner returns a runner that logs to log and timestamps rounds with
// now (nil: time.Now in UTC).
func NewRunner(log *slog.Logger, now func() time.Time) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	return &Runner{log: log, now: now}
}

// Track registers a job that something else drives (the expiry report's
// cron schedule) and returns its tracker; every describes the schedule.
// Tracking a name again returns the same tracker.
func (r *Runner) Track(name, every string, interval time.Duration) *Tracker {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.all {
		if t.st.Name == name {
			return t
		}
	}
	t := &Tracker{st: Status{Name: name, Every: every, Interval: interval}}
	r.all = append(r.all, t)
	return t
}

// Status returns every registered job's status, in registration order.
func (r *Runner) Status() []Status {
	r.mu.Lock()
	all := append([]*Tracker(nil), r.all...)
	r.mu.Unlock()
	out := make([]Status, len(all))
	for i, t := range all {
		out[i] = t.status()
	}
	return out
}

// Run runs every job, each in a goroutine of its own, until ctx ends;
// it returns when every job has stopped (after its Final round). A job
// with no Round or a non-positive Interval is refused with an error
// before anything starts.
func (r *Runner) Run(ctx context.Context, jobs ...Job) error {
	for _, j := range jobs {
		if j.Name == "" || j.Round == nil || j.Interval <= 0 {
			return errors.New("jobs: job " + j.Name + " needs a name, a round and a positive interval")
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		t := r.Track(j.Name, j.Interval.String(), j.Interval)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop(ctx, j, t)
		}()
	}
	wg.Wait()
	return nil
}

// loop is one job's ticker loop.
func (r *Runner) loop(ctx context.Context, j Job, t *Tracker) {
	log := r.log.With("job", j.Name)
	log.Debug("job started", "every", j.Interval)
	lastErr := ""
	round := func(ctx context.Context, fn func(context.Context) error) {
		start := r.now()
		began := time.Now()
		err := fn(ctx)
		t.Record(start, time.Since(began), err)
		switch {
		case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
			// Stopped mid-round: Final (if any) takes over.
		case err != nil && err.Error() != lastErr:
			lastErr = err.Error()
			log.Error("job failed", "err", err)
		case err == nil && lastErr != "":
			lastErr = ""
			log.Info("job recovered")
		}
	}
	if j.AtStart && ctx.Err() == nil {
		round(ctx, j.Round)
	}
	tick := time.NewTicker(j.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if j.Final != nil {
				fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FinalTimeout)
				round(fctx, j.Final)
				cancel()
			}
			st := t.status()
			log.Info("job stopped", "runs", st.Runs, "failures", st.Failures)
			return
		case <-tick.C:
			round(ctx, j.Round)
		}
	}
}
