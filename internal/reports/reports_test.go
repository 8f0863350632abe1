package reports_test

// Table tests of the scope audit computed from hand-built data: the
// inventory (Inventory), the per-app audit with its recommended minimal
// set (ForApp), and the three written formats (WriteScopes).

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

const day = 24 * time.Hour

func app(id, name string, scopes ...string) domain.App {
	return domain.App{ClientID: id, Registration: domain.Registration{Name: name, Scopes: scopes}}
}

func authz(id, userID, username, clientID string, scopes ...string) domain.Authorization {
	return domain.Authorization{ID: id, UserID: userID, Username: username, ClientID: clientID, Scopes: scopes, GrantedAt: ago(100 * day)}
}

func use(authzID, clientID, required, by string, count int64, last time.Time) domain.ScopeUsage {
	return domain.ScopeUsage{AuthorizationID: authzID, ClientID: clientID, Scope: required, SatisfiedBy: by, Count: count, LastUsedAt: last}
}

// The fixture of the inventory: two apps, three users.
//
//	app A (Alpha) registered vso.work vso.tokenadministration
//	app B (Beta)  registered vso.code_write vso.tokens
//	z1 bob   A vso.work
//	z2 root  A vso.work vso.tokenadministration
//	z3 carol B vso.code_write vso.tokens
//	z5 root  B vso.tokens
//
// z4 (dave, B, vso.code_full) was revoked: it is not among the active
// authorizations, but its usage facts are still stored.
func inventoryFixture() ([]domain.App, []domain.Authorization) {
	apps := []domain.App{
		app("a", "Alpha", "vso.work", "vso.tokenadministration"),
		app("b", "Beta", "vso.code_write", "vso.tokens"),
	}
	auths := []domain.Authorization{
		authz("z1", "u-bob", "bob", "a", "vso.work"),
		authz("z2", "u-root", "root", "a", "vso.work", "vso.tokenadministration"),
		authz("z3", "u-carol", "carol", "b", "vso.code_write", "vso.tokens"),
		authz("z5", "u-root", "root", "b", "vso.tokens"),
	}
	return apps, auths
}

func rowsByScope(rows []reports.ScopeRow) map[string]reports.ScopeRow {
	m := map[string]reports.ScopeRow{}
	for _, r := range rows {
		m[r.Scope] = r
	}
	return m
}

func scopesOf(rows []reports.ScopeRow) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.Scope)
	}
	return out
}

