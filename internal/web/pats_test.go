package web

import (
	"testing"
	"time"
)

func TestRelDays(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		at   time.Time
		want string
	}{
		{now.Add(12*24*time.Hour + time.Hour), "in 12 days"},
		{now.Add(24*time.Hour + time.Minute), "in 1 day"},
		{now.Add(3 * time.Hour), "today"},
		{now.Add(-3 * time.Hour), "expired today"},
		{now.Add(-25 * time.Hour), "expired 1 day ago"},
		{now.Add(-3*24*time.Hour - time.Hour), "expired 3 days ago"},
	}
	for _, c := range cases {
		if got := relDays(c.at, now); got != c.want {
			t.Errorf("relDays(%v) = %q, want %q", c.at.Sub(now), got, c.want)
		}
	}
}
