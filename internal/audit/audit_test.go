package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sample is a fully populated event: every hashed field has a value.
func sample() Event {
	return Event{
		Seq: 7, ID: "4b1f2a9e-0000-4000-8000-000000000007",
		At:    time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC),
		Actor: "root", ActorID: "0c2f6a55-1111-4222-8333-444455556666",
		Action: ActionSecretRegenerate, TargetType: TargetSecret, TargetID: "9d3c1e77-aaaa-4bbb-8ccc-dddddddddddd",
		Details:    map[string]any{"slot": "primary", "secret_id": "s-1"},
		RemoteAddr: "192.0.2.10",
	}
}

const prevSample = "aa4f6d2c9e3f1b7a5c8d0e2f4a6b8c0d1e3f5a7b9c0d2e4f6a8b0c2d4e6f8a0b"

func TestComputeHashIsDeterministicHex(t *testing.T) {
	e := sample()
	h := e.ComputeHash(prevSample)
	if len(h) != 64 || strings.ToLower(h) != h {
		t.Fatalf("hash %q: want 64 lower-case hex digits", h)
	}
	if _, err := hex.DecodeString(h); err != nil {
		t.Fatalf("hash %q is not hex: %v", h, err)
	}
	if again := sample().ComputeHash(prevSample); again != h {
		t.Errorf("same event hashed twice: %s, then %s", h, again)
	}
	// The Details map is serialised canonically: insertion order does not matter.
	other := sample()
	other.Details = map[string]any{}
	other.Details["secret_id"] = "s-1"
	other.Details["slot"] = "primary"
	if got := other.ComputeHash(prevSample); got != h {
		t.Errorf("equal details built in another order hash differently: %s vs %s", got, h)
	}
	// Hash itself is not hashed.
	withHash := sample()
	withHash.Hash = h
	withHash.PrevHash = "ignored: the prev argument is what is hashed"
	if got := withHash.ComputeHash(prevSample); got != h {
		t.Errorf("setting Hash/PrevHash changed ComputeHash: %s vs %s", got, h)
	}
}

// TestComputeHashFormat pins the serialisation: stored chains must keep
// verifying across releases, so the hashed bytes may never change. The
// expected value is computed here independently of ComputeHash.
func TestComputeHashFormat(t *testing.T) {
	e := sample()
	fields := []string{prevSample, "7", e.ID, "2026-11-21T10:00:00.123456789Z", "root", e.ActorID,
		"secret.regenerate", "secret", e.TargetID, `{"secret_id":"s-1","slot":"primary"}`, "192.0.2.10"}
	var buf bytes.Buffer
	for _, f := range fields {
		fmt.Fprintf(&buf, "%d:%s", len(f), f)
	}
	sum := sha256.Sum256(buf.Bytes())
	if want, got := hex.EncodeToString(sum[:]), e.ComputeHash(prevSample); got != want {
		t.Errorf("ComputeHash = %s, want %s (SHA-256 of length-prefixed fields %q)", got, want, buf.String())
	}
}

func TestComputeHashCoversEveryField(t *testing.T) {
	base := sample()
	baseHash := base.ComputeHash(prevSample)
	cases := []struct {
		name   string
		change func(e *Event)
		prev   string
	}{
		{name: "prev hash", change: func(*Event) {}, prev: strings.Repeat("0", 64)},
		{name: "Seq", change: func(e *Event) { e.Seq = 8 }},
		{name: "ID", change: func(e *Event) { e.ID = "4b1f2a9e-0000-4000-8000-000000000008" }},
		{name: "At (one nanosecond)", change: func(e *Event) { e.At = e.At.Add(time.Nanosecond) }},
		{name: "At (one second)", change: func(e *Event) { e.At = e.At.Add(time.Second) }},
		{name: "Actor", change: func(e *Event) { e.Actor = "mallory" }},
		{name: "ActorID", change: func(e *Event) { e.ActorID = "" }},
		{name: "Action", change: func(e *Event) { e.Action = ActionSecretRetire }},
		{name: "TargetType", change: func(e *Event) { e.TargetType = TargetApp }},
		{name: "TargetID", change: func(e *Event) { e.TargetID = "other" }},
		{name: "Details value", change: func(e *Event) { e.Details = map[string]any{"slot": "alternative", "secret_id": "s-1"} }},
		{name: "Details key added", change: func(e *Event) { e.Details = map[string]any{"slot": "primary", "secret_id": "s-1", "x": 1} }},
		{name: "Details empty", change: func(e *Event) { e.Details = nil }},
		{name: "RawDetails", change: func(e *Event) { e.RawDetails = `{"tampered":true}` }},
		{name: "RawDetails whitespace", change: func(e *Event) { e.RawDetails = `{"secret_id": "s-1","slot":"primary"}` }},
		{name: "RemoteAddr", change: func(e *Event) { e.RemoteAddr = "198.51.100.7" }},
	}
	seen := map[string]string{baseHash: "the unchanged event"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := sample()
			c.change(&e)
			prev := prevSample
			if c.prev != "" {
				prev = c.prev
			}
			h := e.ComputeHash(prev)
			if h == baseHash {
				t.Fatalf("changing %s does not change the hash", c.name)
			}
			if other, dup := seen[h]; dup {
				t.Errorf("changing %s gives the same hash as %s", c.name, other)
			}
			seen[h] = c.name
		})
	}
}