// TestInventory checks the inventory built from the maintained per-scope
// counts: catalog order, only scopes held by an app or an active
// authorization, the unused window, the high-privilege filter, and that
// scopes the catalog does not know come last.
func TestInventory(t *testing.T) {
	cat := scope.Default()
	tp := func(t time.Time) *time.Time { return &t }
	stats := []domain.ScopeStat{
		{Scope: "vso.work", Apps: 1, Authorizations: 2, Uses: 3, LastUsedAt: tp(ago(time.Hour))},
		{Scope: "vso.tokens", Apps: 1, Authorizations: 2},
		{Scope: "vso.code_write", Apps: 1, Authorizations: 1, Uses: 100, LastUsedAt: tp(ago(200 * day))},
		{Scope: "vso.profile", Uses: 9, LastUsedAt: tp(now)}, // used, but held by nobody: no row
		{Scope: "vso.zzz_unknown", Apps: 1},
		{Scope: "vso.tokenadministration", Authorizations: 1, Uses: -2, LastUsedAt: tp(ago(10 * day))},
	}
	rows := reports.Inventory(cat, stats, now, 90, false)
	// vso.code_write includes vso.code, vso.hooks, vso.hooks_write and
	// vso.profile: they are held through it and get rows of their own.
	if got, want := scopesOf(rows), []string{"vso.code", "vso.code_write", "vso.hooks", "vso.hooks_write", "vso.tokens", "vso.tokenadministration", "vso.profile", "vso.work", "vso.zzz_unknown"}; !slices.Equal(got, want) {
		t.Fatalf("scopes %v, want %v (catalog order, unknown last)", got, want)
	}
	by := rowsByScope(rows)
	if r := by["vso.code"]; r.AppCount != 0 || r.Authorizations != 0 || len(r.Through) != 1 ||
		r.Through[0] != (reports.ViaCount{Scope: "vso.code_write", Apps: 1, Authorizations: 1}) {
		t.Errorf("vso.code: %+v, want held only through vso.code_write (1 app, 1 authorization)", r)
	}
	if r := by["vso.work"]; len(r.Through) != 0 {
		t.Errorf("vso.work is held through %+v, want only directly", r.Through)
	}
	for _, c := range []struct {
		scope  string
		unused bool
		uses   int64
		apps   int64
		auths  int
	}{
		{"vso.work", false, 3, 1, 2},
		{"vso.tokens", true, 0, 1, 2},
		{"vso.code_write", true, 100, 1, 1}, // last used 200 days ago
		{"vso.tokenadministration", false, 0, 0, 1},
	} {
		r := by[c.scope]
		if r.Unused != c.unused || r.Uses != c.uses || r.AppCount != c.apps || r.Authorizations != c.auths || r.UserCount != -1 {
			t.Errorf("%s: %+v, want unused %v, uses %d, %d apps, %d authorizations, user count unknown", c.scope, r, c.unused, c.uses, c.apps, c.auths)
		}
	}
	if !by["vso.code_write"].HighPrivilege || by["vso.work"].HighPrivilege {
		t.Error("high-privilege flags wrong")
	}
	if got := scopesOf(reports.Inventory(cat, stats, now, 365, true)); !slices.Equal(got, []string{"vso.code_write", "vso.tokens", "vso.tokenadministration"}) {
		t.Errorf("high only: %v", got)
	}
	if by := rowsByScope(reports.Inventory(cat, stats, now, 365, false)); by["vso.code_write"].Unused {
		t.Error("with a 365-day window vso.code_write (used 200 days ago) is unused")
	}
	if rows := reports.Inventory(cat, nil, now, 90, false); len(rows) != 0 {
		t.Errorf("no stats: %d rows", len(rows))
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339)
}

