// Package reports computes oauthdesk's reports from plain domain data —
// the scope audit (who holds which scopes, which are used, what each app
// could be cut down to) — and writes them as a table, CSV or JSON. It does
// no I/O of its own beyond the writer it is given.
package reports

import (
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// AppRef names an app. Via is empty when the app registers the row's
// scope itself; otherwise it lists the registered scopes that include it
// (e.g. ["vso.code_full"]).
type AppRef struct {
	ClientID string   `json:"client_id"`
	Name     string   `json:"name"`
	Via      []string `json:"via,omitempty"`
}

// UserRef names a user. Via is empty when one of the user's active
// authorizations grants the row's scope itself; otherwise it lists the
// granted scopes that include it.
type UserRef struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Via      []string `json:"via,omitempty"`
}

// ViaCount is how many apps register, and how many active authorizations
// grant, a wider scope that includes the row's scope (maintained counts:
// an app registering two such scopes counts under each).
type ViaCount struct {
	Scope          string `json:"scope"`
	Apps           int64  `json:"apps"`
	Authorizations int64  `json:"active_authorizations"`
	// PATs counts the live personal access tokens carrying the wider
	// scope.
	PATs int64 `json:"personal_access_tokens"`
}

// Via returns the scopes among held that grant scope although they are
// not scope itself: nil when scope itself is held (direct holding wins).
func Via(scope string, held []string) []string {
	if slices.Contains(held, scope) {
		return nil
	}
	return held
}

// ScopeRow is one scope in effect: registered by an app not deleted or
// granted by an active authorization, directly or through a scope that
// includes it (scope.Catalog.Holders). AppCount and Authorizations count
// the direct holders; Through counts, per including scope, those holding
// it through that scope. Uses and LastUsed are the API calls the scope
// itself satisfied. Unused means held but not used within the report's
// window. Apps and Users list holders when the caller fills them: the
// dashboard's preview names the first holders direct and through (Via);
// the report names every direct holder, each holder once per scope it
// holds directly, and a holder through a wider scope is listed in that
// scope's row (Through names those rows), so that the rows together say
// who holds each scope without repeating the holders of wide scopes in
// every narrower row. UserCount counts the users listed when computed (-1
// otherwise).
type ScopeRow struct {
	Scope          string     `json:"scope"`
	Name           string     `json:"name"`
	Category       string     `json:"category"`
	HighPrivilege  bool       `json:"high_privilege"`
	AppCount       int64      `json:"-"`
	Apps           []AppRef   `json:"apps"`
	Authorizations int        `json:"active_authorizations"`
	Through        []ViaCount `json:"through"`
	UserCount      int64      `json:"-"`
	Users          []UserRef  `json:"users"`
	Uses           int64      `json:"uses"`
	LastUsed       *time.Time `json:"last_used,omitempty"`
	Unused         bool       `json:"unused"`
	// AppGrants counts the live client_credentials grants holding the
	// scope itself: apps' own tokens, without a user (RFC 6749 §4.4).
	AppGrants int64 `json:"app_grants"`
	// PATs counts the live personal access tokens (unrevoked, unexpired,
	// of active users) holding the scope: carrying it, a wider scope that
	// includes it, or full access (PATHolders); each token once.
	PATs int64 `json:"personal_access_tokens"`
	// DirectPATs counts those carrying the scope itself.
	DirectPATs int64 `json:"-"`
}

