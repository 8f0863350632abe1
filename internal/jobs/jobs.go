package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/robfig/cron/v3"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
)

// Store is the storage the report job needs.
type Store interface {
	SecretExpiries(ctx context.Context) ([]domain.ExpiringSecret, error)
	UserEmails(ctx context.Context) (map[string]string, error)
	AddReportRun(ctx context.Context, r domain.ReportRun) error
	ReportRuns(ctx context.Context, limit int) ([]domain.ReportRun, error)
	AcquireLock(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLock(ctx context.Context, name, holder string) error
	AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error)
}

// Report is one expiry report as the sinks receive it.
type Report struct {
	Generated time.Time
	Window    time.Duration
	Rows      []reports.ExpiryRow
	// OwnerEmails maps owner usernames to e-mail addresses.
	OwnerEmails map[string]string
	// PATs is the personal access token section: live tokens expiring
	// within 30 days, soonest first (empty without Config.PATs).
	PATs []reports.PATExpiryRow
}

// Sink delivers a report somewhere. Deliver returns how many attempts it
// made and the last error.
type Sink interface {
	Name() string
	Deliver(ctx context.Context, r Report) (attempts int, err error)
}

// Triggers of a run.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
)

// lockName is the lease of the expiry report.
const lockName = "expiry-report"

// Config configures the report scheduler. Schedule empty: no schedule
// (run now still works when sinks exist).
type Config struct {
	Schedule   string
	Sinks      []Sink
	Thresholds domain.ExpiryThresholds
	Now        func() time.Time
	Log        *slog.Logger
	// PATs, when set, adds the personal access token section.
	PATs PATSource
	// Jobs, when set, tracks the scheduled runs as the job
	// "expiry-report" beside the server's other background jobs.
	Jobs *Runner
}

// Scheduler runs the expiry report on its schedule and on demand.
type Scheduler struct {
	cfg    Config
	store  Store
	holder string
	cron   *cron.Cron
	entry  cron.EntryID
	mu     sync.Mutex // one run at a time in this process
}

// New validates the schedule (cron syntax or @every DURATION) and returns
// a scheduler. Errors: Invalid schedule.
func New(cfg Config, st Store) (*Scheduler, error) {
	s := &Scheduler{cfg: cfg, store: st, holder: uuid.NewString()}
	if cfg.Schedule == "" {
		return s, nil
	}
	s.cron = cron.New(cron.WithLocation(time.UTC))
	var track *Tracker
	id, err := s.cron.AddFunc(cfg.Schedule, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start, began := s.cfg.Now(), time.Now()
		_, err := s.runScheduled(ctx, s.slot(s.cron.Entry(s.entry), start))
		if track != nil {
			track.Record(start, time.Since(began), err)
		}
		if err != nil {
			s.cfg.Log.Error("expiry report", "err", err)
		}
	})
	if err != nil {
		return nil, apperr.Errorf(apperr.Invalid, "--report-schedule %q is not a cron schedule (e.g. \"0 7 * * 1\" or \"@every 1h\"): %v", cfg.Schedule, err)
	}
	s.entry = id
	if cfg.Jobs != nil {
		var interval time.Duration
		if d, ok := s.cron.Entry(id).Schedule.(cron.ConstantDelaySchedule); ok {
			interval = d.Delay
		}
		track = cfg.Jobs.Track("expiry-report", cfg.Schedule, interval)
	}
	return s, nil
}

// Start starts the schedule (no-op without one).
func (s *Scheduler) Start() {
	if s.cron != nil {
		s.cron.Start()
	}
}

// Stop stops the schedule and waits for a running report to finish.
func (s *Scheduler) Stop() {
	if s.cron != nil {
		<-s.cron.Stop().Done()
	}
}

// Next returns when the next scheduled run is due (zero without a
// schedule or before Start).
func (s *Scheduler) Next() time.Time {
	if s.cron == nil {
		return time.Time{}
	}
	return s.cron.Entry(s.entry).Next
}

// Schedule returns the configured schedule ("" for none).
func (s *Scheduler) Schedule() string { return s.cfg.Schedule }

// Sinks names the configured sinks.
func (s *Scheduler) Sinks() []string {
	out := make([]string, len(s.cfg.Sinks))
	for i, k := range s.cfg.Sinks {
		out[i] = k.Name()
	}
	return out
}

// Runs returns the newest deliveries.
func (s *Scheduler) Runs(ctx context.Context, limit int) ([]domain.ReportRun, error) {
	return s.store.ReportRuns(ctx, limit)
}

// ErrNoSinks is returned by Run when no sink is configured.
var ErrNoSinks = apperr.Errorf(apperr.Conflict, "No report sink is configured: start serve with --report-dir, --report-webhook or --smtp-url and --report-to.")

