package scope

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// AuthorizationGrant is the marker scope the token endpoint appends to the
// granted scopes; never registrable or requestable.
//
// It is not a catalog entry: [Catalog.Lookup] does not find it,
// [Catalog.Satisfies] treats it like any unknown id (it satisfies nothing and
// is satisfied by nothing), and [Catalog.Parse] / [Catalog.Validate] reject
// it. Callers that need to know whether the marker was granted compare
// strings directly. Source: PROTOCOL.md "Scopes".
const AuthorizationGrant = "vso.authorization_grant"

// Limits enforced by [Catalog.Parse] and [Catalog.Validate].
const (
	maxScopeBytes = 4096 // whole scope string (Validate: ids joined by single spaces)
	maxScopes     = 100  // scope-tokens, counted before duplicates are removed
	maxEcho       = 60   // longest quoted piece of user input put in a message
)

// Scope is one entry of the scope catalog (spec/scopes.json, seed 000
// "Scopes"), e.g. {ID: "vso.code_write", Name: "Code (read and write)",
// Category: "Code", HighPrivilege: true, Includes: ["vso.code"],
// IncludesTransitive: ["vso.code", "vso.hooks_write", "vso.hooks",
// "vso.profile"]}.
//
// Includes and IncludesTransitive are never nil for a Scope returned by a
// [Catalog] (an empty list is []string{}), and neither contains the scope
// itself.
type Scope struct {
	ID                 string   `json:"scope"` // e.g. "vso.code_write"
	Name               string   `json:"name"`  // "Code (read and write)"
	Description        string   `json:"description"`
	Category           string   `json:"category"`
	HighPrivilege      bool     `json:"high_privilege"`
	Includes           []string `json:"includes"`            // direct
	IncludesTransitive []string `json:"includes_transitive"` // as loaded from the file (Load verifies it)
}

// clone returns s with its slices copied, so that callers cannot modify the
// catalog through a returned value.
func (s Scope) clone() Scope {
	s.Includes = slices.Clone(s.Includes)
	s.IncludesTransitive = slices.Clone(s.IncludesTransitive)
	return s
}

// Catalog is an immutable, validated set of scopes with their inclusion
// relation. Obtain one with [Default] or [Load]; it is safe for concurrent
// use.
type Catalog struct {
	scopes []Scope        // file order
	index  map[string]int // id → position in scopes
	words  int            // uint64 words per bitset row
	reach  []uint64       // row i (words long): {i} ∪ transitive includes of i
}

// row returns the reach bitset of scope i.
func (c *Catalog) row(i int) []uint64 { return c.reach[i*c.words : (i+1)*c.words] }

// has reports whether bit j is set in row.
func has(row []uint64, j int) bool { return row[j>>6]&(1<<(uint(j)&63)) != 0 }

// set sets bit j in row.
func set(row []uint64, j int) { row[j>>6] |= 1 << (uint(j) & 63) }

//go:embed scopes.json
var embedded []byte

var defaultCatalog = sync.OnceValue(func() *Catalog {
	c, err := Load(embedded)
	if err != nil {
		panic("scope: embedded scopes.json is invalid: " + err.Error())
	}
	return c
})

// Default returns the catalog embedded in the binary (internal/scope/
// scopes.json, a copy of spec/scopes.json: 86 scopes), loaded on first call
// and shared afterwards. It panics on the first call if the embedded file
// does not pass [Load]; TestDefault guards against that.
func Default() *Catalog { return defaultCatalog() }