// Inventory builds the scope inventory from the maintained per-scope
// counts (domain.ScopeStat): one row per scope in effect — held directly,
// or through a wider scope that includes it (Through) — in catalog order
// (scopes the catalog does not know last, by id). A scope is Unused when
// it did not satisfy a call at or after now-unusedDays. highOnly keeps
// only high-privilege scopes. O(scopes × includes): nothing here grows
// with apps or authorizations.
func Inventory(cat *scope.Catalog, stats []domain.ScopeStat, now time.Time, unusedDays int, highOnly bool) []ScopeRow {
	byID := make(map[string]domain.ScopeStat, len(stats))
	for _, st := range stats {
		byID[st.Scope] = st
	}
	held := func(st domain.ScopeStat) bool {
		return st.Apps > 0 || st.Authorizations > 0 || st.AppGrants > 0 || st.PATs > 0
	}
	horizon := now.AddDate(0, 0, -unusedDays)
	out := make([]ScopeRow, 0, len(byID))
	add := func(id string, st domain.ScopeStat, through []ViaCount) {
		sc, _ := cat.Lookup(id)
		if highOnly && !sc.HighPrivilege && id != domain.ScopeFullAccess {
			return
		}
		r := ScopeRow{Scope: id, Name: sc.Name, Category: sc.Category, HighPrivilege: sc.HighPrivilege,
			AppCount: max(st.Apps, 0), Apps: []AppRef{}, Authorizations: int(max(st.Authorizations, 0)), Through: through,
			UserCount: -1, Users: []UserRef{}, Uses: max(st.Uses, 0), LastUsed: st.LastUsedAt, AppGrants: max(st.AppGrants, 0),
			DirectPATs: max(st.PATs, 0)}
		if id == domain.ScopeFullAccess {
			r.Name, r.Category, r.HighPrivilege = "Full access (personal access tokens)", "Personal access tokens", true
		}
		r.Unused = r.LastUsed == nil || r.LastUsed.Before(horizon)
		out = append(out, r)
	}
	known := map[string]bool{}
	for _, sc := range cat.All() {
		known[sc.ID] = true
		through := []ViaCount{}
		for _, h := range cat.Holders(sc.ID)[1:] {
			if w := byID[h]; held(w) {
				through = append(through, ViaCount{Scope: h, Apps: max(w.Apps, 0), Authorizations: max(w.Authorizations, 0), PATs: max(w.PATs, 0)})
			}
		}
		if st := byID[sc.ID]; held(st) || len(through) > 0 {
			add(sc.ID, st, through)
		}
	}
	rest := make([]string, 0, len(byID))
	for id, st := range byID {
		if !known[id] && held(st) {
			rest = append(rest, id)
		}
	}
	sort.Strings(rest)
	for _, id := range rest {
		add(id, byID[id], []ViaCount{})
	}
	return out
}

// UsedScope is one kind of API use by an app's authorizations.
type UsedScope struct {
	Scope       string    `json:"scope"`        // the scope the API required
	SatisfiedBy string    `json:"satisfied_by"` // the granted scope that satisfied it
	Uses        int64     `json:"uses"`
	LastUsed    time.Time `json:"last_used"`
}

// AppScopes is the scope audit of one app: registered vs granted vs used
// scopes, and the recommended minimal set.
type AppScopes struct {
	ClientID   string      `json:"client_id"`
	Name       string      `json:"name"`
	Deleted    bool        `json:"deleted"`
	Days       int         `json:"days"`
	Registered []string    `json:"registered"`
	Granted    []string    `json:"granted"`
	Used       []UsedScope `json:"used"`
	// Recommended is the smallest set of catalog scopes that covers every
	// scope an API required in the window (nil when nothing was used).
	Recommended []string `json:"recommended"`
	// Removable are registered scopes the recommended set does not need.
	Removable []string `json:"removable"`
	// ObservedSince is when the observation behind Recommended starts: the
	// window's start (Days ago) or, for an app registered since, its
	// registration. ObservedDays is its length in whole days (rounded up,
	// at least 1) and Calls the API calls counted in the Used rows.
	ObservedSince time.Time `json:"observed_since"`
	ObservedDays  int       `json:"observed_days"`
	Calls         int64     `json:"calls"`
	// ShortObservation is set when ObservedDays is under
	// MinObservationDays: scopes the app uses rarely (a monthly job, an
	// admin feature) may not have been exercised yet.
	ShortObservation bool `json:"short_observation"`
}

