package jobs

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/reports"
)

// PATSource lists the live personal access tokens expiring before a time
// (the report's token section).
type PATSource interface {
	PATExpiries(ctx context.Context, now, before time.Time) ([]reports.PATExpiryRow, error)
}

// patWindow is the token section's window: tokens live days, not years,
// so the section lists those expiring within 30 days.
const patWindow = 30 * 24 * time.Hour

// patCSV writes the token section as CSV (a header, one row per token).
func patCSV(rows []reports.PATExpiryRow) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"id", "name", "owner", "scopes", "expires_at", "days_left"})
	for _, r := range rows {
		_ = w.Write([]string{r.ID, csvSafe(r.Name), r.Owner, strings.Join(r.Scopes, " "), r.ExpiresAt.UTC().Format(time.RFC3339), itoa(r.DaysLeft)})
	}
	w.Flush()
	return buf.Bytes()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// patJSON is the token section as JSON (an array, [] when empty).
func patJSON(rows []reports.PATExpiryRow) json.RawMessage {
	if rows == nil {
		rows = []reports.PATExpiryRow{}
	}
	b, _ := json.Marshal(rows)
	return b
}