func TestForApp(t *testing.T) {
	cat := scope.Default()
	alpha := app("a", "Alpha", "vso.work", "vso.tokenadministration")
	bob := authz("z1", "u-bob", "bob", "a", "vso.work")
	root := authz("z2", "u-root", "root", "a", "vso.work", "vso.tokenadministration")
	cases := []struct {
		name            string
		app             domain.App
		auths           []domain.Authorization
		usage           []domain.ScopeUsage
		days            int
		wantGranted     []string
		wantUsed        []reports.UsedScope
		wantRecommended []string
		wantRemovable   []string
	}{
		{
			name: "nothing used: no recommendation, everything removable", app: alpha, auths: []domain.Authorization{bob, root}, days: 90,
			wantGranted: []string{"vso.work", "vso.tokenadministration"}, wantUsed: []reports.UsedScope{},
			wantRecommended: nil, wantRemovable: []string{"vso.work", "vso.tokenadministration"},
		},
		{
			name: "profile through vso.work and token administration", app: alpha, auths: []domain.Authorization{bob, root}, days: 90,
			usage: []domain.ScopeUsage{
				use("z2", "a", "vso.tokenadministration", "vso.tokenadministration", 1, ago(2*time.Hour)),
				use("z1", "a", "vso.profile", "vso.work", 2, ago(time.Hour)),
				use("z2", "a", "vso.profile", "vso.work", 1, ago(3*time.Hour)),
			},
			wantGranted: []string{"vso.work", "vso.tokenadministration"},
			wantUsed: []reports.UsedScope{
				{Scope: "vso.profile", SatisfiedBy: "vso.work", Uses: 3, LastUsed: ago(time.Hour)},
				{Scope: "vso.tokenadministration", SatisfiedBy: "vso.tokenadministration", Uses: 1, LastUsed: ago(2 * time.Hour)},
			},
			// Minimal(Intersect(required, registered)), in catalog order.
			wantRecommended: []string{"vso.tokenadministration", "vso.profile"},
			wantRemovable:   []string{"vso.work"},
		},
		{
			name: "a use older than the window is ignored; one at the edge counts", app: alpha, auths: []domain.Authorization{bob, root}, days: 90,
			usage: []domain.ScopeUsage{
				use("z2", "a", "vso.tokenadministration", "vso.tokenadministration", 9, ago(90*day+time.Second)),
				use("z1", "a", "vso.profile", "vso.work", 2, ago(90*day)),
			},
			wantGranted:     []string{"vso.work", "vso.tokenadministration"},
			wantUsed:        []reports.UsedScope{{Scope: "vso.profile", SatisfiedBy: "vso.work", Uses: 2, LastUsed: ago(90 * day)}},
			wantRecommended: []string{"vso.profile"},
			wantRemovable:   []string{"vso.work", "vso.tokenadministration"},
		},
		{
			name: "usage of a revoked authorization is ignored", app: alpha, auths: []domain.Authorization{bob}, days: 90,
			usage: []domain.ScopeUsage{
				use("z2", "a", "vso.tokenadministration", "vso.tokenadministration", 5, ago(time.Hour)), // z2 is not active
				use("z1", "a", "vso.profile", "vso.work", 1, ago(time.Hour)),
			},
			wantGranted:     []string{"vso.work"},
			wantUsed:        []reports.UsedScope{{Scope: "vso.profile", SatisfiedBy: "vso.work", Uses: 1, LastUsed: ago(time.Hour)}},
			wantRecommended: []string{"vso.profile"},
			wantRemovable:   []string{"vso.work", "vso.tokenadministration"},
		},
		{
			name: "only revoked usage: no recommendation", app: alpha, auths: nil, days: 90,
			usage:       []domain.ScopeUsage{use("z2", "a", "vso.tokenadministration", "vso.tokenadministration", 5, ago(time.Hour))},
			wantGranted: []string{}, wantUsed: []reports.UsedScope{},
			wantRecommended: nil, wantRemovable: []string{"vso.work", "vso.tokenadministration"},
		},
		{
			name: "never wider than the registration: a grant from before a narrowing", app: app("c", "Code", "vso.code"),
			auths: []domain.Authorization{authz("z9", "u-bob", "bob", "c", "vso.code_write")}, days: 90,
			usage:       []domain.ScopeUsage{use("z9", "c", "vso.code_write", "vso.code_write", 4, ago(time.Hour))},
			wantGranted: []string{"vso.code_write"},
			wantUsed:    []reports.UsedScope{{Scope: "vso.code_write", SatisfiedBy: "vso.code_write", Uses: 4, LastUsed: ago(time.Hour)}},
			// vso.code_write ∩ vso.code = vso.code.
			wantRecommended: []string{"vso.code"},
			wantRemovable:   []string{},
		},
		{
			name: "a used scope outside the registration leaves nothing to recommend", app: app("c", "Code", "vso.work"),
			auths: []domain.Authorization{authz("z9", "u-bob", "bob", "c", "vso.tokens")}, days: 90,
			usage:           []domain.ScopeUsage{use("z9", "c", "vso.tokens", "vso.tokens", 1, ago(time.Hour))},
			wantGranted:     []string{"vso.tokens"},
			wantUsed:        []reports.UsedScope{{Scope: "vso.tokens", SatisfiedBy: "vso.tokens", Uses: 1, LastUsed: ago(time.Hour)}},
			wantRecommended: nil, wantRemovable: []string{"vso.work"},
		},
		{
			name: "the smallest set: an including scope replaces what it includes", app: app("d", "D", "vso.code_full", "vso.build", "vso.tokens"),
			auths: []domain.Authorization{authz("z7", "u-bob", "bob", "d", "vso.code_full", "vso.build", "vso.tokens")}, days: 30,
			usage: []domain.ScopeUsage{
				use("z7", "d", "vso.profile", "vso.code_full", 1, ago(time.Hour)),
				use("z7", "d", "vso.code", "vso.code_full", 1, ago(time.Hour)),
				use("z7", "d", "vso.hooks", "vso.code_full", 1, ago(time.Hour)),
			},
			wantGranted: []string{"vso.code_full", "vso.build", "vso.tokens"},
			wantUsed: []reports.UsedScope{
				{Scope: "vso.code", SatisfiedBy: "vso.code_full", Uses: 1, LastUsed: ago(time.Hour)},
				{Scope: "vso.hooks", SatisfiedBy: "vso.code_full", Uses: 1, LastUsed: ago(time.Hour)},
				{Scope: "vso.profile", SatisfiedBy: "vso.code_full", Uses: 1, LastUsed: ago(time.Hour)},
			},
			wantRecommended: []string{"vso.code"},
			wantRemovable:   []string{"vso.code_full", "vso.build", "vso.tokens"},
		},
		{
			name: "a registration that is already minimal has nothing removable", app: app("e", "E", "vso.profile", "vso.tokenadministration"),
			auths: []domain.Authorization{authz("z8", "u-root", "root", "e", "vso.profile", "vso.tokenadministration")}, days: 90,
			usage: []domain.ScopeUsage{
				use("z8", "e", "vso.profile", "vso.profile", 1, ago(time.Hour)),
				use("z8", "e", "vso.tokenadministration", "vso.tokenadministration", 1, ago(time.Hour)),
			},
			wantGranted: []string{"vso.profile", "vso.tokenadministration"},
			wantUsed: []reports.UsedScope{
				{Scope: "vso.profile", SatisfiedBy: "vso.profile", Uses: 1, LastUsed: ago(time.Hour)},
				{Scope: "vso.tokenadministration", SatisfiedBy: "vso.tokenadministration", Uses: 1, LastUsed: ago(time.Hour)},
			},
			wantRecommended: []string{"vso.tokenadministration", "vso.profile"},
			wantRemovable:   []string{},
		},
		{
			name: "one row per (required, satisfied by), summed over authorizations, sorted", app: app("f", "F", "vso.work", "vso.profile"),
			auths: []domain.Authorization{authz("y1", "u1", "u1", "f", "vso.work"), authz("y2", "u2", "u2", "f", "vso.profile")}, days: 90,
			usage: []domain.ScopeUsage{
				use("y2", "f", "vso.profile", "vso.profile", 3, ago(5*time.Hour)),
				use("y1", "f", "vso.profile", "vso.work", 2, ago(4*time.Hour)),
				use("y1", "f", "vso.hooks", "vso.work", 1, ago(6*time.Hour)),
			},
			// Granted is the union over the active authorizations, not
			// minimised: one user granted vso.profile alone.
			wantGranted: []string{"vso.work", "vso.profile"},
			wantUsed: []reports.UsedScope{
				{Scope: "vso.hooks", SatisfiedBy: "vso.work", Uses: 1, LastUsed: ago(6 * time.Hour)},
				{Scope: "vso.profile", SatisfiedBy: "vso.profile", Uses: 3, LastUsed: ago(5 * time.Hour)},
				{Scope: "vso.profile", SatisfiedBy: "vso.work", Uses: 2, LastUsed: ago(4 * time.Hour)},
			},
			wantRecommended: []string{"vso.hooks"},
			wantRemovable:   []string{"vso.work", "vso.profile"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := reports.ForApp(cat, c.app, c.auths, c.usage, now, c.days)
			if got.ClientID != c.app.ClientID || got.Name != c.app.Name || got.Days != c.days || !slices.Equal(got.Registered, c.app.Scopes) {
				t.Errorf("header %q %q %d %q, want %q %q %d %q", got.ClientID, got.Name, got.Days, got.Registered,
					c.app.ClientID, c.app.Name, c.days, c.app.Scopes)
			}
			if !reflect.DeepEqual(got.Granted, c.wantGranted) {
				t.Errorf("granted %#v, want %#v", got.Granted, c.wantGranted)
			}
			if !reflect.DeepEqual(got.Used, c.wantUsed) {
				t.Errorf("used %+v\nwant %+v", got.Used, c.wantUsed)
			}
			if !reflect.DeepEqual(got.Recommended, c.wantRecommended) {
				t.Errorf("recommended %#v, want %#v", got.Recommended, c.wantRecommended)
			}
			if !reflect.DeepEqual(got.Removable, c.wantRemovable) {
				t.Errorf("removable %#v, want %#v", got.Removable, c.wantRemovable)
			}
			// Invariants, whatever the case.
			if missing := cat.Covers(c.app.Scopes, got.Recommended); missing != nil {
				t.Errorf("recommended %q is wider than the registration %q (%q not covered)", got.Recommended, c.app.Scopes, missing)
			}
			if !slices.Equal(cat.Minimal(got.Recommended), got.Recommended) && got.Recommended != nil {
				t.Errorf("recommended %q is not minimal", got.Recommended)
			}
			for _, r := range got.Removable {
				if !slices.Contains(c.app.Scopes, r) || slices.Contains(got.Recommended, r) {
					t.Errorf("removable %s: not registered or recommended", r)
				}
			}
			var required []string
			for _, u := range got.Used {
				required = append(required, u.Scope)
			}
			// What the recommendation keeps satisfies every used scope the registration allows.
			for _, r := range required {
				if cat.Satisfies(c.app.Scopes, r) && !cat.Satisfies(got.Recommended, r) {
					t.Errorf("recommended %q does not satisfy the used %s", got.Recommended, r)
				}
			}
			if got.Used == nil || got.Granted == nil || got.Removable == nil {
				t.Errorf("used, granted and removable must be non-nil lists (JSON []): %#v %#v %#v", got.Used, got.Granted, got.Removable)
			}
		})
	}

	t.Run("JSON shape", func(t *testing.T) {
		got := reports.ForApp(cat, alpha, []domain.Authorization{bob}, nil, now, 90)
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		keys := []string{}
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"calls", "client_id", "days", "deleted", "granted", "name", "observed_days", "observed_since", "recommended", "registered", "removable", "short_observation", "used"}; !slices.Equal(keys, want) {
			t.Errorf("keys %q, want %q", keys, want)
		}
		if m["recommended"] != nil || !strings.Contains(string(b), `"used":[]`) {
			t.Errorf("JSON %s: want recommended null and used []", b)
		}
	})

	// The observation behind the recommendation: the window, or since the
	// app's registration when that is later; short under 30 days.
	t.Run("observation", func(t *testing.T) {
		usage := []domain.ScopeUsage{use("z1", "a", "vso.profile", "vso.work", 3, ago(time.Hour)), use("z1", "a", "vso.work", "vso.work", 2, ago(time.Hour))}
		old := alpha
		old.CreatedAt = ago(400 * day)
		got := reports.ForApp(cat, old, []domain.Authorization{bob}, usage, now, 90)
		if got.Calls != 5 || got.ObservedDays != 90 || !got.ObservedSince.Equal(now.AddDate(0, 0, -90)) || got.ShortObservation {
			t.Errorf("an app registered 400 days ago, 90-day window: %d calls over %d days since %s, short %v; want 5 over 90 since the window's start, not short",
				got.Calls, got.ObservedDays, got.ObservedSince, got.ShortObservation)
		}
		young := alpha
		young.CreatedAt = ago(36 * time.Hour)
		got = reports.ForApp(cat, young, []domain.Authorization{bob}, usage, now, 90)
		if got.ObservedDays != 2 || !got.ObservedSince.Equal(young.CreatedAt) || !got.ShortObservation {
			t.Errorf("an app registered 36 hours ago: %d days since %s, short %v; want 2 days since its registration, short",
				got.ObservedDays, got.ObservedSince, got.ShortObservation)
		}
	})
}

