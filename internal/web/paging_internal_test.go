package web

import "testing"

func TestRangeText(t *testing.T) {
	for _, c := range []struct {
		pos   position
		rows  int
		total int64
		want  string
	}{
		{position{1, 25}, 25, 60, "1–25 of 60"},
		{position{51, 25}, 10, 60, "51–60 of 60"},
		{position{976, 25}, 25, 1001, "976–1,000 of more than 1,000 (counting stops there to keep this page fast)"},
		{position{1001, 25}, 25, 1000, "1,001–1,025 of 1,000"},
		{position{0, 25}, 25, 60, ""},
		{position{1, 25}, 0, 0, ""},
	} {
		if got := rangeText(c.pos, c.rows, c.total); got != c.want {
			t.Errorf("rangeText(%+v, %d, %d) = %q, want %q", c.pos, c.rows, c.total, got, c.want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for _, c := range []struct{ pos, prev, next int }{{1, 1, 26}, {26, 1, 51}, {10, 1, 35}, {51, 26, 76}, {0, 0, 0}} {
		p := position{c.pos, 25}
		if p.prev() != c.prev || p.next(25) != c.next {
			t.Errorf("position %d: prev %d next %d, want %d %d", c.pos, p.prev(), p.next(25), c.prev, c.next)
		}
	}
}
