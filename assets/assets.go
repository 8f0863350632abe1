// Package assets embeds oauthdesk's static files: app.css, app.js, formpost.js, favicon.svg and the
// vendored, version-pinned front-end files under vendor/ (Pico CSS 2.1.1,
// htmx 2.0.11, with their licences). The build needs no Node.
package assets

import "embed"

// FS holds app.css, app.js (menu, copy buttons, scope filter), favicon.svg and vendor/*.
//
//go:embed app.css app.js formpost.js favicon.svg vendor/*
var FS embed.FS
