package reports

import (
	"strconv"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// MonthBucket is the number of secrets expiring in one calendar month.
type MonthBucket struct {
	Month time.Time // first day of the month, UTC
	Count int
}

// ExpiryRow is one secret with its state and days left (0 once expired).
type ExpiryRow struct {
	domain.ExpiringSecret
	State    domain.ExpiryState
	DaysLeft int
	// Left is DaysLeft for people: "12 days", "expired 200 days ago".
	Left string
}

// ExpiryOverview is the dashboard's expiry summary.
type ExpiryOverview struct {
	Counts map[domain.ExpiryState]int
	Next   []ExpiryRow   // the next secrets to expire (expired ones first), at most 10
	Months []MonthBucket // coming expiries per month for the next 24 months, this month first
}

// DaysLeft returns the whole days from now until expires, rounded up, or
// 0 once expired.
func DaysLeft(expires, now time.Time) int {
	d := expires.Sub(now)
	if d <= 0 {
		return 0
	}
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}

// DaysAgo returns the whole days from t until now, rounded down (0 for
// a time less than a day ago or in the future).
func DaysAgo(t, now time.Time) int {
	d := now.Sub(t)
	if d <= 0 {
		return 0
	}
	return int(d / (24 * time.Hour))
}

// LeftText says how long a secret has left, for people: "12 days",
// "1 day", "expired today", "expired 200 days ago".
func LeftText(expires, now time.Time) string {
	if expires.After(now) {
		n := DaysLeft(expires, now)
		if n == 1 {
			return "1 day"
		}
		return strconv.Itoa(n) + " days"
	}
	switch n := DaysAgo(expires, now); n {
	case 0:
		return "expired today"
	case 1:
		return "expired 1 day ago"
	default:
		return "expired " + strconv.Itoa(n) + " days ago"
	}
}

// Classify returns each secret with its state at now.
func Classify(secrets []domain.ExpiringSecret, t domain.ExpiryThresholds, now time.Time) []ExpiryRow {
	out := make([]ExpiryRow, len(secrets))
	for i, s := range secrets {
		out[i] = ExpiryRow{ExpiringSecret: s, State: t.StateAt(s.ExpiresAt, now), DaysLeft: DaysLeft(s.ExpiresAt, now),
			Left: LeftText(s.ExpiresAt, now)}
	}
	return out
}

// Overview builds the expiry summary of secrets (soonest first) at now.
func Overview(secrets []domain.ExpiringSecret, t domain.ExpiryThresholds, now time.Time) ExpiryOverview {
	o := ExpiryOverview{Counts: map[domain.ExpiryState]int{domain.StateOK: 0, domain.StateExpiring: 0, domain.StateCritical: 0, domain.StateExpired: 0}}
	rows := Classify(secrets, t, now)
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := range 24 {
		o.Months = append(o.Months, MonthBucket{Month: start.AddDate(0, i, 0)})
	}
	for _, r := range rows {
		o.Counts[r.State]++
		if len(o.Next) < 10 {
			o.Next = append(o.Next, r)
		}
		m := (r.ExpiresAt.Year()-start.Year())*12 + int(r.ExpiresAt.Month()) - int(start.Month())
		if r.State != domain.StateExpired && m >= 0 && m < 24 {
			o.Months[m].Count++
		}
	}
	return o
}

// Severity orders the expiry states: ok 0, expiring 1, critical 2,
// expired 3 (-1 for anything else).
func Severity(s domain.ExpiryState) int {
	switch s {
	case domain.StateOK:
		return 0
	case domain.StateExpiring:
		return 1
	case domain.StateCritical:
		return 2
	case domain.StateExpired:
		return 3
	}
	return -1
}

// ExpiryReport returns the rows of the expiry report: every active secret
// expiring within `within` of now (expired ones included), soonest first.
func ExpiryReport(secrets []domain.ExpiringSecret, t domain.ExpiryThresholds, now time.Time, within time.Duration) []ExpiryRow {
	var out []ExpiryRow
	for _, r := range Classify(secrets, t, now) {
		if !r.ExpiresAt.After(now.Add(within)) {
			out = append(out, r)
		}
	}
	return out
}