// Live personal access tokens are holders like apps and authorizations:
// a scope only tokens carry has a row, a wider scope's tokens count
// through it, and each row counts every token whose scopes satisfy it
// (or that has full access) once.
func TestInventoryPATs(t *testing.T) {
	cat := scope.Default()
	stats := []domain.ScopeStat{{Scope: "vso.work", Apps: 1}}
	sets := map[string]int{
		"vso.build":                   2, // only tokens hold vso.build
		"vso.build vso.build_execute": 1, // one token, both: counted once for vso.build
		"vso.build_execute":           3, // through vso.build_execute
		domain.ScopeFullAccess:        4, // full access: every row
	}
	counts := reports.CountPATs(cat, sets)
	withPATs := reports.WithPATs(stats, counts)
	if len(stats) != 1 {
		t.Fatalf("WithPATs changed its input: %+v", stats)
	}
	rows := reports.Inventory(cat, withPATs, now, 90, false)
	reports.PATHolders(rows, counts)
	by := rowsByScope(rows)
	for _, c := range []struct {
		scope         string
		direct, total int64
		through       []reports.ViaCount
	}{
		{"vso.build", 3, 2 + 1 + 3 + 4, []reports.ViaCount{{Scope: "vso.build_execute", PATs: 4}}},
		{"vso.build_execute", 4, 1 + 3 + 4, []reports.ViaCount{}},
		{"vso.work", 0, 4, []reports.ViaCount{}},
		{domain.ScopeFullAccess, 4, 4, []reports.ViaCount{}},
	} {
		r, ok := by[c.scope]
		if !ok {
			t.Errorf("no row for %s: %v", c.scope, scopesOf(rows))
			continue
		}
		if r.DirectPATs != c.direct || r.PATs != c.total || !reflect.DeepEqual(r.Through, c.through) {
			t.Errorf("%s: direct %d, holders %d, through %+v; want %d, %d, %+v", c.scope, r.DirectPATs, r.PATs, r.Through, c.direct, c.total, c.through)
		}
	}
	if r := by[domain.ScopeFullAccess]; !r.HighPrivilege || r.Name == "" {
		t.Errorf("full access row: %+v", r)
	}
	// High-privilege only keeps the full-access row.
	if high := scopesOf(reports.Inventory(cat, withPATs, now, 90, true)); !slices.Contains(high, domain.ScopeFullAccess) {
		t.Errorf("high-privilege inventory %v lacks %s", high, domain.ScopeFullAccess)
	}
	// No token sets: nothing changes.
	if got := reports.WithPATs(stats, reports.CountPATs(cat, nil)); !reflect.DeepEqual(got, stats) {
		t.Errorf("WithPATs(no tokens) = %+v", got)
	}
}