// Run makes the expiry report (secrets expiring within the warning window,
// expired ones included) and delivers it to every sink, recording each
// delivery and one audit event. A replica that does not get the lease
// skips the run (returns nil, nil). A failed sink does not stop the
// others; it is tried again on the next run.
func (s *Scheduler) Run(ctx context.Context, trigger string) ([]domain.ReportRun, error) {
	return s.run(ctx, trigger, time.Time{})
}

// slot names the schedule activation e belongs to, the same on every
// replica: a cron schedule's activation time (wall-clock aligned), or an
// @every schedule's activation rounded down to its interval.
func (s *Scheduler) slot(e cron.Entry, now time.Time) time.Time {
	at := e.Prev
	if at.IsZero() {
		at = now
	}
	if d, ok := e.Schedule.(cron.ConstantDelaySchedule); ok && d.Delay > 0 {
		return at.UTC().Truncate(d.Delay)
	}
	return at.UTC().Truncate(time.Second)
}

// runScheduled runs the report of one schedule slot unless another replica
// already claimed that slot: replicas run each scheduled report once
// between them, whenever their clocks fire.
func (s *Scheduler) runScheduled(ctx context.Context, slot time.Time) ([]domain.ReportRun, error) {
	return s.run(ctx, TriggerSchedule, slot)
}

// SlotLease is how long the claim on one schedule slot is kept (a replica
// whose timer fires later than this would run the slot again).
const SlotLease = 24 * time.Hour

func (s *Scheduler) run(ctx context.Context, trigger string, slot time.Time) ([]domain.ReportRun, error) {
	if len(s.cfg.Sinks) == 0 {
		return nil, ErrNoSinks
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if !slot.IsZero() {
		// A holder of its own: a claim is never renewed, not even by
		// this replica.
		claimed, err := s.store.AcquireLock(ctx, lockName+"@"+slot.Format(time.RFC3339), s.holder+"/"+uuid.NewString(), now, SlotLease)
		if err != nil {
			return nil, err
		}
		if !claimed {
			s.cfg.Log.Info("expiry report: another replica ran this schedule slot; skipped", "slot", slot)
			return nil, nil
		}
	}
	ok, err := s.store.AcquireLock(ctx, lockName, s.holder, now, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.cfg.Log.Info("expiry report: another replica holds the lease; skipped")
		return nil, nil
	}
	defer func() {
		if err := s.store.ReleaseLock(context.WithoutCancel(ctx), lockName, s.holder); err != nil {
			s.cfg.Log.Error("expiry report: release lease", "err", err)
		}
	}()
	secrets, err := s.store.SecretExpiries(ctx)
	if err != nil {
		return nil, err
	}
	emails, err := s.store.UserEmails(ctx)
	if err != nil {
		return nil, err
	}
	rep := Report{Generated: now, Window: s.cfg.Thresholds.Expiring, OwnerEmails: emails,
		Rows: reports.ExpiryReport(secrets, s.cfg.Thresholds, now, s.cfg.Thresholds.Expiring)}
	if s.cfg.PATs != nil {
		if rep.PATs, err = s.cfg.PATs.PATExpiries(ctx, now, now.Add(patWindow)); err != nil {
			return nil, err
		}
	}
	runID := uuid.NewString()
	var runs []domain.ReportRun
	outcomes := map[string]any{}
	var failed []string
	for _, sink := range s.cfg.Sinks {
		started := s.cfg.Now()
		attempts, derr := sink.Deliver(ctx, rep)
		r := domain.ReportRun{ID: uuid.NewString(), RunID: runID, Trigger: trigger, Sink: sink.Name(), StartedAt: started,
			FinishedAt: s.cfg.Now(), Outcome: "ok", Rows: len(rep.Rows), Attempts: attempts}
		if derr != nil {
			r.Outcome, r.Error = "failed", truncate(derr.Error(), 500)
			failed = append(failed, sink.Name())
			s.cfg.Log.Warn("expiry report: sink failed", "sink", sink.Name(), "attempts", attempts, "err", derr)
		}
		if err := s.store.AddReportRun(ctx, r); err != nil {
			return runs, err
		}
		outcomes[sink.Name()] = r.Outcome
		runs = append(runs, r)
	}
	ev := audit.New(audit.WithActor(ctx, actorFor(ctx, trigger)), now, audit.ActionReportRun, "report", runID,
		map[string]any{"trigger": trigger, "rows": len(rep.Rows), "sinks": outcomes})
	if _, err := s.store.AppendAudit(ctx, ev); err != nil {
		return runs, err
	}
	if len(failed) > 0 {
		return runs, fmt.Errorf("sinks failed: %s", strings.Join(failed, ", "))
	}
	return runs, nil
}

// actorFor keeps the actor of a manual run (the admin who pressed "run
// now") and makes scheduled runs "system".
func actorFor(ctx context.Context, trigger string) audit.Actor {
	if trigger == TriggerManual {
		return audit.ActorFrom(ctx)
	}
	return audit.Actor{Name: audit.ActorSystem}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
