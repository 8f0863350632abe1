package render_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/render"
	"github.com/oauthdesk/oauthdesk/internal/reports"
)

// TestLeftText: a report says how long a secret has left, and for an
// expired one how long ago it expired, never "0 days left".
func TestLeftText(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		expires time.Time
		want    string
	}{
		{now.Add(12*24*time.Hour - time.Hour), "12 days"},
		{now.Add(time.Hour), "1 day"},
		{now.Add(-time.Hour), "expired today"},
		{now.Add(-25 * time.Hour), "expired 1 day ago"},
		{now.AddDate(0, 0, -200), "expired 200 days ago"},
	} {
		if got := reports.LeftText(tt.expires, now); got != tt.want {
			t.Errorf("reports.LeftText(%s) = %q, want %q", tt.expires, got, tt.want)
		}
	}
	rows := reports.Classify([]domain.ExpiringSecret{{ClientID: "c1", AppName: "Old", Slot: "primary",
		CreatedAt: now.AddDate(-5, 0, -200), ExpiresAt: now.AddDate(0, 0, -200)}}, domain.DefaultThresholds, now)
	for _, format := range []string{render.FormatTable, render.FormatHTML} {
		var b bytes.Buffer
		if err := render.WriteExpiry(&b, format, rows, now); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "expired 200 days ago") {
			t.Errorf("%s report lacks \"expired 200 days ago\":\n%s", format, b.String())
		}
	}
}
