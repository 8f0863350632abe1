package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
)

// DefaultAuditCheckpointInterval is how often a server anchors the head
// of the audit chain when --audit-checkpoint-interval is not given.
const DefaultAuditCheckpointInterval = time.Hour

// AuditHeadStore reads the head of the audit chain.
type AuditHeadStore interface {
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
}

// AuditCheckpoints writes signed checkpoints of the audit chain's head
// (audit.Checkpoint) outside the database: as Dir/audit-checkpoint-SEQ.json
// (when Dir is set), POSTed as JSON to Webhook (when set; 3 tries with
// backoff), and to the log — so that deleting the newest events is
// detected by `oauthdesk audit verify --checkpoint FILE`.
type AuditCheckpoints struct {
	Store   AuditHeadStore
	Sign    func(audit.Checkpoint) (audit.CheckpointFile, error)
	Dir     string
	Webhook string
	Client  *http.Client // nil: a client with a 10 s timeout
	Now     func() time.Time
	Log     *slog.Logger
}

// Write takes one checkpoint of the current head and delivers it to
// every destination. A failed destination does not stop the others; the
// error names each that failed.
func (c *AuditCheckpoints) Write(ctx context.Context) (audit.CheckpointFile, error) {
	seq, head, err := c.Store.AuditHead(ctx)
	if err != nil {
		return audit.CheckpointFile{}, err
	}
	f, err := c.Sign(audit.Checkpoint{Seq: seq, Head: head, At: c.Now()})
	if err != nil {
		return f, fmt.Errorf("sign the audit checkpoint: %w", err)
	}
	body, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return f, err
	}
	body = append(body, '\n')
	var errs []error
	if c.Dir != "" {
		final := filepath.Join(c.Dir, audit.CheckpointFileName(f.Seq))
		tmp := final + ".tmp"
		if err := os.WriteFile(tmp, body, 0o640); err != nil {
			errs = append(errs, err)
		} else if err := os.Rename(tmp, final); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Webhook != "" {
		if err := c.post(ctx, body); err != nil {
			errs = append(errs, fmt.Errorf("webhook %s: %w", safeout.RedactURL(c.Webhook), err))
		}
	}
	c.Log.Info("audit checkpoint", "seq", f.Seq, "head", f.Head, "at", f.At.Format(time.RFC3339), "kid", f.KeyID, "jws", f.JWS)
	if len(errs) > 0 {
		return f, fmt.Errorf("audit checkpoint %d: %v", f.Seq, errs)
	}
	return f, nil
}

func (c *AuditCheckpoints) post(ctx context.Context, body []byte) error {
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	wait := 500 * time.Millisecond
	var last error
	for i := 1; i <= 3; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Webhook, bytes.NewReader(body))
		if err != nil {
			return safeout.RedactURLError(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "oauthdesk-audit-checkpoint")
		resp, err := client.Do(req)
		err = safeout.RedactURLError(err)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			err = fmt.Errorf("webhook answered %s", resp.Status)
		}
		last = err
		if i < 3 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		}
	}
	return last
}

// Job is the job "audit-checkpoint": a checkpoint every interval, then
// one last one when the server stops (the head at shutdown).
func (c *AuditCheckpoints) Job(interval time.Duration) Job {
	write := func(ctx context.Context) error { _, err := c.Write(ctx); return err }
	return Job{Name: "audit-checkpoint", Interval: interval, Round: write, Final: write}
}

// Run runs Job under a Runner of its own until ctx ends, each failure
// logged.
func (c *AuditCheckpoints) Run(ctx context.Context, interval time.Duration) {
	_ = NewRunner(c.Log, c.Now).Run(ctx, c.Job(interval))
}
