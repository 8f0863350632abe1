package main

import (
	"fmt"
	"io"
	"strings"
)

// row is one line of the table.
type row struct {
	Scenario   string  `json:"scenario"`
	RPS        float64 `json:"req_per_s"`
	Ratio      float64 `json:"ratio_to_ceiling"`
	CeilingRPS float64 `json:"ceiling_req_per_s"` // measured just before this row
	P50MS      float64 `json:"p50_ms"`
	P99MS      float64 `json:"p99_ms"`
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	ceiling    bool
}

// target is one performance target, met or not in this run.
type target struct {
	Scenario string `json:"scenario"`
	Want     string `json:"want"`
	Got      string `json:"got"`
	Met      bool   `json:"met"`
}

// report is the whole run, as printed and as written by --out.
type report struct {
	Machine     string   `json:"machine"`
	Started     string   `json:"started"`
	Elapsed     string   `json:"elapsed"`
	Duration    string   `json:"duration_per_scenario"`
	Connections int      `json:"connections"`
	Threads     int      `json:"threads"`
	Rows        []row    `json:"rows"`
	Targets     []target `json:"targets"`
}

// finish computes the ratios and checks the targets.
func (r *report) finish() {
	by := map[string]row{}
	for i := range r.Rows {
		if c := r.Rows[i].CeilingRPS; c > 0 {
			r.Rows[i].Ratio = r.Rows[i].RPS / c
		}
		by[r.Rows[i].Scenario] = r.Rows[i]
	}
	add := func(sc, want, got string, met bool) {
		if _, ok := by[sc]; ok {
			r.Targets = append(r.Targets, target{Scenario: sc, Want: want, Got: got, Met: met})
		}
	}
	rf, cx, br, ba, rv, pt := by[scRefresh], by[scCode], by[scBearer], by[scBearerAfter], by[scRevoked], by[scPAT]
	add(scRefresh, "≥ 0.15 × ceiling", fmt.Sprintf("%.3f", rf.Ratio), rf.Ratio >= 0.15)
	add(scRefresh, "p99 ≤ 25 ms", fmt.Sprintf("%.1f ms", rf.P99MS), rf.P99MS <= 25)
	add(scRefresh, "0 errors", fmt.Sprint(rf.Errors), rf.Errors == 0)
	add(scRefresh, "server RSS ≤ 150 MB", fmt.Sprintf("%.0f MB", rf.PeakRSSMB), rf.PeakRSSMB <= 150)
	add(scCode, "≥ 0.15 × ceiling", fmt.Sprintf("%.3f", cx.Ratio), cx.Ratio >= 0.15)
	add(scCode, "0 errors", fmt.Sprint(cx.Errors), cx.Errors == 0)
	add(scBearer, "≥ 0.6 × ceiling", fmt.Sprintf("%.3f", br.Ratio), br.Ratio >= 0.6)
	if br.Ratio > 0 {
		// Ratios, not req/s: each is to the ceiling measured just before
		// it, so the machine's drift between the two rows cancels out.
		add(scBearerAfter, "within 10 % of the Bearer row (ratio to ceiling)", fmt.Sprintf("%+.1f %%", 100*(ba.Ratio/br.Ratio-1)), ba.Ratio >= 0.9*br.Ratio)
		add(scPAT, "within 10 % of the Bearer row (ratio to ceiling)", fmt.Sprintf("%+.1f %%", 100*(pt.Ratio/br.Ratio-1)), pt.Ratio >= 0.9*br.Ratio)
	}
	sc, so, cc, in := by[scStdCode], by[scStdCodeOIDC], by[scCC], by[scIntrospect]
	if cx.Ratio > 0 {
		add(scStdCode, "within 10 % of the dialect's code exchange (ratio to ceiling)", fmt.Sprintf("%+.1f %%", 100*(sc.Ratio/cx.Ratio-1)), sc.Ratio >= 0.9*cx.Ratio)
	}
	add(scStdCode, "0 errors", fmt.Sprint(sc.Errors), sc.Errors == 0)
	add(scStdCodeOIDC, "0 errors", fmt.Sprint(so.Errors), so.Errors == 0)
	add(scCC, "≥ 0.3 × ceiling", fmt.Sprintf("%.3f", cc.Ratio), cc.Ratio >= 0.3)
	add(scIntrospect, "≥ 0.3 × ceiling", fmt.Sprintf("%.3f", in.Ratio), in.Ratio >= 0.3)
	add(scRevoked, "every revoked token 401", fmt.Sprintf("%d not 401 of %d", rv.Errors, rv.Requests), rv.Errors == 0 && rv.Requests > 0)
	if rp := by[scRefresh+postgresSuffix]; rf.Ratio > 0 && rf.RPS > 0 {
		// Refresh on PostgreSQL at least 0.8 × refresh on SQLite in one
		// run (the replicas mode close to one file). The two rows run back
		// to back (main.go), so both measures must hold: req/s, and the
		// ratios to the ceiling measured just before each row.
		byRPS, byCeiling := rp.RPS/rf.RPS, rp.Ratio/rf.Ratio
		add(scRefresh+postgresSuffix, "≥ 0.8 × the SQLite row (req/s, and ratio to ceiling)",
			fmt.Sprintf("req/s %.2f; ratio to ceiling %.2f", byRPS, byCeiling), byRPS >= 0.8 && byCeiling >= 0.8)
	}
}

// ceilings lists the ceiling measured before each row.
func (r *report) ceilings() string {
	var parts []string
	for _, x := range r.Rows {
		parts = append(parts, fmt.Sprintf("%.0f", x.CeilingRPS))
	}
	return strings.Join(parts, ", ")
}

// print writes the table (Markdown, so it pastes into the README) and the
// targets.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s; wrk -t%d -c%d, %s per scenario; run took %s\n\n", r.Machine, r.Threads, r.Connections, r.Duration, r.Elapsed)
	fmt.Fprintln(w, "| scenario | req/s | × ceiling | p50 | p99 | errors | peak RSS |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, x := range r.Rows {
		fmt.Fprintf(w, "| %s | %.0f | %.3f | %.2f ms | %.2f ms | %d | %.0f MB |\n", x.Scenario, x.RPS, x.Ratio, x.P50MS, x.P99MS, x.Errors, x.PeakRSSMB)
	}
	fmt.Fprintln(w, "\n× ceiling: to the bare Echo handler measured again just before each row (req/s then:", r.ceilings()+")")
	fmt.Fprintln(w)
	for _, t := range r.Targets {
		mark := "met   "
		if !t.Met {
			mark = "MISSED"
		}
		fmt.Fprintf(w, "%s %s: %s (got %s)\n", mark, t.Scenario, t.Want, t.Got)
	}
}
