package jobs

import (
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
)

// mailbox is an SMTP server (emersion/go-smtp) that keeps the recipients
// of every message it accepts and refuses RCPT for the addresses in
// refuse.
type mailbox struct {
	refuse string
	mu     sync.Mutex
	got    []string
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{b: b}, nil }

type mailSession struct {
	b  *mailbox
	to []string
}

func (s *mailSession) Reset()                                    { s.to = nil }
func (s *mailSession) Logout() error                             { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { return s.rcpt(to) }
func (s *mailSession) rcpt(to string) error {
	if to == s.b.refuse {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	_, err := io.ReadAll(r)
	s.b.mu.Lock()
	s.b.got = append(s.b.got, s.to...)
	s.b.mu.Unlock()
	return err
}

// TestMailSinkOneBadAddress: an owner address that does not parse and
// one the server refuses each cost only their own message; everyone
// else gets theirs and the error names both bad addresses.
func TestMailSinkOneBadAddress(t *testing.T) {
	box := &mailbox{refuse: "gone@example.com"}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	u, _ := url.Parse("smtp://" + ln.Addr().String())
	sink := MailSink{SMTP: u, From: "oauthdesk@example.com", To: []string{"ops@example.com"}, Timeout: 5 * time.Second}
	now := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	var rows []reports.ExpiryRow
	for _, owner := range []string{"alice", "bob", "carol", "dave"} {
		rows = append(rows, reports.ExpiryRow{ExpiringSecret: domain.ExpiringSecret{ClientID: owner + "-app", AppName: owner + "'s app",
			Owner: owner, Slot: "primary", CreatedAt: now.AddDate(-5, 0, 0), ExpiresAt: now.AddDate(0, 0, 10)}, State: domain.StateCritical, DaysLeft: 10})
	}
	_, err = sink.Deliver(t.Context(), Report{Generated: now, Window: 90 * 24 * time.Hour, Rows: rows,
		OwnerEmails: map[string]string{"alice": "alice@example.com", "bob": "bob at example dot com", "carol": "gone@example.com", "dave": "dave@example.com"}})
	if err == nil {
		t.Fatal("Deliver reported success with two bad addresses")
	}
	for _, bad := range []string{"bob at example dot com", "gone@example.com"} {
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("error %q does not name %s", err, bad)
		}
	}
	box.mu.Lock()
	got := slices.Sorted(slices.Values(box.got))
	box.mu.Unlock()
	if want := []string{"alice@example.com", "dave@example.com", "ops@example.com"}; !slices.Equal(got, want) {
		t.Errorf("delivered to %v, want %v", got, want)
	}
}
