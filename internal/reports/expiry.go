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
		out[i] = ClassifyOne(s, t, now)
	}
	return out
}

// ClassifyOne returns one secret with its state at now (streaming reports).
func ClassifyOne(s domain.ExpiringSecret, t domain.ExpiryThresholds, now time.Time) ExpiryRow {
	return ExpiryRow{ExpiringSecret: s, State: t.StateAt(s.ExpiresAt, now), DaysLeft: DaysLeft(s.ExpiresAt, now),
		Left: LeftText(s.ExpiresAt, now)}
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

// ExpiryCounter counts active secrets expiring after `after` and at or
// before until (a zero bound is open).
type ExpiryCounter func(after, until time.Time) (int64, error)

// BuildOverview computes the expiry summary at now from range counts
// (count; one per state and one per month, each an index range) and the
// soonest secrets (next, soonest first), without reading every secret.
func BuildOverview(t domain.ExpiryThresholds, now time.Time, count ExpiryCounter, next []domain.ExpiringSecret) (ExpiryOverview, error) {
	o := ExpiryOverview{Counts: map[domain.ExpiryState]int{}}
	for _, w := range []struct {
		state        domain.ExpiryState
		after, until time.Time
	}{
		{domain.StateExpired, time.Time{}, now},
		{domain.StateCritical, now, now.Add(t.Critical)},
		{domain.StateExpiring, now.Add(t.Critical), now.Add(t.Expiring)},
		{domain.StateOK, now.Add(t.Expiring), time.Time{}},
	} {
		n, err := count(w.after, w.until)
		if err != nil {
			return o, err
		}
		o.Counts[w.state] = int(n)
	}
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := range 24 {
		m := start.AddDate(0, i, 0)
		after := m.Add(-time.Nanosecond) // [m, m+1 month)
		if i == 0 {
			after = now // not yet expired
		}
		n, err := count(after, m.AddDate(0, 1, 0).Add(-time.Nanosecond))
		if err != nil {
			return o, err
		}
		o.Months = append(o.Months, MonthBucket{Month: m, Count: int(n)})
	}
	o.Next = Classify(next, t, now)
	return o, nil
}
