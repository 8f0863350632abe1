// Package render writes oauthdesk's reports — computed by internal/reports
// from plain data — as a table, CSV (through internal/safeout's one CSV
// writer), JSON or a standalone HTML page (internal/views). It is the one
// place where reports become documents: the CLI, the scheduled report
// sinks and the dashboard call it. Writers stream: rows are written as
// they come and none is kept.
package render

// Formats of the written reports.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json"
	// FormatHTML is the standalone HTML page of the expiry report.
	FormatHTML = "html"
)

// ValidFormat reports whether f is table, csv or json.
func ValidFormat(f string) bool { return f == FormatTable || f == FormatCSV || f == FormatJSON }
