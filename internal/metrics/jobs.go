package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Job is what the metrics show of one background job (jobs.Status).
type Job struct {
	Name         string
	Interval     time.Duration // 0: a cron schedule
	LastRun      time.Time     // zero: not run yet
	LastDuration time.Duration
	LastFailed   bool // the last round returned an error
	Runs         int64
	Failures     int64
}

// JobsCollector reports the server's background jobs at scrape time from
// a snapshot function:
//
//   - oauthdesk_job_runs_total{job, result="ok"|"error"}: finished rounds;
//   - oauthdesk_job_last_run_timestamp_seconds{job}: when the last round
//     started (Unix seconds; 0 before the first);
//   - oauthdesk_job_last_duration_seconds{job}: how long it took;
//   - oauthdesk_job_last_error{job}: 1 when the last round failed, else 0;
//   - oauthdesk_job_interval_seconds{job}: the time between rounds (0 for
//     a cron schedule).
//
// Alert on time() - oauthdesk_job_last_run_timestamp_seconds well past
// the interval (a stuck job) or on oauthdesk_job_last_error == 1.
type JobsCollector struct {
	src                           func() []Job
	runs, last, took, failed, per *prometheus.Desc
}

// NewJobsCollector returns the collector of the oauthdesk_job_* metrics
// over src (called once per scrape).
func NewJobsCollector(src func() []Job) *JobsCollector {
	l := []string{"job"}
	return &JobsCollector{src: src,
		runs:   prometheus.NewDesc("oauthdesk_job_runs_total", "Finished rounds of a background job, by result (ok, error).", []string{"job", "result"}, nil),
		last:   prometheus.NewDesc("oauthdesk_job_last_run_timestamp_seconds", "When the last round of a background job started, Unix seconds (0: none yet).", l, nil),
		took:   prometheus.NewDesc("oauthdesk_job_last_duration_seconds", "How long the last round of a background job took.", l, nil),
		failed: prometheus.NewDesc("oauthdesk_job_last_error", "1 when the last round of a background job failed, else 0.", l, nil),
		per:    prometheus.NewDesc("oauthdesk_job_interval_seconds", "Time between rounds of a background job (0: a cron schedule).", l, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *JobsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.runs, c.last, c.took, c.failed, c.per} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *JobsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, j := range c.src() {
		ch <- prometheus.MustNewConstMetric(c.runs, prometheus.CounterValue, float64(j.Runs-j.Failures), j.Name, "ok")
		ch <- prometheus.MustNewConstMetric(c.runs, prometheus.CounterValue, float64(j.Failures), j.Name, "error")
		var last float64
		if !j.LastRun.IsZero() {
			last = float64(j.LastRun.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, last, j.Name)
		ch <- prometheus.MustNewConstMetric(c.took, prometheus.GaugeValue, j.LastDuration.Seconds(), j.Name)
		failed := 0.0
		if j.LastFailed {
			failed = 1
		}
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, failed, j.Name)
		ch <- prometheus.MustNewConstMetric(c.per, prometheus.GaugeValue, j.Interval.Seconds(), j.Name)
	}
}