// MinObservationDays is the observation, in days, under which a
// least-privilege recommendation carries a caution (AppScopes.ShortObservation).
const MinObservationDays = 30

// ForApp builds the scope audit of app over the last days days. usage is
// the app's usage facts; authorizations its active authorizations.
func ForApp(cat *scope.Catalog, app domain.App, authorizations []domain.Authorization, usage []domain.ScopeUsage, now time.Time, days int) AppScopes {
	var granted [][]string
	active := map[string]bool{}
	for _, z := range authorizations {
		active[z.ID] = true
		granted = append(granted, z.Scopes)
	}
	var live []domain.ScopeUsage
	for _, u := range usage {
		if active[u.AuthorizationID] {
			live = append(live, u)
		}
	}
	return ForAppGrants(cat, app, granted, live, now, days)
}

// ForAppGrants is ForApp from the distinct grants of the app's active
// authorizations (each a granted scope list) and the usage facts of its
// active authorizations only: what the store gives without reading every
// authorization of a busy app.
func ForAppGrants(cat *scope.Catalog, app domain.App, granted [][]string, usage []domain.ScopeUsage, now time.Time, days int) AppScopes {
	out := AppScopes{ClientID: app.ClientID, Name: app.Name, Deleted: app.DeletedAt != nil, Days: days, Registered: app.Scopes, Granted: []string{}, Used: []UsedScope{}}
	// The union over every active authorization, not minimised: a scope
	// one user granted stays visible beside a wider one another granted.
	out.Granted = cat.Union(granted...)
	horizon := now.AddDate(0, 0, -days)
	out.ObservedSince = horizon
	if app.CreatedAt.After(horizon) {
		out.ObservedSince = app.CreatedAt
	}
	out.ObservedDays = max(1, int(math.Ceil(now.Sub(out.ObservedSince).Hours()/24)))
	out.ShortObservation = out.ObservedDays < MinObservationDays
	byKey := map[[2]string]*UsedScope{}
	var required []string
	for _, u := range usage {
		if u.LastUsedAt.Before(horizon) {
			continue
		}
		k := [2]string{u.Scope, u.SatisfiedBy}
		if byKey[k] == nil {
			byKey[k] = &UsedScope{Scope: u.Scope, SatisfiedBy: u.SatisfiedBy}
			required = append(required, u.Scope)
		}
		byKey[k].Uses += u.Count
		if u.LastUsedAt.After(byKey[k].LastUsed) {
			byKey[k].LastUsed = u.LastUsedAt
		}
	}
	for _, v := range byKey {
		out.Used = append(out.Used, *v)
		out.Calls += v.Uses
	}
	sort.Slice(out.Used, func(i, j int) bool {
		if out.Used[i].Scope != out.Used[j].Scope {
			return out.Used[i].Scope < out.Used[j].Scope
		}
		return out.Used[i].SatisfiedBy < out.Used[j].SatisfiedBy
	})
	if len(required) > 0 {
		out.Recommended = cat.Minimal(cat.Intersect(required, app.Scopes))
		if len(out.Recommended) == 0 {
			out.Recommended = nil
		}
	}
	out.Removable = []string{}
	for _, r := range app.Scopes {
		if out.Recommended == nil || !slices.Contains(out.Recommended, r) {
			out.Removable = append(out.Removable, r)
		}
	}
	return out
}

// PATCounts is what the scope audit counts of the live personal access
// tokens (CountPATs).
type PATCounts struct {
	// Direct counts, per scope, the tokens carrying it (full access under
	// domain.ScopeFullAccess).
	Direct map[string]int64
	// Holders counts, per scope, the tokens whose scopes satisfy it
	// (scope.Catalog.Satisfies: carrying it or a wider scope that includes
	// it), each token once; full-access tokens are in Full instead.
	Holders map[string]int64
	// Full counts the full-access tokens: they hold every scope.
	Full int64
}

