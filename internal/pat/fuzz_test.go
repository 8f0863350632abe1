package pat

import "testing"

// FuzzValid: the offline check never panics, and accepts only strings of
// the token's exact shape whose checksum matches.
func FuzzValid(f *testing.F) {
	f.Add(Generate())
	f.Add("odp_")
	f.Add("odp_" + "0000000000000000000000000000000000000000000" + "000000")
	f.Add("Bearer odp_x")
	f.Fuzz(func(t *testing.T, s string) {
		if !Valid(s) {
			return
		}
		if len(s) != TokenLen || !LooksLike(s) {
			t.Fatalf("Valid(%q) with the wrong shape", s)
		}
		cut := len(Prefix) + bodyLen
		if checksum(s[:cut]) != s[cut:] {
			t.Fatalf("Valid(%q) with a wrong checksum", s)
		}
	})
}
