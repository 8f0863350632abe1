package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/oauthdesk/oauthdesk/views"

	"github.com/oauthdesk/oauthdesk/internal/safeout"
)

// FormatHTML is the standalone HTML page of the expiry report.
const FormatHTML = "html"

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

func toJSON(r ExpiryRow) expiryJSON {
	return expiryJSON{ClientID: r.ClientID, AppName: r.AppName, Company: r.Company, Owner: r.Owner, Slot: r.Slot,
		CreatedAt: r.CreatedAt.UTC().Format(time.RFC3339), ExpiresAt: r.ExpiresAt.UTC().Format(time.RFC3339),
		DaysLeft: r.DaysLeft, State: string(r.State), ActiveAuthorizations: r.ActiveAuthorizations}
}

// WriteExpiry writes the expiry report in format table, csv, json or html
// (a standalone page). generated is when the report was made.
func WriteExpiry(w io.Writer, format string, rows []ExpiryRow, generated time.Time) error {
	switch format {
	case FormatJSON:
		out := make([]expiryJSON, 0, len(rows))
		for _, r := range rows {
			out = append(out, toJSON(r))
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case FormatCSV:
		cw := safeout.NewCSV(w)
		_ = cw.Write([]string{"client_id", "app_name", "company", "owner", "secret_slot", "created_at", "expires_at", "days_left", "state", "active_authorizations"})
		for _, r := range rows {
			j := toJSON(r)
			_ = cw.Write([]string{j.ClientID, j.AppName, j.Company, j.Owner, j.Slot, j.CreatedAt, j.ExpiresAt, strconv.Itoa(j.DaysLeft), j.State,
				strconv.FormatInt(j.ActiveAuthorizations, 10)})
		}
		cw.Flush()
		return cw.Error()
	case FormatTable:
		if len(rows) == 0 {
			_, err := fmt.Fprintln(w, "No client secret expires in this window.")
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT ID\tAPP\tCOMPANY\tOWNER\tSECRET\tCREATED\tEXPIRES\tLEFT\tSTATE\tAUTHORIZATIONS")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.ClientID, safeout.Term(r.AppName), safeout.Term(r.Company), safeout.Term(r.Owner), r.Slot,
				r.CreatedAt.Format(time.DateOnly), r.ExpiresAt.Format(time.DateOnly), leftOf(r), r.State, r.ActiveAuthorizations)
		}
		return tw.Flush()
	case FormatHTML:
		vr := make([]views.ExpiryReportRow, 0, len(rows))
		for _, r := range rows {
			vr = append(vr, views.ExpiryReportRow{ClientID: r.ClientID, AppName: r.AppName, Company: r.Company, Owner: r.Owner,
				Slot: r.Slot, Created: r.CreatedAt.Format(time.DateOnly), Expires: r.ExpiresAt.Format(time.DateOnly),
				State: string(r.State), DaysLeft: r.DaysLeft, Left: leftOf(r), ActiveAuthorizations: r.ActiveAuthorizations})
		}
		return views.ExpiryReport("oauthdesk: client secret expiry report", generated.UTC().Format("2006-01-02 15:04 UTC"), vr).Render(context.Background(), w)
	}
	return fmt.Errorf("unknown format %q", format)
}

// leftOf is the row's time left for people ("expired 200 days ago"); rows
// built without Classify get it from DaysLeft.
func leftOf(r ExpiryRow) string {
	if r.Left != "" {
		return r.Left
	}
	return strconv.Itoa(r.DaysLeft) + " days"
}
