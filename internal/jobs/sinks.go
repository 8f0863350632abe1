package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/render"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
)

// DirSink writes each report as timestamped HTML, CSV and JSON files
// (expiry-20261121T070000Z.html, …) into Dir, and its personal access
// token section as pats-expiry-20261121T070000Z.csv and .json.
type DirSink struct{ Dir string }

// Name implements Sink.
func (d DirSink) Name() string { return "dir:" + d.Dir }

// Deliver implements Sink: the files appear whole or not at all (written
// to a temporary name, then renamed).
func (d DirSink) Deliver(_ context.Context, r Report) (int, error) {
	stamp := r.Generated.UTC().Format("20060102T150405Z")
	for _, format := range []string{render.FormatHTML, render.FormatCSV, render.FormatJSON} {
		var buf bytes.Buffer
		if err := render.WriteExpiry(&buf, format, r.Rows, r.Generated); err != nil {
			return 1, err
		}
		final := filepath.Join(d.Dir, "expiry-"+stamp+"."+format)
		tmp := final + ".tmp"
		if err := os.WriteFile(tmp, buf.Bytes(), 0o640); err != nil {
			return 1, err
		}
		if err := os.Rename(tmp, final); err != nil {
			return 1, err
		}
	}
	// The personal access token section, beside the secrets' files.
	for ext, data := range map[string][]byte{"csv": patCSV(r.PATs), "json": patJSON(r.PATs)} {
		final := filepath.Join(d.Dir, "pats-expiry-"+stamp+"."+ext) // not matched by expiry-*.json
		if err := os.WriteFile(final+".tmp", data, 0o640); err != nil {
			return 1, err
		}
		if err := os.Rename(final+".tmp", final); err != nil {
			return 1, err
		}
	}
	return 1, nil
}

// WebhookSink POSTs the report as JSON ({"generated_at", "window_days",
// "rows": [...], "personal_access_tokens": [...]}) to URL, retrying with exponential backoff (Attempts
// tries, first wait Backoff) on network errors and non-2xx answers; each
// try times out after Timeout.
type WebhookSink struct {
	URL      string
	Attempts int
	Backoff  time.Duration
	Timeout  time.Duration
	Client   *http.Client
}

// Name implements Sink: "webhook:" and the URL's scheme, host and a
// redacted path (safeout.RedactURL): no user, password or path token, as
// it appears in run records, audit events, logs and /admin/reports.
func (w WebhookSink) Name() string { return "webhook:" + safeout.RedactURL(w.URL) }

// Deliver implements Sink.
func (w WebhookSink) Deliver(ctx context.Context, r Report) (int, error) {
	var rows bytes.Buffer
	if err := render.WriteExpiry(&rows, render.FormatJSON, r.Rows, r.Generated); err != nil {
		return 0, err
	}
	body, err := json.Marshal(map[string]any{"generated_at": r.Generated.UTC().Format(time.RFC3339),
		"window_days": int(r.Window.Hours() / 24), "rows": json.RawMessage(rows.Bytes()), "personal_access_tokens": patJSON(r.PATs)})
	if err != nil {
		return 0, err
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: w.Timeout}
	}
	attempts, wait := max(w.Attempts, 1), w.Backoff
	var last error
	for i := 1; i <= attempts; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
		if err != nil {
			return i, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "oauthdesk-expiry-report")
		resp, err := client.Do(req)
		err = safeout.RedactURLError(err) // net/http names the URL, path token included
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return i, nil
			}
			err = fmt.Errorf("webhook answered %s", resp.Status)
		}
		last = err
		if i < attempts {
			select {
			case <-ctx.Done():
				return i, ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		}
	}
	return attempts, last
}

// MailSink e-mails the report over SMTP: HTML with a plain-text part, all
// rows to To, and to each owner with an e-mail address the rows of their
// own apps.
type MailSink struct {
	SMTP    *url.URL // smtp://[user:pass@]host[:port] (STARTTLS when offered) or smtps://…
	From    string
	To      []string
	Timeout time.Duration
}

// ParseSMTPURL checks an --smtp-url. Errors: Invalid.
func ParseSMTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, apperr.Errorf(apperr.Invalid, "--smtp-url %q must look like smtp://user:pass@host:587 or smtps://host:465", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, apperr.Errorf(apperr.Invalid, "--smtp-url has an invalid port %q", p)
		}
	}
	return u, nil
}

