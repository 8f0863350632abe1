package render_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/render"
	"github.com/oauthdesk/oauthdesk/internal/reports"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

func sampleRows() []reports.ScopeRow {
	last := time.Date(2026, 11, 20, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	return []reports.ScopeRow{
		{Scope: "vso.code_write", Name: "Code (read and write)", Category: "Code", HighPrivilege: true,
			Apps: []reports.AppRef{{ClientID: "b", Name: "Beta, Inc. tools"}, {ClientID: "c", Name: "Gamma"}}, Authorizations: 2,
			Users: []reports.UserRef{{ID: "u1", Username: "carol"}, {ID: "u2", Username: "root"}}, Uses: 12, LastUsed: &last, PATs: 3,
			Through: []reports.ViaCount{{Scope: "vso.code_manage", Apps: 1, Authorizations: 0, PATs: 2}, {Scope: "vso.code_full", Apps: 2, Authorizations: 5}}},
		{Scope: "vso.tokens", Name: "Delegated Authorization Tokens", Category: "Tokens", HighPrivilege: true,
			Apps: []reports.AppRef{{ClientID: "b", Name: "Beta, Inc. tools"}}, Authorizations: 1,
			Users: []reports.UserRef{{ID: "u1", Username: "carol"}}, Unused: true},
		{Scope: "vso.work", Name: "Work items (read)", Category: "Work Items",
			Apps: []reports.AppRef{}, Users: []reports.UserRef{}, Unused: true},
	}
}

func TestWriteScopes(t *testing.T) {
	for _, f := range []string{"table", "csv", "json"} {
		if !render.ValidFormat(f) {
			t.Errorf("ValidFormat(%q) = false", f)
		}
	}
	for _, f := range []string{"", "JSON", "yaml", "tsv"} {
		if render.ValidFormat(f) {
			t.Errorf("ValidFormat(%q) = true", f)
		}
		if err := render.WriteScopes(&bytes.Buffer{}, f, sampleRows()); err == nil {
			t.Errorf("WriteScopes(%q): no error", f)
		}
	}

	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		if err := render.WriteScopes(&buf, "json", sampleRows()); err != nil {
			t.Fatal(err)
		}
		var back []reports.ScopeRow
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, buf.String())
		}
		want := sampleRows()
		if len(back) != len(want) {
			t.Fatalf("%d rows, want %d", len(back), len(want))
		}
		for i := range want {
			if (want[i].LastUsed == nil) != (back[i].LastUsed == nil) || (want[i].LastUsed != nil && !want[i].LastUsed.Equal(*back[i].LastUsed)) {
				t.Errorf("row %d last_used %v, want %v", i, fmtTime(back[i].LastUsed), fmtTime(want[i].LastUsed))
			}
			back[i].LastUsed, want[i].LastUsed = nil, nil
		}
		if !reflect.DeepEqual(back, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", back, want)
		}
		var raw []map[string]any
		_ = json.Unmarshal(buf.Bytes(), &raw)
		wantKeys := []string{"active_authorizations", "app_grants", "apps", "category", "high_privilege", "last_used", "name", "personal_access_tokens", "scope", "through", "unused", "users", "uses"}
		for i, r := range raw {
			var keys []string
			for k := range r {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			w := wantKeys
			if i > 0 { // never used: last_used is left out
				w = slices.DeleteFunc(slices.Clone(wantKeys), func(k string) bool { return k == "last_used" })
			}
			if !slices.Equal(keys, w) {
				t.Errorf("row %d keys %q, want %q", i, keys, w)
			}
		}
		if !strings.Contains(buf.String(), "\n  {") {
			t.Errorf("JSON is not indented:\n%s", buf.String())
		}
		for _, rows := range [][]reports.ScopeRow{nil, {}} {
			buf.Reset()
			if err := render.WriteScopes(&buf, "json", rows); err != nil || buf.String() != "[]\n" {
				t.Errorf("empty report as JSON: %q %v, want \"[]\\n\"", buf.String(), err)
			}
		}
	})

	t.Run("csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := render.WriteScopes(&buf, "csv", sampleRows()); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("not CSV: %v", err)
		}
		want := [][]string{
			{"scope", "name", "category", "high_privilege", "apps", "active_authorizations", "users", "uses", "last_used", "unused", "personal_access_tokens", "through"},
			{"vso.code_write", "Code (read and write)", "Code", "true", "Beta, Inc. tools (b); Gamma (c)", "2", "carol root", "12", "2026-11-20T08:30:00Z", "false", "3",
				"vso.code_manage (1 apps, 0 active authorizations, 2 personal access tokens); vso.code_full (2 apps, 5 active authorizations)"},
			{"vso.tokens", "Delegated Authorization Tokens", "Tokens", "true", "Beta, Inc. tools (b)", "1", "carol", "0", "", "true", "0", ""},
			{"vso.work", "Work items (read)", "Work Items", "false", "", "0", "", "0", "", "true", "0", ""},
		}
		if !reflect.DeepEqual(recs, want) {
			t.Errorf("CSV records:\n got %q\nwant %q", recs, want)
		}
		buf.Reset()
		if err := render.WriteScopes(&buf, "csv", nil); err != nil {
			t.Fatal(err)
		}
		if recs, _ := csv.NewReader(&buf).ReadAll(); len(recs) != 1 {
			t.Errorf("empty CSV report: %q, want the header only", recs)
		}
	})

	t.Run("table", func(t *testing.T) {
		var buf bytes.Buffer
		if err := render.WriteScopes(&buf, "table", sampleRows()); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("%d lines, want a header and 3 rows:\n%s", len(lines), buf.String())
		}
		if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"SCOPE", "HIGH", "CATEGORY", "APPS", "AUTHORIZATIONS", "TOKENS", "USERS", "USES", "LAST", "USED", "THROUGH", "UNUSED"}) {
			t.Errorf("header %q", lines[0])
		}
		wantRows := [][]string{
			{"vso.code_write", "yes", "Code", "2", "2", "3", "2", "12", "2026-11-20T08:30:00Z", "vso.code_manage,vso.code_full"},
			{"vso.tokens", "yes", "Tokens", "1", "1", "0", "1", "0", "never", "-", "unused"},
			{"vso.work", "Work", "Items", "0", "0", "0", "0", "0", "never", "-", "unused"},
		}
		for i, w := range wantRows {
			if got := strings.Fields(lines[i+1]); !slices.Equal(got, w) {
				t.Errorf("row %d: %q, want fields %q", i+1, lines[i+1], w)
			}
		}
		// Columns are aligned: every row's second column starts where the header's does.
		col := strings.Index(lines[0], "HIGH")
		if strings.Index(lines[1], "yes") != col {
			t.Errorf("columns not aligned:\n%s", buf.String())
		}
		buf.Reset()
		if err := render.WriteScopes(&buf, "table", nil); err != nil || buf.String() != "No scope is registered or granted.\n" {
			t.Errorf("empty table: %q %v", buf.String(), err)
		}
	})
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339)
}
