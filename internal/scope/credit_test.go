package scope

import (
	"slices"
	"testing"
)

// TestSatisfiedByCreditsTheNarrowest: a use is credited to the exact
// required scope when granted, otherwise to the narrowest granted scope
// that includes it, whatever the grant's order.
func TestSatisfiedByCreditsTheNarrowest(t *testing.T) {
	c := Default()
	cases := []struct {
		granted  []string
		required string
		want     string
	}{
		{[]string{"vso.work_full", "vso.profile"}, "vso.profile", "vso.profile"},
		{[]string{"vso.profile", "vso.work_full"}, "vso.profile", "vso.profile"},
		{[]string{"vso.work_full", "vso.work"}, "vso.profile", "vso.work"},
		{[]string{"vso.work", "vso.work_full"}, "vso.profile", "vso.work"},
		{[]string{"vso.code_full", "vso.code_write", "vso.code"}, "vso.code", "vso.code"},
		{[]string{"vso.code_full", "vso.code_write"}, "vso.code", "vso.code_write"},
		{[]string{"vso.work"}, "vso.code", ""},
		{nil, "vso.profile", ""},
		{[]string{"vso.unknown"}, "vso.unknown", ""}, // unknown scopes grant nothing
	}
	for _, tc := range cases {
		if got := c.SatisfiedBy(tc.granted, tc.required); got != tc.want {
			t.Errorf("SatisfiedBy(%v, %s) = %q, want %q", tc.granted, tc.required, got, tc.want)
		}
	}
}

func TestUnion(t *testing.T) {
	c := Default()
	cases := []struct {
		sets [][]string
		want []string
	}{
		{nil, []string{}},
		{[][]string{{"vso.work"}, {"vso.profile"}}, []string{"vso.work", "vso.profile"}},
		{[][]string{{"vso.work", "vso.profile"}, {"vso.profile", "vso.code"}}, []string{"vso.work", "vso.profile", "vso.code"}},
		// Not minimised: vso.work includes vso.profile, both stay.
		{[][]string{{"vso.work"}, {"vso.work"}, {"vso.profile"}}, []string{"vso.work", "vso.profile"}},
	}
	for _, tc := range cases {
		if got := c.Union(tc.sets...); !slices.Equal(got, tc.want) {
			t.Errorf("Union(%v) = %v, want %v", tc.sets, got, tc.want)
		}
	}
}
