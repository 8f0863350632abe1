// Package assets embeds oauthdesk's static files: app.css and the
// vendored, version-pinned front-end files under vendor/ (Pico CSS 2.1.1,
// htmx 2.0.11, with their licences). The build needs no Node.
package assets

import "embed"

// FS holds app.css and vendor/*.
//
//go:embed app.css vendor/*
var FS embed.FS
