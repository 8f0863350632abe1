package domain

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// Field keys used in validation errors: the keys of apperr.Error.Fields
// returned by ValidateRegistration and ValidateCallbackURL, and also the
// names of the registration form's fields.
const (
	FieldName        = "name"
	FieldCompany     = "company"
	FieldDescription = "description"
	FieldCompanyURL  = "company_url"
	FieldAppURL      = "app_url"
	FieldCallbackURL = "callback_url"
	FieldLogoURL     = "logo_url"
	FieldTermsURL    = "terms_url"
	FieldPrivacyURL  = "privacy_url"
	FieldScopes      = "scopes"
	FieldRequirePKCE = "require_pkce"
)

// Limits of a registration's fields (shared/spec/PROTOCOL.md, "App
// registration"). Lengths are counted in characters (runes), not bytes.
const (
	MaxNameLen        = 128  // company name and application name
	MaxDescriptionLen = 1024 // description
	MaxURLLen         = 500  // every URL, the callback URL included
)

// Human labels of the fields, used in messages.
const (
	labelName        = "Application name"
	labelCompany     = "Company name"
	labelDescription = "Description"
	labelCompanyURL  = "Company website"
	labelAppURL      = "Application website"
	labelCallbackURL = "Authorization callback URL"
	labelLogoURL     = "Logo URL"
	labelTermsURL    = "Terms of service URL"
	labelPrivacyURL  = "Privacy statement URL"
)

// ValidateCallbackURL checks an authorization callback URL (redirect URI)
// before it is registered. raw is checked as given: it is not trimmed or
// normalised (ValidateRegistration trims before calling it).
//
// A callback URL is accepted only if it
//   - is at most MaxURLLen (500) characters (PROTOCOL.md, "App registration");
//   - consists of printable ASCII characters allowed by RFC 3986 (no spaces,
//     control characters, backslashes, or non-ASCII characters such as a
//     Cyrillic "а" in a look-alike host; international domain names must be
//     written in punycode, xn--…), with every "%" starting a valid
//     percent-escape. Percent-encoded octets such as %0d%0a are accepted in
//     the path and query: they are data, not line breaks;
//   - is an absolute URL whose scheme is exactly "https" in lowercase (seed
//     001: "The callback URL must be a secure connection (https)"; http is
//     refused, https://localhost is allowed for local debugging);
//   - names a host (a DNS name, a dotted IPv4 address or a bracketed IPv6
//     address) with no user name or password, no wildcard "*" and, if a port
//     is given, a port from 1 to 65535;
//   - has no fragment, not even an empty "#" (RFC 6749 §3.1.2);
//   - has no "." or ".." path segments (also in their %2e forms).
//
// A query string is allowed (RFC 6749 §3.1.2). The URL must later match
// exactly, byte for byte (see CallbackMatches), so it is stored as given.
//
// It returns nil, or an *apperr.Error with Code apperr.Invalid, a one-sentence
// Message a person can act on, and Fields[FieldCallbackURL] set to the same
// message.
func ValidateCallbackURL(raw string) error {
	if msg := callbackProblem(raw); msg != "" {
		return &apperr.Error{Code: apperr.Invalid, Message: msg, Fields: map[string]string{FieldCallbackURL: msg}}
	}
	return nil
}

// CallbackMatches reports whether the redirect_uri given in an authorize or
// token request matches the registered callback URL. Matching is an exact,
// byte-for-byte string comparison with nothing normalised (RFC 6749
// §3.1.2.3, "simple string comparison"; seed 001: the callback URL must
// "exactly match the URL registered in your app"; PROTOCOL.md, "Authorize
// errors"). Case, trailing-slash, query and percent-encoding variants of the
// registered URL are therefore different URLs and do not match. An empty
// registered URL matches nothing.
func CallbackMatches(registered, given string) bool {
	return registered != "" && registered == given
}

// Normalize returns a copy of r with the surrounding whitespace (as defined
// by unicode.IsSpace) trimmed from every string field. Scopes are left
// untouched: the returned Registration shares r's Scopes slice.
func (r Registration) Normalize() Registration {
	r.Name = strings.TrimSpace(r.Name)
	r.Company = strings.TrimSpace(r.Company)
	r.Description = strings.TrimSpace(r.Description)
	r.CompanyURL = strings.TrimSpace(r.CompanyURL)
	r.AppURL = strings.TrimSpace(r.AppURL)
	r.CallbackURL = strings.TrimSpace(r.CallbackURL)
	r.LogoURL = strings.TrimSpace(r.LogoURL)
	r.TermsURL = strings.TrimSpace(r.TermsURL)
	r.PrivacyURL = strings.TrimSpace(r.PrivacyURL)
	return r
}

