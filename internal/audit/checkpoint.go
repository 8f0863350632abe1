package audit

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Checkpoint anchors the head of the hash chain outside the database
// (audit verify --checkpoint): the chain alone proves nothing about its tail, since
// deleting the newest events leaves a valid shorter chain. A checkpoint
// says "at At the chain reached event Seq, whose hash is Head"; signed and
// kept elsewhere (a file, a webhook, the log), it makes a later truncation
// detectable: the chain must still reach Head at Seq.
type Checkpoint struct {
	Seq  int64     `json:"seq"`  // sequence number of the newest event; 0 for an empty log
	Head string    `json:"head"` // its hash (hex SHA-256); GenesisHash for an empty log
	At   time.Time `json:"at"`   // when the checkpoint was taken, UTC, whole seconds
}

// CheckpointFile is a signed checkpoint as written to disk and posted to
// the webhook: the checkpoint's fields for people, and JWS, a compact JWS
// (RFC 7515, EdDSA with the access-token signing key KeyID) whose claims
// seq, head and iat are the ones that count.
type CheckpointFile struct {
	Checkpoint
	KeyID string `json:"kid"`
	Alg   string `json:"alg"`
	JWS   string `json:"jws"`
}

// CheckpointFileName is the file name of the checkpoint at seq:
// audit-checkpoint-SEQ.json.
func CheckpointFileName(seq int64) string {
	return "audit-checkpoint-" + strconv.FormatInt(seq, 10) + ".json"
}

// ParseCheckpointFile decodes a checkpoint file (at most 64 KiB). Errors:
// when it is not one.
func ParseCheckpointFile(b []byte) (CheckpointFile, error) {
	var f CheckpointFile
	if len(b) > 64<<10 {
		return f, fmt.Errorf("not an audit checkpoint: %d bytes", len(b))
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("not an audit checkpoint: %v", err)
	}
	if f.JWS == "" || f.Seq < 0 || f.Head == "" {
		return f, fmt.Errorf("not an audit checkpoint: seq, head and jws are required")
	}
	return f, nil
}

// CheckReaches walks a chain (feed every event to Add, in Seq order, then
// call Result) and checks, besides every link, that it still reaches a
// checkpoint: event cp.Seq exists and its hash is cp.Head.
type CheckReaches struct {
	*Verifier
	cp     Checkpoint
	headAt string // hash of the event at cp.Seq, once seen
}

// NewCheckReaches starts a walk that must reach cp.
func NewCheckReaches(cp Checkpoint) *CheckReaches {
	c := &CheckReaches{Verifier: NewVerifier(), cp: cp}
	if cp.Seq == 0 {
		c.headAt = GenesisHash
	}
	return c
}

// Add checks one event (Verifier.Add) and notes the hash at the
// checkpoint's sequence number.
func (c *CheckReaches) Add(e Event) bool {
	ok := c.Verifier.Add(e)
	if ok && e.Seq == c.cp.Seq {
		c.headAt = e.Hash
	}
	return ok
}

// Result returns how many events were checked and the first problem: a
// broken link, or the chain no longer reaching the checkpoint's head.
func (c *CheckReaches) Result() (int64, *Break) {
	n, b := c.Verifier.Result()
	if b != nil && b.Seq <= c.cp.Seq {
		return n, b
	}
	switch {
	case c.headAt == "":
		return n, &Break{Seq: c.cp.Seq, Reason: "the checkpoint's head, event " + strconv.FormatInt(c.cp.Seq, 10) +
			", is missing: the chain ends at event " + strconv.FormatInt(c.nextSeq-1, 10) + " (the newest events were deleted)"}
	case !strings.EqualFold(c.headAt, c.cp.Head):
		return n, &Break{Seq: c.cp.Seq, Reason: "event " + strconv.FormatInt(c.cp.Seq, 10) +
			" is not the checkpoint's head (the events from there on were replaced)"}
	}
	return n, b
}
