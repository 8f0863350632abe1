package jobs

import (
	"context"
	"fmt"

	"github.com/wneessen/go-mail"
)

// Send mails one plain-text message to one address through m's server
// (the personal access token notices: a leaked token, one about to
// expire). Errors: from the address, the connection or the server.
func (m MailSink) Send(ctx context.Context, to, subject, body string) error {
	c, err := m.client()
	if err != nil {
		return err
	}
	msg := mail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return fmt.Errorf("from %q: %w", m.From, err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("to %q: %w", to, err)
	}
	msg.Subject("oauthdesk: " + subject)
	msg.SetBodyString(mail.TypeTextPlain, body)
	return c.DialAndSendWithContext(ctx, msg)
}