// TestCountPATsMatchesSatisfies: for random scope sets (catalog scopes,
// an unknown one, full access), each scope's holders are exactly the
// tokens whose scopes satisfy it (scope.Catalog.Satisfies), and the direct
// counts the tokens carrying it.
func TestCountPATsMatchesSatisfies(t *testing.T) {
	cat := scope.Default()
	var ids []string
	for _, sc := range cat.All() {
		ids = append(ids, sc.ID)
	}
	ids = append(ids, "x.unknown")
	r := uint64(7)
	next := func(n int) int { r = r*6364136223846793005 + 1442695040888963407; return int(r>>33) % n }
	sets := map[string]int{domain.ScopeFullAccess: 3}
	for range 500 {
		var set []string
		for range 1 + next(6) {
			set = append(set, ids[next(len(ids))])
		}
		sets[strings.Join(set, " ")] += 1 + next(4)
	}
	c := reports.CountPATs(cat, sets)
	if c.Full != 3 || c.Direct[domain.ScopeFullAccess] != 3 {
		t.Errorf("full access: %d, direct %d; want 3", c.Full, c.Direct[domain.ScopeFullAccess])
	}
	for _, sc := range ids {
		var holders, direct int64
		for set, n := range sets {
			if set == domain.ScopeFullAccess {
				continue
			}
			granted := strings.Split(set, " ")
			if cat.Satisfies(granted, sc) || slices.Contains(granted, sc) {
				holders += int64(n)
			}
			for _, g := range granted {
				if g == sc {
					direct += int64(n)
				}
			}
		}
		if c.Holders[sc] != holders || c.Direct[sc] != direct {
			t.Errorf("%s: holders %d, direct %d; want %d and %d", sc, c.Holders[sc], c.Direct[sc], holders, direct)
		}
	}
}