// Load parses and validates a scope catalog: a JSON array of [Scope] objects
// (unknown fields and trailing data are rejected). It checks that
//   - the array is not empty;
//   - every id is non-empty, unique, a valid RFC 6749 §3.3 scope-token, and
//     not [AuthorizationGrant];
//   - every entry of includes and includes_transitive is a known id;
//   - includes has no cycles (a scope including itself is a cycle);
//   - includes_transitive, compared as a set without duplicates, equals the
//     transitive closure of includes recomputed here.
//
// Errors are plain errors (a broken catalog is a programming or deployment
// mistake, so [apperr.ErrorCode] reports them as Internal) naming the
// offending scope. On success the catalog owns copies of the data and
// precomputes one bitset per scope for [Catalog.Satisfies].
func Load(data []byte) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var scopes []Scope
	if err := dec.Decode(&scopes); err != nil {
		return nil, fmt.Errorf("scope catalog: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("scope catalog: unexpected data after the JSON array")
	}
	if len(scopes) == 0 {
		return nil, errors.New("scope catalog: no scopes")
	}

	n := len(scopes)
	c := &Catalog{
		scopes: make([]Scope, n),
		index:  make(map[string]int, n),
		words:  (n + 63) / 64,
	}
	for i, s := range scopes {
		switch {
		case s.ID == "":
			return nil, fmt.Errorf("scope catalog: entry %d has an empty scope id", i)
		case !isScopeToken(s.ID):
			return nil, fmt.Errorf("scope catalog: scope id %q is not a valid RFC 6749 scope-token", s.ID)
		case s.ID == AuthorizationGrant:
			return nil, fmt.Errorf("scope catalog: %s is a marker scope and must not be in the catalog", AuthorizationGrant)
		}
		if _, dup := c.index[s.ID]; dup {
			return nil, fmt.Errorf("scope catalog: duplicate scope id %q", s.ID)
		}
		c.index[s.ID] = i
		s = s.clone()
		if s.Includes == nil {
			s.Includes = []string{}
		}
		if s.IncludesTransitive == nil {
			s.IncludesTransitive = []string{}
		}
		c.scopes[i] = s
	}

	// Direct includes as indexes.
	direct := make([][]int, n)
	for i, s := range c.scopes {
		for _, inc := range s.Includes {
			j, ok := c.index[inc]
			if !ok {
				return nil, fmt.Errorf("scope catalog: scope %q includes unknown scope %q", s.ID, inc)
			}
			direct[i] = append(direct[i], j)
		}
	}

	// Depth-first search: detect cycles and fill reach rows in post-order,
	// so every included row is complete before it is merged.
	c.reach = make([]uint64, n*c.words)
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, n)
	var path []int
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			start := slices.Index(path, i)
			ids := make([]string, 0, len(path)-start+1)
			for _, p := range path[start:] {
				ids = append(ids, c.scopes[p].ID)
			}
			ids = append(ids, c.scopes[i].ID)
			return fmt.Errorf("scope catalog: include cycle %s", strings.Join(ids, " -> "))
		}
		state[i] = visiting
		path = append(path, i)
		row := c.row(i)
		set(row, i)
		for _, j := range direct[i] {
			if err := visit(j); err != nil {
				return err
			}
			for w, v := range c.row(j) {
				row[w] |= v
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return nil
	}
	for i := range n {
		if err := visit(i); err != nil {
			return nil, err
		}
	}

	// Cross-check the file's includes_transitive against the closure.
	fileRow := make([]uint64, c.words)
	for i, s := range c.scopes {
		clear(fileRow)
		for _, inc := range s.IncludesTransitive {
			j, ok := c.index[inc]
			if !ok {
				return nil, fmt.Errorf("scope catalog: scope %q lists unknown scope %q in includes_transitive", s.ID, inc)
			}
			if has(fileRow, j) {
				return nil, fmt.Errorf("scope catalog: scope %q lists %q twice in includes_transitive", s.ID, inc)
			}
			set(fileRow, j)
		}
		row := c.row(i)
		var missing, extra []string
		for j := range n {
			want := j != i && has(row, j)
			got := has(fileRow, j)
			switch {
			case want && !got:
				missing = append(missing, c.scopes[j].ID)
			case got && !want:
				extra = append(extra, c.scopes[j].ID)
			}
		}
		if missing != nil || extra != nil {
			return nil, fmt.Errorf("scope catalog: scope %q: includes_transitive disagrees with includes (missing %q, unexpected %q)", s.ID, missing, extra)
		}
	}
	return c, nil
}

