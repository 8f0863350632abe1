package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/jobs"
	"github.com/oauthdesk/oauthdesk/internal/metrics"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// Intervals of the server's fixed background jobs.
const (
	// FailedSignInAuditInterval is how often aggregated failed sign-ins
	// are written to the audit log.
	FailedSignInAuditInterval = 15 * time.Second
	// HousekeepingInterval is how often expired rows are pruned and the
	// personal access token expiry notices are sent.
	HousekeepingInterval = time.Hour
)

// RunJobs runs the server's background jobs under a.Jobs until ctx ends
// and returns once each has stopped (after the final usage flush, the
// final failed sign-in audit and the audit checkpoint of the head at
// shutdown). The jobs, each named in the log, /metrics and
// /admin/settings:
//
//   - usage-flush: batched last-used times, scope, secret, personal access
//     token and client grant use (Config.UsageFlush, 5 s), and once more
//     on shutdown;
//   - change-watch: other processes' commits reach the Bearer check's
//     guard and the user cache (store.PollInterval, 250 ms);
//   - sqlite-checkpoint: the WAL checkpoints, off the write path
//     (store.CheckpointInterval; SQLite only);
//   - failed-signin-audit: aggregated failed sign-ins into the audit log
//     (15 s), and what is left on shutdown;
//   - signing-key-reload: keys rotated by another process or the CLI
//     (oauth.KeyReload);
//   - directory-sync: leavers of the LDAP connectors disabled
//     (Config.DirectorySyncInterval; off when < 0);
//   - audit-checkpoint: the signed head of the audit chain anchored
//     outside the database (Config.AuditCheckpointInterval; off when < 0),
//     and once more on shutdown;
//   - pat-expiry-notices: mail to owners of tokens about to expire, and
//     the expired tokens swept out of the scope inventory's counts
//     (store.SweepPATScopeSets) (hourly, and at start);
//   - prune: expired sessions, moot invalidations, device codes and
//     client assertion ids (hourly).
//
// The scheduled expiry report (expiry-report) runs on its cron schedule
// (Serve starts it) and is recorded in a.Jobs too. A SQLite checkpoint
// connection that cannot be opened is logged and that job left out.
// Errors: a job without a name, round or interval (nothing runs).
func (a *App) RunJobs(ctx context.Context) error {
	cfg := a.cfg
	list := []jobs.Job{
		{Name: "usage-flush", Interval: cfg.UsageFlush, Round: a.usage.Flush, Final: a.usage.Flush},
		{Name: "change-watch", Interval: store.PollInterval, Round: a.watcher.Poll},
		{Name: "failed-signin-audit", Interval: FailedSignInAuditInterval,
			Round: func(ctx context.Context) error { return a.Admin.FlushFailedSignIns(ctx, false) },
			Final: func(ctx context.Context) error { return a.Admin.FlushFailedSignIns(ctx, true) }},
		{Name: "signing-key-reload", Interval: oauth.KeyReload,
			Round: func(ctx context.Context) error { return a.OAuth.Keys().Reload(ctx, cfg.Now()) }},
		{Name: "pat-expiry-notices", Interval: HousekeepingInterval, AtStart: true, Round: a.patExpiryNotices},
		{Name: "prune", Interval: HousekeepingInterval, Round: a.prune},
	}
	if cfg.DirectorySyncInterval >= 0 {
		list = append(list, jobs.DirectorySyncJob(a.DB, cmp.Or(cfg.DirectorySyncInterval, jobs.DefaultDirectorySyncInterval),
			func(ctx context.Context) error { _, err := a.Federation.Sync(ctx); return err }, cfg.Now))
	}
	if cfg.AuditCheckpointInterval >= 0 {
		cp := &jobs.AuditCheckpoints{Store: a.DB, Dir: cfg.Reports.Dir, Webhook: cfg.Reports.Webhook, Now: cfg.Now, Log: cfg.Log,
			Sign: func(c audit.Checkpoint) (audit.CheckpointFile, error) {
				return a.OAuth.Keys().SignCheckpoint(c, cfg.BaseURL)
			}}
		list = append(list, cp.Job(cmp.Or(cfg.AuditCheckpointInterval, jobs.DefaultAuditCheckpointInterval)))
	}
	ckpt, err := a.DB.NewCheckpointer(ctx)
	if err != nil {
		// The writer keeps checkpointing inside its commits, as SQLite
		// does by default: slower under load, never wrong.
		cfg.Log.Error("sqlite-checkpoint: not started", "err", err)
	}
	if ckpt != nil {
		defer func() {
			if err := ckpt.Close(); err != nil {
				cfg.Log.Error("sqlite-checkpoint: close", "err", err)
			}
		}()
		list = append(list, jobs.Job{Name: "sqlite-checkpoint", Interval: store.CheckpointInterval, Round: ckpt.Checkpoint, Final: ckpt.Checkpoint})
	}
	return a.Jobs.Run(ctx, list...)
}

// patExpiryNotices mails the owners of personal access tokens about to
// expire (each token once), and sweeps the tokens expired since the last
// round out of the scope inventory's counts.
func (a *App) patExpiryNotices(ctx context.Context) error {
	if err := a.DB.SweepPATScopeSets(ctx, a.cfg.Now()); err != nil {
		return fmt.Errorf("personal access tokens: scope sets sweep: %w", err)
	}
	n, err := a.PATs.NotifyExpiring(ctx)
	if err != nil {
		return fmt.Errorf("personal access tokens: expiry notices: %w", err)
	}
	if n > 0 {
		a.cfg.Log.Info("personal access tokens: expiry notices", "tokens", n)
	}
	return nil
}

// prune deletes what has expired: sessions, invalidations older than any
// token they could refuse, device codes and client assertion ids. Every
// step runs; the error names each that failed.
func (a *App) prune(ctx context.Context) error {
	now := a.cfg.Now()
	var errs []error
	if err := a.DB.PruneSessions(ctx); err != nil {
		errs = append(errs, fmt.Errorf("prune sessions: %w", err))
	}
	steps := []struct {
		what string
		run  func() (int64, error)
	}{
		{"invalidations", func() (int64, error) {
			return a.DB.PruneInvalidations(ctx, now.Add(-max(a.cfg.AccessTTL, time.Hour)-time.Hour))
		}},
		{"device codes", func() (int64, error) { return a.DB.PruneDeviceCodes(ctx, now.Add(-time.Hour)) }},
		{"client assertions", func() (int64, error) { return a.DB.PruneClientAssertions(ctx, now) }},
	}
	for _, s := range steps {
		n, err := s.run()
		if err != nil {
			errs = append(errs, fmt.Errorf("prune %s: %w", s.what, err))
		} else if n > 0 {
			a.cfg.Log.Info("pruned "+s.what, "rows", n)
		}
	}
	return errors.Join(errs...)
}

// jobMetrics is what the oauthdesk_job_* metrics show of a.Jobs.
func (a *App) jobMetrics() []metrics.Job {
	st := a.Jobs.Status()
	out := make([]metrics.Job, len(st))
	for i, s := range st {
		out[i] = metrics.Job{Name: s.Name, Interval: s.Interval, LastRun: s.LastRun, LastDuration: s.LastDuration,
			LastFailed: s.LastError != "", Runs: s.Runs, Failures: s.Failures}
	}
	return out
}