func TestComputeHashTimeIsUTC(t *testing.T) {
	e := sample()
	h := e.ComputeHash(prevSample)
	e.At = e.At.In(time.FixedZone("CET", 3600))
	if got := e.ComputeHash(prevSample); got != h {
		t.Errorf("the same instant in another zone hashes differently: %s vs %s", got, h)
	}
}

// Length prefixes: moving characters from one field into its neighbour
// must change the hash (a plain concatenation would not).
func TestComputeHashLengthPrefixPreventsAmbiguity(t *testing.T) {
	pairs := []struct {
		name string
		a, b func(e *Event)
	}{
		{"Actor|Action", func(e *Event) { e.Actor, e.Action = "ab", "c" }, func(e *Event) { e.Actor, e.Action = "a", "bc" }},
		{"Actor|ActorID", func(e *Event) { e.Actor, e.ActorID = "root", "" }, func(e *Event) { e.Actor, e.ActorID = "", "root" }},
		{"TargetType|TargetID", func(e *Event) { e.TargetType, e.TargetID = "app1", "23" }, func(e *Event) { e.TargetType, e.TargetID = "app", "123" }},
		{"Seq|ID", func(e *Event) { e.Seq, e.ID = 1, "2x" }, func(e *Event) { e.Seq, e.ID = 12, "x" }},
		{"RemoteAddr|Details", func(e *Event) { e.RawDetails, e.RemoteAddr = `{}1`, "" }, func(e *Event) { e.RawDetails, e.RemoteAddr = `{}`, "1" }},
		// A field holding what looks like a length prefix of the next one.
		{"embedded prefix", func(e *Event) { e.Actor, e.Action = "a1:b", "" }, func(e *Event) { e.Actor, e.Action = "a", "b" }},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			x, y := sample(), sample()
			p.a(&x)
			p.b(&y)
			if x.ComputeHash(prevSample) == y.ComputeHash(prevSample) {
				t.Errorf("%+v and %+v hash alike", x, y)
			}
		})
	}
}

func TestDetailsJSON(t *testing.T) {
	e := Event{Details: map[string]any{"b": 2, "a": "x<y"}}
	if got := e.DetailsJSON(); got != `{"a":"x\u003cy","b":2}` {
		t.Errorf("DetailsJSON = %s, want keys sorted, compact", got)
	}
	e.RawDetails = `{"stored": "verbatim"}`
	if got := e.DetailsJSON(); got != e.RawDetails {
		t.Errorf("DetailsJSON with RawDetails = %s, want the stored text verbatim", got)
	}
	if got := (Event{}).DetailsJSON(); got != "null" && got != "{}" {
		t.Errorf("DetailsJSON of no details = %s", got)
	}
	if got := (Event{Details: map[string]any{"f": func() {}}}).DetailsJSON(); got != "{}" {
		t.Errorf("DetailsJSON of an unserialisable value = %s, want {}", got)
	}
}

func TestActorAndNew(t *testing.T) {
	if a := ActorFrom(context.Background()); a.Name != ActorSystem || a.ID != "" {
		t.Errorf("ActorFrom without actor = %+v, want system", a)
	}
	if a := ActorFrom(WithActor(context.Background(), Actor{})); a.Name != ActorSystem {
		t.Errorf("ActorFrom with an empty actor = %+v, want system", a)
	}
	ctx := WithActor(context.Background(), Actor{Name: "root", ID: "u-1", RemoteAddr: "192.0.2.1"})
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", -5*3600))
	e := New(ctx, at, ActionPolicySet, TargetPolicy, "third_party_oauth", nil)
	if e.Actor != "root" || e.ActorID != "u-1" || e.RemoteAddr != "192.0.2.1" || e.Action != ActionPolicySet ||
		e.TargetType != TargetPolicy || e.TargetID != "third_party_oauth" || e.At.Location() != time.UTC || !e.At.Equal(at) {
		t.Errorf("New = %+v", e)
	}
	if e.Details == nil || e.DetailsJSON() != "{}" {
		t.Errorf("New with nil details: Details %#v, JSON %s; want an empty object", e.Details, e.DetailsJSON())
	}
	cli := New(WithActor(context.Background(), Actor{Name: ActorCLI}), at, ActionAppDelete, TargetApp, "c", map[string]any{"n": 1})
	if cli.Actor != "cli" || cli.DetailsJSON() != `{"n":1}` {
		t.Errorf("New for the CLI = %+v", cli)
	}
}

