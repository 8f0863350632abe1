package store

import (
	"context"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

type reportRunRow struct {
	ID         string `gorm:"column:id;primaryKey"`
	RunID      string `gorm:"column:run_id"`
	Trigger    string
	Sink       string
	StartedAt  time.Time
	FinishedAt time.Time
	Outcome    string
	Rows       int
	Attempts   int
	Error      string
}

func (reportRunRow) TableName() string { return "report_runs" }

// AddReportRun records one sink's delivery.
func (db *DB) AddReportRun(ctx context.Context, r domain.ReportRun) error {
	row := reportRunRow{ID: r.ID, RunID: r.RunID, Trigger: r.Trigger, Sink: r.Sink, StartedAt: utc(r.StartedAt),
		FinishedAt: utc(r.FinishedAt), Outcome: r.Outcome, Rows: r.Rows, Attempts: r.Attempts, Error: r.Error}
	return translate(db.wr(ctx).Create(&row).Error, "report run")
}

// ReportRuns returns the newest report deliveries, at most limit.
func (db *DB) ReportRuns(ctx context.Context, limit int) ([]domain.ReportRun, error) {
	var rows []reportRunRow
	if err := db.rd(ctx).Order("started_at DESC, sink").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "report runs")
	}
	out := make([]domain.ReportRun, len(rows))
	for i, r := range rows {
		out[i] = domain.ReportRun{ID: r.ID, RunID: r.RunID, Trigger: r.Trigger, Sink: r.Sink, StartedAt: utc(r.StartedAt),
			FinishedAt: utc(r.FinishedAt), Outcome: r.Outcome, Rows: r.Rows, Attempts: r.Attempts, Error: r.Error}
	}
	return out, nil
}

// AcquireLock takes the lease name for holder until now+ttl when it is
// free, expired, or already holder's, and reports whether it did. Two
// replicas calling it at once: exactly one gets true (one write
// transaction at a time, across processes too).
func (db *DB) AcquireLock(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	res := db.wr(ctx).Exec(`INSERT INTO job_locks (name, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE job_locks.expires_at <= ? OR job_locks.holder = excluded.holder`, name, holder, utc(now.Add(ttl)), utc(now))
	return res.RowsAffected == 1, translate(res.Error, "job lock")
}

// ReleaseLock gives the lease back if holder holds it.
func (db *DB) ReleaseLock(ctx context.Context, name, holder string) error {
	return translate(db.wr(ctx).Exec(`DELETE FROM job_locks WHERE name = ? AND holder = ?`, name, holder).Error, "job lock")
}

// UserEmails returns the e-mail address of every user that has one, by
// username.
func (db *DB) UserEmails(ctx context.Context) (map[string]string, error) {
	var rows []struct{ Username, Email string }
	if err := db.rd(ctx).Table("users").Select("username, email").Where("email <> ''").Scan(&rows).Error; err != nil {
		return nil, translate(err, "users")
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Username] = r.Email
	}
	return out, nil
}