// All returns every scope of the catalog in file order. The slice and the
// scopes' Includes/IncludesTransitive slices are fresh copies.
func (c *Catalog) All() []Scope {
	out := make([]Scope, len(c.scopes))
	for i, s := range c.scopes {
		out[i] = s.clone()
	}
	return out
}

// Lookup returns the scope with the given id (exact, case-sensitive match)
// and true, or the zero Scope and false if the catalog has no such scope
// ([AuthorizationGrant] is never found). The returned slices are copies.
func (c *Catalog) Lookup(id string) (Scope, bool) {
	i, ok := c.index[id]
	if !ok {
		return Scope{}, false
	}
	return c.scopes[i].clone(), true
}

// Satisfies is the one inclusion check (PROTOCOL.md "Scopes": "a scope
// grants what it includes"). It reports whether required is one of granted
// or is in the transitive includes of some granted scope; e.g. granted
// ["vso.code_write"] satisfies "vso.profile", while ["vso.code"] does not
// satisfy "vso.code_write".
//
// Only catalog scopes count: an unknown id in granted (including
// [AuthorizationGrant]) satisfies nothing, and an unknown required is
// satisfied by nothing, even if it appears verbatim in granted. Satisfies
// does not allocate; it is on the Bearer-check hot path.
func (c *Catalog) Satisfies(granted []string, required string) bool {
	r, ok := c.index[required]
	if !ok {
		return false
	}
	for _, g := range granted {
		if i, ok := c.index[g]; ok && has(c.row(i), r) {
			return true
		}
	}
	return false
}

// Covers returns the requested scopes that granted does not satisfy (per
// [Catalog.Satisfies]), in request order with duplicates removed, or nil if
// granted satisfies every requested scope. Unknown requested ids are always
// missing.
func (c *Catalog) Covers(granted, requested []string) (missing []string) {
	for _, r := range requested {
		if !c.Satisfies(granted, r) && !slices.Contains(missing, r) {
			missing = append(missing, r)
		}
	}
	return missing
}

// Parse parses a scope string per RFC 6749 §3.3: scope-tokens separated by
// one or more ASCII spaces (leading and trailing spaces are ignored). It
// returns the ids with duplicates removed, in order of first occurrence.
//
// It returns an *apperr.Error with code apperr.Invalid when the string is
// longer than 4096 bytes, has more than 100 tokens, contains a byte that is
// neither a space nor a scope-token character (%x21 / %x23-5B / %x5D-7E:
// so no tabs, newlines, quotes, backslashes, NUL or non-ASCII), has no
// scopes, requests [AuthorizationGrant], or names a scope that is not in the
// catalog (ids are case-sensitive: "VSO.CODE" is unknown). Messages quote at
// most about 60 characters of the input.
func (c *Catalog) Parse(s string) ([]string, error) {
	if len(s) > maxScopeBytes {
		return nil, errTooLong(len(s))
	}
	var tokens []string
	for tok := range strings.SplitSeq(s, " ") {
		if tok == "" {
			continue
		}
		if len(tokens) == maxScopes {
			return nil, errTooMany()
		}
		tokens = append(tokens, tok)
	}
	return c.validate(tokens)
}

// Validate applies the rules of [Catalog.Parse] to an already-split list of
// ids, e.g. from form checkboxes, and returns a new list with duplicates
// removed in order of first occurrence. Each element must be exactly one
// scope-token: an empty element, or one containing a space or any other
// disallowed byte, is an error. The 4096-byte limit applies to the ids
// joined by single spaces and the 100-scope limit to len(ids). Errors are
// *apperr.Error with code apperr.Invalid, as for Parse.
func (c *Catalog) Validate(ids []string) ([]string, error) {
	if len(ids) > maxScopes {
		return nil, errTooMany()
	}
	total := max(len(ids)-1, 0)
	for _, id := range ids {
		total += len(id)
	}
	if total > maxScopeBytes {
		return nil, errTooLong(total)
	}
	for _, id := range ids {
		if id == "" {
			return nil, apperr.Errorf(apperr.Invalid, "a scope must not be empty")
		}
	}
	return c.validate(ids)
}