func TestActionsListsEveryAction(t *testing.T) {
	want := []string{ActionUserAdd, ActionAppRegister, ActionAppDelete, ActionSecretCreate, ActionSecretRegenerate,
		ActionSecretRetire, ActionConsentGrant, ActionConsentDeny, ActionAuthorizationRevoke, ActionTokenFamilyRevoke, ActionPolicySet,
		ActionAppScopes, ActionAppImport, ActionReportRun, ActionSignIn, ActionSignInFailed, ActionSignOut, ActionKeyRotate}
	got := Actions()
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("Actions() = %q, want %q", got, want)
	}
	for _, a := range got {
		if target, verb, ok := strings.Cut(a, "."); !ok || target == "" || verb == "" {
			t.Errorf("action %q is not <target>.<verb>", a)
		}
	}
}

// chain builds n linked events the way the store appends them.
func chain(n int) []Event {
	out := make([]Event, 0, n)
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		e := Event{Seq: int64(i), ID: "id-" + strconv.Itoa(i), At: t0.Add(time.Duration(i) * time.Millisecond),
			Actor: "root", Action: ActionPolicySet, TargetType: TargetPolicy, TargetID: "third_party_oauth",
			Details: map[string]any{"after": i % 2}, RemoteAddr: "127.0.0.1"}
		e.RawDetails = e.DetailsJSON()
		out = append(out, e)
	}
	return link(out)
}

// link sets PrevHash and Hash of every event in order, as AppendAudit does.
func link(events []Event) []Event {
	prev := GenesisHash
	for i := range events {
		events[i].PrevHash = prev
		events[i].Hash = events[i].ComputeHash(prev)
		prev = events[i].Hash
	}
	return events
}

// rehash recomputes e's hash from its own PrevHash (an attacker covering
// an edit).
func rehash(e *Event) { e.Hash = e.ComputeHash(e.PrevHash) }

func verify(events []Event) (int64, *Break) {
	v := NewVerifier()
	for _, e := range events {
		if !v.Add(e) {
			break
		}
	}
	return v.Result()
}

