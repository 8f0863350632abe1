package audit

import (
	"strings"
	"testing"
)

// TestCheckReaches: a chain reaches a checkpoint when event Seq is there
// with the checkpoint's hash; a deleted or replaced tail does not, though
// it still verifies as a chain.
func TestCheckReaches(t *testing.T) {
	full := chain(6)
	cp := Checkpoint{Seq: 4, Head: full[3].Hash}
	replaced := append(append([]Event(nil), full[:2]...), chain(6)[2:]...) // same seqs, other events
	for i := 2; i < len(replaced); i++ {
		replaced[i].ID += "-forged"
		replaced[i].PrevHash = replaced[i-1].Hash
		replaced[i].Hash = replaced[i].ComputeHash(replaced[i].PrevHash)
	}
	edited := append([]Event(nil), full...)
	edited[1].Action = "edited"
	tests := []struct {
		name   string
		events []Event
		cp     Checkpoint
		want   string // "" = reaches; else a part of the reason
	}{
		{"intact, longer than the checkpoint", full, cp, ""},
		{"intact, ending at the checkpoint", full[:4], cp, ""},
		{"empty log, empty checkpoint", nil, Checkpoint{Seq: 0, Head: GenesisHash}, ""},
		{"newest events deleted", full[:3], cp, "missing"},
		{"tail replaced", replaced, cp, "not the checkpoint's head"},
		{"an event before the head edited", edited, cp, "edited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewCheckReaches(tt.cp)
			for _, e := range tt.events {
				if !v.Add(e) {
					break
				}
			}
			_, b := v.Result()
			switch {
			case tt.want == "" && b != nil:
				t.Errorf("break %+v, want the chain to reach the checkpoint", b)
			case tt.want != "" && (b == nil || !strings.Contains(b.Reason, tt.want)):
				t.Errorf("break %+v, want one saying %q", b, tt.want)
			}
		})
	}
}

// FuzzParseCheckpointFile: any input is either refused with an error or
// gives a checkpoint with a JWS, a head and a sequence number ≥ 0; never
// a panic.
func FuzzParseCheckpointFile(f *testing.F) {
	f.Add([]byte(`{"seq":3,"head":"ab","at":"2026-12-06T12:00:00Z","kid":"k","alg":"EdDSA","jws":"a.b.c"}`))
	f.Add([]byte(`{"seq":-1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := ParseCheckpointFile(b)
		if err == nil && (cp.JWS == "" || cp.Head == "" || cp.Seq < 0) {
			t.Errorf("accepted %q as %+v", b, cp)
		}
	})
}