// ValidateRegistration normalizes r (see Registration.Normalize) and checks
// every field against the rules of the registration page
// (shared/spec/PROTOCOL.md, "App registration"; seed 001):
//   - Company and Name: required, at most MaxNameLen (128) characters;
//   - Description: optional, at most MaxDescriptionLen (1024) characters;
//   - AppURL: required; CompanyURL, TermsURL, PrivacyURL: optional; each an
//     absolute http or https URL with a host and no user name or password;
//   - LogoURL: optional, an absolute https URL;
//   - CallbackURL: required, see ValidateCallbackURL;
//   - Scopes: at least one, each a registrable scope of scope.Default().
//
// All URLs are at most MaxURLLen (500) characters of printable ASCII. Text
// must be valid UTF-8; single-line fields (names and URLs) must not contain
// control characters, line separators or bidirectional-override characters,
// and the description may contain only tabs and line breaks among control
// characters. Lengths are counted in runes.
//
// On success it returns the normalized registration with Scopes
// deduplicated (first occurrence kept) by the catalog, and nil. On failure
// it returns the normalized registration (Scopes untouched) and an
// *apperr.Error with Code apperr.Invalid, Fields holding one message for
// every bad field (keys are the Field* constants) and Message the message of
// the first bad field in form order. An error from the scope catalog that is
// not apperr.Invalid is returned as is.
func ValidateRegistration(r Registration) (Registration, error) {
	r = r.Normalize()

	// Form order, which decides the top-level Message.
	type check struct {
		key string
		msg string
	}
	checks := []check{
		{FieldCompany, textProblem(labelCompany, r.Company, true, MaxNameLen, true)},
		{FieldName, textProblem(labelName, r.Name, true, MaxNameLen, true)},
		{FieldDescription, textProblem(labelDescription, r.Description, false, MaxDescriptionLen, false)},
		{FieldCompanyURL, linkProblem(labelCompanyURL, r.CompanyURL, false, false)},
		{FieldAppURL, linkProblem(labelAppURL, r.AppURL, true, false)},
		{FieldCallbackURL, firstRedirectProblem(r)},
		{FieldLogoURL, linkProblem(labelLogoURL, r.LogoURL, false, true)},
		{FieldTermsURL, linkProblem(labelTermsURL, r.TermsURL, false, false)},
		{FieldPrivacyURL, linkProblem(labelPrivacyURL, r.PrivacyURL, false, false)},
	}

	var scopes []string
	scopeMsg := ""
	if len(r.Scopes) == 0 {
		scopeMsg = "Choose at least one authorized scope."
	} else {
		var err error
		scopes, err = scope.Default().Validate(r.Scopes)
		switch {
		case err == nil && len(scopes) == 0:
			scopeMsg = "Choose at least one authorized scope."
		case err != nil && apperr.ErrorCode(err) != apperr.Invalid:
			return r, err
		case err != nil:
			scopeMsg = "Authorized scopes: " + strings.TrimSuffix(apperr.ErrorMessage(err), ".") + "."
		}
	}
	checks = append(checks, check{FieldScopes, scopeMsg})
	var clientBad map[string]string
	r, clientBad = validateClientFields(r)
	for _, k := range []string{FieldClientType, FieldGrantTypes, FieldRedirectURIs, FieldPostLogoutRedirectURIs, FieldIDTokenAlg, FieldJWKS} {
		checks = append(checks, check{k, clientBad[k]})
	}

	var e *apperr.Error
	for _, c := range checks {
		if c.msg == "" {
			continue
		}
		if e == nil {
			e = &apperr.Error{Code: apperr.Invalid, Message: c.msg, Fields: map[string]string{}}
		}
		e.Fields[c.key] = c.msg
	}
	if e != nil {
		return r, e
	}
	r.Scopes = scopes
	return r, nil
}

// firstRedirectProblem checks the callback URL: an https URL (see
// ValidateCallbackURL), or, for an app without the dialect, also an http
// loopback URI (RFC 8252 §7.3).
func firstRedirectProblem(r Registration) string {
	msg := callbackProblem(r.CallbackURL)
	if msg == "" || r.CallbackURL == "" || slices.Contains(r.EffectiveGrantTypes(), GrantDialect) {
		return msg
	}
	if redirectURIProblem(labelCallbackURL, r.CallbackURL) == "" {
		return ""
	}
	return msg
}

