package web

import (
	"strconv"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/jobs"
	"github.com/oauthdesk/oauthdesk/views"
)

// JobStatuses reports what each background job did last (jobs.Runner).
type JobStatuses interface {
	Status() []jobs.Status
}

// jobRows is the "Background jobs" table of /admin/settings (nil without
// Config.Jobs).
func (s *Server) jobRows() []views.JobRow {
	if s.cfg.Jobs == nil {
		return nil
	}
	now := s.now()
	st := s.cfg.Jobs.Status()
	rows := make([]views.JobRow, 0, len(st))
	for _, j := range st {
		r := views.JobRow{Name: j.Name, Every: everyText(j), LastRun: "not yet", LastError: j.LastError,
			Runs: strconv.FormatInt(j.Runs, 10), Failures: strconv.FormatInt(j.Failures, 10)}
		if !j.LastRun.IsZero() {
			r.LastRun = agoText(now.Sub(j.LastRun))
			r.LastRunAt = j.LastRun.UTC().Format(time.RFC3339)
		}
		rows = append(rows, r)
	}
	return rows
}

// everyText is a job's schedule as a person reads it: "every 15 s",
// "every 1 h", or the cron schedule.
func everyText(j jobs.Status) string {
	d := j.Interval
	switch {
	case d <= 0:
		return j.Every
	case d < time.Second:
		return "every " + strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		return "every " + trimFloat(d.Seconds()) + " s"
	case d < time.Hour:
		return "every " + trimFloat(d.Minutes()) + " min"
	default:
		return "every " + trimFloat(d.Hours()) + " h"
	}
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// agoText is an elapsed time as "just now", "12 s ago", "3 min ago",
// "2 h ago" or "5 days ago".
func agoText(d time.Duration) string {
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " h ago"
	default:
		return strconv.Itoa(int(d.Hours()/24)) + " days ago"
	}
}
