package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
)

func joinApps(a []reports.AppRef) string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.Name + " (" + x.ClientID + ")" + via(x.Via)
	}
	return strings.Join(s, "; ")
}

func joinUsers(u []reports.UserRef) string {
	s := make([]string, len(u))
	for i, x := range u {
		s[i] = x.Username + via(x.Via)
	}
	return strings.Join(s, " ")
}

// joinThrough names the wider scopes a row's scope is also held through,
// with their direct holders' counts: "vso.code_full (2 apps, 5 active
// authorizations); vso.code_manage (1 apps, 0 active authorizations, 2
// personal access tokens)" (tokens named when there are any).
// Their holders are listed in those scopes' own rows.
func joinThrough(t []reports.ViaCount) string {
	s := make([]string, len(t))
	for i, x := range t {
		s[i] = x.Scope + " (" + strconv.FormatInt(x.Apps, 10) + " apps, " + strconv.FormatInt(x.Authorizations, 10) + " active authorizations"
		if x.PATs > 0 {
			s[i] += ", " + strconv.FormatInt(x.PATs, 10) + " personal access tokens"
		}
		s[i] += ")"
	}
	return strings.Join(s, "; ")
}

// throughIDs lists the wider scopes' ids, comma-separated ("-" for none).
func throughIDs(t []reports.ViaCount) string {
	if len(t) == 0 {
		return "-"
	}
	s := make([]string, len(t))
	for i, x := range t {
		s[i] = x.Scope
	}
	return strings.Join(s, ",")
}

// via marks a holder through wider scopes: " [via vso.code_full]".
func via(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return " [via " + strings.Join(v, ",") + "]"
}

func lastUsed(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// WriteScopes writes the scope inventory in format (table, csv or json).
// Times are RFC 3339 UTC; an empty last_used means never. The CSV's
// through column (the table's THROUGH, JSON's through) names the wider
// scopes that also grant the row's scope; in the report (every holder
// listed) a holder through one is listed in that scope's row.
func WriteScopes(w io.Writer, format string, rows []reports.ScopeRow) error {
	sw, err := NewScopesWriter(w, format)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := sw.Write(r); err != nil {
			return err
		}
	}
	return sw.Close()
}

// ScopesWriter writes the scope inventory one row at a time (the rows of
// a large tenant carry long holder lists: none is kept after it is
// written). Close ends the document.
type ScopesWriter struct {
	w      io.Writer
	format string
	n      int
	csv    *safeout.CSV
	tw     *tabwriter.Writer
}

// NewScopesWriter starts a scope inventory in format (table, csv or
// json). Errors: an unknown format.
func NewScopesWriter(w io.Writer, format string) (*ScopesWriter, error) {
	sw := &ScopesWriter{w: w, format: format}
	switch format {
	case FormatJSON:
	case FormatCSV:
		sw.csv = safeout.NewCSV(w)
		_ = sw.csv.Write([]string{"scope", "name", "category", "high_privilege", "apps", "active_authorizations", "users", "uses", "last_used", "unused", "personal_access_tokens", "through"})
	case FormatTable:
		sw.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	default:
		return nil, fmt.Errorf("unknown format %q", format)
	}
	return sw, nil
}

// Write writes one row.
func (sw *ScopesWriter) Write(r reports.ScopeRow) error {
	sw.n++
	switch sw.format {
	case FormatJSON:
		b, err := json.MarshalIndent(r, "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if sw.n == 1 {
			sep = "[\n  "
		}
		_, err = io.WriteString(sw.w, sep+string(b))
		return err
	case FormatCSV:
		return sw.csv.Write([]string{r.Scope, r.Name, r.Category, strconv.FormatBool(r.HighPrivilege), joinApps(r.Apps),
			strconv.Itoa(r.Authorizations), joinUsers(r.Users), strconv.FormatInt(r.Uses, 10), lastUsed(r.LastUsed), strconv.FormatBool(r.Unused),
			strconv.FormatInt(r.PATs, 10), joinThrough(r.Through)})
	}
	if sw.n == 1 {
		fmt.Fprintln(sw.tw, "SCOPE\tHIGH\tCATEGORY\tAPPS\tAUTHORIZATIONS\tTOKENS\tUSERS\tUSES\tLAST USED\tTHROUGH\tUNUSED")
	}
	high := ""
	if r.HighPrivilege {
		high = "yes"
	}
	unused := ""
	if r.Unused {
		unused = "unused"
	}
	last := lastUsed(r.LastUsed)
	if last == "" {
		last = "never"
	}
	apps, users := r.AppCount, r.UserCount
	if apps <= 0 {
		apps = int64(len(r.Apps))
	}
	if users <= 0 {
		users = int64(len(r.Users))
	}
	_, err := fmt.Fprintf(sw.tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", r.Scope, high, r.Category, apps, r.Authorizations,
		r.PATs, users, r.Uses, last, throughIDs(r.Through), unused)
	return err
}

// Close ends the document (the JSON array; an empty table says so).
func (sw *ScopesWriter) Close() error {
	switch sw.format {
	case FormatJSON:
		end := "\n]\n"
		if sw.n == 0 {
			end = "[]\n"
		}
		_, err := io.WriteString(sw.w, end)
		return err
	case FormatCSV:
		sw.csv.Flush()
		return sw.csv.Error()
	}
	if sw.n == 0 {
		_, err := fmt.Fprintln(sw.w, "No scope is registered or granted.")
		return err
	}
	return sw.tw.Flush()
}