// textProblem checks a text field and returns a one-sentence message, or ""
// if the value is acceptable.
func textProblem(label, s string, required bool, maxLen int, singleLine bool) string {
	if s == "" {
		if required {
			return label + " is required."
		}
		return ""
	}
	if !utf8.ValidString(s) {
		return label + " contains characters that are not valid text."
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		return fmt.Sprintf("%s must be at most %d characters (it has %d).", label, maxLen, n)
	}
	for _, c := range s {
		if !singleLine && (c == '\n' || c == '\r' || c == '\t') {
			continue
		}
		if forbiddenTextRune(c) {
			if singleLine {
				return label + " must be a single line without control characters."
			}
			return label + " must not contain control characters."
		}
	}
	return ""
}

// forbiddenTextRune reports control characters (C0, DEL, C1), line and
// paragraph separators, and the bidirectional embedding, override and
// isolate characters, which can make text display as something else.
func forbiddenTextRune(c rune) bool {
	switch {
	case unicode.IsControl(c):
		return true
	case c == '\u2028' || c == '\u2029':
		return true
	case c >= '\u202a' && c <= '\u202e':
		return true
	case c >= '\u2066' && c <= '\u2069':
		return true
	}
	return false
}

// linkProblem checks a website, terms, privacy or logo URL and returns its
// problems, every one (see problems), or "" if acceptable. These URLs are
// shown as links on the consent page, so they must be absolute http(s)
// URLs (https only when httpsOnly) with a plain ASCII host and no user name
// or password; unlike the callback URL they may carry a fragment and any
// scheme case.
func linkProblem(label, raw string, required, httpsOnly bool) string {
	if raw == "" {
		if required {
			return label + " is required."
		}
		return ""
	}
	absolute := label + " must be an absolute https:// URL, like https://example.com."
	if httpsOnly {
		absolute = label + " must be an absolute https:// URL, like https://example.com/logo.png."
	}
	if !hasAuthority(raw) {
		// Not a URL at all ("not a url", "example.com"): say what one is.
		return absolute
	}
	var p problems
	p.add(label, urlTextProblem(label, raw))
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		p.add(label, absolute)
		return p.String()
	}
	switch u.Scheme {
	case "https":
	case "http":
		if httpsOnly {
			p.add(label, label+" must use https.")
		}
	default:
		p.add(label, absolute)
		return p.String()
	}
	// Check the authority as written, not as net/url decoded it.
	authority := raw[strings.Index(raw, "//")+2:]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if u.User != nil || strings.Contains(authority, "@") {
		p.add(label, label+" must not contain a user name or password.")
	} else if len(p) == 0 {
		p.add(label, hostPortProblem(label, authority))
	}
	return p.String()
}

// hasAuthority reports whether raw starts like an absolute URL with an
// authority: a scheme of letters, then "://".
func hasAuthority(raw string) bool {
	i := strings.Index(raw, "://")
	if i <= 0 {
		return false
	}
	for _, c := range raw[:i] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// problems collects every problem of one field: the first message names
// the field, the next ones read "Also, it …", so that a person fixes them
// in one round.
type problems []string

func (p *problems) add(label, msg string) {
	if msg == "" {
		return
	}
	if len(*p) > 0 {
		msg = "Also, it " + strings.TrimPrefix(msg, label+" ")
	}
	*p = append(*p, msg)
}

func (p problems) String() string { return strings.Join(p, " ") }

// urlTextProblem checks the length and characters of any URL: at most
// MaxURLLen characters, printable ASCII allowed by RFC 3986 §2, and valid
// percent-escapes.
func urlTextProblem(label, raw string) string {
	if n := utf8.RuneCountInString(raw); n > MaxURLLen {
		return fmt.Sprintf("%s must be at most %d characters (it has %d).", label, MaxURLLen, n)
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == ' ':
			return label + " must not contain spaces; percent-encode them as %20."
		case c < 0x20 || c == 0x7f:
			return label + " must not contain control characters such as tabs or line breaks."
		case c >= 0x80:
			return label + " must contain only ASCII characters; write an international domain name in its punycode form (xn--…) and percent-encode other characters."
		case c == '\\':
			return label + " must not contain backslashes."
		case !uriChar(c):
			return fmt.Sprintf("%s must not contain the character %q; percent-encode it.", label, c)
		case c == '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return label + " contains a \"%\" that does not start a valid percent-escape (% followed by two hex digits)."
			}
		}
	}
	return ""
}

