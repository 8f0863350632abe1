package render

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
	"github.com/oauthdesk/oauthdesk/views"
)

// expiryJSON is one row of the JSON expiry report. Times are RFC 3339 UTC.
type expiryJSON struct {
	ClientID             string `json:"client_id"`
	AppName              string `json:"app_name"`
	Company              string `json:"company"`
	Owner                string `json:"owner"`
	Slot                 string `json:"secret_slot"`
	CreatedAt            string `json:"created_at"`
	ExpiresAt            string `json:"expires_at"`
	DaysLeft             int    `json:"days_left"`
	State                string `json:"state"`
	ActiveAuthorizations int64  `json:"active_authorizations"`
}

func toJSON(r reports.ExpiryRow) expiryJSON {
	return expiryJSON{ClientID: r.ClientID, AppName: r.AppName, Company: r.Company, Owner: r.Owner, Slot: r.Slot,
		CreatedAt: r.CreatedAt.UTC().Format(time.RFC3339), ExpiresAt: r.ExpiresAt.UTC().Format(time.RFC3339),
		DaysLeft: r.DaysLeft, State: string(r.State), ActiveAuthorizations: r.ActiveAuthorizations}
}

// WriteExpiry writes the expiry report in format table, csv, json or html
// (a standalone page). generated is when the report was made.
func WriteExpiry(w io.Writer, format string, rows []reports.ExpiryRow, generated time.Time) error {
	ew, err := NewExpiryWriter(w, format, generated)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := ew.Write(r); err != nil {
			return err
		}
	}
	return ew.Close()
}

// ExpiryWriter writes the expiry report one row at a time. CSV and JSON
// go out as they come (constant memory); the table keeps its rows to align
// the columns and the HTML page its view rows, until Close.
type ExpiryWriter struct {
	w         io.Writer
	format    string
	generated time.Time
	n         int
	csv       *safeout.CSV
	tw        *tabwriter.Writer
	html      []views.ExpiryReportRow
}

// NewExpiryWriter starts an expiry report in format (table, csv, json or
// html). Errors: an unknown format.
func NewExpiryWriter(w io.Writer, format string, generated time.Time) (*ExpiryWriter, error) {
	ew := &ExpiryWriter{w: w, format: format, generated: generated}
	switch format {
	case FormatJSON, FormatHTML:
	case FormatCSV:
		ew.csv = safeout.NewCSV(w)
		_ = ew.csv.Write([]string{"client_id", "app_name", "company", "owner", "secret_slot", "created_at", "expires_at", "days_left", "state", "active_authorizations"})
	case FormatTable:
		ew.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	default:
		return nil, fmt.Errorf("unknown format %q", format)
	}
	return ew, nil
}

// Write writes one row.
func (ew *ExpiryWriter) Write(r reports.ExpiryRow) error {
	ew.n++
	switch ew.format {
	case FormatJSON:
		b, err := json.MarshalIndent(toJSON(r), "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if ew.n == 1 {
			sep = "[\n  "
		}
		_, err = io.WriteString(ew.w, sep+string(b))
		return err
	case FormatCSV:
		j := toJSON(r)
		return ew.csv.Write([]string{j.ClientID, j.AppName, j.Company, j.Owner, j.Slot, j.CreatedAt, j.ExpiresAt, strconv.Itoa(j.DaysLeft), j.State,
			strconv.FormatInt(j.ActiveAuthorizations, 10)})
	case FormatHTML:
		ew.html = append(ew.html, views.ExpiryReportRow{ClientID: r.ClientID, AppName: r.AppName, Company: r.Company, Owner: r.Owner,
			Slot: r.Slot, Created: r.CreatedAt.Format(time.DateOnly), Expires: r.ExpiresAt.Format(time.DateOnly),
			State: string(r.State), DaysLeft: r.DaysLeft, Left: leftOf(r), ActiveAuthorizations: r.ActiveAuthorizations})
		return nil
	}
	if ew.n == 1 {
		fmt.Fprintln(ew.tw, "CLIENT ID\tAPP\tCOMPANY\tOWNER\tSECRET\tCREATED\tEXPIRES\tLEFT\tSTATE\tAUTHORIZATIONS")
	}
	_, err := fmt.Fprintf(ew.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.ClientID, safeout.Term(r.AppName), safeout.Term(r.Company), safeout.Term(r.Owner), r.Slot,
		r.CreatedAt.Format(time.DateOnly), r.ExpiresAt.Format(time.DateOnly), leftOf(r), r.State, r.ActiveAuthorizations)
	return err
}

// Close ends the document.
func (ew *ExpiryWriter) Close() error {
	switch ew.format {
	case FormatJSON:
		end := "\n]\n"
		if ew.n == 0 {
			end = "[]\n"
		}
		_, err := io.WriteString(ew.w, end)
		return err
	case FormatCSV:
		ew.csv.Flush()
		return ew.csv.Error()
	case FormatHTML:
		return views.ExpiryReport("oauthdesk: client secret expiry report", ew.generated.UTC().Format("2006-01-02 15:04 UTC"), ew.html).Render(context.Background(), ew.w)
	}
	if ew.n == 0 {
		_, err := fmt.Fprintln(ew.w, "No client secret expires in this window.")
		return err
	}
	return ew.tw.Flush()
}

// leftOf is the row's time left for people ("expired 200 days ago"); rows
// built without Classify get it from DaysLeft.
func leftOf(r reports.ExpiryRow) string {
	if r.Left != "" {
		return r.Left
	}
	return strconv.Itoa(r.DaysLeft) + " days"
}
