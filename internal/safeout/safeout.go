// Package safeout writes text for places that interpret it: CSV for
// spreadsheets (formula injection, OWASP "CSV Injection") and table output
// for terminals (escape sequences, bidirectional overrides). Every CSV
// export and every terminal table of oauthdesk goes through it; JSON
// output never does and stays exact.
package safeout

import (
	"encoding/csv"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// CSV is encoding/csv's writer with formula neutralisation: a cell that
// begins with '=', '+', '-', '@', a tab or a carriage return is prefixed
// with a single quote, so that spreadsheet software shows it as text
// instead of evaluating it. Cells that are plain decimal numbers ("-3",
// "+1.5") are left alone.
type CSV struct{ w *csv.Writer }

// NewCSV returns a CSV writer on w.
func NewCSV(w io.Writer) *CSV { return &CSV{w: csv.NewWriter(w)} }

// Write writes one record (see csv.Writer.Write).
func (c *CSV) Write(record []string) error {
	out := make([]string, len(record))
	for i, v := range record {
		out[i] = Cell(v)
	}
	return c.w.Write(out)
}

// Flush writes buffered data; Error reports any write error.
func (c *CSV) Flush() { c.w.Flush() }

// Error returns the first error of Write or Flush.
func (c *CSV) Error() error { return c.w.Error() }

var number = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?$`)

// Cell returns v as it must appear in a CSV cell: prefixed with ' when it
// begins with a formula trigger (= + - @ tab CR) and is not a number.
func Cell(v string) string {
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) || number.MatchString(v) {
		return v
	}
	return "'" + v
}

// Unsafe reports whether r must not appear in a stored text field: a
// control character (C0, DEL, C1 — tab included) or a bidirectional
// formatting character (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069).
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// HasUnsafe reports whether s contains a rune for which Unsafe is true,
// or invalid UTF-8.
func HasUnsafe(s string) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar || Unsafe(r) {
			return true
		}
	}
	return false
}

// Term returns s safe to print in a terminal table cell: every unsafe rune
// (see Unsafe) is shown as a Go escape (\x1b, \n, \u202e), so that escape
// sequences, line breaks and direction overrides stored before validation
// existed cannot reach the terminal. Other text is unchanged.
func Term(s string) string {
	if !HasUnsafe(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == unicode.ReplacementChar || Unsafe(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
