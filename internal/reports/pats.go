package reports

import (
	"fmt"
	"time"
)

// PATExpiryRow is a personal access token in the expiry report's token
// section: a live token expiring within the report's window.
type PATExpiryRow struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Owner     string    `json:"owner"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
	DaysLeft  int       `json:"days_left"`
	// Left is DaysLeft for people: "in 12 days", "today".
	Left string `json:"left"`
}

// PATLeft says when a token expiring at exp, seen at now, expires.
func PATLeft(exp, now time.Time) (int, string) {
	days := int(exp.Sub(now).Hours() / 24)
	switch {
	case days <= 0:
		return 0, "today"
	case days == 1:
		return 1, "in 1 day"
	}
	return days, fmt.Sprintf("in %d days", days)
}
