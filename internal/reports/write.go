package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/safeout"
)

// Formats of the written reports.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json"
)

// ValidFormat reports whether f is table, csv or json.
func ValidFormat(f string) bool { return f == FormatTable || f == FormatCSV || f == FormatJSON }

func joinApps(a []AppRef) string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.Name + " (" + x.ClientID + ")"
	}
	return strings.Join(s, "; ")
}

func joinUsers(u []UserRef) string {
	s := make([]string, len(u))
	for i, x := range u {
		s[i] = x.Username
	}
	return strings.Join(s, " ")
}

func lastUsed(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// WriteScopes writes the scope inventory in format (table, csv or json).
// Times are RFC 3339 UTC; an empty last_used means never.
func WriteScopes(w io.Writer, format string, rows []ScopeRow) error {
	switch format {
	case FormatJSON:
		if rows == nil {
			rows = []ScopeRow{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case FormatCSV:
		cw := safeout.NewCSV(w)
		_ = cw.Write([]string{"scope", "name", "category", "high_privilege", "apps", "active_authorizations", "users", "uses", "last_used", "unused"})
		for _, r := range rows {
			_ = cw.Write([]string{r.Scope, r.Name, r.Category, strconv.FormatBool(r.HighPrivilege), joinApps(r.Apps),
				strconv.Itoa(r.Authorizations), joinUsers(r.Users), strconv.FormatInt(r.Uses, 10), lastUsed(r.LastUsed), strconv.FormatBool(r.Unused)})
		}
		cw.Flush()
		return cw.Error()
	case FormatTable:
		if len(rows) == 0 {
			_, err := fmt.Fprintln(w, "No scope is registered or granted.")
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SCOPE\tHIGH\tCATEGORY\tAPPS\tAUTHORIZATIONS\tUSERS\tUSES\tLAST USED\tUNUSED")
		for _, r := range rows {
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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", r.Scope, high, r.Category, len(r.Apps), r.Authorizations,
				len(r.Users), r.Uses, last, unused)
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown format %q", format)
}
