package safeout

import (
	"errors"
	"net/url"
	"strings"
)

// RedactURL returns what may be shown of a URL that can carry
// credentials (a webhook sink's): its scheme, host and port, and "/…" in
// place of a non-empty path. The user, password, path, query and fragment
// never appear — webhook services put their token in the path
// (https://hooks.example/services/T0/B0/XXXX). A value that does not
// parse as an absolute URL gives "(unreadable URL)".
//
//	RedactURL("https://bot:pw@hooks.example:8443/t/abc?k=v") == "https://hooks.example:8443/…"
func RedactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "(unreadable URL)"
	}
	out := strings.ToLower(u.Scheme) + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		out += "/…"
	}
	return out
}

// RedactSinkName redacts the URL of a report sink's name ("webhook:URL")
// as RedactURL does; other names (dir:, email:) are returned as they are.
// Run records written before redaction existed are shown through it too.
func RedactSinkName(name string) string {
	if rest, ok := strings.CutPrefix(name, "webhook:"); ok {
		return "webhook:" + RedactURL(rest)
	}
	return name
}

// RedactURLError returns err with the URL a *url.Error names (net/http's
// client errors: `Post "https://user:***@host/path/token": …`) redacted as
// RedactURL does; other errors are returned as they are.
func RedactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
	}
	return err
}
