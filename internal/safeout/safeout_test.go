package safeout

import (
	"bytes"
	"testing"
)

func TestCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"=1+2", "'=1+2"},
		{"+cmd", "'+cmd"},
		{"-x", "'-x"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"-3", "-3"},
		{"+1.5", "+1.5"},
		{"-3+cmd", "'-3+cmd"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := Cell(tt.in); got != tt.want {
			t.Errorf("Cell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCSVWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewCSV(&b)
	_ = w.Write([]string{"=A1", "ok", "-2"})
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "'=A1,ok,-2\n" {
		t.Errorf("got %q", got)
	}
}

func TestTermAndUnsafe(t *testing.T) {
	tests := []struct {
		in, want string
		unsafe   bool
	}{
		{"Fabrikam Boards", "Fabrikam Boards", false},
		{"Ünïcödé 名前", "Ünïcödé 名前", false},
		{"red\x1b[31m", `red\x1b[31m`, true},
		{"two\nlines", `two\nlines`, true},
		{"abc\u202edcba", `abc\u202edcba`, true},
		{"osc\x1b]8;;http://x\x07", `osc\x1b]8;;http://x\a`, true},
		{"c1\u009b", `c1\u009b`, true},
		{"iso\u2066x", `iso\u2066x`, true},
	}
	for _, tt := range tests {
		if got := Term(tt.in); got != tt.want {
			t.Errorf("Term(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := HasUnsafe(tt.in); got != tt.unsafe {
			t.Errorf("HasUnsafe(%q) = %v", tt.in, got)
		}
	}
}