// CountPATs counts sets: how many live tokens carry each distinct scope
// set (space-separated, as stored; full access is
// domain.ScopeFullAccess). One pass, each granted scope's closure
// (cat.Expand) computed once as a bit mask over the scopes seen, a set's
// holders the OR of its scopes' masks: O(sets × scopes per set) word
// operations (10,000 sets: about a millisecond), not a list search per
// scope of each closure.
func CountPATs(cat *scope.Catalog, sets map[string]int) PATCounts {
	c := PATCounts{Direct: map[string]int64{}, Holders: map[string]int64{}}
	bit := map[string]int{} // scope → its position in names and the masks
	var names []string
	bitOf := func(sc string) int {
		b, ok := bit[sc]
		if !ok {
			b = len(names)
			bit[sc] = b
			names = append(names, sc)
		}
		return b
	}
	type grant struct {
		self int      // the granted scope's own bit
		mask []uint64 // its closure
	}
	grants := map[string]*grant{}
	grantOf := func(g string) *grant {
		if gr, ok := grants[g]; ok {
			return gr
		}
		cl := []string{g}
		if _, known := cat.Lookup(g); known {
			cl = cat.Expand([]string{g})
		}
		// A scope the catalog does not know grants nothing but is still
		// carried (a catalog that dropped it): its own row counts it.
		gr := &grant{self: bitOf(g)}
		for _, sc := range cl {
			b := bitOf(sc)
			for len(gr.mask) <= b/64 {
				gr.mask = append(gr.mask, 0)
			}
			gr.mask[b/64] |= 1 << (b % 64)
		}
		grants[g] = gr
		return gr
	}
	var direct, holders []int64
	var union []uint64
	for set, n := range sets {
		k := int64(n)
		if set == domain.ScopeFullAccess {
			c.Full += k
			c.Direct[set] += k
			continue
		}
		clear(union)
		for rest := set; rest != ""; {
			g, tail, _ := strings.Cut(rest, " ")
			rest = tail
			if g == "" {
				continue
			}
			gr := grantOf(g)
			for len(direct) < len(names) {
				direct = append(direct, 0)
			}
			direct[gr.self] += k
			for len(union) < len(gr.mask) {
				union = append(union, 0)
			}
			for w, v := range gr.mask {
				union[w] |= v
			}
		}
		for len(holders) < len(names) {
			holders = append(holders, 0)
		}
		for w, v := range union {
			for v != 0 {
				holders[w*64+bits.TrailingZeros64(v)] += k
				v &= v - 1
			}
		}
	}
	for b, n := range direct {
		if n != 0 {
			c.Direct[names[b]] += n
		}
	}
	for b, n := range holders {
		if n != 0 {
			c.Holders[names[b]] = n
		}
	}
	return c
}

// WithPATs adds to stats the live personal access tokens carrying each
// scope (ScopeStat.PATs, from c.Direct). A scope only tokens carry gets a
// row of its own, so the inventory lists it. stats is not changed.
func WithPATs(stats []domain.ScopeStat, c PATCounts) []domain.ScopeStat {
	if len(c.Direct) == 0 {
		return stats
	}
	out := slices.Clone(stats)
	idx := make(map[string]int, len(out))
	for i, st := range out {
		idx[st.Scope] = i
	}
	for sc, n := range c.Direct {
		i, ok := idx[sc]
		if !ok {
			i = len(out)
			idx[sc] = i
			out = append(out, domain.ScopeStat{Scope: sc})
		}
		out[i].PATs += n
	}
	return out
}

// PATHolders sets each row's PATs: the live tokens holding the row's
// scope (c.Holders) plus the full-access ones, each token once.
func PATHolders(rows []ScopeRow, c PATCounts) {
	for i := range rows {
		rows[i].PATs = c.Holders[rows[i].Scope] + c.Full
	}
}