func TestVerifier(t *testing.T) {
	cases := []struct {
		name      string
		mutate    func([]Event) []Event
		wantSeq   int64  // 0: intact
		wantWords string // in Reason
	}{
		{name: "intact", mutate: func(c []Event) []Event { return c }},
		{name: "empty", mutate: func([]Event) []Event { return nil }},
		{name: "intact, hashes stored in upper-case hex", mutate: func(c []Event) []Event {
			for i := range c {
				c[i].Hash = strings.ToUpper(c[i].Hash)
			}
			return c
		}},
		{name: "details edited", wantSeq: 3, wantWords: "edited", mutate: func(c []Event) []Event {
			c[2].RawDetails = `{"tampered":true}`
			return c
		}},
		{name: "actor edited", wantSeq: 4, wantWords: "edited", mutate: func(c []Event) []Event {
			c[3].Actor = "mallory"
			return c
		}},
		{name: "time edited", wantSeq: 2, wantWords: "edited", mutate: func(c []Event) []Event {
			c[1].At = c[1].At.Add(-time.Hour)
			return c
		}},
		{name: "edited and rehashed: caught at the next event", wantSeq: 4, wantWords: "previous-hash", mutate: func(c []Event) []Event {
			c[2].RawDetails = `{"tampered":true}`
			rehash(&c[2])
			return c
		}},
		{name: "last event edited and rehashed", wantSeq: 0, mutate: func(c []Event) []Event {
			// Without an external anchor the newest event can be rewritten
			// consistently; documented limit of a bare hash chain.
			c[4].RawDetails = `{"tampered":true}`
			rehash(&c[4])
			return c
		}},
		{name: "middle event missing", wantSeq: 3, wantWords: "event 3 is missing (next stored event is 4)", mutate: func(c []Event) []Event {
			return slices.Delete(c, 2, 3)
		}},
		{name: "first event missing", wantSeq: 1, wantWords: "event 1 is missing", mutate: func(c []Event) []Event {
			return c[1:]
		}},
		{name: "reordered", wantSeq: 2, wantWords: "missing", mutate: func(c []Event) []Event {
			c[1], c[2] = c[2], c[1]
			return c
		}},
		{name: "reordered and renumbered", wantSeq: 2, wantWords: "previous-hash", mutate: func(c []Event) []Event {
			c[1], c[2] = c[2], c[1]
			c[1].Seq, c[2].Seq = 2, 3
			return c
		}},
		{name: "wrong prev hash, own hash consistent", wantSeq: 2, wantWords: "previous-hash", mutate: func(c []Event) []Event {
			c[1].PrevHash = strings.Repeat("ab", 32)
			rehash(&c[1])
			return c
		}},
		{name: "first event not linked to the genesis", wantSeq: 1, wantWords: "previous-hash", mutate: func(c []Event) []Event {
			c[0].PrevHash = strings.Repeat("1", 64)
			rehash(&c[0])
			return c
		}},
		{name: "duplicated event", wantSeq: 3, wantWords: "missing", mutate: func(c []Event) []Event {
			return slices.Insert(c, 2, c[1])
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events := c.mutate(chain(5))
			n, b := verify(events)
			if c.wantSeq == 0 {
				if b != nil {
					t.Fatalf("intact chain reported broken at %d: %s", b.Seq, b.Reason)
				}
				if n != int64(len(events)) {
					t.Errorf("checked %d events, want %d", n, len(events))
				}
				return
			}
			if b == nil {
				t.Fatalf("broken chain verified as intact (%d events)", n)
			}
			if b.Seq != c.wantSeq || !strings.Contains(b.Reason, c.wantWords) {
				t.Errorf("break at %d (%q), want at %d mentioning %q", b.Seq, b.Reason, c.wantSeq, c.wantWords)
			}
		})
	}
}

func TestVerifierKeepsTheFirstBreak(t *testing.T) {
	c := chain(6)
	c[1].Actor = "x" // breaks at 2
	c[4].Actor = "y" // would break at 5
	v := NewVerifier()
	results := []bool{}
	for _, e := range c {
		results = append(results, v.Add(e))
	}
	if !slices.Equal(results, []bool{true, false, false, false, false, false}) {
		t.Errorf("Add results %v: want true, then false from the break on", results)
	}
	n, b := v.Result()
	if b == nil || b.Seq != 2 || n != 2 {
		t.Errorf("Result = %d, %+v; want 2 events checked, break at 2", n, b)
	}
}

func exported() []Event {
	c := chain(3)
	c[1].Actor, c[1].ActorID, c[1].RemoteAddr = "cli", "", ""
	c[2].Actor = "system"
	c[2].Details = map[string]any{"reason": "refresh token reuse, \"quoted\"\nnew line", "scopes": []any{"vso.work"}}
	c[2].RawDetails = ""
	return link(c)
}

func TestExporterCSV(t *testing.T) {
	var buf bytes.Buffer
	x, ok := NewExporter(&buf, FormatCSV)
	if !ok {
		t.Fatal("csv format not accepted")
	}
	events := exported()
	for _, e := range events {
		if err := x.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, buf.String())
	}
	header := []string{"seq", "id", "at", "actor", "actor_id", "action", "target_type", "target_id", "details", "remote_addr", "prev_hash", "hash"}
	if len(records) != 1+len(events) || !slices.Equal(records[0], header) {
		t.Fatalf("CSV: %d records, header %q; want header %q and %d rows", len(records), records[0], header, len(events))
	}
	for i, e := range events {
		want := []string{strconv.FormatInt(e.Seq, 10), e.ID, e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.ActorID, e.Action,
			e.TargetType, e.TargetID, e.DetailsJSON(), e.RemoteAddr, e.PrevHash, e.Hash}
		if !slices.Equal(records[i+1], want) {
			t.Errorf("row %d:\n got %q\nwant %q", i+1, records[i+1], want)
		}
	}
	// The export is enough to re-verify the chain.
	v := NewVerifier()
	for _, r := range records[1:] {
		seq, _ := strconv.ParseInt(r[0], 10, 64)
		at, err := time.Parse(time.RFC3339Nano, r[2])
		if err != nil {
			t.Fatal(err)
		}
		v.Add(Event{Seq: seq, ID: r[1], At: at, Actor: r[3], ActorID: r[4], Action: r[5], TargetType: r[6], TargetID: r[7],
			RawDetails: r[8], RemoteAddr: r[9], PrevHash: r[10], Hash: r[11]})
	}
	if n, b := v.Result(); b != nil || n != int64(len(events)) {
		t.Errorf("the CSV export does not re-verify: %d events, break %+v", n, b)
	}
}