// validate checks non-empty tokens (already within the size limits) and
// removes duplicates.
func (c *Catalog) validate(tokens []string) ([]string, error) {
	if len(tokens) == 0 {
		return nil, apperr.Errorf(apperr.Invalid, "at least one scope is required")
	}
	out := make([]string, 0, len(tokens))
	for _, tok := range tokens {
		if !isScopeToken(tok) {
			return nil, apperr.Errorf(apperr.Invalid,
				"scope %s contains a character that is not allowed; use printable ASCII other than quotes and backslashes, separated by spaces", clip(tok))
		}
		if tok == AuthorizationGrant {
			return nil, apperr.Errorf(apperr.Invalid, "%s is a marker scope and cannot be requested", AuthorizationGrant)
		}
		if _, ok := c.index[tok]; !ok {
			return nil, apperr.Errorf(apperr.Invalid, "unknown scope %s", clip(tok))
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out, nil
}

func errTooLong(n int) error {
	return apperr.Errorf(apperr.Invalid, "the scope list is too long (%d bytes); the limit is %d bytes", n, maxScopeBytes)
}

func errTooMany() error {
	return apperr.Errorf(apperr.Invalid, "too many scopes; at most %d may be requested", maxScopes)
}

// Minimal returns ids without every scope that another scope of ids
// transitively includes, keeping the order of the rest and removing
// duplicates; e.g. ["vso.code", "vso.code_write", "vso.profile",
// "vso.build"] → ["vso.code_write", "vso.build"]. The result satisfies
// exactly what ids satisfies; it is the smallest equivalent set to recommend
// or present (seed 000: "Consider what is the minimal number of scopes you
// need"). Unknown ids include nothing and are included by nothing, so they
// are kept (deduplicated).
func (c *Catalog) Minimal(ids []string) []string {
	out := make([]string, 0, len(ids))
	for k, id := range ids {
		if slices.Contains(ids[:k], id) {
			continue
		}
		i, known := c.index[id]
		covered := false
		if known {
			for _, other := range ids {
				if j, ok := c.index[other]; ok && j != i && has(c.row(j), i) {
					covered = true
					break
				}
			}
		}
		if !covered {
			out = append(out, id)
		}
	}
	return out
}

// Expand returns the known ids plus every scope they transitively include,
// without duplicates, in catalog (file) order; e.g. ["vso.code_write"] →
// ["vso.code", "vso.code_write", "vso.hooks", "vso.hooks_write",
// "vso.profile"] ordered as in scopes.json. Unknown ids, including
// [AuthorizationGrant], grant nothing and are left out. The result is
// non-nil.
func (c *Catalog) Expand(ids []string) []string {
	acc := make([]uint64, c.words)
	count := 0
	for _, id := range ids {
		if i, ok := c.index[id]; ok {
			for w, v := range c.row(i) {
				acc[w] |= v
			}
		}
	}
	for _, v := range acc {
		count += bits.OnesCount64(v)
	}
	out := make([]string, 0, count)
	for j := range c.scopes {
		if has(acc, j) {
			out = append(out, c.scopes[j].ID)
		}
	}
	return out
}

// Holders returns the scopes that grant id: id itself first, then every
// catalog scope that transitively includes it, in catalog (file) order;
// e.g. "vso.code_write" → ["vso.code_write", "vso.code_manage",
// "vso.code_full"]. It is the reverse of [Catalog.Expand], read from the same
// reach rows as [Catalog.Satisfies], so "who holds X" (directly or through
// a wider scope) and "does this grant satisfy X" cannot disagree. An unknown
// id is held only by itself: [id].
func (c *Catalog) Holders(id string) []string {
	out := []string{id}
	r, ok := c.index[id]
	if !ok {
		return out
	}
	for i := range c.scopes {
		if i != r && has(c.row(i), r) {
			out = append(out, c.scopes[i].ID)
		}
	}
	return out
}

// catalogNote matches the catalog's notes to its maintainers inside a
// description ("(docs repeat the write description)", "; docs warn to
// request/consent with caution", "Docs mark it no longer public.").
var catalogNote = regexp.MustCompile(`\s*\((?:docs|Docs) .*\)|;\s*(?:docs|Docs) [^.]*|\s*(?:docs|Docs) [^.]*\.`)

// UserDescription is Description without the catalog's notes to its
// maintainers (what the documentation says about the scope), for the
// people asked to consent; e.g. "Full access to the REST APIs as the
// user; docs warn to request/consent with caution." → "Full access to the
// REST APIs as the user."
func (s Scope) UserDescription() string {
	d := strings.TrimSpace(catalogNote.ReplaceAllString(s.Description, ""))
	if d != "" && !strings.HasSuffix(d, ".") {
		d += "."
	}
	return d
}

// scopeTokenByte marks the bytes RFC 6749 §3.3 allows in a scope-token:
// %x21 / %x23-5B / %x5D-7E.
var scopeTokenByte = func() (t [256]bool) {
	for b := 0x21; b <= 0x7e; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// isScopeToken reports whether s is a non-empty RFC 6749 scope-token.
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !scopeTokenByte[s[i]] {
			return false
		}
	}
	return true
}

// clip quotes s with strconv.QuoteToASCII (so look-alike and invisible
// characters show as escapes, e.g. "vso.c\u043ede"), shortened so the quoted
// text stays within maxEcho characters; "..." marks a cut.
func clip(s string) string {
	if q := strconv.QuoteToASCII(s); len(q) <= maxEcho {
		return q
	}
	for n := min(len(s), maxEcho); n > 0; n-- {
		if q := strconv.QuoteToASCII(s[:n]); len(q) <= maxEcho {
			return q + "..."
		}
	}
	return `""...`
}

// Intersect returns what both scope sets grant, as its smallest
// equivalent set: every catalog scope that both a and b satisfy,
// minimised (Minimal). Examples: [vso.code_write] ∩ [vso.code] =
// [vso.code]; [vso.code_full] ∩ [vso.build] = [vso.hooks_write] (both
// include it). Used when an app's registered scopes are narrowed: an
// authorization keeps exactly what is still allowed. Unknown ids grant
// nothing.
func (c *Catalog) Intersect(a, b []string) []string {
	var out []string
	for _, s := range c.Expand(a) {
		if c.Satisfies(b, s) {
			out = append(out, s)
		}
	}
	return c.Minimal(out)
}

// SatisfiedBy returns the granted scope an API call that needs required
// is credited to, or "" when none satisfies it: required itself when it is
// granted, otherwise the narrowest granted scope that includes it (the one
// including the fewest scopes; on a tie the first in granted). So a call
// to the profile API by a token with vso.work_full and vso.profile is
// credited to vso.profile, agreeing with the scope audit's recommendation.
func (c *Catalog) SatisfiedBy(granted []string, required string) string {
	if slices.Contains(granted, required) {
		if _, ok := c.index[required]; ok {
			return required
		}
	}
	best, bestSize := "", 0
	for _, g := range granted {
		if !c.Satisfies([]string{g}, required) {
			continue
		}
		size := 0
		if i, ok := c.index[g]; ok {
			for _, v := range c.row(i) {
				size += bits.OnesCount64(v)
			}
		}
		if best == "" || size < bestSize {
			best, bestSize = g, size
		}
	}
	return best
}

// Union returns every scope of the sets, deduplicated, in order of first
// appearance — not minimised, so a narrower scope granted beside a wider
// one stays visible.
func (c *Catalog) Union(sets ...[]string) []string {
	out := []string{}
	for _, set := range sets {
		for _, id := range set {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}
