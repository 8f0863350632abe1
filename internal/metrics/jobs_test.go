package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// The job metrics show each job's runs by result, last run, last error
// and interval; a job that has not run yet shows a last run of 0.
func TestJobsCollector(t *testing.T) {
	at := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	src := func() []Job {
		return []Job{
			{Name: "directory-sync", Interval: 15 * time.Minute, LastRun: at, LastDuration: 1500 * time.Millisecond, LastFailed: true, Runs: 5, Failures: 2},
			{Name: "prune", Interval: time.Hour},
		}
	}
	none := func(context.Context) ([]domain.ExpiringSecret, error) { return nil, nil }
	body := scrape(t, Handler(NewSecretsCollector(none, domain.DefaultThresholds, time.Now), NewJobsCollector(src)))
	for _, want := range []string{
		`oauthdesk_job_runs_total{job="directory-sync",result="ok"} 3`,
		`oauthdesk_job_runs_total{job="directory-sync",result="error"} 2`,
		`oauthdesk_job_last_run_timestamp_seconds{job="directory-sync"} 1.7965404e+09`,
		`oauthdesk_job_last_duration_seconds{job="directory-sync"} 1.5`,
		`oauthdesk_job_last_error{job="directory-sync"} 1`,
		`oauthdesk_job_interval_seconds{job="directory-sync"} 900`,
		`oauthdesk_job_runs_total{job="prune",result="ok"} 0`,
		`oauthdesk_job_last_run_timestamp_seconds{job="prune"} 0`,
		`oauthdesk_job_last_error{job="prune"} 0`,
		`oauthdesk_job_interval_seconds{job="prune"} 3600`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