func TestExporterCSVEmpty(t *testing.T) {
	var buf bytes.Buffer
	x, _ := NewExporter(&buf, FormatCSV)
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "seq,id,at,actor,actor_id,action,target_type,target_id,details,remote_addr,prev_hash,hash\n" {
		t.Errorf("empty CSV export = %q, want the header only", got)
	}
}

func TestExporterJSONL(t *testing.T) {
	var buf bytes.Buffer
	x, ok := NewExporter(&buf, FormatJSONL)
	if !ok {
		t.Fatal("jsonl format not accepted")
	}
	events := exported()
	for _, e := range events {
		if err := x.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(events) || !strings.HasSuffix(buf.String(), "\n") {
		t.Fatalf("JSONL: %d lines, want %d, each ending in a newline:\n%s", len(lines), len(events), buf.String())
	}
	keys := []string{"action", "actor", "actor_id", "at", "details", "hash", "id", "prev_hash", "remote_addr", "seq", "target_id", "target_type"}
	v := NewVerifier()
	for i, line := range lines {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, line)
		}
		if got := slices.Sorted(maps.Keys(raw)); !slices.Equal(got, keys) {
			t.Errorf("line %d keys %q, want %q", i+1, got, keys)
		}
		var rec struct {
			Seq        int64          `json:"seq"`
			ID         string         `json:"id"`
			At         string         `json:"at"`
			Actor      string         `json:"actor"`
			ActorID    string         `json:"actor_id"`
			Action     string         `json:"action"`
			TargetType string         `json:"target_type"`
			TargetID   string         `json:"target_id"`
			Details    map[string]any `json:"details"`
			RemoteAddr string         `json:"remote_addr"`
			PrevHash   string         `json:"prev_hash"`
			Hash       string         `json:"hash"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		e := events[i]
		if rec.Seq != e.Seq || rec.ID != e.ID || rec.Actor != e.Actor || rec.ActorID != e.ActorID || rec.Action != e.Action ||
			rec.TargetType != e.TargetType || rec.TargetID != e.TargetID || rec.RemoteAddr != e.RemoteAddr ||
			rec.PrevHash != e.PrevHash || rec.Hash != e.Hash {
			t.Errorf("line %d = %+v, want event %+v", i+1, rec, e)
		}
		if rec.Details == nil {
			t.Errorf("line %d: details is not a JSON object: %s", i+1, raw["details"])
		}
		at, err := time.Parse(time.RFC3339Nano, rec.At)
		if err != nil || !at.Equal(e.At) || !strings.HasSuffix(rec.At, "Z") {
			t.Errorf("line %d: at %q, want %s in RFC 3339 UTC", i+1, rec.At, e.At.Format(time.RFC3339Nano))
		}
		v.Add(Event{Seq: rec.Seq, ID: rec.ID, At: at, Actor: rec.Actor, ActorID: rec.ActorID, Action: rec.Action,
			TargetType: rec.TargetType, TargetID: rec.TargetID, RawDetails: string(raw["details"]), RemoteAddr: rec.RemoteAddr,
			PrevHash: rec.PrevHash, Hash: rec.Hash})
	}
	if n, b := v.Result(); b != nil || n != int64(len(events)) {
		t.Errorf("the JSONL export does not re-verify: %d events, break %+v", n, b)
	}
	if !strings.Contains(lines[2], `\"quoted\"\nnew line`) {
		t.Errorf("line 3 does not carry the escaped details: %s", lines[2])
	}
}

func TestExporterRejectsUnknownFormat(t *testing.T) {
	for _, f := range []string{"", "CSV", "json", "xml"} {
		var buf bytes.Buffer
		if x, ok := NewExporter(&buf, f); ok || x != nil || buf.Len() != 0 {
			t.Errorf("NewExporter(%q) = %v, %v (wrote %q); want nil, false, nothing written", f, x, ok, buf.String())
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExporterReportsWriteErrors(t *testing.T) {
	x, _ := NewExporter(failingWriter{}, FormatCSV)
	_ = x.Write(chain(1)[0])
	if err := x.Flush(); err == nil {
		t.Error("CSV export to a failing writer: Flush returned no error")
	}
	j, _ := NewExporter(failingWriter{}, FormatJSONL)
	if err := j.Write(chain(1)[0]); err == nil {
		t.Error("JSONL export to a failing writer: Write returned no error")
	}
}
