package audit

import (
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/safeout"
)

// Actions lists every action name, for filters.
func Actions() []string {
	return []string{ActionAppDelete, ActionAppImport, ActionReportRun, ActionAppRegister, ActionAppScopes, ActionAuthorizationRevoke, ActionConsentDeny, ActionConsentGrant,
		ActionPolicySet, ActionSecretCreate, ActionSecretRegenerate, ActionSecretRetire, ActionSignIn, ActionSignInFailed, ActionSignOut,
		ActionKeyRotate, ActionTokenFamilyRevoke, ActionUserAdd}
}

// Export formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// exportRecord is one exported event (CSV columns, JSON keys).
type exportRecord struct {
	Seq        int64           `json:"seq"`
	ID         string          `json:"id"`
	At         string          `json:"at"` // RFC 3339, UTC, nanoseconds
	Actor      string          `json:"actor"`
	ActorID    string          `json:"actor_id"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Details    json.RawMessage `json:"details"`
	RemoteAddr string          `json:"remote_addr"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

var csvHeader = []string{"seq", "id", "at", "actor", "actor_id", "action", "target_type", "target_id", "details", "remote_addr", "prev_hash", "hash"}

// Exporter writes events as CSV (with a header row) or JSON lines.
type Exporter struct {
	format string
	csv    *safeout.CSV
	enc    *json.Encoder
	w      io.Writer
}

// NewExporter returns an exporter for format (FormatCSV or FormatJSONL);
// ok is false for any other format.
func NewExporter(w io.Writer, format string) (*Exporter, bool) {
	switch format {
	case FormatCSV:
		cw := safeout.NewCSV(w)
		_ = cw.Write(csvHeader)
		return &Exporter{format: format, csv: cw, w: w}, true
	case FormatJSONL:
		return &Exporter{format: format, enc: json.NewEncoder(w), w: w}, true
	}
	return nil, false
}

// Write writes one event.
func (x *Exporter) Write(e Event) error {
	r := exportRecord{Seq: e.Seq, ID: e.ID, At: e.At.UTC().Format(time.RFC3339Nano), Actor: e.Actor, ActorID: e.ActorID,
		Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Details: json.RawMessage(e.DetailsJSON()),
		RemoteAddr: e.RemoteAddr, PrevHash: e.PrevHash, Hash: e.Hash}
	if x.csv != nil {
		return x.csv.Write([]string{strconv.FormatInt(r.Seq, 10), r.ID, r.At, r.Actor, r.ActorID, r.Action, r.TargetType,
			r.TargetID, string(r.Details), r.RemoteAddr, r.PrevHash, r.Hash})
	}
	return x.enc.Encode(r)
}

// Flush flushes buffered CSV output and returns any write error.
func (x *Exporter) Flush() error {
	if x.csv != nil {
		x.csv.Flush()
		return x.csv.Error()
	}
	return nil
}