// Name implements Sink.
func (m MailSink) Name() string { return "email:" + strings.Join(m.To, ",") }

func (m MailSink) client() (*mail.Client, error) {
	port := 587
	if m.SMTP.Scheme == "smtps" {
		port = 465
	}
	if p := m.SMTP.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(max(m.Timeout, time.Second))}
	if m.SMTP.Scheme == "smtps" {
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if m.SMTP.User != nil {
		pw, _ := m.SMTP.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(m.SMTP.User.Username()), mail.WithPassword(pw))
	}
	return mail.NewClient(m.SMTP.Hostname(), opts...)
}

func (m MailSink) message(to []string, rows []reports.ExpiryRow, r Report, personal bool) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("from %q: %w", m.From, err)
	}
	if err := msg.To(to...); err != nil {
		return nil, fmt.Errorf("to %v: %w", to, err)
	}
	subject := fmt.Sprintf("oauthdesk: %d client secret(s) expire within %d days", len(rows), int(r.Window.Hours()/24))
	if personal {
		subject = fmt.Sprintf("oauthdesk: %d of your apps' client secrets need rotating", len(rows))
	}
	msg.Subject(subject)
	var text, html bytes.Buffer
	if err := render.WriteExpiry(&text, render.FormatTable, rows, r.Generated); err != nil {
		return nil, err
	}
	if err := render.WriteExpiry(&html, render.FormatHTML, rows, r.Generated); err != nil {
		return nil, err
	}
	msg.SetBodyString(mail.TypeTextPlain, "Client secrets expiring within "+strconv.Itoa(int(r.Window.Hours()/24))+" days, soonest first.\n\n"+text.String())
	msg.AddAlternativeString(mail.TypeTextHTML, html.String())
	return msg, nil
}

// Deliver implements Sink: one message to To with every row, and one to
// each owner with an e-mail address with their apps' rows. One bad
// address (one that does not parse, or that the server refuses) does not
// stop the others: every other message is still sent, and the error
// names each address that got nothing ("not mailed to bad@: …").
func (m MailSink) Deliver(ctx context.Context, r Report) (int, error) {
	c, err := m.client()
	if err != nil {
		return 1, err
	}
	var msgs []*mail.Msg
	if len(m.To) > 0 {
		msg, err := m.message(m.To, r.Rows, r, false)
		if err != nil {
			return 1, err
		}
		if len(r.PATs) > 0 {
			// The personal access token section, as a CSV attachment.
			if err := msg.AttachReader("personal-access-tokens.csv", bytes.NewReader(patCSV(r.PATs))); err != nil {
				return 1, err
			}
		}
		msgs = append(msgs, msg)
	}
	byOwner := map[string][]reports.ExpiryRow{}
	for _, row := range r.Rows {
		if addr := r.OwnerEmails[row.Owner]; addr != "" {
			byOwner[addr] = append(byOwner[addr], row)
		}
	}
	owners := make([]string, 0, len(byOwner))
	for a := range byOwner {
		owners = append(owners, a)
	}
	sort.Strings(owners)
	var bad []string
	for _, addr := range owners {
		msg, err := m.message([]string{addr}, byOwner[addr], r, true)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%q: %v", addr, err))
			continue
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) > 0 {
		if err := c.DialAndSendWithContext(ctx, msgs...); err != nil {
			refused := false
			for _, msg := range msgs {
				if msg.HasSendError() {
					refused = true
					bad = append(bad, fmt.Sprintf("%q: %v", strings.Join(msg.GetToString(), ", "), msg.SendError()))
				}
			}
			if !refused { // the connection failed: nothing went
				return 1, err
			}
		}
	}
	if len(bad) > 0 {
		return 1, fmt.Errorf("not mailed to %s (the other %d messages were sent)", strings.Join(bad, "; "), len(msgs)-countSendErrors(msgs))
	}
	return 1, nil
}

func countSendErrors(msgs []*mail.Msg) int {
	n := 0
	for _, m := range msgs {
		if m.HasSendError() {
			n++
		}
	}
	return n
}