// uriChar reports whether c may appear in a URI (RFC 3986 §2: unreserved,
// reserved and "%").
func uriChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// callbackProblem implements ValidateCallbackURL and returns every problem
// of raw (see problems), or "" if raw is acceptable.
func callbackProblem(raw string) string {
	const label = labelCallbackURL
	const hint = "https://localhost is allowed for local debugging"
	if raw == "" {
		return label + " is required."
	}
	absolute := label + " must be an absolute https:// URL, like https://example.com/callback; " + hint + "."
	var p problems
	charProblem := urlTextProblem(label, raw)
	p.add(label, charProblem)
	const prefix = "https://"
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(raw, prefix):
	case strings.HasPrefix(lower, prefix):
		p.add(label, label+" must start with https:// in lowercase.")
	case strings.HasPrefix(lower, "http://"):
		p.add(label, label+" must use https, not http; "+hint+".")
	default:
		if charProblem == "" {
			p.add(label, absolute)
		}
		return p.String()
	}
	if strings.Contains(raw, "#") {
		p.add(label, label+" must not contain a fragment (#) (RFC 6749 §3.1.2).")
	}
	if charProblem != "" {
		// The structure of a URL with stray characters is guesswork.
		return p.String()
	}

	// Split by hand as well as with net/url, and require both to agree, so
	// that what is validated is what a browser will follow.
	rest := raw[strings.Index(raw, "://")+3:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, pathQuery := rest[:end], rest[end:]
	path := pathQuery
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}

	switch {
	case strings.Contains(authority, "@"):
		p.add(label, label+" must not contain a user name or password.")
	case strings.Contains(authority, "*"):
		p.add(label, label+" must not contain a wildcard (*); register the exact callback URL.")
	case authority == "" || strings.HasPrefix(authority, ":"):
		p.add(label, label+" must name a host, like https://example.com/callback; "+hint+".")
	default:
		p.add(label, hostPortProblem(label, authority))
	}
	for _, seg := range strings.Split(path, "/") {
		s := strings.ReplaceAll(strings.ToLower(seg), "%2e", ".")
		if s == "." || s == ".." {
			p.add(label, label+" must not contain \".\" or \"..\" path segments.")
			break
		}
	}
	if len(p) > 0 {
		return p.String()
	}

	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Opaque != "" || u.User != nil ||
		u.Host != authority || u.Fragment != "" || u.RawFragment != "" {
		return label + " is not a valid URL."
	}
	return ""
}

// hostPortProblem checks an authority without user info: a DNS name, a
// dotted IPv4 address or a bracketed IPv6 address, optionally followed by
// ":port" with port 1–65535.
func hostPortProblem(label, hostport string) string {
	host, port := hostport, ""
	hasPort := false
	if strings.HasPrefix(hostport, "[") {
		i := strings.IndexByte(hostport, ']')
		if i < 0 {
			return label + " has an IPv6 address without a closing \"]\"."
		}
		host, port = hostport[:i+1], hostport[i+1:]
		if port != "" {
			if port[0] != ':' {
				return label + " has an invalid host."
			}
			port, hasPort = port[1:], true
		}
	} else if i := strings.IndexByte(hostport, ':'); i >= 0 {
		host, port, hasPort = hostport[:i], hostport[i+1:], true
	}
	if host == "" {
		return label + " must name a host, like https://example.com."
	}
	if strings.Contains(host, "*") {
		return label + " must not contain a wildcard (*)."
	}
	if msg := hostProblem(host); msg != "" {
		return label + " " + msg
	}
	if hasPort {
		n, err := strconv.Atoi(port)
		if port == "" || err != nil || port[0] == '0' || port[0] == '+' || port[0] == '-' || n < 1 || n > 65535 {
			return label + " must have a port from 1 to 65535 after the \":\", or no \":\" at all."
		}
	}
	return ""
}

// hostProblem returns the tail of a message ("has an invalid host …") or ""
// if host is a DNS name made of letters, digits and hyphens, a dotted IPv4
// address, or a bracketed IPv6 address without zone.
func hostProblem(host string) string {
	if strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(strings.TrimSuffix(host[1:], "]"))
		if err != nil || !a.Is6() || a.Zone() != "" || !strings.HasSuffix(host, "]") {
			return "has an invalid IPv6 address."
		}
		return ""
	}
	const bad = "has an invalid host name; use letters, digits, hyphens and dots, and punycode (xn--…) for international names."
	if len(host) > 253 {
		return bad
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return bad
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return bad
			}
		}
	}
	// Browsers read a host whose last label is numeric (or 0x…) as an IPv4
	// address (WHATWG URL, "ends in a number"); accept only the dotted form.
	last := strings.ToLower(labels[len(labels)-1])
	if allDigits(last) || strings.HasPrefix(last, "0x") && allHex(last[2:]) {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() {
			return "has an invalid IPv4 address; write it as four numbers from 0 to 255, like 127.0.0.1."
		}
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}
